import test from 'ava';
import type { NovanetEvent } from '../../events/mod.js';
import { DEFAULT_DECIDE_CONFIG, isCommandError, providerOperations, tenantOperations } from '../../src/commands/mod.js';
import {
  acme, externalIpAllocated, externalNetworkCreated, given, id, outside, poolCreated, provider, read,
} from '../support/decider.js';

const did = (...events: NovanetEvent[]) => ({ scope: provider, events });
const network = { name: 'public', cidr: '198.51.100.0/24', gatewayIp: '198.51.100.1', physicalNetwork: 'physnet', gatewayChassis: [{ name: 'gw-1', priority: 20 }, { name: 'gw-2', priority: 10 }] };

// --- the registries -----------------------------------------------------------------

test('registries - provider and tenant operations are disjoint but for reading the class catalogue; external networks and pools are provider-only', (t) => {
  const tenant = new Set(tenantOperations.keys());
  t.deepEqual([...providerOperations.keys()].filter((name) => tenant.has(name)), ['networkclass.get', 'networkclass.list']);
  t.deepEqual([...providerOperations.keys()].sort(), [
    'externalippool.create', 'externalippool.delete', 'externalippool.get', 'externalippool.list',
    'externalnetwork.create', 'externalnetwork.delete', 'externalnetwork.get', 'externalnetwork.list', 'externalnetwork.update',
    'networkclass.create', 'networkclass.delete', 'networkclass.get', 'networkclass.list', 'networkclass.update',
    'tenantquota.get', 'tenantquota.list', 'tenantquota.set',
  ]);
  for (const name of ['externalip.allocate', 'natgateway.create', 'externalipattachment.create', 'portforward.create']) t.truthy(tenantOperations.get(name), name);
});

test('registries - a provider operation decided in a tenant scope is FORBIDDEN', (t) => {
  const { view } = given();
  const op = providerOperations.get('externalnetwork.create')!;
  const ctx = { scope: acme, commandId: 'x', now: '2026-01-01T12:00:00Z', config: DEFAULT_DECIDE_CONFIG, newId: () => id(100), newMac: () => '0a:4e:00:00:00:a0' };
  const error = t.throws(() => op.kind === 'command' && op.decide(view, op.schema.parse({ commandId: 'x', ...network }), ctx));
  t.true(isCommandError(error) && error.code === 'FORBIDDEN');
  const list = providerOperations.get('externalnetwork.list')!;
  t.throws(() => list.kind === 'query' && list.query(view, {}, acme), { message: /operator/ });
});

// --- externalnetwork.update ---------------------------------------------------------

test('externalnetwork.update - makes another network the default, or none', (t) => {
  const history = did(externalNetworkCreated(1), externalNetworkCreated(2, { cidr: '198.51.100.0/24', gatewayIp: '198.51.100.1', isDefault: false }));
  const d = given(history).when(provider, 'externalnetwork.update', { externalNetworkId: id(2), default: true })
    .then(t, [{ type: 'ExternalNetworkUpdated', data: { externalNetworkId: id(2), isDefault: true } }]);
  t.like(d.result, { externalNetwork: { id: id(2), isDefault: true } });
  const after = given(history, did(...d.events));
  t.is(after.view.defaultExternalNetworkId, id(2));
  const none = given(history).when(provider, 'externalnetwork.update', { externalNetworkId: id(1), default: false })
    .then(t, [{ type: 'ExternalNetworkUpdated', data: { externalNetworkId: id(1), isDefault: false } }]);
  t.is(given(history, did(...none.events)).view.defaultExternalNetworkId, undefined);
});

test('externalnetwork.update - moves the gateway chassis; unknown networks and bad chassis lists are refused', (t) => {
  const history = did(externalNetworkCreated(1));
  const chassis = [{ name: 'gw-9', priority: 5 }];
  const d = given(history).when(provider, 'externalnetwork.update', { externalNetworkId: id(1), gatewayChassis: chassis })
    .then(t, [{ type: 'ExternalNetworkUpdated', data: { externalNetworkId: id(1), gatewayChassis: chassis } }]);
  t.like(d.result, { externalNetwork: { gatewayChassis: chassis, isDefault: true } });
  given(history).when(provider, 'externalnetwork.update', { externalNetworkId: id(9), default: true }).thenFails(t, 'NOT_FOUND');
  given(history).when(provider, 'externalnetwork.update', { externalNetworkId: id(1), gatewayChassis: [] }).thenFails(t, 'VALIDATION_FAILED');
  given(history).when(provider, 'externalnetwork.update', { externalNetworkId: id(1), cidr: '10.0.0.0/8' }).thenFails(t, 'VALIDATION_FAILED');
});

