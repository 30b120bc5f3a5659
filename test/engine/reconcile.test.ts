import test from 'ava';
import type { StatusMessage } from '../../src/bus/client.js';
import { OvsdbClient } from '../../src/ovsdb/mod.js';
import { tableNames } from '../../src/reconcile/tables/mod.js';
import { asList, eventually, nbRows, startStack } from '../support/stack.js';
import type { Stack } from '../support/stack.js';

let stack: Stack;
test.before(async () => { stack = await startStack(); });
test.after.always(async () => { await stack?.stop(); });

interface Ids { vpcId: string; subnetId: string; portId: string; seq: number; mac: string; ip: string; gatewayMac?: string }

async function network(org: string, subnetExtras: Record<string, unknown> = {}): Promise<Ids> {
  const scope = { org, project: 'p1' };
  const { client } = stack;
  const vpc = (await client.call(scope, 'vpc.create', { name: 'main' })).result.vpc as { id: string };
  const subnet = (await client.call(scope, 'subnet.create', { vpcId: vpc.id, name: 'app', ...subnetExtras })).result.subnet as { id: string };
  const created = await client.call(scope, 'port.create', { subnetId: subnet.id, deviceId: 'vm-1' });
  const port = created.result.port as { id: string; macAddress: string; ipAddress: string };
  return { vpcId: vpc.id, subnetId: subnet.id, portId: port.id, seq: created.seq, mac: port.macAddress, ip: port.ipAddress };
}

const owned = (id: string) => [`external_ids:"novanet:id"="${id}"`];

test('reconcile - a VPC, a subnet and a port become router, switch, router port, DHCP options and switch port', async (t) => {
  const ids = await network('rows', { dnsServers: ['1.1.1.1', '9.9.9.9'], mtu: 1400, domainName: 'corp.example', ntpServers: ['10.0.0.5'], leaseTime: 600 });
  const { northbound } = stack;
  const status = await stack.client.waitFor({ org: 'rows', project: 'p1' }, 'port', ids.portId, (s) => s.phase === 'Ready' && s.observedSeq >= ids.seq);
  t.like(status, { kind: 'port', id: ids.portId, org: 'rows', project: 'p1', ipAddress: ids.ip, macAddress: ids.mac, bound: false, ovn: { logicalSwitchPort: ids.portId } });

  const [router] = await nbRows(northbound, 'Logical_Router', ['_uuid', 'name', 'ports', 'external_ids'], owned(ids.vpcId));
  t.like(router, { _uuid: ids.vpcId, name: `novanet-${ids.vpcId}`, external_ids: { 'novanet:owner': 'novanet', 'novanet:kind': 'vpc', 'novanet:org': 'rows', 'novanet:project': 'p1' } });
  const [lrp] = await nbRows(northbound, 'Logical_Router_Port', ['_uuid', 'name', 'networks', 'mac'], owned(ids.subnetId));
  t.like(lrp, { name: `lrp-${ids.subnetId}`, networks: '10.0.0.1/24' });
  t.deepEqual(router!.ports, lrp!._uuid);

  const [ls] = await nbRows(northbound, 'Logical_Switch', ['_uuid', 'name', 'ports'], owned(ids.subnetId));
  t.like(ls, { _uuid: ids.subnetId, name: `novanet-${ids.subnetId}` });
  t.is((ls!.ports as string[]).length, 2);
  const [rtr] = await nbRows(northbound, 'Logical_Switch_Port', ['type', 'addresses', 'options'], [...owned(ids.subnetId), 'type=router']);
  t.like(rtr, { type: 'router', addresses: 'router', options: { 'router-port': `lrp-${ids.subnetId}` } });

  const [dhcp] = await nbRows(northbound, 'DHCP_Options', ['_uuid', 'cidr', 'options'], owned(ids.subnetId));
  t.like(dhcp, {
    cidr: '10.0.0.0/24',
    options: { server_id: '10.0.0.1', server_mac: lrp!.mac, router: '10.0.0.1', lease_time: '600', dns_server: '{1.1.1.1, 9.9.9.9}', mtu: '1400', domain_name: '"corp.example"', ntp_server: '10.0.0.5' },
  });
  const [lsp] = await nbRows(northbound, 'Logical_Switch_Port', ['name', 'addresses', 'port_security', 'dhcpv4_options', 'external_ids'], owned(ids.portId));
  t.like(lsp, {
    name: ids.portId, addresses: `${ids.mac} ${ids.ip}`, port_security: `${ids.mac} ${ids.ip}`, dhcpv4_options: dhcp!._uuid,
    external_ids: { 'novanet:kind': 'port', 'novanet:device-id': 'vm-1', 'novanet:seq': String(ids.seq) },
  });
});

