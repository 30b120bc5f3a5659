import test from 'ava';
import type { NovanetEvent } from '../../events/mod.js';
import type { Given } from '../support/decider.js';
import { acme, DEFAULT_GROUP, defaultGroupCreated, given, id, mac, provider, vpcWithSubnet } from '../support/decider.js';

/**
 * port.create with `ports`: many ports in one commit, each decided by the one-port decider on
 * the view plus what the ports before it claimed. Common history: acme's VPC id(1) with subnet
 * id(2) (10.0.1.0/24, gateway .1), a subnet id(5) (10.0.2.0/24) and a second VPC id(20) with subnet id(21).
 */

const dhcp = { enabled: true, leaseTime: 43200, dnsServers: [], ntpServers: [] };
const subnetCreated = (n: number, vpcId: string, cidr: string, gatewayIp: string): NovanetEvent =>
  ({ type: 'SubnetCreated', data: { subnetId: id(n), vpcId, name: `s${n}`, cidr, gatewayIp, gatewayMac: mac(n), dhcp } });
const network = (): Given[] => [vpcWithSubnet(), {
  scope: acme,
  events: [
    subnetCreated(5, id(1), '10.0.2.0/24', '10.0.2.1'),
    { type: 'VpcCreated', data: { vpcId: id(20), name: 'other', cidr: '10.1.0.0/16' } }, defaultGroupCreated(id(20), 30),
    subnetCreated(21, id(20), '10.1.1.0/24', '10.1.1.1'),
  ],
}];
const created = (n: number, ip: string, fields: Record<string, unknown> = {}): NovanetEvent =>
  ({ type: 'PortCreated', data: { portId: id(n), subnetId: id(2), macAddress: mac(0xa0 + n - 100), ipAddress: ip, securityGroupIds: [DEFAULT_GROUP], primary: true, ...fields } });

test('port.create ports - one commit of every port, each with its own lowest free address and MAC, answered in order', (t) => {
  const decision = given(...network()).when(acme, 'port.create', { ports: [{ subnetId: id(2) }, { subnetId: id(2), name: 'b' }, { subnetId: id(5) }] })
    .then(t, [created(100, '10.0.1.2'), created(101, '10.0.1.3', { name: 'b' }), created(102, '10.0.2.2', { subnetId: id(5) })]);
  const { ports } = decision.result as { ports: { id: string; ipAddress: string; name?: string }[] };
  t.deepEqual(ports.map((p) => [p.id, p.ipAddress]), [[id(100), '10.0.1.2'], [id(101), '10.0.1.3'], [id(102), '10.0.2.2']]);
  t.is(ports[1]!.name, 'b');
});

test('port.create ports - decides exactly what the same ports decide as one command each, folded one after another', (t) => {
  const ports = [
    { subnetId: id(2), ipAddress: '10.0.1.3' }, { subnetId: id(2), allowedAddressPairs: [{ ipAddress: '10.0.1.4' }] },
    { subnetId: id(2) }, { subnetId: id(2) }, { subnetId: id(2) },
    { subnetId: id(2), deviceId: 'vm' }, { subnetId: id(5), deviceId: 'vm' }, { subnetId: id(5), deviceId: 'vm2', primary: false },
    { subnetId: id(5), deviceId: 'vm2' },
  ];
  const bulk = given(...network()).when(acme, 'port.create', { ports }).thenSucceeds(t);
  // Port i of the bulk command draws id(100 + i) and MAC mac(0xa0 + i): give each lone command the same.
  const history = network();
  ports.forEach((port, i) => {
    const events = given(...history).when(acme, 'port.create', port, { firstId: 100 + i, macs: [mac(0xa0 + i)] }).thenSucceeds(t).events;
    history.push({ scope: acme, events });
  });
  t.deepEqual(bulk.events, history.slice(network().length).flatMap((h) => h.events));
  // IPAM skipped .3 (asked for) and .4 (a pair), handing out the rest in order.
  t.deepEqual(bulk.events.flatMap((e) => e.type === 'PortCreated' && e.data.subnetId === id(2) ? [e.data.ipAddress] : []),
    ['10.0.1.3', '10.0.1.2', '10.0.1.5', '10.0.1.6', '10.0.1.7', '10.0.1.8']);
});

test('port.create ports - two ports asking for one address, or one MAC, refuse the whole command naming the second by index', (t) => {
  given(...network()).when(acme, 'port.create', { ports: [{ subnetId: id(2), ipAddress: '10.0.1.9' }, { subnetId: id(2) }, { subnetId: id(2), ipAddress: '10.0.1.9' }] })
    .thenFails(t, 'IP_ALREADY_ALLOCATED', { index: 2, portId: id(100), ipAddress: '10.0.1.9' });
  given(...network()).when(acme, 'port.create', { ports: [{ subnetId: id(2), macAddress: '0a:00:00:00:00:07' }, { subnetId: id(2), macAddress: '0A-00-00-00-00-07' }] })
    .thenFails(t, 'MAC_ALREADY_ALLOCATED', { index: 1, macAddress: '0a:00:00:00:00:07' });
  // A pair's MAC is in use by the port before, as after its own commit; the pair's own index is pairIndex.
  const error = given(...network()).when(acme, 'port.create', {
    ports: [{ subnetId: id(2), macAddress: '0a:00:00:00:00:07' }, { subnetId: id(2), allowedAddressPairs: [{ ipAddress: '10.0.1.50' }, { ipAddress: '10.0.1.60', macAddress: '0a:00:00:00:00:07' }] }],
  }).thenFails(t, 'MAC_ALREADY_ALLOCATED', { index: 1, pairIndex: 1 });
  t.regex(error.message, /^ports\[1\]: /);
  // A generated MAC an earlier port holds is drawn again.
  given(...network()).when(acme, 'port.create', { ports: [{ subnetId: id(2) }, { subnetId: id(2) }] }, { macs: [mac(0xa0), mac(0xa0), mac(0xb0)] })
    .then(t, [created(100, '10.0.1.2'), created(101, '10.0.1.3', { macAddress: mac(0xb0) })]);
});

