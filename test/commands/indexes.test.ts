import test from 'ava';
import type { EventOf, NovanetEvent, ResourceKind, Scope } from '../../events/mod.js';
import { cidrBounds, collections, evolve, initialView, intToIp, ipToInt, nextPoolAddress, plain, scopeKindKey, scopeOf } from '../../projections/mod.js';
import type { View } from '../../projections/mod.js';
import { acme, commit, DEFAULT_GROUP, defaultGroupCreated, externalIpAllocated, given, globex, id, mac, outside, portCreated, read, vpcWithSubnet } from '../support/decider.js';
import type { Given } from '../support/decider.js';

/**
 * The view's indexes of children (projections/children.ts): each is what a scan of the
 * collections would find, through every create, update and delete, so a command or a
 * dependant lookup that reads one costs O(its answer) and still answers what the scan did.
 */

type Index = Record<string, string[]>;

function link(index: Map<string, Set<string>>, parent: string, child: string): void {
  index.set(parent, (index.get(parent) ?? new Set()).add(child));
}

/** Every index the folds keep, recomputed by scanning the view's collections. */
function scanned(view: View): Record<keyof ReturnType<typeof folded>, unknown> {
  const scopeResources = new Map<string, Set<string>>();
  for (const kind of Object.keys(collections) as ResourceKind[]) {
    for (const id of (collections[kind](view) as ReadonlyMap<string, unknown>).keys()) link(scopeResources, scopeKindKey(scopeOf(view, { kind, id })!, kind), id);
  }
  const loadBalancersOfMember = new Map<string, Set<string>>();
  const vpcLoadBalancers = new Map<string, Set<string>>();
  for (const lb of view.loadBalancers.values()) {
    for (const portId of lb.memberPortIds) link(loadBalancersOfMember, portId, lb.id);
    link(vpcLoadBalancers, lb.vpcId, lb.id);
  }
  const portForwardsOfPort = new Map<string, Set<string>>();
  for (const f of view.portForwards.values()) link(portForwardsOfPort, f.portId, f.id);
  const devicePorts = new Map<string, Set<string>>();
  for (const p of view.ports.values()) if (p.deviceId !== undefined) link(devicePorts, `${p.scope.org}/${p.scope.project}/${p.deviceId}`, p.id);
  const networkGateways: Record<string, string[]> = {};
  for (const network of view.externalNetworks.values()) {
    networkGateways[network.id] = [...view.natGateways.values()].filter((g) => view.externalIps.get(g.externalIpId)?.externalNetworkId === network.id).map((g) => g.id).sort();
  }
  const groupMembers: Record<string, { ports: string[]; baremetal: string[] }> = {};
  for (const group of view.securityGroups.values()) {
    const members = [...view.ports.values()].filter((p) => p.securityGroupIds.includes(group.id));
    groupMembers[group.id] = { ports: members.map((p) => p.id).sort(), baremetal: members.filter((p) => p.vnicType === 'baremetal').map((p) => p.id).sort() };
  }
  const poolNext: Record<string, string | undefined> = {};
  for (const pool of view.externalIpPools.values()) {
    const network = view.externalNetworks.get(pool.externalNetworkId)!;
    const reserved = [cidrBounds(network.cidr).first, cidrBounds(network.cidr).last, ipToInt(network.gatewayIp)];
    const candidates = pool.ranges.flatMap((r) => Array.from({ length: ipToInt(r.last) - ipToInt(r.first) + 1 }, (_, i) => ipToInt(r.first) + i)).sort((a, b) => a - b);
    const free = candidates.find((ip) => !reserved.includes(ip) && !pool.allocated.has(intToIp(ip)));
    poolNext[pool.id] = free === undefined ? undefined : intToIp(free);
  }
  return {
    scopeResources: plain(scopeResources), loadBalancersOfMember: plain(loadBalancersOfMember), portForwardsOfPort: plain(portForwardsOfPort),
    devicePorts: plain(devicePorts), vpcLoadBalancers: plain(vpcLoadBalancers), networkGateways, groupMembers, poolNext,
  };
}