test('reconcile - subnet.update changes the DHCP options in place; DHCP off takes them off the subnet and its ports, and back on', async (t) => {
  const ids = await network('dhcpupdate', { dnsServers: ['1.1.1.1'], mtu: 1400 });
  const scope = { org: 'dhcpupdate', project: 'p1' };
  const dhcpRow = async () => (await nbRows(stack.northbound, 'DHCP_Options', ['_uuid', 'options'], owned(ids.subnetId)))[0];
  const portRow = async () => (await nbRows(stack.northbound, 'Logical_Switch_Port', ['dhcpv4_options'], owned(ids.portId)))[0];
  await stack.client.waitFor(scope, 'port', ids.portId, (s) => s.phase === 'Ready');
  const before = await dhcpRow();

  const updated = await stack.client.call(scope, 'subnet.update', { subnetId: ids.subnetId, dnsServers: ['9.9.9.9'], mtu: null, leaseTime: 900, hostRoutes: [{ destination: '172.16.0.0/12', nextHop: '10.0.0.5' }] });
  t.like(updated.result, { subnet: { dnsServers: ['9.9.9.9'], leaseTime: 900 } });
  t.false('mtu' in (updated.result.subnet as object));
  await stack.client.waitFor(scope, 'subnet', ids.subnetId, (s) => s.phase === 'Ready' && s.observedSeq >= updated.seq);
  const after = await dhcpRow();
  t.is(after!._uuid, before!._uuid, 'the same row, changed in place: ports keep pointing at it');
  t.like(after!.options, { dns_server: '9.9.9.9', lease_time: '900', classless_static_route: '{172.16.0.0/12,10.0.0.5, 0.0.0.0/0,10.0.0.1}' });
  t.false('mtu' in (after!.options as object));

  const off = await stack.client.call(scope, 'subnet.update', { subnetId: ids.subnetId, dhcpEnabled: false });
  await stack.client.waitFor(scope, 'port', ids.portId, (s) => s.observedSeq >= off.seq);
  t.is(await dhcpRow(), undefined);
  t.deepEqual((await portRow())!.dhcpv4_options, []);

  const on = await stack.client.call(scope, 'subnet.update', { subnetId: ids.subnetId, dhcpEnabled: true });
  await stack.client.waitFor(scope, 'port', ids.portId, (s) => s.phase === 'Ready' && s.observedSeq >= on.seq);
  const back = await dhcpRow();
  t.like(back!.options, { dns_server: '9.9.9.9', lease_time: '900' });
  t.is((await portRow())!.dhcpv4_options, back!._uuid);
});