// --- externalnetwork.create ---------------------------------------------------------

test('externalnetwork.create - records the network; the first one becomes the default', (t) => {
  const d = given().when(provider, 'externalnetwork.create', { ...network, vlanId: 4094 }).then(t, [{
    type: 'ExternalNetworkCreated',
    data: { externalNetworkId: id(100), ...network, vlanId: 4094, isDefault: true },
  }]);
  t.deepEqual(d.result, {
    externalNetwork: { id: id(100), ...network, vlanId: 4094, isDefault: true, poolIds: [], createdAt: '2026-01-01T12:00:00Z' },
  });
});

test('externalnetwork.create - later networks are not the default unless they say so; default: true takes over', (t) => {
  given(outside()).when(provider, 'externalnetwork.create', network).then(t, [{
    type: 'ExternalNetworkCreated', data: { externalNetworkId: id(100), ...network, isDefault: false },
  }]);
  const d = given(outside()).when(provider, 'externalnetwork.create', { ...network, default: true }).then(t, [{
    type: 'ExternalNetworkCreated', data: { externalNetworkId: id(100), ...network, isDefault: true },
  }]);
  const { view } = given(outside(), did(...d.events));
  t.deepEqual((read(view, provider, 'externalnetwork.list').externalNetworks as { id: string; isDefault: boolean }[]).map((n) => [n.id, n.isDefault]), [[id(50), false], [id(100), true]]);
  // default: false on the very first network leaves the provider without a default.
  given().when(provider, 'externalnetwork.create', { ...network, default: false }).then(t, [{
    type: 'ExternalNetworkCreated', data: { externalNetworkId: id(100), ...network, isDefault: false },
  }]);
});

test('externalnetwork.create - the CIDR is canonical IPv4 from /8 to /30', (t) => {
  for (const cidr of ['banana', '198.51.100.0', '198.51.100.0/31', '10.0.0.0/7', 'fd00::/64']) {
    given().when(provider, 'externalnetwork.create', { ...network, cidr }).thenFails(t, 'INVALID_CIDR');
  }
  given().when(provider, 'externalnetwork.create', { ...network, cidr: '198.51.100.7/24' }).thenFails(t, 'INVALID_CIDR', { canonical: '198.51.100.0/24' });
  given().when(provider, 'externalnetwork.create', { ...network, cidr: '198.51.100.0/30', gatewayIp: '198.51.100.2' }).thenSucceeds(t);
});

test('externalnetwork.create - must not overlap another external network', (t) => {
  given(outside()).when(provider, 'externalnetwork.create', { ...network, cidr: '203.0.113.128/25', gatewayIp: '203.0.113.129' })
    .thenFails(t, 'CIDR_OVERLAP', { externalNetworkId: id(50) });
  given(outside()).when(provider, 'externalnetwork.create', { ...network, cidr: '203.0.0.0/16', gatewayIp: '203.0.0.1' })
    .thenFails(t, 'CIDR_OVERLAP', { externalNetworkId: id(50) });
  given(outside(), did({ type: 'ExternalNetworkDeleted', data: { externalNetworkId: id(50) } }))
    .when(provider, 'externalnetwork.create', { ...network, cidr: '203.0.113.0/24', gatewayIp: '203.0.113.1' }).thenSucceeds(t);
});

test('externalnetwork.create - the gateway is a usable address of the network', (t) => {
  given().when(provider, 'externalnetwork.create', { ...network, gatewayIp: '198.51.101.1' }).thenFails(t, 'IP_OUTSIDE_SUBNET');
  given().when(provider, 'externalnetwork.create', { ...network, gatewayIp: '198.51.100.0' }).thenFails(t, 'IP_RESERVED');
  given().when(provider, 'externalnetwork.create', { ...network, gatewayIp: '198.51.100.255' }).thenFails(t, 'IP_RESERVED');
  given().when(provider, 'externalnetwork.create', { ...network, gatewayIp: 'gateway' }).thenFails(t, 'VALIDATION_FAILED');
});

