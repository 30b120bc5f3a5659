import test from 'ava';
import type { EventOf, NovanetEvent } from '../../events/mod.js';
import type { Given } from '../support/decider.js';
import {
  acme, DEFAULT_GROUP, defaultGroupCreated, externalIpAllocated, given, globex, id, mac, outside, portCreated, read, vpcWithSubnet,
} from '../support/decider.js';

/**
 * What uses an external IP besides a NAT gateway: 1:1 attachments and port forwards; and the
 * port deletes they hold back. Common history: default network id(50), pool id(51) = .10-.12,
 * acme's VPC id(1) with subnet id(2) and port id(3) (device vm-3), acme's external IP id(60) = .10.
 */

const did = (...events: NovanetEvent[]): Given => ({ scope: acme, events });
const now = '2026-01-01T12:00:00Z';

const port3: NovanetEvent = { type: 'PortCreated', data: { portId: id(3), subnetId: id(2), macAddress: mac(3), ipAddress: '10.0.1.2', deviceId: 'vm-3' } };
const base = (): Given[] => [outside(), vpcWithSubnet(), did(port3, externalIpAllocated(60, '203.0.113.10'))];

/** acme's second VPC id(20) (default group id(30)) with subnet id(21) and port id(22). */
const otherVpc = did(
  { type: 'VpcCreated', data: { vpcId: id(20), name: 'other', cidr: '10.1.0.0/16' } },
  defaultGroupCreated(id(20), 30),
  {
    type: 'SubnetCreated',
    data: { subnetId: id(21), vpcId: id(20), name: 'app', cidr: '10.1.1.0/24', gatewayIp: '10.1.1.1', gatewayMac: mac(21), dhcp: { enabled: true, leaseTime: 43200, dnsServers: [], ntpServers: [] } },
  },
  portCreated(22, '10.1.1.2', id(21)),
);

const attached = (n: number, target: { portId: string } | { deviceId: string }, externalIpId = id(60)): EventOf<'ExternalIpAttachmentCreated'> =>
  ({ type: 'ExternalIpAttachmentCreated', data: { attachmentId: id(n), externalIpId, target } });
const forwarded = (n: number, externalPort: number, portId = id(3), protocol: 'tcp' | 'udp' = 'tcp', externalIpId = id(60)): EventOf<'PortForwardCreated'> =>
  ({ type: 'PortForwardCreated', data: { portForwardId: id(n), externalIpId, protocol, externalPort, portId, internalPort: 8080 } });
const gateway = (n: number, externalIpId = id(60), vpcId = id(1)): EventOf<'NatGatewayCreated'> =>
  ({ type: 'NatGatewayCreated', data: { natGatewayId: id(n), vpcId, externalIpId, gatewayMac: mac(n), releaseIpOnDelete: false } });

// --- externalipattachment.create ------------------------------------------------------

test('externalipattachment.create - attaches the IP to a port; the reply is always Pending', (t) => {
  const d = given(...base()).when(acme, 'externalipattachment.create', { externalIpId: id(60), target: { portId: id(3) } })
    .then(t, [{ type: 'ExternalIpAttachmentCreated', data: { attachmentId: id(100), externalIpId: id(60), target: { portId: id(3) } } }]);
  t.deepEqual(d.result, {
    externalIpAttachment: { id: id(100), org: 'acme', project: 'web', externalIpId: id(60), address: '203.0.113.10', target: { portId: id(3) }, phase: 'Pending', createdAt: now },
  });
});

test('externalipattachment.create - a device may be named before it has a port', (t) => {
  const d = given(...base()).when(acme, 'externalipattachment.create', { externalIpId: id(60), target: { deviceId: 'vm-later' } })
    .then(t, [{ type: 'ExternalIpAttachmentCreated', data: { attachmentId: id(100), externalIpId: id(60), target: { deviceId: 'vm-later' } } }]);
  t.like(d.result, { externalIpAttachment: { target: { deviceId: 'vm-later' }, phase: 'Pending' } });
});

test('externalipattachment.create - the IP and the port must be the tenant\'s', (t) => {
  given(...base()).when(globex, 'externalipattachment.create', { externalIpId: id(60), target: { deviceId: 'x' } }).thenFails(t, 'NOT_FOUND', { kind: 'externalip' });
  given(...base()).when(acme, 'externalipattachment.create', { externalIpId: id(9), target: { deviceId: 'x' } }).thenFails(t, 'NOT_FOUND');
  given(...base()).when(acme, 'externalipattachment.create', { externalIpId: id(60), target: { portId: id(9) } }).thenFails(t, 'NOT_FOUND', { kind: 'port' });
  given(...base(), { scope: globex, events: [externalIpAllocated(70, '203.0.113.11')] })
    .when(globex, 'externalipattachment.create', { externalIpId: id(70), target: { portId: id(3) } }).thenFails(t, 'NOT_FOUND', { kind: 'port' });
});