test('reconcile - VPC routes become static routes of its router; allowed address pairs widen port security', async (t) => {
  const ids = await network('routes');
  const scope = { org: 'routes', project: 'p1' };
  const routed = await stack.client.call(scope, 'vpc.route.add', { vpcId: ids.vpcId, destination: '192.168.50.0/24', nextHop: ids.ip });
  const routeId = (routed.result.vpc as { routes: { id: string }[] }).routes[0]!.id;
  const paired = await stack.client.call(scope, 'port.update', {
    portId: ids.portId, allowedAddressPairs: [{ ipAddress: '192.168.50.0/24' }, { ipAddress: '10.0.0.100' }, { ipAddress: '10.0.0.101', macAddress: '0a:00:5e:00:01:01' }],
  });
  await stack.client.waitFor(scope, 'port', ids.portId, (s) => s.phase === 'Ready' && s.observedSeq >= paired.seq);

  const [route] = await nbRows(stack.northbound, 'Logical_Router_Static_Route', ['_uuid', 'ip_prefix', 'nexthop', 'output_port'], [`external_ids:"novanet:route-id"="${routeId}"`]);
  t.like(route, { ip_prefix: '192.168.50.0/24', nexthop: ids.ip, output_port: [] });
  const [router] = await nbRows(stack.northbound, 'Logical_Router', ['static_routes'], owned(ids.vpcId));
  t.deepEqual(asList(router!.static_routes), [route!._uuid]);
  const [lsp] = await nbRows(stack.northbound, 'Logical_Switch_Port', ['addresses', 'port_security'], owned(ids.portId));
  t.deepEqual(asList(lsp!.port_security).sort(), [`${ids.mac} ${ids.ip} 192.168.50.0/24 10.0.0.100`, '0a:00:5e:00:01:01 10.0.0.101'].sort());
  t.deepEqual(asList(lsp!.addresses).sort(), [`${ids.mac} ${ids.ip}`, '0a:00:5e:00:01:01'].sort());

  // A port whose address other ports hold as a pair is a VIP: OVN type virtual, parents sorted.
  const vip = (await stack.client.call(scope, 'port.create', { subnetId: ids.subnetId, name: 'vip' })).result.port as { id: string; ipAddress: string };
  const other = (await stack.client.call(scope, 'port.create', { subnetId: ids.subnetId, allowedAddressPairs: [{ ipAddress: vip.ipAddress }] })).result.port as { id: string };
  const holder = await stack.client.call(scope, 'port.update', { portId: ids.portId, allowedAddressPairs: [{ ipAddress: vip.ipAddress }] });
  await stack.client.waitFor(scope, 'port', vip.id, (s) => s.observedSeq >= holder.seq);
  const vipRow = async () => (await nbRows(stack.northbound, 'Logical_Switch_Port', ['type', 'options'], owned(vip.id)))[0];
  t.like(await vipRow(), { type: 'virtual', options: { 'virtual-ip': vip.ipAddress, 'virtual-parents': [ids.portId, other.id].sort().join(',') } });
  // A port a device uses never turns virtual, whatever others name in their pairs.
  const named = await stack.client.call(scope, 'port.update', { portId: other.id, allowedAddressPairs: [{ ipAddress: vip.ipAddress }, { ipAddress: ids.ip }] });
  await stack.client.waitFor(scope, 'port', ids.portId, (s) => s.observedSeq >= named.seq);
  t.like((await nbRows(stack.northbound, 'Logical_Switch_Port', ['type'], owned(ids.portId)))[0], { type: '' });

  const removed = await stack.client.call(scope, 'vpc.route.remove', { vpcId: ids.vpcId, routeId });
  const cleared = await stack.client.call(scope, 'port.update', { portId: ids.portId, allowedAddressPairs: [] });
  await stack.client.waitFor(scope, 'vpc', ids.vpcId, (s) => s.observedSeq >= removed.seq);
  await stack.client.waitFor(scope, 'port', ids.portId, (s) => s.observedSeq >= cleared.seq);
  t.deepEqual(await nbRows(stack.northbound, 'Logical_Router_Static_Route', ['_uuid'], [`external_ids:"novanet:route-id"="${routeId}"`]), []);
  const [after] = await nbRows(stack.northbound, 'Logical_Switch_Port', ['addresses', 'port_security'], owned(ids.portId));
  t.like(after, { addresses: `${ids.mac} ${ids.ip}`, port_security: `${ids.mac} ${ids.ip}` });
  t.like(await vipRow(), { options: { 'virtual-parents': other.id } });
  const last = await stack.client.call(scope, 'port.delete', { portId: other.id });
  await stack.client.waitFor(scope, 'port', vip.id, (s) => s.observedSeq >= last.seq);
  // No parents left: an ordinary port again, without a device, so no plug binds it.
  t.like(await vipRow(), { type: '', options: { 'iface-id-ver': 'novanet:unattached' } });
});

