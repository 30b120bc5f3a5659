import test from 'ava';
import type { EventOf, NovanetEvent, Scope } from '../../events/mod.js';
import type { Given } from '../support/decider.js';
import {
  acme, DEFAULT_GROUP, externalIpAllocated, externalNetworkCreated, given, globex, id, mac, outside, poolCreated, provider, read, vpcWithSubnet,
} from '../support/decider.js';

/** External IPs and NAT gateways. The common provider history: default network id(50), pool id(51) = .10-.12. */

const did = (...events: NovanetEvent[]): Given => ({ scope: acme, events });
const now = '2026-01-01T12:00:00Z';

function natGatewayCreated(n: number, externalIpId: string, releaseIpOnDelete: boolean, vpcId = id(1)): EventOf<'NatGatewayCreated'> {
  return { type: 'NatGatewayCreated', data: { natGatewayId: id(n), vpcId, externalIpId, gatewayMac: mac(n), releaseIpOnDelete } };
}

/** Runs allocations one after another, each decided on the view with all the ones before: the addresses handed out. */
function allocateInTurn(history: Given[], scopes: Scope[]): string[] {
  const addresses: string[] = [];
  for (const [i, scope] of scopes.entries()) {
    const d = given(...history).when(scope, 'externalip.allocate', {}, { firstId: 1000 + i }).decision;
    if (!d) break;
    history = [...history, { scope, events: d.events }];
    addresses.push((d.result.externalIp as { address: string }).address);
  }
  return addresses;
}

// --- externalip.allocate ------------------------------------------------------------

test('externalip.allocate - the lowest free address of the default network\'s pool', (t) => {
  const d = given(outside()).when(acme, 'externalip.allocate', {})
    .then(t, [{ type: 'ExternalIpAllocated', data: { externalIpId: id(100), poolId: id(51), address: '203.0.113.10' } }]);
  t.deepEqual(d.result, {
    externalIp: { id: id(100), org: 'acme', project: 'web', address: '203.0.113.10', poolId: id(51), externalNetworkId: id(50), portForwardIds: [], createdAt: now },
  });
  // A gap left by a release is filled first.
  given(outside(), did(externalIpAllocated(60, '203.0.113.10'), externalIpAllocated(61, '203.0.113.11'), externalIpAllocated(62, '203.0.113.12'), { type: 'ExternalIpReleased', data: { externalIpId: id(61) } }))
    .when(acme, 'externalip.allocate', {}).then(t, [{ type: 'ExternalIpAllocated', data: { externalIpId: id(100), poolId: id(51), address: '203.0.113.11' } }]);
});

test('externalip.allocate - an address is never handed out twice, across tenants too; then POOL_EXHAUSTED', (t) => {
  t.deepEqual(allocateInTurn([outside()], [acme, globex, acme, globex]), ['203.0.113.10', '203.0.113.11', '203.0.113.12']);
  const full = [outside(), did(externalIpAllocated(60, '203.0.113.10')), { scope: globex, events: [externalIpAllocated(61, '203.0.113.11'), externalIpAllocated(62, '203.0.113.12')] }];
  given(...full).when(acme, 'externalip.allocate', {}).thenFails(t, 'POOL_EXHAUSTED', { externalNetworkId: id(50) });
  given(...full).when(globex, 'externalip.allocate', { poolId: id(51) }).thenFails(t, 'POOL_EXHAUSTED', { poolId: id(51) });
});

test('externalip.allocate - lowest across a pool\'s ranges, whatever their order', (t) => {
  const pool = { scope: provider, events: [externalNetworkCreated(50), poolCreated(51, 50, ['203.0.113.100', '203.0.113.101'], ['203.0.113.20', '203.0.113.20'])] };
  t.deepEqual(allocateInTurn([pool], [acme, acme, acme, acme]), ['203.0.113.20', '203.0.113.100', '203.0.113.101']);
});

test('externalip.allocate - without a pool: the first pool of the default network, in creation order, with a free address', (t) => {
  const pools = { scope: provider, events: [poolCreated(52, 50, ['203.0.113.2', '203.0.113.3'])] };
  // Pool 51 was created first: it is used although pool 52 holds lower addresses.
  t.deepEqual(allocateInTurn([outside(), pools], [acme, acme, acme, acme, acme, acme]), ['203.0.113.10', '203.0.113.11', '203.0.113.12', '203.0.113.2', '203.0.113.3']);
});

