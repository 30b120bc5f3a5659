import test from 'ava';
import { acme, given, globex, id, portCreated, vpcWithSubnet } from '../support/decider.js';

const lbCreated = (n: number, vipAddress: string, memberPortIds: string[] = []) => ({
  type: 'LoadBalancerCreated' as const,
  data: { loadBalancerId: id(n), subnetId: id(2), name: 'web', vipAddress, protocol: 'tcp' as const, listeners: [{ port: 80, targetPort: 8080 }], memberPortIds },
});
const ports = { scope: acme, events: [portCreated(3, '10.0.1.2'), portCreated(4, '10.0.1.3')] };

test('loadbalancer.create - takes the lowest free address of the subnet as VIP; targetPort defaults to port', (t) => {
  const d = given(vpcWithSubnet(), ports).when(acme, 'loadbalancer.create', {
    subnetId: id(2), name: 'web', listeners: [{ port: 80, targetPort: 8080 }, { port: 443 }], memberPortIds: [id(3), id(4), id(3)],
  }).then(t, [{
    type: 'LoadBalancerCreated',
    data: { loadBalancerId: id(100), subnetId: id(2), name: 'web', vipAddress: '10.0.1.4', protocol: 'tcp', listeners: [{ port: 80, targetPort: 8080 }, { port: 443, targetPort: 443 }], memberPortIds: [id(3), id(4)] },
  }]);
  t.like(d.result, { loadBalancer: { id: id(100), vpcId: id(1), vipAddress: '10.0.1.4', memberPortIds: [id(3), id(4)] } });
});

test('loadbalancer.create - the VIP is allocated like a port address: never twice, and freed on delete', (t) => {
  const withLb = { scope: acme, events: [lbCreated(5, '10.0.1.4')] };
  given(vpcWithSubnet(), ports, withLb).when(acme, 'port.create', { subnetId: id(2), ipAddress: '10.0.1.4' }).thenFails(t, 'IP_ALREADY_ALLOCATED', { loadBalancerId: id(5) });
  t.like(given(vpcWithSubnet(), ports, withLb).when(acme, 'port.create', { subnetId: id(2) }).decision?.result, { port: { ipAddress: '10.0.1.5' } });
  given(vpcWithSubnet(), ports, withLb).when(acme, 'loadbalancer.create', { subnetId: id(2), name: 'other', vipAddress: '10.0.1.2', listeners: [{ port: 80 }] })
    .thenFails(t, 'IP_ALREADY_ALLOCATED', { portId: id(3) });
  const deleted = { scope: acme, events: [{ type: 'LoadBalancerDeleted' as const, data: { loadBalancerId: id(5) } }] };
  t.like(given(vpcWithSubnet(), ports, withLb, deleted).when(acme, 'port.create', { subnetId: id(2) }).decision?.result, { port: { ipAddress: '10.0.1.4' } });
});

test('loadbalancer.create - refuses bad listeners, foreign members, name clashes and VIPs outside the subnet', (t) => {
  const create = (payload: Record<string, unknown>) => given(vpcWithSubnet(), ports, { scope: acme, events: [lbCreated(5, '10.0.1.9')] })
    .when(acme, 'loadbalancer.create', { subnetId: id(2), name: 'api', listeners: [{ port: 80 }], ...payload });
  create({ listeners: [] }).thenFails(t, 'VALIDATION_FAILED');
  create({ listeners: [{ port: 0 }] }).thenFails(t, 'VALIDATION_FAILED');
  create({ listeners: [{ port: 80 }, { port: 80, targetPort: 81 }] }).thenFails(t, 'VALIDATION_FAILED', { port: 80 });
  create({ protocol: 'icmp' }).thenFails(t, 'VALIDATION_FAILED');
  create({ memberPortIds: [id(77)] }).thenFails(t, 'NOT_FOUND');
  create({ name: 'web' }).thenFails(t, 'ALREADY_EXISTS');
  create({ vipAddress: '10.0.9.9' }).thenFails(t, 'IP_OUTSIDE_SUBNET');
  create({ vipAddress: '10.0.1.1' }).thenFails(t, 'IP_ALREADY_ALLOCATED');
  given(vpcWithSubnet(), ports).when(globex, 'loadbalancer.create', { subnetId: id(2), name: 'x', listeners: [{ port: 80 }] }).thenFails(t, 'NOT_FOUND');
  const otherVpc = { scope: acme, events: [
    { type: 'VpcCreated' as const, data: { vpcId: id(20), name: 'other', cidr: '10.9.0.0/16' } },
    { type: 'SubnetCreated' as const, data: { subnetId: id(21), vpcId: id(20), name: 's', cidr: '10.9.1.0/24', gatewayIp: '10.9.1.1', gatewayMac: '0a:4e:00:00:01:01', dhcp: { enabled: true, leaseTime: 60, dnsServers: [], ntpServers: [] } } },
    portCreated(22, '10.9.1.2', id(21)),
  ] };
  given(vpcWithSubnet(), ports, otherVpc).when(acme, 'loadbalancer.create', { subnetId: id(2), name: 'x', listeners: [{ port: 80 }], memberPortIds: [id(22)] })
    .thenFails(t, 'VALIDATION_FAILED', { portId: id(22) });
});

test('loadbalancer.update - replaces the members; a member port or a VIP subnet cannot be deleted under it', (t) => {
  const withLb = { scope: acme, events: [lbCreated(5, '10.0.1.9', [id(3)])] };
  given(vpcWithSubnet(), ports, withLb).when(acme, 'loadbalancer.update', { loadBalancerId: id(5), memberPortIds: [id(4)] })
    .then(t, [{ type: 'LoadBalancerMembersChanged', data: { loadBalancerId: id(5), memberPortIds: [id(4)] } }]);
  given(vpcWithSubnet(), ports, withLb).when(globex, 'loadbalancer.update', { loadBalancerId: id(5), memberPortIds: [] }).thenFails(t, 'NOT_FOUND');
  given(vpcWithSubnet(), ports, withLb).when(acme, 'port.delete', { portId: id(3) }).thenFails(t, 'IN_USE', { loadBalancerIds: [id(5)] });
  given(vpcWithSubnet(), withLb).when(acme, 'subnet.delete', { subnetId: id(2) }).thenFails(t, 'IN_USE', { loadBalancerIds: [id(5)] });
  given(vpcWithSubnet(), ports, withLb).when(acme, 'loadbalancer.delete', { loadBalancerId: id(5) })
    .then(t, [{ type: 'LoadBalancerDeleted', data: { loadBalancerId: id(5) } }]);
});
