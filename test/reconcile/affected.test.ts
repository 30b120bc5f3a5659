import test from 'ava';
import type { EventOf, NovanetEvent, ResourceRef, Scope } from '../../events/mod.js';
import { evolve } from '../../projections/mod.js';
import { dependantsOf } from '../../src/reconcile/affected.js';
import { acme, commit, defaultGroupCreated, externalIpAllocated, given, globex, id, mac, outside, portCreated, vpcWithSubnet } from '../support/decider.js';
import type { Given } from '../support/decider.js';

/**
 * The dependants of ports, NAT gateways and subnets come from the view's indexes: those of
 * the port, VPC or tenant, and never those of another VPC or tenant that a scan would have
 * passed over. acme's VPC id(1) (subnet id(2), ports id(3), id(4)) and VPC id(20) (subnet
 * id(21), port id(22)); globex's VPC id(40) (subnet id(41), port id(42)).
 */

const at = (scope: Scope, ...events: NovanetEvent[]): Given => ({ scope, events });
const dhcp = { enabled: true, leaseTime: 43200, dnsServers: [], ntpServers: [] };
const vpcCreated = (n: number, cidr: string): NovanetEvent[] => [
  { type: 'VpcCreated', data: { vpcId: id(n), name: `v${n}`, cidr: `${cidr}.0.0/16` } },
  defaultGroupCreated(id(n), n + 10),
  { type: 'SubnetCreated', data: { subnetId: id(n + 1), vpcId: id(n), name: 's', cidr: `${cidr}.1.0/24`, gatewayIp: `${cidr}.1.1`, gatewayMac: mac(n + 1), dhcp } },
  portCreated(n + 2, `${cidr}.1.2`, id(n + 1)),
];
const forwarded = (n: number, externalIpId: number, portId: number): EventOf<'PortForwardCreated'> =>
  ({ type: 'PortForwardCreated', data: { portForwardId: id(n), externalIpId: id(externalIpId), protocol: 'tcp', externalPort: n, portId: id(portId), internalPort: 80 } });
const attached = (n: number, externalIpId: number, portId: number): EventOf<'ExternalIpAttachmentCreated'> =>
  ({ type: 'ExternalIpAttachmentCreated', data: { attachmentId: id(n), externalIpId: id(externalIpId), target: { portId: id(portId) } } });
const lbCreated = (n: number, subnet: number, vip: string): EventOf<'LoadBalancerCreated'> => ({
  type: 'LoadBalancerCreated',
  data: { loadBalancerId: id(n), subnetId: id(subnet), name: `lb${n}`, vipAddress: vip, protocol: 'tcp', listeners: [{ port: 80, targetPort: 80 }], memberPortIds: [] },
});

const history: Given[] = [
  outside(),
  at(acme, ...vpcWithSubnet().events, portCreated(3, '10.0.1.2'), portCreated(4, '10.0.1.3'), ...vpcCreated(20, '10.2')),
  at(globex, ...vpcCreated(40, '10.4')),
  at(acme, externalIpAllocated(60, '203.0.113.10'), externalIpAllocated(61, '203.0.113.11'), forwarded(70, 60, 3), forwarded(71, 60, 4), forwarded(72, 61, 22), attached(73, 61, 4)),
  at(globex, externalIpAllocated(62, '203.0.113.12'), forwarded(74, 62, 42)),
  at(acme, lbCreated(80, 2, '10.0.1.80'), lbCreated(81, 21, '10.2.1.81')),
];

/** The dependants the reconciler marks: found on the view before the event and after it. */
function dependants(event: NovanetEvent, scope: Scope = acme): string[] {
  const { view } = given(...history);
  const before = dependantsOf(view, event);
  evolve(view, commit(history.length + 1, scope, [event]));
  return [...new Set([...before, ...dependantsOf(view, event)].map((r: ResourceRef) => `${r.kind} ${r.id}`))].sort();
}

test('affected - a port\'s forwards follow it, by the port index', (t) => {
  t.deepEqual(dependants({ type: 'PortDeleted', data: { portId: id(3) } }), [`portforward ${id(70)}`]);
  t.deepEqual(dependants({ type: 'PortDeleted', data: { portId: id(4) } }), [`externalipattachment ${id(73)}`, `portforward ${id(71)}`]);
  t.deepEqual(dependants(portCreated(5, '10.0.1.5')), [], 'a new port has none');
});