test('externalip.allocate - a named pool: used even if an earlier one has room; it must be in the default network', (t) => {
  const pools = { scope: provider, events: [poolCreated(52, 50, ['203.0.113.2', '203.0.113.3'])] };
  given(outside(), pools).when(acme, 'externalip.allocate', { poolId: id(52) })
    .then(t, [{ type: 'ExternalIpAllocated', data: { externalIpId: id(100), poolId: id(52), address: '203.0.113.2' } }]);
  given(outside(), pools).when(acme, 'externalip.allocate', { poolId: id(9) }).thenFails(t, 'NOT_FOUND');
  const other = { scope: provider, events: [externalNetworkCreated(60, { name: 'other', cidr: '198.51.100.0/24', gatewayIp: '198.51.100.1', isDefault: false }), poolCreated(61, 60, ['198.51.100.2', '198.51.100.9'])] };
  given(outside(), other).when(acme, 'externalip.allocate', { poolId: id(61) }).thenFails(t, 'NOT_FOUND', { id: id(61) });
  given(outside()).when(acme, 'externalip.allocate', { poolId: 'pool-1' }).thenFails(t, 'VALIDATION_FAILED');
});

test('externalip.allocate - the default network is the one tenants draw from', (t) => {
  const newDefault = { scope: provider, events: [externalNetworkCreated(60, { name: 'other', cidr: '198.51.100.0/24', gatewayIp: '198.51.100.1', isDefault: true }), poolCreated(61, 60, ['198.51.100.2', '198.51.100.9'])] };
  const d = given(outside(), newDefault).when(acme, 'externalip.allocate', {})
    .then(t, [{ type: 'ExternalIpAllocated', data: { externalIpId: id(100), poolId: id(61), address: '198.51.100.2' } }]);
  t.like(d.result, { externalIp: { externalNetworkId: id(60) } });
  // A network that is not the default is not used, even when the default has no room.
  const notDefault = { scope: provider, events: [externalNetworkCreated(60, { name: 'other', cidr: '198.51.100.0/24', gatewayIp: '198.51.100.1', isDefault: false }), poolCreated(61, 60, ['198.51.100.2', '198.51.100.9'])] };
  given(outside(), notDefault, did(externalIpAllocated(70, '203.0.113.10'), externalIpAllocated(71, '203.0.113.11'), externalIpAllocated(72, '203.0.113.12')))
    .when(acme, 'externalip.allocate', {}).thenFails(t, 'POOL_EXHAUSTED');
});

test('externalip.allocate - no default network is NOT_FOUND with a clear message; a default network without pools is POOL_EXHAUSTED', (t) => {
  const error = given().when(acme, 'externalip.allocate', {}).thenFails(t, 'NOT_FOUND', { kind: 'externalnetwork' });
  t.regex(error.message, /no default external network/);
  given({ scope: provider, events: [externalNetworkCreated(50, { isDefault: false })] }).when(acme, 'externalip.allocate', {}).thenFails(t, 'NOT_FOUND');
  const gone = { scope: provider, events: [{ type: 'ExternalIpPoolDeleted' as const, data: { poolId: id(51) } }, { type: 'ExternalNetworkDeleted' as const, data: { externalNetworkId: id(50) } }] };
  given(outside(), gone).when(acme, 'externalip.allocate', {}).thenFails(t, 'NOT_FOUND', { kind: 'externalnetwork' });
  given({ scope: provider, events: [externalNetworkCreated(50)] }).when(acme, 'externalip.allocate', {}).thenFails(t, 'POOL_EXHAUSTED');
});

// --- externalip.release -------------------------------------------------------------