test('externalnetwork.create - physical network, gateway chassis and VLAN are checked', (t) => {
  for (const physicalNetwork of ['', 'phys net', 'x'.repeat(65), 'phys/net']) {
    given().when(provider, 'externalnetwork.create', { ...network, physicalNetwork }).thenFails(t, 'VALIDATION_FAILED');
  }
  given().when(provider, 'externalnetwork.create', { ...network, physicalNetwork: 'Phys_net.1-a' }).thenSucceeds(t);
  const chassis = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `gw-${i}`, priority: i }));
  for (const gatewayChassis of [
    [], chassis(9), [{ name: '', priority: 1 }], [{ name: 'x'.repeat(65), priority: 1 }],
    [{ name: 'gw', priority: -1 }], [{ name: 'gw', priority: 32768 }], [{ name: 'gw', priority: 1.5 }],
    [{ name: 'gw', priority: 1 }, { name: 'gw', priority: 2 }], [{ name: 'gw' }], [{ name: 'gw', priority: 1, extra: true }],
  ]) {
    given().when(provider, 'externalnetwork.create', { ...network, gatewayChassis }).thenFails(t, 'VALIDATION_FAILED', undefined);
  }
  given().when(provider, 'externalnetwork.create', { ...network, gatewayChassis: chassis(8) }).thenSucceeds(t);
  given().when(provider, 'externalnetwork.create', { ...network, gatewayChassis: [{ name: 'x'.repeat(64), priority: 32767 }, { name: 'y', priority: 0 }] }).thenSucceeds(t);
  for (const vlanId of [0, 4095, 1.5, '10']) {
    given().when(provider, 'externalnetwork.create', { ...network, vlanId }).thenFails(t, 'VALIDATION_FAILED');
  }
  given().when(provider, 'externalnetwork.create', { ...network, vlanId: 1 }).thenSucceeds(t);
});

test('externalnetwork.create - the name is unique among external networks', (t) => {
  given(outside()).when(provider, 'externalnetwork.create', { ...network, name: 'ext50' }).thenFails(t, 'ALREADY_EXISTS', { name: 'ext50' });
  given().when(provider, 'externalnetwork.create', { ...network, name: '' }).thenFails(t, 'VALIDATION_FAILED');
  given().when(provider, 'externalnetwork.create', { ...network, cidrBlock: '10.0.0.0/8' }).thenFails(t, 'VALIDATION_FAILED');
});

// --- externalnetwork.delete ---------------------------------------------------------

test('externalnetwork.delete - IN_USE while it has pools; then deleted, and there is no default any more', (t) => {
  given(outside()).when(provider, 'externalnetwork.delete', { externalNetworkId: id(50) }).thenFails(t, 'IN_USE', { poolIds: [id(51)] });
  const history = [outside(), did({ type: 'ExternalIpPoolDeleted', data: { poolId: id(51) } })] as const;
  const d = given(...history).when(provider, 'externalnetwork.delete', { externalNetworkId: id(50) })
    .then(t, [{ type: 'ExternalNetworkDeleted', data: { externalNetworkId: id(50) } }]);
  t.deepEqual(d.result, {});
  const { view } = given(...history, did(...d.events));
  t.is(view.defaultExternalNetworkId, undefined);
  given().when(provider, 'externalnetwork.delete', { externalNetworkId: id(50) }).thenFails(t, 'NOT_FOUND');
});

// --- externalippool.create ----------------------------------------------------------