test('externalipattachment.create - target shapes', (t) => {
  for (const target of [{}, { portId: id(3), deviceId: 'vm-3' }, { portId: 'port-3' }, { deviceId: '' }, { deviceId: 'x'.repeat(256) }, { vmId: 'x' }]) {
    given(...base()).when(acme, 'externalipattachment.create', { externalIpId: id(60), target }).thenFails(t, 'VALIDATION_FAILED');
  }
  given(...base()).when(acme, 'externalipattachment.create', { externalIpId: id(60) }).thenFails(t, 'VALIDATION_FAILED');
});

test('externalipattachment.create - CONFLICT when the IP is already attached, a NAT gateway\'s, or forwarding ports', (t) => {
  given(...base(), did(attached(61, { deviceId: 'vm-9' })))
    .when(acme, 'externalipattachment.create', { externalIpId: id(60), target: { portId: id(3) } }).thenFails(t, 'CONFLICT', { attachmentId: id(61) });
  given(...base(), did(gateway(61)))
    .when(acme, 'externalipattachment.create', { externalIpId: id(60), target: { portId: id(3) } }).thenFails(t, 'CONFLICT', { natGatewayId: id(61) });
  given(...base(), did(forwarded(61, 22)))
    .when(acme, 'externalipattachment.create', { externalIpId: id(60), target: { portId: id(3) } }).thenFails(t, 'CONFLICT', { portForwardIds: [id(61)] });
});

test('externalipattachment.create - CONFLICT when the port (or its device) already has an attachment', (t) => {
  const second = did(externalIpAllocated(62, '203.0.113.11'));
  given(...base(), second, did(attached(61, { portId: id(3) })))
    .when(acme, 'externalipattachment.create', { externalIpId: id(62), target: { portId: id(3) } }).thenFails(t, 'CONFLICT', { attachmentId: id(61), portId: id(3) });
  given(...base(), second, did(attached(61, { deviceId: 'vm-3' })))
    .when(acme, 'externalipattachment.create', { externalIpId: id(62), target: { portId: id(3) } }).thenFails(t, 'CONFLICT', { attachmentId: id(61) });
  given(...base(), second, did(attached(61, { deviceId: 'vm-3' })))
    .when(acme, 'externalipattachment.create', { externalIpId: id(62), target: { deviceId: 'vm-3' } }).thenFails(t, 'CONFLICT', { attachmentId: id(61), deviceId: 'vm-3' });
  given(...base(), second, did(attached(61, { portId: id(3) })))
    .when(acme, 'externalipattachment.create', { externalIpId: id(62), target: { deviceId: 'vm-3' } }).thenFails(t, 'CONFLICT', { attachmentId: id(61) });
  // Another port, or the same device name in another tenant, is fine.
  given(...base(), second, did(attached(61, { portId: id(3) }), portCreated(4, '10.0.1.3')))
    .when(acme, 'externalipattachment.create', { externalIpId: id(62), target: { portId: id(4) } }).thenSucceeds(t);
  given(...base(), did(attached(61, { deviceId: 'vm-3' })), { scope: globex, events: [externalIpAllocated(70, '203.0.113.11')] })
    .when(globex, 'externalipattachment.create', { externalIpId: id(70), target: { deviceId: 'vm-3' } }).thenSucceeds(t);
});

test('externalipattachment.delete - detaches; then the IP is free again', (t) => {
  const history = [...base(), did(attached(61, { portId: id(3) }))];
  const d = given(...history).when(acme, 'externalipattachment.delete', { attachmentId: id(61) })
    .then(t, [{ type: 'ExternalIpAttachmentDeleted', data: { attachmentId: id(61) } }]);
  t.deepEqual(d.result, {});
  given(...history).when(globex, 'externalipattachment.delete', { attachmentId: id(61) }).thenFails(t, 'NOT_FOUND');
  given(...history, did(...d.events)).when(acme, 'externalip.release', { externalIpId: id(60) }).thenSucceeds(t);
  given(...history, did(...d.events)).when(acme, 'port.delete', { portId: id(3) }).thenSucceeds(t);
});

