import test from 'ava';
import type { NovanetEvent, ResourceRef, Scope } from '../../events/mod.js';
import { evolve } from '../../projections/mod.js';
import { dependantsOf } from '../../src/reconcile/affected.js';
import { desiredRows } from '../../src/reconcile/kinds.js';
import { rowUuid } from '../../src/reconcile/names.js';
import type { Ownership } from '../../src/reconcile/names.js';
import { acme, commit, externalIpAllocated, given, id, mac, outside, vpcWithSubnet } from '../support/decider.js';
import type { Given } from '../support/decider.js';

/**
 * The Northbound side of multi-NIC devices, attach/detach and external IPs on load balancers:
 * desired rows of a folded history. acme's VPC id(1) has subnets id(2) (10.0.1.0/24) and id(5)
 * (10.0.2.0/24), external IP id(60) and NAT gateway id(61); device vm has port id(3) in
 * subnet id(2), created with primary: false, and port id(4) in subnet id(5), its primary.
 */

const own: Ownership = { owner: 'novanet' };
const at = (scope: Scope, ...events: NovanetEvent[]): Given => ({ scope, events });
const dhcp = { enabled: true, leaseTime: 43200, dnsServers: [], ntpServers: [], hostRoutes: [{ destination: '192.168.0.0/16', nextHop: '10.0.1.254' }] };
const nic = (n: number, subnet: number, ip: string, fields: Record<string, unknown>): NovanetEvent =>
  ({ type: 'PortCreated', data: { portId: id(n), subnetId: id(subnet), macAddress: mac(n), ipAddress: ip, securityGroupIds: [], ...fields } }) as NovanetEvent;
const base: Given[] = [
  outside(),
  at(acme, ...vpcWithSubnet().events.map((e) => (e.type === 'SubnetCreated' ? { ...e, data: { ...e.data, dhcp } } : e)),
    { type: 'SubnetCreated', data: { subnetId: id(5), vpcId: id(1), name: 's5', cidr: '10.0.2.0/24', gatewayIp: '10.0.2.1', gatewayMac: mac(5), dhcp } }),
  at(acme, externalIpAllocated(60, '203.0.113.10'), { type: 'NatGatewayCreated', data: { natGatewayId: id(61), vpcId: id(1), externalIpId: id(60), gatewayMac: mac(61), releaseIpOnDelete: true } }),
  at(acme, nic(3, 2, '10.0.1.2', { deviceId: 'vm', primary: false }), nic(4, 5, '10.0.2.2', { deviceId: 'vm', primary: true })),
  at(acme, externalIpAllocated(62, '203.0.113.11')),
];
const attached = (target: Record<string, string>): Given =>
  at(acme, { type: 'ExternalIpAttachmentCreated', data: { attachmentId: id(70), externalIpId: id(62), target } as never });
const rowOf = (history: Given[], ref: ResourceRef, table: string) => desiredRows(given(...history).view, ref, own)?.rows.filter((r) => r.table === table) ?? [];

test('desired - a port that is not its device\'s primary takes the subnet\'s DHCP options without a router or default route', (t) => {
  const [secondary] = rowOf(base, { kind: 'port', id: id(3) }, 'Logical_Switch_Port');
  const [primary] = rowOf(base, { kind: 'port', id: id(4) }, 'Logical_Switch_Port');
  t.deepEqual(secondary!.columns.dhcpv4_options, [rowUuid.secondaryDhcpOptions(id(2))]);
  t.deepEqual(primary!.columns.dhcpv4_options, [rowUuid.dhcpOptions(id(5))]);
  const options = rowOf(base, { kind: 'subnet', id: id(2) }, 'DHCP_Options').map((r) => [r.uuid, r.columns.options]);
  t.deepEqual(options, [
    [rowUuid.dhcpOptions(id(2)), { server_id: '10.0.1.1', server_mac: mac(1), router: '10.0.1.1', lease_time: '43200', classless_static_route: '{192.168.0.0/16,10.0.1.254, 0.0.0.0/0,10.0.1.1}' }],
    [rowUuid.secondaryDhcpOptions(id(2)), { server_id: '10.0.1.1', server_mac: mac(1), lease_time: '43200', classless_static_route: '{192.168.0.0/16,10.0.1.254}' }],
  ]);
  t.is(rowOf(base, { kind: 'subnet', id: id(5) }, 'DHCP_Options').length, 1, 'a subnet with only primaries has one set of options');
});