function folded(view: View) {
  const vpcLoadBalancers: Index = {};
  for (const vpc of view.vpcs.values()) if (vpc.loadBalancerIds.size > 0) vpcLoadBalancers[vpc.id] = [...vpc.loadBalancerIds].sort();
  const networkGateways: Record<string, string[]> = {};
  for (const network of view.externalNetworks.values()) networkGateways[network.id] = [...network.natGatewayIds].sort();
  const groupMembers: Record<string, { ports: string[]; baremetal: string[] }> = {};
  for (const group of view.securityGroups.values()) groupMembers[group.id] = { ports: [...group.portIds].sort(), baremetal: [...group.baremetalPortIds].sort() };
  const poolNext: Record<string, string | undefined> = {};
  for (const pool of view.externalIpPools.values()) poolNext[pool.id] = nextPoolAddress(pool);
  return {
    scopeResources: plain(view.scopeResources), loadBalancersOfMember: plain(view.loadBalancersOfMember), portForwardsOfPort: plain(view.portForwardsOfPort),
    devicePorts: plain(view.devicePorts), vpcLoadBalancers, networkGateways, groupMembers, poolNext,
  };
}

const lbCreated = (n: number, memberPortIds: string[], subnetId = id(2), name = `lb${n}`): EventOf<'LoadBalancerCreated'> => ({
  type: 'LoadBalancerCreated',
  data: { loadBalancerId: id(n), subnetId, name, vipAddress: `10.0.1.${n}`, protocol: 'tcp', listeners: [{ port: 80, targetPort: 80 }], memberPortIds },
});
const forwarded = (n: number, portId: string, externalPort: number): EventOf<'PortForwardCreated'> =>
  ({ type: 'PortForwardCreated', data: { portForwardId: id(n), externalIpId: id(60), protocol: 'tcp', externalPort, portId, internalPort: 80 } });
const dhcp = { enabled: true, leaseTime: 43200, dnsServers: [], ntpServers: [] };
/** globex's VPC id(20) (default group id(30)) with subnet id(21). */
const globexVpc: NovanetEvent[] = [
  { type: 'VpcCreated', data: { vpcId: id(20), name: 'main', cidr: '10.1.0.0/16' } },
  defaultGroupCreated(id(20), 30),
  { type: 'SubnetCreated', data: { subnetId: id(21), vpcId: id(20), name: 'app', cidr: '10.1.1.0/24', gatewayIp: '10.1.1.1', gatewayMac: mac(21), dhcp } },
];