test('externalipattachment reads - tenant-scoped, no phase (that is on the status stream), filters', (t) => {
  const { view } = given(...base(), did(externalIpAllocated(62, '203.0.113.11'), attached(61, { portId: id(3) }), attached(63, { deviceId: 'vm-9' }, id(62))));
  t.deepEqual(read(view, acme, 'externalipattachment.get', { attachmentId: id(61) }), {
    externalIpAttachment: { id: id(61), org: 'acme', project: 'web', externalIpId: id(60), address: '203.0.113.10', target: { portId: id(3) }, createdAt: '2026-01-01T00:00:04Z' },
  });
  t.like(read(view, acme, 'externalip.get', { externalIpId: id(60) }), { externalIp: { attachmentId: id(61) } });
  t.is((read(view, acme, 'externalipattachment.list').externalIpAttachments as unknown[]).length, 2);
  const ids = (payload: Record<string, unknown>) => (read(view, acme, 'externalipattachment.list', payload).externalIpAttachments as { id: string }[]).map((a) => a.id);
  t.deepEqual(ids({ portId: id(3) }), [id(61)]);
  t.deepEqual(ids({ deviceId: 'vm-9' }), [id(63)]);
  t.deepEqual(ids({ externalIpId: id(62) }), [id(63)]);
  t.deepEqual(read(view, globex, 'externalipattachment.list').externalIpAttachments, []);
  t.throws(() => read(view, globex, 'externalipattachment.get', { attachmentId: id(61) }), { message: /not found/ });
});

// --- portforward.create -------------------------------------------------------------

test('portforward.create - forwards a protocol and port of the IP to a port', (t) => {
  const d = given(...base()).when(acme, 'portforward.create', { externalIpId: id(60), protocol: 'tcp', externalPort: 2222, portId: id(3), internalPort: 22 })
    .then(t, [{ type: 'PortForwardCreated', data: { portForwardId: id(100), externalIpId: id(60), protocol: 'tcp', externalPort: 2222, portId: id(3), internalPort: 22 } }]);
  t.deepEqual(d.result, {
    portForward: { id: id(100), org: 'acme', project: 'web', externalIpId: id(60), address: '203.0.113.10', protocol: 'tcp', externalPort: 2222, portId: id(3), internalPort: 22, createdAt: now },
  });
});

test('portforward.create - the IP and the port must be the tenant\'s', (t) => {
  const payload = { externalIpId: id(60), protocol: 'tcp', externalPort: 80, portId: id(3), internalPort: 80 };
  given(...base()).when(globex, 'portforward.create', payload).thenFails(t, 'NOT_FOUND', { kind: 'externalip' });
  given(...base()).when(acme, 'portforward.create', { ...payload, portId: id(9) }).thenFails(t, 'NOT_FOUND', { kind: 'port' });
  given(...base(), { scope: globex, events: [externalIpAllocated(70, '203.0.113.11')] })
    .when(globex, 'portforward.create', { ...payload, externalIpId: id(70) }).thenFails(t, 'NOT_FOUND', { kind: 'port' });
});

test('portforward.create - protocol tcp or udp, ports 1-65535', (t) => {
  const payload = { externalIpId: id(60), protocol: 'tcp', externalPort: 80, portId: id(3), internalPort: 80 };
  for (const bad of [{ protocol: 'icmp' }, { protocol: 'all' }, { externalPort: 0 }, { externalPort: 65536 }, { internalPort: 0 }, { internalPort: 65536 }, { externalPort: 80.5 }, { internalPort: '80' }]) {
    given(...base()).when(acme, 'portforward.create', { ...payload, ...bad }).thenFails(t, 'VALIDATION_FAILED');
  }
  given(...base()).when(acme, 'portforward.create', { ...payload, protocol: 'udp', externalPort: 65535, internalPort: 1 }).thenSucceeds(t);
});

test('portforward.create - CONFLICT: the IP is attached 1:1, or the protocol and port are already forwarded', (t) => {
  const payload = { externalIpId: id(60), protocol: 'tcp', externalPort: 22, portId: id(3), internalPort: 22 };
  given(...base(), did(attached(61, { deviceId: 'vm-9' }))).when(acme, 'portforward.create', payload).thenFails(t, 'CONFLICT', { attachmentId: id(61) });
  given(...base(), did(forwarded(61, 22))).when(acme, 'portforward.create', payload).thenFails(t, 'CONFLICT', { portForwardId: id(61) });
  given(...base(), did(forwarded(61, 22, id(3), 'udp'))).when(acme, 'portforward.create', payload).thenSucceeds(t);
  given(...base(), did(forwarded(61, 23))).when(acme, 'portforward.create', payload).thenSucceeds(t);
  // The same external port of another IP is another socket.
  given(...base(), did(externalIpAllocated(62, '203.0.113.11'), forwarded(61, 22, id(3), 'tcp', id(62)))).when(acme, 'portforward.create', payload).thenSucceeds(t);
});

