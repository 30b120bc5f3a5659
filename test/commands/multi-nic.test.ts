import test from 'ava';
import type { NovanetEvent } from '../../events/mod.js';
import type { Given } from '../support/decider.js';
import { acme, DEFAULT_GROUP, defaultGroupCreated, externalIpAllocated, given, globex, id, mac, outside, read, vpcWithSubnet } from '../support/decider.js';

/**
 * Multi-NIC devices and port.attach / port.detach. Common history: acme's VPC id(1) with
 * subnets id(2) (10.0.1.0/24) and id(5) (10.0.2.0/24), and a second VPC id(20) with subnet id(21).
 */

const did = (...events: NovanetEvent[]): Given => ({ scope: acme, events });
const dhcp = { enabled: true, leaseTime: 43200, dnsServers: [], ntpServers: [] };
const subnetCreated = (n: number, vpcId: string, cidr: string, gatewayIp: string): NovanetEvent =>
  ({ type: 'SubnetCreated', data: { subnetId: id(n), vpcId, name: `s${n}`, cidr, gatewayIp, gatewayMac: mac(n), dhcp } });
const network = (): Given[] => [vpcWithSubnet(), did(
  subnetCreated(5, id(1), '10.0.2.0/24', '10.0.2.1'),
  { type: 'VpcCreated', data: { vpcId: id(20), name: 'other', cidr: '10.1.0.0/16' } }, defaultGroupCreated(id(20), 30),
  subnetCreated(21, id(20), '10.1.1.0/24', '10.1.1.1'),
)];
const nic = (n: number, subnet: number, ip: string, fields: { deviceId?: string; primary?: boolean } = {}): NovanetEvent =>
  ({ type: 'PortCreated', data: { portId: id(n), subnetId: id(subnet), macAddress: mac(n), ipAddress: ip, securityGroupIds: [DEFAULT_GROUP], ...fields } });
const created = (subnet: number, ip: string, fields: Record<string, unknown>): NovanetEvent[] => [{
  type: 'PortCreated',
  data: { portId: id(100), subnetId: id(subnet), macAddress: mac(0xa0), ipAddress: ip, securityGroupIds: [DEFAULT_GROUP], ...fields },
}];

// --- primary ------------------------------------------------------------------------------

test('port.create - a device\'s first port is its primary, a later one is not; the event records it', (t) => {
  const first = given(...network()).when(acme, 'port.create', { subnetId: id(2), deviceId: 'vm' })
    .then(t, created(2, '10.0.1.2', { primary: true, deviceId: 'vm' }));
  t.like(first.result, { port: { deviceId: 'vm', primary: true } });
  const second = given(...network(), did(nic(3, 2, '10.0.1.2', { deviceId: 'vm' }))).when(acme, 'port.create', { subnetId: id(5), deviceId: 'vm' })
    .then(t, created(5, '10.0.2.2', { primary: false, deviceId: 'vm' }));
  t.like(second.result, { port: { primary: false } });
});

test('port.create - a port without a device is primary unless created with primary: false', (t) => {
  given(...network()).when(acme, 'port.create', { subnetId: id(2) }).then(t, created(2, '10.0.1.2', { primary: true }));
  given(...network()).when(acme, 'port.create', { subnetId: id(2), primary: false }).then(t, created(2, '10.0.1.2', { primary: false }));
});

test('port.create - a first port created with primary: false leaves the device without a primary; a later port may then be primary', (t) => {
  given(...network()).when(acme, 'port.create', { subnetId: id(2), deviceId: 'vm', primary: false })
    .then(t, created(2, '10.0.1.2', { primary: false, deviceId: 'vm' }));
  const noPrimary = [...network(), did(nic(3, 2, '10.0.1.2', { deviceId: 'vm', primary: false }))];
  given(...noPrimary).when(acme, 'port.create', { subnetId: id(5), deviceId: 'vm' }).then(t, created(5, '10.0.2.2', { primary: false, deviceId: 'vm' }));
  given(...noPrimary).when(acme, 'port.create', { subnetId: id(5), deviceId: 'vm', primary: true }).then(t, created(5, '10.0.2.2', { primary: true, deviceId: 'vm' }));
});

test('port.create - a second primary on one device is CONFLICT naming the primary', (t) => {
  given(...network(), did(nic(3, 2, '10.0.1.2', { deviceId: 'vm' }))).when(acme, 'port.create', { subnetId: id(5), deviceId: 'vm', primary: true })
    .thenFails(t, 'CONFLICT', { deviceId: 'vm', portId: id(3) });
});