test('port.create ports - any refused port refuses the whole command with its index; a full subnet names the port it ran out at', (t) => {
  given(...network()).when(acme, 'port.create', { ports: [{ subnetId: id(2) }, { subnetId: id(99) }] }).thenFails(t, 'NOT_FOUND', { index: 1, kind: 'subnet' });
  given(...network()).when(acme, 'port.create', { ports: [{ subnetId: id(2), ipAddress: '10.0.9.9' }] }).thenFails(t, 'IP_OUTSIDE_SUBNET', { index: 0 });
  const tiny: Given = { scope: acme, events: [subnetCreated(40, id(1), '10.0.3.0/29', '10.0.3.1')] };
  // A /29 has 5 addresses for ports (.2-.6).
  given(...network(), tiny).when(acme, 'port.create', { ports: Array.from({ length: 6 }, () => ({ subnetId: id(40) })) })
    .thenFails(t, 'POOL_EXHAUSTED', { index: 5, subnetId: id(40) });
  t.is(given(...network(), tiny).when(acme, 'port.create', { ports: Array.from({ length: 5 }, () => ({ subnetId: id(40) })) }).thenSucceeds(t).events.length, 5);
});

test('port.create ports - the multi-NIC rules hold across the ports of one command', (t) => {
  // Two primaries for one device.
  given(...network()).when(acme, 'port.create', { ports: [{ subnetId: id(2), deviceId: 'vm' }, { subnetId: id(5), deviceId: 'vm', primary: true }] })
    .thenFails(t, 'CONFLICT', { index: 1, deviceId: 'vm', portId: id(100) });
  // A device's ports in two VPCs.
  given(...network()).when(acme, 'port.create', { ports: [{ subnetId: id(2), deviceId: 'vm' }, { subnetId: id(21), deviceId: 'vm' }] })
    .thenFails(t, 'CONFLICT', { index: 1, deviceId: 'vm', portId: id(100), vpcId: id(1) });
  // The device's second port is not primary; a device whose first port is not primary may get one later in the command.
  const ok = given(...network()).when(acme, 'port.create', {
    ports: [{ subnetId: id(2), deviceId: 'vm' }, { subnetId: id(5), deviceId: 'vm' }, { subnetId: id(2), deviceId: 'db', primary: false }, { subnetId: id(5), deviceId: 'db', primary: true }],
  }).thenSucceeds(t);
  t.deepEqual(ok.events.map((e) => e.type === 'PortCreated' && [e.data.deviceId, e.data.primary]), [['vm', true], ['vm', false], ['db', false], ['db', true]]);
});

test('port.create ports - the quota counts every port of the command', (t) => {
  const quota = (ports: number): Given => ({ scope: provider, events: [{ type: 'QuotaSet', data: { tenant: acme, limits: { ports } } }] });
  const three = { ports: [{ subnetId: id(2) }, { subnetId: id(2) }, { subnetId: id(2) }] };
  given(...network(), quota(2)).when(acme, 'port.create', three).thenFails(t, 'QUOTA_EXCEEDED', { kind: 'ports', limit: 2, used: 0 });
  t.is(given(...network(), quota(3)).when(acme, 'port.create', three).thenSucceeds(t).events.length, 3);
});

test('port.create ports - 1 to 1,000 ports, each strict; a port\'s fields and `ports` do not mix', (t) => {
  given(...network()).when(acme, 'port.create', { ports: [] }).thenFails(t, 'VALIDATION_FAILED');
  given(...network()).when(acme, 'port.create', { ports: Array.from({ length: 1001 }, () => ({ subnetId: id(2) })) }).thenFails(t, 'VALIDATION_FAILED');
  given(...network()).when(acme, 'port.create', { subnetId: id(2), ports: [{ subnetId: id(2) }] }).thenFails(t, 'VALIDATION_FAILED');
  const error = given(...network()).when(acme, 'port.create', { ports: [{ subnetId: id(2) }, { subnetId: id(2), colour: 'red' }] }).thenFails(t, 'VALIDATION_FAILED');
  t.deepEqual((error.details!.issues as { path: unknown[] }[]).map((i) => i.path), [['ports', 1]]);
  // Bare-metal rules too: interface without vnicType, named by index.
  given(...network()).when(acme, 'port.create', { ports: [{ subnetId: id(2) }, { subnetId: id(2), interface: '52:54:00:00:00:01' }] })
    .thenFails(t, 'VALIDATION_FAILED', { index: 1, field: 'interface' });
});

test('port.create ports - 1,000 ports decide in one pass, with 1,000 distinct addresses', (t) => {
  const big: Given = { scope: acme, events: [subnetCreated(40, id(1), '10.0.8.0/22', '10.0.8.1')] };
  const decision = given(...network(), big).when(acme, 'port.create', { ports: Array.from({ length: 1000 }, () => ({ subnetId: id(40) })) }, { macs: Array.from({ length: 1000 }, (_, i) => `0a:4f:00:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`) })
    .thenSucceeds(t);
  const addresses = decision.events.map((e) => e.type === 'PortCreated' && e.data.ipAddress);
  t.is(new Set(addresses).size, 1000);
  t.is(addresses[0], '10.0.8.2');
  t.is(addresses[999], '10.0.11.233');
});