test('externalip.release - releases a free address; IN_USE while a NAT gateway, an attachment or port forwards use it', (t) => {
  const held = [outside(), vpcWithSubnet(), did(externalIpAllocated(60, '203.0.113.10'))];
  given(...held).when(acme, 'externalip.release', { externalIpId: id(60) }).then(t, [{ type: 'ExternalIpReleased', data: { externalIpId: id(60) } }]);
  given(...held).when(globex, 'externalip.release', { externalIpId: id(60) }).thenFails(t, 'NOT_FOUND');
  given(...held, did(natGatewayCreated(61, id(60), false)))
    .when(acme, 'externalip.release', { externalIpId: id(60) }).thenFails(t, 'IN_USE', { natGatewayId: id(61) });
  given(...held, did({ type: 'ExternalIpAttachmentCreated', data: { attachmentId: id(62), externalIpId: id(60), target: { deviceId: 'vm-1' } } }))
    .when(acme, 'externalip.release', { externalIpId: id(60) }).thenFails(t, 'IN_USE', { attachmentId: id(62) });
  given(...held, did(
    { type: 'PortCreated', data: { portId: id(3), subnetId: id(2), macAddress: mac(3), ipAddress: '10.0.1.2' } },
    { type: 'PortForwardCreated', data: { portForwardId: id(63), externalIpId: id(60), protocol: 'tcp', externalPort: 22, portId: id(3), internalPort: 22 } },
  )).when(acme, 'externalip.release', { externalIpId: id(60) }).thenFails(t, 'IN_USE', { portForwardIds: [id(63)] });
});

// --- natgateway.create --------------------------------------------------------------

test('natgateway.create - without an IP allocates one in the same commit, released with the gateway', (t) => {
  const d = given(outside(), vpcWithSubnet()).when(acme, 'natgateway.create', { vpcId: id(1) }).then(t, [
    { type: 'ExternalIpAllocated', data: { externalIpId: id(100), poolId: id(51), address: '203.0.113.10' } },
    { type: 'NatGatewayCreated', data: { natGatewayId: id(101), vpcId: id(1), externalIpId: id(100), gatewayMac: mac(0xa0), releaseIpOnDelete: true } },
  ]);
  t.deepEqual(d.result, {
    natGateway: { id: id(101), org: 'acme', project: 'web', vpcId: id(1), externalIpId: id(100), address: '203.0.113.10', createdAt: now },
  });
  // The address is taken like any other.
  const { view } = given(outside(), vpcWithSubnet(), did(...d.events));
  t.like(read(view, acme, 'externalip.get', { externalIpId: id(100) }), { externalIp: { address: '203.0.113.10', natGatewayId: id(101) } });
  given(outside(), vpcWithSubnet(), did(...d.events)).when(globex, 'externalip.allocate', {})
    .then(t, [{ type: 'ExternalIpAllocated', data: { externalIpId: id(100), poolId: id(51), address: '203.0.113.11' } }]);
});

test('natgateway.create - with the tenant\'s free external IP, kept when the gateway goes', (t) => {
  const d = given(outside(), vpcWithSubnet(), did(externalIpAllocated(60, '203.0.113.12'))).when(acme, 'natgateway.create', { vpcId: id(1), externalIpId: id(60) })
    .then(t, [{ type: 'NatGatewayCreated', data: { natGatewayId: id(100), vpcId: id(1), externalIpId: id(60), gatewayMac: mac(0xa0), releaseIpOnDelete: false } }]);
  t.like(d.result, { natGateway: { externalIpId: id(60), address: '203.0.113.12' } });
});

test('natgateway.create - the VPC must be the tenant\'s and have no gateway yet', (t) => {
  given(outside(), vpcWithSubnet()).when(globex, 'natgateway.create', { vpcId: id(1) }).thenFails(t, 'NOT_FOUND');
  given(outside(), vpcWithSubnet()).when(acme, 'natgateway.create', { vpcId: id(9) }).thenFails(t, 'NOT_FOUND');
  given(outside(), vpcWithSubnet(), did(externalIpAllocated(60, '203.0.113.10'), natGatewayCreated(61, id(60), true)))
    .when(acme, 'natgateway.create', { vpcId: id(1) }).thenFails(t, 'ALREADY_EXISTS', { natGatewayId: id(61) });
});