test('port.create - a device\'s ports are in one VPC: another VPC is CONFLICT naming the other port', (t) => {
  given(...network(), did(nic(3, 2, '10.0.1.2', { deviceId: 'vm' }))).when(acme, 'port.create', { subnetId: id(21), deviceId: 'vm' })
    .thenFails(t, 'CONFLICT', { deviceId: 'vm', portId: id(3), vpcId: id(1) });
});

test('port.create - devices are per tenant: another tenant\'s device of the same name does not count', (t) => {
  const globexPort = { scope: globex, events: [
    { type: 'VpcCreated', data: { vpcId: id(40), name: 'main', cidr: '10.0.0.0/16' } }, subnetCreated(41, id(40), '10.0.1.0/24', '10.0.1.1'),
    { ...nic(42, 41, '10.0.1.2', { deviceId: 'vm' }) },
  ] as NovanetEvent[] };
  given(...network(), globexPort).when(acme, 'port.create', { subnetId: id(2), deviceId: 'vm' })
    .then(t, created(2, '10.0.1.2', { primary: true, deviceId: 'vm' }));
});

test('port.create - primary is a boolean', (t) => {
  given(...network()).when(acme, 'port.create', { subnetId: id(2), primary: 'yes' }).thenFails(t, 'VALIDATION_FAILED');
});

test('port - primary is immutable: port.update refuses it', (t) => {
  given(...network(), did(nic(3, 2, '10.0.1.2', { deviceId: 'vm' }))).when(acme, 'port.update', { portId: id(3), primary: false }).thenFails(t, 'VALIDATION_FAILED');
});

test('port.delete - deleting the primary leaves the device without one; a new port may become it', (t) => {
  const history = [...network(), did(nic(3, 2, '10.0.1.2', { deviceId: 'vm' }), nic(4, 5, '10.0.2.2', { deviceId: 'vm', primary: false })), did({ type: 'PortDeleted', data: { portId: id(3) } })];
  given(...history).when(acme, 'port.create', { subnetId: id(2), deviceId: 'vm', primary: true }).then(t, created(2, '10.0.1.2', { primary: true, deviceId: 'vm' }));
});

test('port.create - from before multi-NIC (no primary recorded): the device\'s first port is its primary', (t) => {
  const legacy = (n: number, subnet: number, ip: string): NovanetEvent =>
    ({ type: 'PortCreated', data: { portId: id(n), subnetId: id(subnet), macAddress: mac(n), ipAddress: ip, deviceId: 'vm' } });
  const { view } = given(...network(), did(legacy(3, 2, '10.0.1.2'), legacy(4, 5, '10.0.2.2')));
  t.like(read(view, acme, 'port.get', { portId: id(3) }), { port: { primary: true } });
  t.like(read(view, acme, 'port.get', { portId: id(4) }), { port: { primary: false } });
  given(...network(), did(legacy(3, 2, '10.0.1.2'))).when(acme, 'port.create', { subnetId: id(5), deviceId: 'vm', primary: true }).thenFails(t, 'CONFLICT', { portId: id(3) });
});

// --- port.attach / port.detach -----------------------------------------------------------------

test('port.attach - gives a port without a device to one; the multi-NIC rules apply', (t) => {
  const history = [...network(), did(nic(3, 2, '10.0.1.2', { deviceId: 'vm' }), nic(4, 5, '10.0.2.2', { primary: false }), nic(6, 5, '10.0.2.3'), nic(7, 21, '10.1.1.2', { primary: false }))];
  const d = given(...history).when(acme, 'port.attach', { portId: id(4), deviceId: 'vm' }).then(t, [{ type: 'PortAttached', data: { portId: id(4), deviceId: 'vm' } }]);
  t.like(d.result, { port: { id: id(4), deviceId: 'vm', primary: false } });
  given(...history).when(acme, 'port.attach', { portId: id(6), deviceId: 'vm' }).thenFails(t, 'CONFLICT', { portId: id(3) });
  given(...history).when(acme, 'port.attach', { portId: id(7), deviceId: 'vm' }).thenFails(t, 'CONFLICT', { portId: id(3), vpcId: id(1) });
  given(...history).when(acme, 'port.attach', { portId: id(6), deviceId: 'other' }).then(t, [{ type: 'PortAttached', data: { portId: id(6), deviceId: 'other' } }]);
});

test('port.attach - a port another device has is PORT_ALREADY_ATTACHED; its own device again changes nothing', (t) => {
  const history = [...network(), did(nic(3, 2, '10.0.1.2', { deviceId: 'vm' }))];
  given(...history).when(acme, 'port.attach', { portId: id(3), deviceId: 'other' }).thenFails(t, 'PORT_ALREADY_ATTACHED', { portId: id(3), deviceId: 'vm' });
  given(...history).when(acme, 'port.attach', { portId: id(3), deviceId: 'vm' }).then(t, []);
});