test('portforward.create - a NAT gateway\'s IP forwards only into the gateway\'s VPC', (t) => {
  const payload = { externalIpId: id(60), protocol: 'tcp', externalPort: 22, portId: id(22), internalPort: 22 };
  given(...base(), otherVpc, did(gateway(61))).when(acme, 'portforward.create', payload)
    .thenFails(t, 'CONFLICT', { natGatewayId: id(61), vpcId: id(1), portVpcId: id(20) });
  given(...base(), otherVpc, did(gateway(61))).when(acme, 'portforward.create', { ...payload, portId: id(3) }).thenSucceeds(t);
});

test('portforward.create - all forwards of one IP reach ports of one VPC', (t) => {
  const payload = { externalIpId: id(60), protocol: 'tcp', externalPort: 23, portId: id(22), internalPort: 22 };
  given(...base(), otherVpc, did(forwarded(61, 22))).when(acme, 'portforward.create', payload)
    .thenFails(t, 'CONFLICT', { portForwardId: id(61), vpcId: id(1), portVpcId: id(20) });
  given(...base(), otherVpc, did(forwarded(61, 22), portCreated(4, '10.0.1.3'))).when(acme, 'portforward.create', { ...payload, portId: id(4) }).thenSucceeds(t);
});

test('portforward.delete - removes the forward; then the IP and the port are free again', (t) => {
  const history = [...base(), did(forwarded(61, 22))];
  given(...history).when(acme, 'portforward.delete', { portForwardId: id(61) }).then(t, [{ type: 'PortForwardDeleted', data: { portForwardId: id(61) } }]);
  given(...history).when(globex, 'portforward.delete', { portForwardId: id(61) }).thenFails(t, 'NOT_FOUND');
  const after = [...history, did({ type: 'PortForwardDeleted', data: { portForwardId: id(61) } })];
  given(...after).when(acme, 'externalip.release', { externalIpId: id(60) }).thenSucceeds(t);
  given(...after).when(acme, 'port.delete', { portId: id(3) }).thenSucceeds(t);
  given(...after).when(acme, 'externalipattachment.create', { externalIpId: id(60), target: { portId: id(3) } }).thenSucceeds(t);
});

test('portforward reads - tenant-scoped, with filters', (t) => {
  const { view } = given(...base(), did(portCreated(4, '10.0.1.3'), forwarded(61, 22), forwarded(62, 80, id(4))));
  t.deepEqual(read(view, acme, 'portforward.get', { portForwardId: id(61) }), {
    portForward: { id: id(61), org: 'acme', project: 'web', externalIpId: id(60), address: '203.0.113.10', protocol: 'tcp', externalPort: 22, portId: id(3), internalPort: 8080, createdAt: '2026-01-01T00:00:04Z' },
  });
  t.like(read(view, acme, 'externalip.get', { externalIpId: id(60) }), { externalIp: { portForwardIds: [id(61), id(62)] } });
  const ids = (payload: Record<string, unknown>) => (read(view, acme, 'portforward.list', payload).portForwards as { id: string }[]).map((f) => f.id);
  t.deepEqual(ids({}), [id(61), id(62)]);
  t.deepEqual(ids({ portId: id(4) }), [id(62)]);
  t.deepEqual(ids({ externalIpId: id(9) }), []);
  t.deepEqual(read(view, globex, 'portforward.list').portForwards, []);
  t.throws(() => read(view, globex, 'portforward.get', { portForwardId: id(61) }), { message: /not found/ });
});

// --- port.delete ----------------------------------------------------------------

test('port.delete - IN_USE while an attachment names the port or port forwards target it', (t) => {
  given(...base(), did(attached(61, { portId: id(3) }))).when(acme, 'port.delete', { portId: id(3) }).thenFails(t, 'IN_USE', { attachmentId: id(61) });
  given(...base(), did(forwarded(61, 22), forwarded(62, 23))).when(acme, 'port.delete', { portId: id(3) }).thenFails(t, 'IN_USE', { portForwardIds: [id(61), id(62)] });
  // An attachment by device names the device, not the port: it waits for the device's next port.
  given(...base(), did(attached(61, { deviceId: 'vm-3' }))).when(acme, 'port.delete', { portId: id(3) })
    .then(t, [{ type: 'PortDeleted', data: { portId: id(3) } }]);
});

test('port.delete - a port no external IP uses is deleted as before', (t) => {
  given(vpcWithSubnet(), did(portCreated(3, '10.0.1.2', id(2), [DEFAULT_GROUP]))).when(acme, 'port.delete', { portId: id(3) })
    .then(t, [{ type: 'PortDeleted', data: { portId: id(3) } }]);
});