test('natgateway.create - a named IP must be the tenant\'s and used by nothing (CONFLICT)', (t) => {
  const base = [outside(), vpcWithSubnet(), did(externalIpAllocated(60, '203.0.113.10'))];
  given(...base).when(globex, 'natgateway.create', { vpcId: id(1), externalIpId: id(60) }).thenFails(t, 'NOT_FOUND');
  given(...base, { scope: globex, events: [{ type: 'VpcCreated', data: { vpcId: id(40), name: 'main', cidr: '10.0.0.0/16' } }] })
    .when(globex, 'natgateway.create', { vpcId: id(40), externalIpId: id(60) }).thenFails(t, 'NOT_FOUND', { kind: 'externalip' });
  given(...base).when(acme, 'natgateway.create', { vpcId: id(1), externalIpId: id(9) }).thenFails(t, 'NOT_FOUND');
  // Used by another VPC's gateway.
  const otherVpc = did({ type: 'VpcCreated', data: { vpcId: id(20), name: 'other', cidr: '10.1.0.0/16' } }, natGatewayCreated(61, id(60), false, id(20)));
  given(...base, otherVpc).when(acme, 'natgateway.create', { vpcId: id(1), externalIpId: id(60) }).thenFails(t, 'CONFLICT', { natGatewayId: id(61) });
  given(...base, did({ type: 'ExternalIpAttachmentCreated', data: { attachmentId: id(62), externalIpId: id(60), target: { deviceId: 'vm-1' } } }))
    .when(acme, 'natgateway.create', { vpcId: id(1), externalIpId: id(60) }).thenFails(t, 'CONFLICT', { attachmentId: id(62) });
  given(...base, did(
    { type: 'PortCreated', data: { portId: id(3), subnetId: id(2), macAddress: mac(3), ipAddress: '10.0.1.2' } },
    { type: 'PortForwardCreated', data: { portForwardId: id(63), externalIpId: id(60), protocol: 'tcp', externalPort: 22, portId: id(3), internalPort: 22 } },
  )).when(acme, 'natgateway.create', { vpcId: id(1), externalIpId: id(60) }).thenFails(t, 'CONFLICT', { portForwardIds: [id(63)] });
});

test('natgateway.create - auto-allocation fails like externalip.allocate', (t) => {
  given(vpcWithSubnet()).when(acme, 'natgateway.create', { vpcId: id(1) }).thenFails(t, 'NOT_FOUND', { kind: 'externalnetwork' });
  given(outside(), vpcWithSubnet(), { scope: globex, events: [externalIpAllocated(60, '203.0.113.10'), externalIpAllocated(61, '203.0.113.11'), externalIpAllocated(62, '203.0.113.12')] })
    .when(acme, 'natgateway.create', { vpcId: id(1) }).thenFails(t, 'POOL_EXHAUSTED');
});

test('natgateway.create - the gateway MAC is never one already in use', (t) => {
  // mac(1) is the subnet gateway's.
  given(outside(), vpcWithSubnet()).when(acme, 'natgateway.create', { vpcId: id(1) }, { macs: [mac(1), mac(0x33)] }).then(t, [
    { type: 'ExternalIpAllocated', data: { externalIpId: id(100), poolId: id(51), address: '203.0.113.10' } },
    { type: 'NatGatewayCreated', data: { natGatewayId: id(101), vpcId: id(1), externalIpId: id(100), gatewayMac: mac(0x33), releaseIpOnDelete: true } },
  ]);
  given(outside(), vpcWithSubnet(), did(externalIpAllocated(60, '203.0.113.10'), natGatewayCreated(0x61, id(60), false)),
    { scope: acme, events: [{ type: 'VpcCreated', data: { vpcId: id(20), name: 'other', cidr: '10.1.0.0/16' } }] })
    .when(acme, 'natgateway.create', { vpcId: id(20) }, { macs: [mac(0x61), mac(0x34)] })
    .then(t, [
      { type: 'ExternalIpAllocated', data: { externalIpId: id(100), poolId: id(51), address: '203.0.113.11' } },
      { type: 'NatGatewayCreated', data: { natGatewayId: id(101), vpcId: id(20), externalIpId: id(100), gatewayMac: mac(0x34), releaseIpOnDelete: true } },
    ]);
});

// --- natgateway.delete --------------------------------------------------------------

test('natgateway.delete - releases an address allocated for it, keeps one the tenant brought', (t) => {
  given(outside(), vpcWithSubnet(), did(externalIpAllocated(60, '203.0.113.10'), natGatewayCreated(61, id(60), true)))
    .when(acme, 'natgateway.delete', { natGatewayId: id(61) })
    .then(t, [{ type: 'NatGatewayDeleted', data: { natGatewayId: id(61) } }, { type: 'ExternalIpReleased', data: { externalIpId: id(60) } }]);
  given(outside(), vpcWithSubnet(), did(externalIpAllocated(60, '203.0.113.10'), natGatewayCreated(61, id(60), false)))
    .when(acme, 'natgateway.delete', { natGatewayId: id(61) }).then(t, [{ type: 'NatGatewayDeleted', data: { natGatewayId: id(61) } }]);
  given(outside(), vpcWithSubnet(), did(externalIpAllocated(60, '203.0.113.10'), natGatewayCreated(61, id(60), true)))
    .when(globex, 'natgateway.delete', { natGatewayId: id(61) }).thenFails(t, 'NOT_FOUND');
});