test('externalippool.create - records the pool with its ranges; the reply counts its addresses', (t) => {
  const d = given(outside()).when(provider, 'externalippool.create', {
    externalNetworkId: id(50), name: 'more', ranges: [{ first: '203.0.113.100', last: '203.0.113.199' }, { first: '203.0.113.254', last: '203.0.113.254' }],
  }).then(t, [{
    type: 'ExternalIpPoolCreated',
    data: { poolId: id(100), externalNetworkId: id(50), name: 'more', ranges: [{ first: '203.0.113.100', last: '203.0.113.199' }, { first: '203.0.113.254', last: '203.0.113.254' }] },
  }]);
  t.deepEqual(d.result, {
    externalIpPool: {
      id: id(100), externalNetworkId: id(50), name: 'more', ranges: [{ first: '203.0.113.100', last: '203.0.113.199' }, { first: '203.0.113.254', last: '203.0.113.254' }],
      size: 101, allocatedCount: 0, createdAt: '2026-01-01T12:00:00Z',
    },
  });
});

test('externalippool.create - NOT_FOUND network; names unique within the network only', (t) => {
  const range = [{ first: '203.0.113.20', last: '203.0.113.30' }];
  given(outside()).when(provider, 'externalippool.create', { externalNetworkId: id(9), name: 'x', ranges: range }).thenFails(t, 'NOT_FOUND');
  given(outside()).when(provider, 'externalippool.create', { externalNetworkId: id(50), name: 'pool51', ranges: range }).thenFails(t, 'ALREADY_EXISTS', { name: 'pool51' });
  given(outside(), did(externalNetworkCreated(60, { name: 'other', cidr: '198.51.100.0/24', gatewayIp: '198.51.100.1', isDefault: false })))
    .when(provider, 'externalippool.create', { externalNetworkId: id(60), name: 'pool51', ranges: [{ first: '198.51.100.2', last: '198.51.100.9' }] }).thenSucceeds(t);
});

test('externalippool.create - each range is ordered, inside the network, and free of its reserved addresses', (t) => {
  const create = (...ranges: [string, string][]) => given(outside())
    .when(provider, 'externalippool.create', { externalNetworkId: id(50), name: 'x', ranges: ranges.map(([first, last]) => ({ first, last })) });
  create(['203.0.113.30', '203.0.113.20']).thenFails(t, 'VALIDATION_FAILED', { range: 'ranges[0]' });
  create(['203.0.113.20', '203.0.114.5']).thenFails(t, 'IP_OUTSIDE_SUBNET', { range: 'ranges[0]' });
  create(['203.0.113.20', '203.0.113.21'], ['203.0.112.250', '203.0.113.2']).thenFails(t, 'IP_OUTSIDE_SUBNET', { range: 'ranges[1]' });
  create(['203.0.113.0', '203.0.113.5']).thenFails(t, 'IP_RESERVED', { reserved: 'network', ipAddress: '203.0.113.0' });
  create(['203.0.113.250', '203.0.113.255']).thenFails(t, 'IP_RESERVED', { reserved: 'broadcast', ipAddress: '203.0.113.255' });
  create(['203.0.113.1', '203.0.113.1']).thenFails(t, 'IP_RESERVED', { reserved: 'gateway', ipAddress: '203.0.113.1' });
  create(['203.0.113.2', '203.0.113.9'], ['203.0.113.13', '203.0.113.254']).thenSucceeds(t);
  create(['203.0.113.20', 'x']).thenFails(t, 'VALIDATION_FAILED');
});

test('externalippool.create - ranges overlap neither each other nor another pool of the network', (t) => {
  const create = (...ranges: [string, string][]) => given(outside())
    .when(provider, 'externalippool.create', { externalNetworkId: id(50), name: 'x', ranges: ranges.map(([first, last]) => ({ first, last })) });
  create(['203.0.113.20', '203.0.113.30'], ['203.0.113.30', '203.0.113.40']).thenFails(t, 'CIDR_OVERLAP', { range: 'ranges[1]', overlaps: 'ranges[0]' });
  create(['203.0.113.20', '203.0.113.30'], ['203.0.113.21', '203.0.113.22']).thenFails(t, 'CIDR_OVERLAP', { range: 'ranges[1]' });
  create(['203.0.113.5', '203.0.113.10']).thenFails(t, 'CIDR_OVERLAP', { poolId: id(51) });
  create(['203.0.113.2', '203.0.113.200']).thenFails(t, 'CIDR_OVERLAP', { poolId: id(51) });
  create(['203.0.113.2', '203.0.113.9'], ['203.0.113.13', '203.0.113.20']).thenSucceeds(t);
  // A deleted pool's addresses are free for a new one.
  given(outside(), did({ type: 'ExternalIpPoolDeleted', data: { poolId: id(51) } }))
    .when(provider, 'externalippool.create', { externalNetworkId: id(50), name: 'x', ranges: [{ first: '203.0.113.10', last: '203.0.113.12' }] }).thenSucceeds(t);
});

