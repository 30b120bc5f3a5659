import test from 'ava';
import type { CommitRecord, NovanetEvent, Scope } from '../../events/mod.js';
import { commitTime, commitTimeText, evolve, initialView, ipToInt, subnetPortIds } from '../../projections/mod.js';
import type { View } from '../../projections/mod.js';
import { acme, given, id, mac, portCreated, read, vpcWithSubnet } from '../support/decider.js';

/**
 * How the view keeps a port (projections/network.ts): its address as a number and its
 * creation time as ms when that gives the text back, the ports of a subnet as the holders of
 * its addresses; what reads answer from them is the log's text, as before.
 */

function folded(records: readonly { scope: Scope; at: string; events: NovanetEvent[] }[]): View {
  const view = initialView();
  records.forEach(({ scope, at, events }, i) => {
    const record: CommitRecord = { seq: i + 1, commit: { v: 1, commandId: `c${i + 1}`, scope, operation: 'test', at, request: {}, result: {}, events } };
    evolve(view, record);
  });
  return view;
}

test('port view - the commit time is kept as ms only when they give the text back exactly; otherwise as the text', (t) => {
  t.is(commitTime('2026-01-01T00:00:00.123Z'), Date.UTC(2026, 0, 1, 0, 0, 0, 123));
  for (const text of ['2026-01-01T00:00:00Z', '2026-02-30T00:00:00.000Z', '2026-01-01T24:00:00.000Z', '2026-01-01T00:00:00.000+00:00', 'not a time', '']) {
    t.is(commitTime(text), text, text);
  }
  for (const text of ['2026-01-01T00:00:00.123Z', '1970-01-01T00:00:00.000Z', '2026-01-01T00:00:00Z', 'not a time']) t.is(commitTimeText(commitTime(text)), text);
});

test('port view - a time kept as ms reads back as toISOString gives it: leap days, ends of years, 1970 to 9999 and beyond', (t) => {
  const edges = [0, 1, 999, 1000, Date.UTC(2000, 1, 29, 23, 59, 59, 999), Date.UTC(2100, 2, 1), Date.UTC(2024, 11, 31, 23, 59, 59, 999), 253_402_300_799_999, 253_402_300_800_000, -1, Date.UTC(1969, 11, 31)];
  // A fixed sequence (a linear congruential generator) over the four-digit years.
  let seed = 7;
  const spread = Array.from({ length: 20_000 }, () => {
    seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
    return Math.floor((seed / 2 ** 32) * 253_402_300_800_000);
  });
  for (const ms of [...edges, ...spread]) {
    if (commitTimeText(ms) !== new Date(ms).toISOString()) t.fail(`${ms}: ${commitTimeText(ms)}, toISOString ${new Date(ms).toISOString()}`);
  }
  t.pass();
});

test('port view - a read answers the address as dotted text and createdAt as the commit\'s own text, in ms or not', (t) => {
  const { events } = vpcWithSubnet();
  const view = folded([
    { scope: acme, at: '2026-01-01T00:00:00Z', events: [...events] },
    { scope: acme, at: '2026-03-04T05:06:07.089Z', events: [portCreated(3, '10.0.1.2')] },
    { scope: acme, at: '2026-03-04T05:06:08Z', events: [portCreated(4, '10.0.1.254')] },
  ]);
  t.is(typeof view.ports.get(id(3))!.created, 'number', 'the intake\'s own times are kept as numbers');
  t.like(read(view, acme, 'port.get', { portId: id(3) }), { port: { ipAddress: '10.0.1.2', macAddress: mac(3), createdAt: '2026-03-04T05:06:07.089Z' } });
  t.like(read(view, acme, 'port.get', { portId: id(4) }), { port: { ipAddress: '10.0.1.254', createdAt: '2026-03-04T05:06:08Z' } });
  t.deepEqual((read(view, acme, 'port.list', {}).ports as { ipAddress: string }[]).map((p) => p.ipAddress), ['10.0.1.2', '10.0.1.254']);
});

test('port view - an address above 127.255.255.255 (not a small integer) reads back and is freed on delete', (t) => {
  const dhcp = { enabled: true, leaseTime: 43200, dnsServers: [], ntpServers: [] };
  const { view } = given({
    scope: acme,
    events: [
      { type: 'VpcCreated', data: { vpcId: id(1), name: 'main', cidr: '192.168.0.0/16' } },
      { type: 'SubnetCreated', data: { subnetId: id(2), vpcId: id(1), name: 'app', cidr: '192.168.1.0/24', gatewayIp: '192.168.1.1', gatewayMac: mac(1), dhcp } },
      portCreated(3, '192.168.1.2'), portCreated(4, '192.168.1.254'),
    ],
  });
  t.like(read(view, acme, 'port.get', { portId: id(4) }), { port: { ipAddress: '192.168.1.254' } });
  evolve(view, { seq: 10, commit: { v: 1, commandId: 'd', scope: acme, operation: 'port.delete', at: '2026-01-01T00:00:10Z', request: {}, result: {}, events: [{ type: 'PortDeleted', data: { portId: id(3) } }] } });
  t.is(view.subnets.get(id(2))!.nextFree, ipToInt('192.168.1.2'), 'its address is the lowest free again');
});

test('port view - the reply of port.create is what a read of the folded port answers', (t) => {
  const created = given(vpcWithSubnet()).when(acme, 'port.create', { subnetId: id(2), name: 'web', deviceId: 'vm-1' });
  const decision = created.thenSucceeds(t);
  const view = created.view;
  evolve(view, { seq: 2, commit: { v: 1, commandId: 'p', scope: acme, operation: 'port.create', at: '2026-01-01T12:00:00Z', request: {}, result: decision.result, events: [...decision.events] } });
  const { port } = decision.result as { port: { id: string } };
  t.deepEqual(read(view, acme, 'port.get', { portId: port.id }).port, port);
});

test('port view - a subnet\'s ports are its address holders that are ports, in the order they were created; a load balancer\'s VIP is none', (t) => {
  const lb: NovanetEvent = {
    type: 'LoadBalancerCreated',
    data: { loadBalancerId: id(7), subnetId: id(2), name: 'web', vipAddress: '10.0.1.4', protocol: 'tcp', listeners: [{ port: 80, targetPort: 80 }], memberPortIds: [] },
  };
  const history = given(vpcWithSubnet(), { scope: acme, events: [portCreated(3, '10.0.1.2'), portCreated(4, '10.0.1.3'), lb, portCreated(5, '10.0.1.5')] },
    { scope: acme, events: [{ type: 'PortDeleted', data: { portId: id(3) } }, portCreated(6, '10.0.1.2')] });
  t.deepEqual(subnetPortIds(history.view, history.view.subnets.get(id(2))!), [id(4), id(5), id(6)]);
  history.when(acme, 'subnet.delete', { subnetId: id(2) }).thenFails(t, 'IN_USE', { portIds: [id(4), id(5), id(6)] });
});