test('affected - a NAT gateway reaches the attachments and forwards of its VPC, in its tenant only', (t) => {
  const gateway = (n: number, vpc: number, ip: number): EventOf<'NatGatewayCreated'> =>
    ({ type: 'NatGatewayCreated', data: { natGatewayId: id(n), vpcId: id(vpc), externalIpId: id(ip), gatewayMac: mac(n), releaseIpOnDelete: false } });
  t.deepEqual(dependants(gateway(90, 1, 60)), [`externalip ${id(60)}`, `externalipattachment ${id(73)}`, `portforward ${id(70)}`, `portforward ${id(71)}`]);
  t.deepEqual(dependants(gateway(90, 20, 61)), [`externalip ${id(61)}`, `portforward ${id(72)}`]);
  t.deepEqual(dependants(gateway(90, 40, 62), globex), [`externalip ${id(62)}`, `portforward ${id(74)}`]);
});

test('affected - a subnet reaches its VPC\'s load balancers, not another VPC\'s', (t) => {
  const subnet = (n: number, vpc: number, cidr: string): EventOf<'SubnetCreated'> =>
    ({ type: 'SubnetCreated', data: { subnetId: id(n), vpcId: id(vpc), name: `s${n}`, cidr, gatewayIp: cidr.replace('0/24', '1'), gatewayMac: mac(n), dhcp } });
  t.deepEqual(dependants(subnet(95, 1, '10.0.5.0/24')), [`loadbalancer ${id(80)}`]);
  t.deepEqual(dependants(subnet(95, 20, '10.2.5.0/24')), [`loadbalancer ${id(81)}`]);
  t.deepEqual(dependants({ type: 'SubnetDeleted', data: { subnetId: id(21) } }), [`loadbalancer ${id(81)}`]);
});

test('affected - a rule change of a group reaches its bare-metal members, not its VM ports', (t) => {
  const host = { type: 'PortCreated', data: { ...portCreated(9, '10.0.1.9', id(2), [id(10)]).data, vnicType: 'baremetal' } } as NovanetEvent;
  const vms: NovanetEvent[] = [{ type: 'PortSecurityGroupsChanged', data: { portId: id(3), securityGroupIds: [id(10)] } }];
  const rule = { type: 'SecurityGroupRuleAdded', data: { securityGroupId: id(10), direction: 'ingress', rule: { ruleId: id(99), protocol: 'tcp', remote: { cidr: '0.0.0.0/0' } } } } as NovanetEvent;
  const { view } = given(...history, at(acme, ...vms, host));
  t.deepEqual(dependantsOf(view, rule), [{ kind: 'port', id: id(9) }]);
  evolve(view, commit(history.length + 2, acme, [{ type: 'PortSecurityGroupsChanged', data: { portId: id(9), securityGroupIds: [] } }]));
  t.deepEqual(dependantsOf(view, rule), [], 'a host that left the group');
});

test('affected - an external network\'s chassis reach the NAT gateways on it, by the network\'s own set', (t) => {
  const gateway: NovanetEvent = { type: 'NatGatewayCreated', data: { natGatewayId: id(90), vpcId: id(1), externalIpId: id(60), gatewayMac: mac(90), releaseIpOnDelete: false } };
  const { view } = given(...history, at(acme, gateway));
  const gateways = (event: NovanetEvent) => dependantsOf(view, event).filter((r) => r.kind === 'natgateway').map((r) => r.id);
  t.deepEqual(gateways({ type: 'ExternalNetworkUpdated', data: { externalNetworkId: id(50), gatewayChassis: [{ name: 'gw-2', priority: 1 }] } }), [id(90)]);
  t.deepEqual(gateways({ type: 'ExternalNetworkUpdated', data: { externalNetworkId: id(55), gatewayChassis: [{ name: 'gw-2', priority: 1 }] } }), []);
  evolve(view, commit(history.length + 2, acme, [{ type: 'NatGatewayDeleted', data: { natGatewayId: id(90) } }]));
  t.deepEqual(gateways({ type: 'ExternalNetworkUpdated', data: { externalNetworkId: id(50), gatewayChassis: [{ name: 'gw-2', priority: 1 }] } }), [], 'a deleted gateway');
});