test('reconcile - a load balancer is one Load_Balancer row on the VPC router and on every switch of the VPC, new ones included', async (t) => {
  const ids = await network('lbrows');
  const scope = { org: 'lbrows', project: 'p1' };
  const created = await stack.client.call(scope, 'loadbalancer.create', { subnetId: ids.subnetId, name: 'web', listeners: [{ port: 80, targetPort: 8080 }, { port: 443 }], memberPortIds: [ids.portId] });
  const lb = created.result.loadBalancer as { id: string; vipAddress: string };
  const status = await stack.client.waitFor(scope, 'loadbalancer', lb.id, (s) => s.phase === 'Ready' && s.observedSeq >= created.seq);
  t.like(status, { vipAddress: lb.vipAddress, memberPortIds: [ids.portId] });
  const [row] = await nbRows(stack.northbound, 'Load_Balancer', ['_uuid', 'name', 'protocol', 'vips', 'options'], owned(lb.id));
  t.like(row, {
    name: `lb-${lb.id}`, protocol: 'tcp', options: { reject: 'true' },
    vips: { [`${lb.vipAddress}:80`]: `${ids.ip}:8080`, [`${lb.vipAddress}:443`]: `${ids.ip}:443` },
  });
  const [router] = await nbRows(stack.northbound, 'Logical_Router', ['load_balancer'], owned(ids.vpcId));
  t.deepEqual(asList(router!.load_balancer), [row!._uuid]);

  // A subnet created later gets the load balancer on its switch too.
  const later = await stack.client.call(scope, 'subnet.create', { vpcId: ids.vpcId, name: 'later' });
  const laterId = (later.result.subnet as { id: string }).id;
  await stack.client.waitFor(scope, 'loadbalancer', lb.id, (s) => s.observedSeq >= later.seq);
  for (const subnetId of [ids.subnetId, laterId]) {
    const [ls] = await nbRows(stack.northbound, 'Logical_Switch', ['load_balancer'], owned(subnetId));
    t.deepEqual(asList(ls!.load_balancer), [row!._uuid], `switch of ${subnetId}`);
  }

  const deleted = await stack.client.call(scope, 'loadbalancer.delete', { loadBalancerId: lb.id });
  await stack.client.waitFor(scope, 'loadbalancer', lb.id, (s) => s.phase === 'Deleted' && s.observedSeq >= deleted.seq);
  t.deepEqual(await nbRows(stack.northbound, 'Load_Balancer', ['_uuid'], owned(lb.id)), []);
});

test('reconcile - statuses for every kind carry observedSeq and the OVN uuids; late subscribers get the latest', async (t) => {
  const ids = await network('status');
  const scope = { org: 'status', project: 'p1' };
  const vpc = await stack.client.waitFor(scope, 'vpc', ids.vpcId, (s) => s.phase === 'Ready');
  t.like(vpc, { ovn: { logicalRouter: ids.vpcId }, cidr: '10.0.0.0/16' });
  const subnet = await stack.client.waitFor(scope, 'subnet', ids.subnetId, (s) => s.phase === 'Ready');
  t.like(subnet, { ovn: { logicalSwitch: ids.subnetId }, gatewayIp: '10.0.0.1' });
  t.truthy((subnet.ovn as Record<string, string>).dhcpOptions);
  t.truthy((subnet.ovn as Record<string, string>).logicalRouterPort);
  const deleted = await stack.client.call(scope, 'port.delete', { portId: ids.portId });
  const gone = await stack.client.waitFor(scope, 'port', ids.portId, (s) => s.phase === 'Deleted');
  t.true(gone.observedSeq >= deleted.seq);
  await eventually(async () => (await nbRows(stack.northbound, 'Logical_Switch_Port', ['name'], owned(ids.portId))).length === 0, 10_000, 'LSP removed');
});

test('reconcile - deleting resources removes their rows', async (t) => {
  const ids = await network('delete');
  const scope = { org: 'delete', project: 'p1' };
  await stack.client.waitFor(scope, 'port', ids.portId, (s) => s.phase === 'Ready');
  await stack.client.call(scope, 'port.delete', { portId: ids.portId });
  await stack.client.call(scope, 'subnet.delete', { subnetId: ids.subnetId });
  const last = await stack.client.call(scope, 'vpc.delete', { vpcId: ids.vpcId });
  await stack.client.waitFor(scope, 'vpc', ids.vpcId, (s) => s.phase === 'Deleted' && s.observedSeq >= last.seq);
  for (const [table, id] of [['Logical_Router', ids.vpcId], ['Logical_Switch', ids.subnetId], ['Logical_Router_Port', ids.subnetId], ['DHCP_Options', ids.subnetId], ['Logical_Switch_Port', ids.subnetId], ['Logical_Switch_Port', ids.portId]] as const) {
    t.deepEqual(await nbRows(stack.northbound, table, ['_uuid'], owned(id)), [], `${table} of ${id}`);
  }
});