test('indexes - every index of the view is what a scan of its collections finds, through creates, updates and deletes', (t) => {
  const view = initialView();
  let seq = 0;
  const step = (scope: Scope, what: string, ...events: NovanetEvent[]) => {
    evolve(view, commit(++seq, scope, events));
    t.deepEqual(folded(view), scanned(view), what);
  };
  const provider = outside();
  step(provider.scope, 'provider network and pool', ...provider.events);
  step(acme, 'acme VPC and subnet', ...vpcWithSubnet().events);
  step(globex, 'globex VPC and subnet', ...globexVpc);
  step(acme, 'acme ports', portCreated(3, '10.0.1.2', id(2), [DEFAULT_GROUP]), portCreated(4, '10.0.1.3'), portCreated(5, '10.0.1.4', id(2), [DEFAULT_GROUP]));
  step(acme, 'a bare-metal host in the default group', { type: 'PortCreated', data: { ...portCreated(9, '10.0.1.9', id(2), [DEFAULT_GROUP]).data, vnicType: 'baremetal' } } as NovanetEvent);
  step(acme, 'it leaves the group', { type: 'PortSecurityGroupsChanged', data: { portId: id(9), securityGroupIds: [] } });
  step(acme, 'it comes back, and a VM port leaves', { type: 'PortSecurityGroupsChanged', data: { portId: id(9), securityGroupIds: [DEFAULT_GROUP] } },
    { type: 'PortSecurityGroupsChanged', data: { portId: id(5), securityGroupIds: [] } });
  step(globex, 'globex port', portCreated(22, '10.1.1.2', id(21)));
  step(acme, 'a load balancer with members', lbCreated(6, [id(3), id(4)]), lbCreated(7, [id(4)]));
  step(acme, 'its members change', { type: 'LoadBalancerMembersChanged', data: { loadBalancerId: id(6), memberPortIds: [id(4), id(5)] } });
  step(acme, 'an external IP and forwards', externalIpAllocated(60, '203.0.113.10'), forwarded(62, id(3), 22), forwarded(63, id(3), 23), forwarded(64, id(4), 24));
  step(acme, 'a forward goes', { type: 'PortForwardDeleted', data: { portForwardId: id(62) } });
  step(acme, 'a NAT gateway on the network', { type: 'NatGatewayCreated', data: { natGatewayId: id(69), vpcId: id(1), externalIpId: id(60), gatewayMac: mac(69), releaseIpOnDelete: false } });
  step(provider.scope, 'a pool whose ranges hold the network\'s own addresses, out of order',
    { type: 'ExternalIpPoolCreated', data: { poolId: id(52), externalNetworkId: id(50), name: 'edges', ranges: [{ first: '203.0.113.254', last: '203.0.113.255' }, { first: '203.0.113.0', last: '203.0.113.2' }] } });
  step(globex, 'its addresses handed out', externalIpAllocated(65, '203.0.113.2', 52), externalIpAllocated(66, '203.0.113.254', 52));
  step(acme, 'the other pool is used up', externalIpAllocated(67, '203.0.113.11'), externalIpAllocated(68, '203.0.113.12'));
  step(acme, 'and an address below the next one comes back', { type: 'ExternalIpReleased', data: { externalIpId: id(67) } });
  step(globex, 'the edges pool is empty again', { type: 'ExternalIpReleased', data: { externalIpId: id(66) } }, { type: 'ExternalIpReleased', data: { externalIpId: id(65) } });
  step(acme, 'a port joins a device and leaves it', { type: 'PortAttached', data: { portId: id(5), deviceId: 'vm' } });
  step(acme, 'detached', { type: 'PortDetached', data: { portId: id(5) } });
  step(acme, 'a load balancer goes', { type: 'LoadBalancerDeleted', data: { loadBalancerId: id(7) } });
  step(acme, 'the last forward of port 3 goes, then the port', { type: 'PortForwardDeleted', data: { portForwardId: id(63) } }, { type: 'PortDeleted', data: { portId: id(3) } });
  step(globex, 'a log that creates an existing port again in another tenant moves it', portCreated(5, '10.1.1.3', id(21)));
  step(acme, 'an event for something not in the view changes nothing', { type: 'PortDeleted', data: { portId: id(99) } }, lbCreated(8, [id(4)], id(98)));
  step(acme, 'everything else goes', { type: 'NatGatewayDeleted', data: { natGatewayId: id(69) } }, { type: 'LoadBalancerDeleted', data: { loadBalancerId: id(6) } }, { type: 'PortForwardDeleted', data: { portForwardId: id(64) } },
    { type: 'PortDeleted', data: { portId: id(4) } }, { type: 'PortDeleted', data: { portId: id(9) } }, { type: 'ExternalIpReleased', data: { externalIpId: id(60) } });
  t.deepEqual(plain(view.loadBalancersOfMember), {});
  t.deepEqual(plain(view.portForwardsOfPort), {});
  t.false([...view.scopeResources.keys()].some((key) => key.startsWith('acme/web/port') || key.startsWith('acme/web/loadbalancer')), 'a scope without a kind has no entry');
});

const ports: Given = { scope: acme, events: [portCreated(3, '10.0.1.2'), portCreated(4, '10.0.1.3')] };

test('port.delete - IN_USE names the load balancers the port is a member of now, and only those', (t) => {
  const lbs: Given = { scope: acme, events: [lbCreated(6, [id(3)]), lbCreated(7, [id(3), id(4)])] };
  given(vpcWithSubnet(), ports, lbs).when(acme, 'port.delete', { portId: id(3) }).thenFails(t, 'IN_USE', { loadBalancerIds: [id(6), id(7)] });
  const moved: Given = { scope: acme, events: [{ type: 'LoadBalancerMembersChanged', data: { loadBalancerId: id(6), memberPortIds: [id(4)] } }] };
  given(vpcWithSubnet(), ports, lbs, moved).when(acme, 'port.delete', { portId: id(3) }).thenFails(t, 'IN_USE', { loadBalancerIds: [id(7)] });
  const gone: Given = { scope: acme, events: [{ type: 'LoadBalancerDeleted', data: { loadBalancerId: id(7) } }] };
  given(vpcWithSubnet(), ports, lbs, moved, gone).when(acme, 'port.delete', { portId: id(3) }).then(t, [{ type: 'PortDeleted', data: { portId: id(3) } }]);
});