test('natgateway.delete - an allocated address still used by port forwards stays with the tenant; forwards stay', (t) => {
  const history = [outside(), vpcWithSubnet(), did(
    externalIpAllocated(60, '203.0.113.10'), natGatewayCreated(61, id(60), true),
    { type: 'PortCreated', data: { portId: id(3), subnetId: id(2), macAddress: mac(3), ipAddress: '10.0.1.2' } },
    { type: 'PortForwardCreated', data: { portForwardId: id(63), externalIpId: id(60), protocol: 'tcp', externalPort: 22, portId: id(3), internalPort: 22 } },
  )];
  const d = given(...history).when(acme, 'natgateway.delete', { natGatewayId: id(61) }).then(t, [{ type: 'NatGatewayDeleted', data: { natGatewayId: id(61) } }]);
  const { view } = given(...history, did(...d.events));
  t.like(read(view, acme, 'externalip.get', { externalIpId: id(60) }), { externalIp: { portForwardIds: [id(63)] } });
  t.false('natGatewayId' in (read(view, acme, 'externalip.get', { externalIpId: id(60) }).externalIp as object));
});

test('vpc.delete - IN_USE while the VPC has a NAT gateway, deletable once it is gone', (t) => {
  const gateway = did(externalIpAllocated(60, '203.0.113.10'), natGatewayCreated(61, id(60), true));
  const vpcOnly = { scope: acme, events: vpcWithSubnet().events.slice(0, 2) };
  given(outside(), vpcOnly, gateway).when(acme, 'vpc.delete', { vpcId: id(1) }).thenFails(t, 'IN_USE', { natGatewayId: id(61) });
  given(outside(), vpcOnly, gateway, did({ type: 'NatGatewayDeleted', data: { natGatewayId: id(61) } }))
    .when(acme, 'vpc.delete', { vpcId: id(1) })
    .then(t, [{ type: 'SecurityGroupDeleted', data: { securityGroupId: DEFAULT_GROUP } }, { type: 'VpcDeleted', data: { vpcId: id(1) } }]);
});

// --- reads -------------------------------------------------------------------

test('tenant reads - external IPs and NAT gateways are the tenant\'s only', (t) => {
  const { view } = given(
    outside(), vpcWithSubnet(),
    did(externalIpAllocated(60, '203.0.113.10'), natGatewayCreated(61, id(60), true), externalIpAllocated(62, '203.0.113.11')),
    { scope: globex, events: [externalIpAllocated(70, '203.0.113.12')] },
  );
  t.deepEqual((read(view, acme, 'externalip.list').externalIps as { id: string }[]).map((ip) => ip.id), [id(60), id(62)]);
  t.deepEqual((read(view, globex, 'externalip.list').externalIps as { id: string }[]).map((ip) => ip.id), [id(70)]);
  t.deepEqual(read(view, acme, 'externalip.get', { externalIpId: id(60) }), {
    externalIp: { id: id(60), org: 'acme', project: 'web', address: '203.0.113.10', poolId: id(51), externalNetworkId: id(50), natGatewayId: id(61), portForwardIds: [], createdAt: '2026-01-01T00:00:03Z' },
  });
  t.throws(() => read(view, globex, 'externalip.get', { externalIpId: id(60) }), { message: /not found/ });
  t.deepEqual(read(view, acme, 'natgateway.get', { natGatewayId: id(61) }), {
    natGateway: { id: id(61), org: 'acme', project: 'web', vpcId: id(1), externalIpId: id(60), address: '203.0.113.10', createdAt: '2026-01-01T00:00:03Z' },
  });
  t.is((read(view, acme, 'natgateway.list', { vpcId: id(1) }).natGateways as unknown[]).length, 1);
  t.is((read(view, acme, 'natgateway.list', { vpcId: id(9) }).natGateways as unknown[]).length, 0);
  t.deepEqual(read(view, globex, 'natgateway.list').natGateways, []);
  t.throws(() => read(view, globex, 'natgateway.get', { natGatewayId: id(61) }), { message: /not found/ });
});