// Serial: it counts every write to the Northbound, so no other test of this file may run beside it.
test.serial('reconcile - rows changed or deleted by hand are restored; re-running changes nothing', async (t) => {
  const ids = await network('drift');
  const scope = { org: 'drift', project: 'p1' };
  const { northbound } = stack;
  await stack.client.waitFor(scope, 'port', ids.portId, (s) => s.phase === 'Ready');

  await northbound.nbctl('lsp-set-addresses', ids.portId, '02:00:00:00:00:99 10.0.0.99');
  await eventually(async () => (await nbRows(northbound, 'Logical_Switch_Port', ['addresses'], owned(ids.portId)))[0]?.addresses === `${ids.mac} ${ids.ip}`, 10_000, 'addresses restored');

  await northbound.nbctl('lsp-del', ids.portId);
  await eventually(async () => (await nbRows(northbound, 'Logical_Switch_Port', ['name'], owned(ids.portId))).length === 1, 10_000, 'LSP re-created');

  await northbound.nbctl('ls-del', `novanet-${ids.subnetId}`);
  await eventually(async () => {
    const [ls] = await nbRows(northbound, 'Logical_Switch', ['ports'], owned(ids.subnetId));
    return ls && (ls.ports as string[]).length === 2;
  }, 10_000, 'switch and both its ports re-created');

  // Idle: a full resync (every 2 s here) must not write anything, whatever the rows reference
  // (here also a load balancer on the router and the switch). A second client watches every table novanet writes.
  const lb = await stack.client.call(scope, 'loadbalancer.create', { subnetId: ids.subnetId, name: 'lb', listeners: [{ port: 80 }], memberPortIds: [ids.portId] });
  await stack.client.waitFor(scope, 'loadbalancer', (lb.result.loadBalancer as { id: string }).id, (s) => s.phase === 'Ready' && s.observedSeq >= lb.seq);
  await stack.engine.reconciler.idle();
  const watcher = await OvsdbClient.connect({ remote: northbound.remote });
  t.teardown(() => watcher.close());
  await watcher.monitor(Object.fromEntries(tableNames.map((name) => [name, {}])));
  let writes = 0;
  watcher.onUpdate((updates) => { writes += updates.length; });
  await stack.engine.reconciler.resync();
  await stack.engine.reconciler.idle();
  await new Promise((r) => setTimeout(r, 2500));
  t.is(writes, 0);
});

test('reconcile - owned orphans are removed, rows novanet does not own are never touched', async (t) => {
  const { northbound } = stack;
  await northbound.nbctl('ls-add', 'someone-elses-switch', '--', 'set', 'Logical_Switch', 'someone-elses-switch', 'external_ids:owner=neutron');
  await northbound.nbctl('lr-add', 'novanet-orphan', '--', 'set', 'Logical_Router', 'novanet-orphan',
    'external_ids:"novanet:owner"=novanet', 'external_ids:"novanet:kind"=vpc', 'external_ids:"novanet:id"=11111111-2222-4333-8444-555555555555',
    'external_ids:"novanet:org"=ghost', 'external_ids:"novanet:project"=p1');
  await eventually(async () => (await nbRows(northbound, 'Logical_Router', ['name'], ['name=novanet-orphan'])).length === 0, 10_000, 'orphan removed');
  t.is((await nbRows(northbound, 'Logical_Switch', ['name'], ['name=someone-elses-switch'])).length, 1);
});

test('reconcile - many commands at once converge, and each port reports Ready', async (t) => {
  const scope = { org: 'bulk', project: 'p1' };
  const vpc = (await stack.client.call(scope, 'vpc.create', { name: 'b' })).result.vpc as { id: string };
  const subnet = (await stack.client.call(scope, 'subnet.create', { vpcId: vpc.id, name: 's', cidr: '10.0.0.0/22' })).result.subnet as { id: string };
  const created = await Promise.all(Array.from({ length: 200 }, () => stack.client.call(scope, 'port.create', { subnetId: subnet.id })));
  const last = Math.max(...created.map((c) => c.seq));
  await eventually(async () => (await nbRows(stack.northbound, 'Logical_Switch_Port', ['name'], ['external_ids:"novanet:org"=bulk', 'external_ids:"novanet:kind"=port'])).length === 200, 20_000, '200 LSPs');
  const statuses: StatusMessage[] = await Promise.all(created.slice(0, 5).map((c) =>
    stack.client.waitFor(scope, 'port', (c.result.port as { id: string }).id, (s) => s.phase === 'Ready')));
  t.true(statuses.every((s) => s.observedSeq <= last + 1000));
  t.pass();
});