test('port.delete - IN_USE names the forwards still aimed at the port; deletable once they go', (t) => {
  const forwards: Given = { scope: acme, events: [externalIpAllocated(60, '203.0.113.10'), forwarded(62, id(3), 22), forwarded(63, id(4), 23)] };
  given(outside(), vpcWithSubnet(), ports, forwards).when(acme, 'port.delete', { portId: id(3) }).thenFails(t, 'IN_USE', { portForwardIds: [id(62)] });
  const gone: Given = { scope: acme, events: [{ type: 'PortForwardDeleted', data: { portForwardId: id(62) } }] };
  given(outside(), vpcWithSubnet(), ports, forwards, gone).when(acme, 'port.delete', { portId: id(3) }).then(t, [{ type: 'PortDeleted', data: { portId: id(3) } }]);
});

test('loadbalancer.create - a name is taken in its VPC only, and free again once its load balancer goes', (t) => {
  const web: Given = { scope: acme, events: [lbCreated(6, [], id(2), 'web')] };
  const create = (...history: Given[]) => given(...history).when(acme, 'loadbalancer.create', { subnetId: id(2), name: 'web', listeners: [{ port: 80 }] });
  create(vpcWithSubnet(), web).thenFails(t, 'ALREADY_EXISTS', { name: 'web' });
  create(vpcWithSubnet(), web, { scope: acme, events: [{ type: 'LoadBalancerDeleted', data: { loadBalancerId: id(6) } }] }).thenSucceeds(t);
  const globexWeb: Given = { scope: globex, events: [...globexVpc, lbCreated(26, [], id(21), 'web')] };
  create(vpcWithSubnet(), globexWeb).thenSucceeds(t);
});

test('subnet.delete - only the load balancers whose VIP is in the subnet hold it', (t) => {
  const second: Given = { scope: acme, events: [{ type: 'SubnetCreated', data: { subnetId: id(5), vpcId: id(1), name: 'db', cidr: '10.0.2.0/24', gatewayIp: '10.0.2.1', gatewayMac: mac(5), dhcp } }] };
  const lbs: Given = { scope: acme, events: [lbCreated(6, []), { ...lbCreated(7, [], id(5)), data: { ...lbCreated(7, [], id(5)).data, vipAddress: '10.0.2.7' } }] };
  given(vpcWithSubnet(), second, lbs).when(acme, 'subnet.delete', { subnetId: id(5) }).thenFails(t, 'IN_USE', { loadBalancerIds: [id(7)] });
  given(vpcWithSubnet(), second, lbs, { scope: acme, events: [{ type: 'LoadBalancerDeleted', data: { loadBalancerId: id(7) } }] })
    .when(acme, 'subnet.delete', { subnetId: id(5) }).then(t, [{ type: 'SubnetDeleted', data: { subnetId: id(5) } }]);
});

test('lists - a tenant lists what it holds now, from the scope index, oldest first', (t) => {
  const { view } = given(vpcWithSubnet(), ports, { scope: globex, events: globexVpc }, { scope: acme, events: [{ type: 'PortDeleted', data: { portId: id(3) } }, portCreated(5, '10.0.1.4')] });
  t.deepEqual((read(view, acme, 'port.list').ports as { id: string }[]).map((p) => p.id), [id(4), id(5)]);
  t.deepEqual((read(view, globex, 'vpc.list').vpcs as { id: string }[]).map((v) => v.id), [id(20)]);
  t.deepEqual((read(view, globex, 'securitygroup.list').securityGroups as { id: string }[]).map((g) => g.id), [id(30)]);
  t.deepEqual(read(view, globex, 'port.list').ports, []);
});