test('externalippool.create - 1 to 16 ranges', (t) => {
  const ranges = (n: number) => Array.from({ length: n }, (_, i) => ({ first: `203.0.113.${100 + i}`, last: `203.0.113.${100 + i}` }));
  given(outside()).when(provider, 'externalippool.create', { externalNetworkId: id(50), name: 'x', ranges: [] }).thenFails(t, 'VALIDATION_FAILED');
  given(outside()).when(provider, 'externalippool.create', { externalNetworkId: id(50), name: 'x', ranges: ranges(17) }).thenFails(t, 'VALIDATION_FAILED');
  given(outside()).when(provider, 'externalippool.create', { externalNetworkId: id(50), name: 'x', ranges: ranges(16) }).thenSucceeds(t);
});

// --- externalippool.delete ----------------------------------------------------------

test('externalippool.delete - IN_USE while any address is allocated, in any tenant', (t) => {
  const held = { scope: acme, events: [externalIpAllocated(60, '203.0.113.10')] };
  given(outside(), held).when(provider, 'externalippool.delete', { poolId: id(51) }).thenFails(t, 'IN_USE', { externalIpIds: [id(60)] });
  given(outside(), held, { scope: acme, events: [{ type: 'ExternalIpReleased', data: { externalIpId: id(60) } }] })
    .when(provider, 'externalippool.delete', { poolId: id(51) }).then(t, [{ type: 'ExternalIpPoolDeleted', data: { poolId: id(51) } }]);
  given(outside()).when(provider, 'externalippool.delete', { poolId: id(9) }).thenFails(t, 'NOT_FOUND');
});

// --- reads -------------------------------------------------------------------

test('provider reads - networks and pools, with pool sizes and allocation counts', (t) => {
  const { view } = given(
    outside(),
    did(externalNetworkCreated(60, { name: 'other', cidr: '198.51.100.0/24', gatewayIp: '198.51.100.1', isDefault: false, vlanId: 7 }), poolCreated(61, 60, ['198.51.100.2', '198.51.100.9'])),
    { scope: acme, events: [externalIpAllocated(70, '203.0.113.10'), externalIpAllocated(71, '203.0.113.11')] },
  );
  t.like(read(view, provider, 'externalnetwork.get', { externalNetworkId: id(60) }), {
    externalNetwork: { id: id(60), name: 'other', isDefault: false, vlanId: 7, poolIds: [id(61)], createdAt: '2026-01-01T00:00:02Z' },
  });
  t.like(read(view, provider, 'externalnetwork.get', { externalNetworkId: id(50) }), { externalNetwork: { isDefault: true, poolIds: [id(51)] } });
  t.false('vlanId' in (read(view, provider, 'externalnetwork.get', { externalNetworkId: id(50) }).externalNetwork as object));
  t.is((read(view, provider, 'externalnetwork.list', { name: 'other' }).externalNetworks as unknown[]).length, 1);
  t.throws(() => read(view, provider, 'externalnetwork.get', { externalNetworkId: id(9) }), { message: /not found/ });
  t.like(read(view, provider, 'externalippool.get', { poolId: id(51) }), { externalIpPool: { size: 3, allocatedCount: 2 } });
  t.like(read(view, provider, 'externalippool.get', { poolId: id(61) }), { externalIpPool: { size: 8, allocatedCount: 0 } });
  t.is((read(view, provider, 'externalippool.list').externalIpPools as unknown[]).length, 2);
  t.deepEqual((read(view, provider, 'externalippool.list', { externalNetworkId: id(60) }).externalIpPools as { id: string }[]).map((p) => p.id), [id(61)]);
  t.throws(() => read(view, provider, 'externalippool.get', { poolId: id(9) }), { message: /not found/ });
});