test('desired - a port binds only its device\'s plug (iface-id-ver = device id); detached, none', (t) => {
  t.deepEqual(rowOf(base, { kind: 'port', id: id(4) }, 'Logical_Switch_Port')[0]!.columns.options, { 'iface-id-ver': 'vm' });
  const detached = [...base, at(acme, { type: 'PortDetached', data: { portId: id(4) } })];
  t.deepEqual(rowOf(detached, { kind: 'port', id: id(4) }, 'Logical_Switch_Port')[0]!.columns.options, { 'iface-id-ver': 'novanet:unattached' });
  const again = [...detached, at(acme, { type: 'PortAttached', data: { portId: id(4), deviceId: 'vm2' } })];
  t.deepEqual(rowOf(again, { kind: 'port', id: id(4) }, 'Logical_Switch_Port')[0]!.columns.options, { 'iface-id-ver': 'vm2' });
});

test('desired - a device attachment binds the device\'s primary port, not its first; detached, it is Pending', (t) => {
  const history = [...base, attached({ deviceId: 'vm' })];
  const [nat] = rowOf(history, { kind: 'externalipattachment', id: id(70) }, 'NAT');
  t.like(nat!.columns, { type: 'dnat_and_snat', external_ip: '203.0.113.11', logical_ip: '10.0.2.2', logical_port: [id(4)] });
  const detached = given(...history, at(acme, { type: 'PortDetached', data: { portId: id(4) } })).view;
  t.like(desiredRows(detached, { kind: 'externalipattachment', id: id(70) }, own), { rows: [], pending: 'device "vm" has no primary port' });
});

const lb = (endpoint?: object): Given => at(acme, {
  type: 'LoadBalancerCreated',
  data: {
    loadBalancerId: id(90), subnetId: id(2), name: 'api', vipAddress: '10.0.1.50', protocol: 'tcp', listeners: [{ port: 6443, targetPort: 6443 }, { port: 80, targetPort: 8080 }],
    memberPortIds: [id(3), id(4)], ...(endpoint && { endpoint }),
  },
} as NovanetEvent);

test('desired - an attachment to a cluster endpoint is Pending until a load balancer serves it, then its listeners are at the external IP', (t) => {
  const history = [...base, attached({ clusterId: 'c1', endpoint: 'api' })];
  t.like(desiredRows(given(...history).view, { kind: 'externalipattachment', id: id(70) }, own), { rows: [], pending: 'no load balancer is cluster c1\'s api endpoint in this tenant yet' });
  const served = [...history, lb({ clusterId: 'c1', role: 'api' })];
  const desired = desiredRows(given(...served).view, { kind: 'externalipattachment', id: id(70) }, own)!;
  t.deepEqual(desired.rows.map((r) => ({ table: r.table, uuid: r.uuid, vips: r.columns.vips, referencedBy: r.referencedBy })), [{
    table: 'Load_Balancer', uuid: rowUuid.attachmentLoadBalancer(id(70)),
    vips: { '203.0.113.11:6443': '10.0.1.2:6443,10.0.2.2:6443', '203.0.113.11:80': '10.0.1.2:8080,10.0.2.2:8080' },
    referencedBy: [{ table: 'Logical_Router', uuid: id(1), column: 'load_balancer' }],
  }]);
  t.deepEqual(desired.dependsOn, [{ kind: 'loadbalancer', id: id(90) }, { kind: 'natgateway', id: id(61) }]);
  t.like(desiredRows(given(...base, lb(), attached({ clusterId: 'c1', endpoint: 'api' })).view, { kind: 'externalipattachment', id: id(70) }, own), { rows: [] },
    'a load balancer without the endpoint does not serve it');
});

test('affected - the attachment follows the load balancer of its endpoint and its members, and the device\'s primary', (t) => {
  const dependants = (history: Given[], event: NovanetEvent) => {
    const { view } = given(...history);
    const before = dependantsOf(view, event);
    evolve(view, commit(history.length + 1, acme, [event]));
    return [...before, ...dependantsOf(view, event)].filter((r) => r.kind === 'externalipattachment').map((r) => r.id);
  };
  const endpoint = [...base, attached({ clusterId: 'c1', endpoint: 'api' })];
  t.true(dependants(endpoint, lb({ clusterId: 'c1', role: 'api' }).events[0]!).includes(id(70)), 'the load balancer appears');
  const served = [...endpoint, lb({ clusterId: 'c1', role: 'api' })];
  t.true(dependants(served, { type: 'LoadBalancerMembersChanged', data: { loadBalancerId: id(90), memberPortIds: [id(4)] } }).includes(id(70)), 'its members change');
  t.true(dependants(served, { type: 'LoadBalancerDeleted', data: { loadBalancerId: id(90) } }).includes(id(70)), 'it goes');
  const device = [...base, attached({ deviceId: 'vm' })];
  t.true(dependants(device, { type: 'PortDetached', data: { portId: id(4) } }).includes(id(70)), 'the primary is detached');
  const detached = [...device, at(acme, { type: 'PortDetached', data: { portId: id(4) } })];
  t.true(dependants(detached, { type: 'PortAttached', data: { portId: id(4), deviceId: 'vm' } }).includes(id(70)), 'and attached again');
});