test('port.attach / port.detach - the port must be the tenant\'s; the payload is strict', (t) => {
  const history = [...network(), did(nic(3, 2, '10.0.1.2', { deviceId: 'vm' }))];
  given(...history).when(globex, 'port.attach', { portId: id(3), deviceId: 'x' }).thenFails(t, 'NOT_FOUND');
  given(...history).when(globex, 'port.detach', { portId: id(3) }).thenFails(t, 'NOT_FOUND');
  given(...history).when(acme, 'port.attach', { portId: id(3) }).thenFails(t, 'VALIDATION_FAILED');
  given(...history).when(acme, 'port.attach', { portId: id(3), deviceId: 'vm', primary: true }).thenFails(t, 'VALIDATION_FAILED');
  given(...history).when(acme, 'port.detach', { portId: id(3), deviceId: 'vm' }).thenFails(t, 'VALIDATION_FAILED');
});

test('port.detach - keeps the port, its address and its primary; the device loses it; detaching again changes nothing', (t) => {
  const history = [...network(), did(nic(3, 2, '10.0.1.2', { deviceId: 'vm' }), nic(4, 5, '10.0.2.2', { deviceId: 'vm' }))];
  const d = given(...history).when(acme, 'port.detach', { portId: id(3) }).then(t, [{ type: 'PortDetached', data: { portId: id(3) } }]);
  t.like(d.result, { port: { id: id(3), deviceId: null, ipAddress: '10.0.1.2', primary: true } });
  const detached = [...history, did({ type: 'PortDetached', data: { portId: id(3) } })];
  const { view } = given(...detached);
  t.like(read(view, acme, 'port.get', { portId: id(3) }), { port: { deviceId: null, ipAddress: '10.0.1.2' } });
  t.deepEqual((read(view, acme, 'port.list', { deviceId: 'vm' }).ports as { id: string }[]).map((p) => p.id), [id(4)]);
  given(...detached).when(acme, 'port.detach', { portId: id(3) }).then(t, []);
  // The device has no primary now: a new port of it may be one, and the detached primary cannot come back beside it.
  given(...detached).when(acme, 'port.create', { subnetId: id(2), deviceId: 'vm', primary: true }).thenSucceeds(t);
  given(...detached, did(nic(8, 2, '10.0.1.9', { deviceId: 'vm', primary: true }))).when(acme, 'port.attach', { portId: id(3), deviceId: 'vm' })
    .thenFails(t, 'CONFLICT', { portId: id(8) });
  given(...detached).when(acme, 'port.attach', { portId: id(3), deviceId: 'vm' }).then(t, [{ type: 'PortAttached', data: { portId: id(3), deviceId: 'vm' } }]);
});

test('port.attach - a port with its own external IP may not join a device that has one (the device\'s could reach it)', (t) => {
  const history = [outside(), ...network(), did(
    nic(3, 2, '10.0.1.2', { deviceId: 'vm' }), nic(4, 5, '10.0.2.2', { primary: false }),
    externalIpAllocated(60, '203.0.113.10'), externalIpAllocated(61, '203.0.113.11'),
    { type: 'ExternalIpAttachmentCreated', data: { attachmentId: id(70), externalIpId: id(60), target: { deviceId: 'vm' } } },
    { type: 'ExternalIpAttachmentCreated', data: { attachmentId: id(71), externalIpId: id(61), target: { portId: id(4) } } },
  )];
  given(...history).when(acme, 'port.attach', { portId: id(4), deviceId: 'vm' }).thenFails(t, 'CONFLICT', { attachmentId: id(70), portId: id(4) });
  given(...history).when(acme, 'port.attach', { portId: id(4), deviceId: 'other' }).thenSucceeds(t);
});

test('port.detach - external IPs stay: the port\'s own attachment, and the device\'s (which goes Pending)', (t) => {
  const history = [outside(), ...network(), did(
    nic(3, 2, '10.0.1.2', { deviceId: 'vm' }), externalIpAllocated(60, '203.0.113.10'),
    { type: 'ExternalIpAttachmentCreated', data: { attachmentId: id(70), externalIpId: id(60), target: { deviceId: 'vm' } } },
  ), did({ type: 'PortDetached', data: { portId: id(3) } })];
  const { view } = given(...history);
  t.like(read(view, acme, 'externalipattachment.get', { attachmentId: id(70) }), { externalIpAttachment: { target: { deviceId: 'vm' } } });
  t.like(read(view, acme, 'externalip.get', { externalIpId: id(60) }), { externalIp: { attachmentId: id(70) } });
});
