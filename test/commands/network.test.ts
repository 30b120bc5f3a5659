import test from 'ava';
import type { NovanetEvent } from '../../events/mod.js';
import { acme, DEFAULT_GROUP, defaultGroupCreated, given, globex, id, mac, portCreated, vpc, vpcWithSubnet } from '../support/decider.js';

const dhcpDefaults = { enabled: true, leaseTime: 43200, dnsServers: [], ntpServers: [] };

// --- vpc.create -------------------------------------------------------------

test('vpc.create - records the requested CIDR', (t) => {
  const d = given().when(acme, 'vpc.create', { name: 'main', cidr: '192.168.0.0/20' })
    .then(t, [{ type: 'VpcCreated', data: { vpcId: id(100), name: 'main', cidr: '192.168.0.0/20' } }, defaultGroupCreated(id(100), 101)]);
  t.like(d.result, { vpc: { id: id(100), name: 'main', cidr: '192.168.0.0/20', org: 'acme', project: 'web', defaultSecurityGroupId: id(101) } });
});

test('vpc.create - without a CIDR takes the next free /16 of the pool, per tenant', (t) => {
  const first = { scope: acme, events: [{ type: 'VpcCreated' as const, data: { vpcId: id(1), name: 'a', cidr: '10.0.0.0/16' } }] };
  given(first).when(acme, 'vpc.create', { name: 'b' })
    .then(t, [{ type: 'VpcCreated', data: { vpcId: id(100), name: 'b', cidr: '10.1.0.0/16' } }, defaultGroupCreated(id(100), 101)]);
  // Another tenant's VPCs do not take space: identical ranges are fine across tenants.
  given(first).when(globex, 'vpc.create', { name: 'b' })
    .then(t, [{ type: 'VpcCreated', data: { vpcId: id(100), name: 'b', cidr: '10.0.0.0/16' } }, defaultGroupCreated(id(100), 101)]);
});

test('vpc.create - a pool with no free /16 is POOL_EXHAUSTED', (t) => {
  const first = { scope: acme, events: [{ type: 'VpcCreated' as const, data: { vpcId: id(1), name: 'a', cidr: '10.0.0.0/16' } }] };
  given(first).when(acme, 'vpc.create', { name: 'b' }, { config: { vpcPool: '10.0.0.0/16' } }).thenFails(t, 'POOL_EXHAUSTED');
});

test('vpc.create - the same name twice in a tenant is ALREADY_EXISTS, in another tenant it is fine', (t) => {
  const history = { scope: acme, events: [{ type: 'VpcCreated' as const, data: { vpcId: id(1), name: 'main', cidr: '10.0.0.0/16' } }] };
  given(history).when(acme, 'vpc.create', { name: 'main' }).thenFails(t, 'ALREADY_EXISTS');
  given(history).when(globex, 'vpc.create', { name: 'main' }).then(t, [{ type: 'VpcCreated', data: { vpcId: id(100), name: 'main', cidr: '10.0.0.0/16' } }, defaultGroupCreated(id(100), 101)]);
});

test('vpc.create - malformed CIDRs are INVALID_CIDR, host bits name the canonical form', (t) => {
  for (const cidr of ['banana', '10.0.0.0', '10.0.0.0/33', '300.0.0.0/16', 'fd00::/48', '10.0.0.0/30', '10.0.0.0/4']) {
    given().when(acme, 'vpc.create', { name: 'x', cidr }).thenFails(t, 'INVALID_CIDR');
  }
  given().when(acme, 'vpc.create', { name: 'x', cidr: '10.0.5.7/16' }).thenFails(t, 'INVALID_CIDR', { canonical: '10.0.0.0/16' });
});

test('vpc.create - payloads that do not fit the schema are VALIDATION_FAILED', (t) => {
  given().when(acme, 'vpc.create', {}).thenFails(t, 'VALIDATION_FAILED');
  given().when(acme, 'vpc.create', { name: 42 }).thenFails(t, 'VALIDATION_FAILED');
  given().when(acme, 'vpc.create', { name: 'x', cidrBlock: '10.0.0.0/16' }).thenFails(t, 'VALIDATION_FAILED');
  given().when(acme, 'vpc.create', { name: 'x'.repeat(65) }).thenFails(t, 'VALIDATION_FAILED');
});

// --- vpc.delete -------------------------------------------------------------

test('vpc.delete - deletes an empty VPC together with its default group', (t) => {
  given(vpc()).when(acme, 'vpc.delete', { vpcId: id(1) })
    .then(t, [{ type: 'SecurityGroupDeleted', data: { securityGroupId: DEFAULT_GROUP } }, { type: 'VpcDeleted', data: { vpcId: id(1) } }]);
});

test('vpc.delete - a VPC from before security groups has no default group to delete', (t) => {
  const history = { scope: acme, events: [{ type: 'VpcCreated' as const, data: { vpcId: id(1), name: 'main', cidr: '10.0.0.0/16' } }] };
  given(history).when(acme, 'vpc.delete', { vpcId: id(1) }).then(t, [{ type: 'VpcDeleted', data: { vpcId: id(1) } }]);
});

test('vpc.delete - IN_USE while it has subnets; NOT_FOUND for unknown or foreign ids', (t) => {
  given(vpcWithSubnet()).when(acme, 'vpc.delete', { vpcId: id(1) }).thenFails(t, 'IN_USE', { subnetIds: [id(2)] });
  given(vpcWithSubnet()).when(globex, 'vpc.delete', { vpcId: id(1) }).thenFails(t, 'NOT_FOUND');
  given().when(acme, 'vpc.delete', { vpcId: id(9) }).thenFails(t, 'NOT_FOUND');
});

// --- vpc.route.add / vpc.route.remove ---------------------------------------

const routeAdded = (n: number, destination: string, nextHop: string) =>
  ({ type: 'VpcRouteAdded' as const, data: { vpcId: id(1), route: { routeId: id(n), destination, nextHop } } });

test('vpc.route.add - records a route to a destination outside the VPC via an address of one of its subnets', (t) => {
  const d = given(vpcWithSubnet()).when(acme, 'vpc.route.add', { vpcId: id(1), destination: '192.168.50.0/24', nextHop: '10.0.1.10' })
    .then(t, [routeAdded(100, '192.168.50.0/24', '10.0.1.10')]);
  t.deepEqual((d.result.vpc as { routes: unknown }).routes, [{ id: id(100), destination: '192.168.50.0/24', nextHop: '10.0.1.10' }]);
});

test('vpc.route.add - refuses destinations inside the VPC, the default route, duplicates and unreachable next hops', (t) => {
  const add = (destination: string, nextHop = '10.0.1.10') => given(vpcWithSubnet(), { scope: acme, events: [routeAdded(5, '172.16.0.0/12', '10.0.1.10')] })
    .when(acme, 'vpc.route.add', { vpcId: id(1), destination, nextHop });
  add('10.0.200.0/24').thenFails(t, 'CIDR_OVERLAP', { vpcCidr: '10.0.0.0/16' });
  add('10.0.0.0/8').thenFails(t, 'CIDR_OVERLAP');
  add('0.0.0.0/0').thenFails(t, 'INVALID_CIDR');
  add('192.168.50.1/24').thenFails(t, 'INVALID_CIDR', { canonical: '192.168.50.0/24' });
  add('172.16.0.0/12').thenFails(t, 'ALREADY_EXISTS', { routeId: id(5) });
  add('192.168.50.0/24', '10.0.9.9').thenFails(t, 'IP_OUTSIDE_SUBNET');
  add('192.168.50.0/24', '10.0.1.1').thenFails(t, 'IP_RESERVED');
  add('192.168.50.0/24', '10.0.1.255').thenFails(t, 'IP_RESERVED');
  add('192.168.50.0/24', 'nope').thenFails(t, 'VALIDATION_FAILED');
  given(vpcWithSubnet()).when(globex, 'vpc.route.add', { vpcId: id(1), destination: '192.168.50.0/24', nextHop: '10.0.1.10' }).thenFails(t, 'NOT_FOUND');
});

test('vpc.route.remove - removes a route; unknown routes are NOT_FOUND; a subnet holding a next hop is IN_USE', (t) => {
  const routed = { scope: acme, events: [routeAdded(5, '172.16.0.0/12', '10.0.1.10')] };
  given(vpcWithSubnet(), routed).when(acme, 'vpc.route.remove', { vpcId: id(1), routeId: id(5) })
    .then(t, [{ type: 'VpcRouteRemoved', data: { vpcId: id(1), routeId: id(5) } }]);
  given(vpcWithSubnet(), routed).when(acme, 'vpc.route.remove', { vpcId: id(1), routeId: id(6) }).thenFails(t, 'NOT_FOUND');
  given(vpcWithSubnet(), routed).when(acme, 'subnet.delete', { subnetId: id(2) }).thenFails(t, 'IN_USE', { routeIds: [id(5)] });
  given(vpcWithSubnet(), routed, { scope: acme, events: [{ type: 'VpcRouteRemoved', data: { vpcId: id(1), routeId: id(5) } }] })
    .when(acme, 'subnet.delete', { subnetId: id(2) }).then(t, [{ type: 'SubnetDeleted', data: { subnetId: id(2) } }]);
});

// --- subnet.create ----------------------------------------------------------

test('subnet.create - without a CIDR takes the next free /24; the gateway is the first usable address', (t) => {
  const d = given(vpcWithSubnet()).when(acme, 'subnet.create', { vpcId: id(1), name: 'db' }).then(t, [{
    type: 'SubnetCreated',
    data: { subnetId: id(100), vpcId: id(1), name: 'db', cidr: '10.0.0.0/24', gatewayIp: '10.0.0.1', gatewayMac: mac(0xa0), dhcp: dhcpDefaults },
  }]);
  t.like(d.result, { subnet: { id: id(100), cidr: '10.0.0.0/24', gatewayIp: '10.0.0.1', dhcpEnabled: true, leaseTime: 43200 } });
  const second = given(vpcWithSubnet(), { scope: acme, events: d.events })
    .when(acme, 'subnet.create', { vpcId: id(1), name: 'db2' }).decision!;
  t.like(second.result, { subnet: { cidr: '10.0.2.0/24' } });
});

test('subnet.create - records the requested CIDR, gateway and DHCP settings', (t) => {
  given(vpcWithSubnet()).when(acme, 'subnet.create', {
    vpcId: id(1), name: 'db', cidr: '10.0.8.0/22', gatewayIp: '10.0.11.254', dnsServers: ['1.1.1.1', '9.9.9.9'],
    ntpServers: ['10.0.0.5'], leaseTime: 600, mtu: 1400, domainName: 'corp.example', dhcpEnabled: true,
  }).then(t, [{
    type: 'SubnetCreated',
    data: {
      subnetId: id(100), vpcId: id(1), name: 'db', cidr: '10.0.8.0/22', gatewayIp: '10.0.11.254', gatewayMac: mac(0xa0),
      dhcp: { enabled: true, leaseTime: 600, dnsServers: ['1.1.1.1', '9.9.9.9'], ntpServers: ['10.0.0.5'], mtu: 1400, domainName: 'corp.example' },
    },
  }]);
});

test('subnet.create - SUBNET_OUTSIDE_VPC, CIDR_OVERLAP, INVALID_CIDR', (t) => {
  given(vpcWithSubnet()).when(acme, 'subnet.create', { vpcId: id(1), name: 'x', cidr: '10.1.0.0/24' }).thenFails(t, 'SUBNET_OUTSIDE_VPC');
  given(vpcWithSubnet()).when(acme, 'subnet.create', { vpcId: id(1), name: 'x', cidr: '10.0.0.0/8' }).thenFails(t, 'SUBNET_OUTSIDE_VPC');
  given(vpcWithSubnet()).when(acme, 'subnet.create', { vpcId: id(1), name: 'x', cidr: '10.0.2.0/31' }).thenFails(t, 'INVALID_CIDR');
  given(vpcWithSubnet()).when(acme, 'subnet.create', { vpcId: id(1), name: 'x', cidr: '10.0.0.0/23' }).thenFails(t, 'CIDR_OVERLAP', { subnetId: id(2) });
  given(vpcWithSubnet()).when(acme, 'subnet.create', { vpcId: id(1), name: 'x', cidr: '10.0.1.128/25' }).thenFails(t, 'CIDR_OVERLAP');
  given(vpcWithSubnet()).when(acme, 'subnet.create', { vpcId: id(1), name: 'x', cidr: '10.0.2.1/24' }).thenFails(t, 'INVALID_CIDR', { canonical: '10.0.2.0/24' });
});

test('subnet.create - the gateway must be a usable address of the subnet', (t) => {
  given(vpcWithSubnet()).when(acme, 'subnet.create', { vpcId: id(1), name: 'x', cidr: '10.0.2.0/24', gatewayIp: '10.0.3.1' }).thenFails(t, 'IP_OUTSIDE_SUBNET');
  given(vpcWithSubnet()).when(acme, 'subnet.create', { vpcId: id(1), name: 'x', cidr: '10.0.2.0/24', gatewayIp: '10.0.2.255' }).thenFails(t, 'IP_RESERVED');
  given(vpcWithSubnet()).when(acme, 'subnet.create', { vpcId: id(1), name: 'x', cidr: '10.0.2.0/24', gatewayIp: '10.0.2.0' }).thenFails(t, 'IP_RESERVED');
  given(vpcWithSubnet()).when(acme, 'subnet.create', { vpcId: id(1), name: 'x', gatewayIp: 'nope' }).thenFails(t, 'VALIDATION_FAILED');
});

test('subnet.create - name clash in the VPC, foreign or unknown VPC, bad DHCP settings', (t) => {
  given(vpcWithSubnet()).when(acme, 'subnet.create', { vpcId: id(1), name: 'app' }).thenFails(t, 'ALREADY_EXISTS');
  given(vpcWithSubnet()).when(globex, 'subnet.create', { vpcId: id(1), name: 'x' }).thenFails(t, 'NOT_FOUND');
  given(vpcWithSubnet()).when(acme, 'subnet.create', { vpcId: id(1), name: 'x', leaseTime: 5 }).thenFails(t, 'VALIDATION_FAILED');
  given(vpcWithSubnet()).when(acme, 'subnet.create', { vpcId: id(1), name: 'x', dnsServers: ['dns.example'] }).thenFails(t, 'VALIDATION_FAILED');
  given(vpcWithSubnet()).when(acme, 'subnet.create', { vpcId: id(1), name: 'x', domainName: 'bad domain' }).thenFails(t, 'VALIDATION_FAILED');
});

test('subnet.create - a generated gateway MAC is never one already in use', (t) => {
  given(vpcWithSubnet()).when(acme, 'subnet.create', { vpcId: id(1), name: 'db' }, { macs: [mac(1), mac(7)] })
    .then(t, [{ type: 'SubnetCreated', data: { subnetId: id(100), vpcId: id(1), name: 'db', cidr: '10.0.0.0/24', gatewayIp: '10.0.0.1', gatewayMac: mac(7), dhcp: dhcpDefaults } }]);
});

// --- subnet.update ----------------------------------------------------------

test('subnet.update - records the whole resulting DHCP settings; fields left out keep their value', (t) => {
  const d = given(vpcWithSubnet()).when(acme, 'subnet.update', { subnetId: id(2), dnsServers: ['10.0.1.53'], mtu: 1400, domainName: 'app.internal' })
    .then(t, [{ type: 'SubnetUpdated', data: { subnetId: id(2), name: 'app', dhcp: { ...dhcpDefaults, dnsServers: ['10.0.1.53'], mtu: 1400, domainName: 'app.internal' } } }]);
  t.like(d.result, { subnet: { id: id(2), name: 'app', cidr: '10.0.1.0/24', dnsServers: ['10.0.1.53'], mtu: 1400, leaseTime: 43200 } });
});

test('subnet.update - null clears mtu and domainName; DHCP can be turned off and the subnet renamed', (t) => {
  const tuned = { scope: acme, events: [{ type: 'SubnetUpdated' as const, data: { subnetId: id(2), name: 'app', dhcp: { ...dhcpDefaults, mtu: 1400, domainName: 'x.internal' } } }] };
  given(vpcWithSubnet(), tuned).when(acme, 'subnet.update', { subnetId: id(2), name: 'web', dhcpEnabled: false, mtu: null, domainName: null })
    .then(t, [{ type: 'SubnetUpdated', data: { subnetId: id(2), name: 'web', dhcp: { ...dhcpDefaults, enabled: false } } }]);
});

test('subnet.update - a sibling\'s name is ALREADY_EXISTS; foreign or unknown subnets are NOT_FOUND; CIDR and gateway are not updatable', (t) => {
  const sibling = { scope: acme, events: [{ type: 'SubnetCreated' as const, data: { subnetId: id(3), vpcId: id(1), name: 'db', cidr: '10.0.2.0/24', gatewayIp: '10.0.2.1', gatewayMac: mac(2), dhcp: dhcpDefaults } }] };
  given(vpcWithSubnet(), sibling).when(acme, 'subnet.update', { subnetId: id(2), name: 'db' }).thenFails(t, 'ALREADY_EXISTS');
  given(vpcWithSubnet()).when(acme, 'subnet.update', { subnetId: id(2), name: 'app' })
    .then(t, [{ type: 'SubnetUpdated', data: { subnetId: id(2), name: 'app', dhcp: dhcpDefaults } }]);
  given(vpcWithSubnet()).when(globex, 'subnet.update', { subnetId: id(2), mtu: 1400 }).thenFails(t, 'NOT_FOUND');
  given(vpcWithSubnet()).when(acme, 'subnet.update', { subnetId: id(9), mtu: 1400 }).thenFails(t, 'NOT_FOUND');
  given(vpcWithSubnet()).when(acme, 'subnet.update', { subnetId: id(2), cidr: '10.0.1.0/25' }).thenFails(t, 'VALIDATION_FAILED');
  given(vpcWithSubnet()).when(acme, 'subnet.update', { subnetId: id(2), gatewayIp: '10.0.1.9' }).thenFails(t, 'VALIDATION_FAILED');
  given(vpcWithSubnet()).when(acme, 'subnet.update', { subnetId: id(2), mtu: 100 }).thenFails(t, 'VALIDATION_FAILED');
  given(vpcWithSubnet()).when(acme, 'subnet.update', { subnetId: id(2), dnsServers: ['dns.example'] }).thenFails(t, 'VALIDATION_FAILED');
});

// --- subnet.delete ----------------------------------------------------------

test('subnet.delete - IN_USE while it has ports, then deletable', (t) => {
  given(vpcWithSubnet(), { scope: acme, events: [portCreated(3, '10.0.1.2')] })
    .when(acme, 'subnet.delete', { subnetId: id(2) }).thenFails(t, 'IN_USE', { portIds: [id(3)] });
  given(vpcWithSubnet(), { scope: acme, events: [portCreated(3, '10.0.1.2'), { type: 'PortDeleted', data: { portId: id(3) } }] })
    .when(acme, 'subnet.delete', { subnetId: id(2) }).then(t, [{ type: 'SubnetDeleted', data: { subnetId: id(2) } }]);
  given(vpcWithSubnet()).when(globex, 'subnet.delete', { subnetId: id(2) }).thenFails(t, 'NOT_FOUND');
});

// --- port.create ------------------------------------------------------------

test('port.create - allocates the lowest free address, never network, gateway or broadcast', (t) => {
  const d = given(vpcWithSubnet()).when(acme, 'port.create', { subnetId: id(2), deviceId: 'vm-1' })
    .then(t, [{ type: 'PortCreated', data: { portId: id(100), subnetId: id(2), macAddress: mac(0xa0), ipAddress: '10.0.1.2', securityGroupIds: [DEFAULT_GROUP], primary: true, deviceId: 'vm-1' } }]);
  t.like(d.result, { port: { id: id(100), ipAddress: '10.0.1.2', macAddress: mac(0xa0), deviceId: 'vm-1', subnetId: id(2), vpcId: id(1) } });
  given(vpcWithSubnet(), { scope: acme, events: [portCreated(3, '10.0.1.2'), portCreated(4, '10.0.1.4')] })
    .when(acme, 'port.create', { subnetId: id(2) }).then(t, [{ type: 'PortCreated', data: { portId: id(100), subnetId: id(2), macAddress: mac(0xa0), ipAddress: '10.0.1.3', securityGroupIds: [DEFAULT_GROUP], primary: true } }]);
});

test('port.create - a full subnet is POOL_EXHAUSTED (a /30 holds the gateway and one port)', (t) => {
  const tiny = {
    scope: acme,
    events: [{
      type: 'SubnetCreated' as const,
      data: { subnetId: id(5), vpcId: id(1), name: 'tiny', cidr: '10.0.9.0/30', gatewayIp: '10.0.9.1', gatewayMac: mac(5), dhcp: dhcpDefaults },
    }],
  };
  given(vpcWithSubnet(), tiny).when(acme, 'port.create', { subnetId: id(5) })
    .then(t, [{ type: 'PortCreated', data: { portId: id(100), subnetId: id(5), macAddress: mac(0xa0), ipAddress: '10.0.9.2', securityGroupIds: [DEFAULT_GROUP], primary: true } }]);
  given(vpcWithSubnet(), tiny, { scope: acme, events: [portCreated(6, '10.0.9.2', id(5))] })
    .when(acme, 'port.create', { subnetId: id(5) }).thenFails(t, 'POOL_EXHAUSTED');
});

test('port.create - a requested address must be inside, usable and free', (t) => {
  const history = [vpcWithSubnet(), { scope: acme, events: [portCreated(3, '10.0.1.2')] }] as const;
  given(...history).when(acme, 'port.create', { subnetId: id(2), ipAddress: '10.0.1.77' })
    .then(t, [{ type: 'PortCreated', data: { portId: id(100), subnetId: id(2), macAddress: mac(0xa0), ipAddress: '10.0.1.77', securityGroupIds: [DEFAULT_GROUP], primary: true } }]);
  given(...history).when(acme, 'port.create', { subnetId: id(2), ipAddress: '10.0.2.5' }).thenFails(t, 'IP_OUTSIDE_SUBNET');
  given(...history).when(acme, 'port.create', { subnetId: id(2), ipAddress: '10.0.1.2' }).thenFails(t, 'IP_ALREADY_ALLOCATED', { portId: id(3) });
  given(...history).when(acme, 'port.create', { subnetId: id(2), ipAddress: '10.0.1.1' }).thenFails(t, 'IP_ALREADY_ALLOCATED', { usedBy: 'gateway' });
  given(...history).when(acme, 'port.create', { subnetId: id(2), ipAddress: '10.0.1.0' }).thenFails(t, 'IP_RESERVED');
  given(...history).when(acme, 'port.create', { subnetId: id(2), ipAddress: '10.0.1.255' }).thenFails(t, 'IP_RESERVED');
  given(...history).when(acme, 'port.create', { subnetId: id(2), ipAddress: '10.0.1.300' }).thenFails(t, 'VALIDATION_FAILED');
});

test('port.create - MACs: generated ones are unique, requested ones must be unicast and free', (t) => {
  const history = [vpcWithSubnet(), { scope: acme, events: [portCreated(3, '10.0.1.2')] }] as const;
  given(...history).when(acme, 'port.create', { subnetId: id(2) }, { macs: [mac(3), mac(1), mac(9)] })
    .then(t, [{ type: 'PortCreated', data: { portId: id(100), subnetId: id(2), macAddress: mac(9), ipAddress: '10.0.1.3', securityGroupIds: [DEFAULT_GROUP], primary: true } }]);
  given(...history).when(acme, 'port.create', { subnetId: id(2), macAddress: '0A:4E:00:00:00:03' }).thenFails(t, 'MAC_ALREADY_ALLOCATED');
  given(...history).when(acme, 'port.create', { subnetId: id(2), macAddress: '01:00:5e:00:00:01' }).thenFails(t, 'VALIDATION_FAILED');
  given(...history).when(acme, 'port.create', { subnetId: id(2), macAddress: 'zz:00:5e:00:00:01' }).thenFails(t, 'VALIDATION_FAILED');
  given(...history).when(acme, 'port.create', { subnetId: id(2), macAddress: '02-AA-BB-CC-DD-EE' })
    .then(t, [{ type: 'PortCreated', data: { portId: id(100), subnetId: id(2), macAddress: '02:aa:bb:cc:dd:ee', ipAddress: '10.0.1.3', securityGroupIds: [DEFAULT_GROUP], primary: true } }]);
});

test('port.create - another tenant\'s subnet is NOT_FOUND', (t) => {
  given(vpcWithSubnet()).when(globex, 'port.create', { subnetId: id(2) }).thenFails(t, 'NOT_FOUND');
});

// --- port.delete ------------------------------------------------------------

test('port.delete - frees the address for the next port', (t) => {
  const history = [vpcWithSubnet(), { scope: acme, events: [portCreated(3, '10.0.1.2'), { type: 'PortDeleted' as const, data: { portId: id(3) } }] }] as const;
  given(...history).when(acme, 'port.create', { subnetId: id(2), ipAddress: '10.0.1.2', macAddress: mac(3) })
    .then(t, [{ type: 'PortCreated', data: { portId: id(100), subnetId: id(2), macAddress: mac(3), ipAddress: '10.0.1.2', securityGroupIds: [DEFAULT_GROUP], primary: true } }]);
  given(...history).when(acme, 'port.delete', { portId: id(3) }).thenFails(t, 'NOT_FOUND');
});

test('port.create - a freed address below others is handed out first, then allocation continues past the block', (t) => {
  const ports = [portCreated(3, '10.0.1.2'), portCreated(4, '10.0.1.3'), portCreated(5, '10.0.1.4'), { type: 'PortDeleted' as const, data: { portId: id(4) } }];
  const history = [vpcWithSubnet(), { scope: acme, events: ports }] as const;
  const refill = given(...history).when(acme, 'port.create', { subnetId: id(2) }).decision!;
  t.like(refill.result, { port: { ipAddress: '10.0.1.3' } });
  const next = given(...history, { scope: acme, events: refill.events }).when(acme, 'port.create', { subnetId: id(2) }).decision!;
  t.like(next.result, { port: { ipAddress: '10.0.1.5' } });
});

// --- allowed address pairs --------------------------------------------------

test('port.create - allowed address pairs are recorded canonical, the MAC defaulting to the port\'s', (t) => {
  const d = given(vpcWithSubnet()).when(acme, 'port.create', {
    subnetId: id(2), allowedAddressPairs: [{ ipAddress: '10.0.1.100' }, { ipAddress: '192.168.50.0/24', macAddress: '0A-4E-00-00-00-77' }],
  }).decision!;
  const pairs = [{ ipAddress: '10.0.1.100', macAddress: mac(0xa0) }, { ipAddress: '192.168.50.0/24', macAddress: mac(0x77) }];
  t.like(d.events[0], { type: 'PortCreated', data: { macAddress: mac(0xa0), allowedAddressPairs: pairs } });
  t.deepEqual((d.result.port as { allowedAddressPairs: unknown }).allowedAddressPairs, pairs);
});

test('port.update - replaces the pairs, leaving the groups alone; [] removes them all', (t) => {
  const history = [vpcWithSubnet(), { scope: acme, events: [portCreated(3, '10.0.1.2')] }] as const;
  given(...history).when(acme, 'port.update', { portId: id(3), allowedAddressPairs: [{ ipAddress: '10.0.1.100' }] })
    .then(t, [{ type: 'PortAllowedAddressPairsChanged', data: { portId: id(3), allowedAddressPairs: [{ ipAddress: '10.0.1.100', macAddress: mac(3) }] } }]);
  given(...history).when(acme, 'port.update', { portId: id(3), allowedAddressPairs: [] })
    .then(t, [{ type: 'PortAllowedAddressPairsChanged', data: { portId: id(3), allowedAddressPairs: [] } }]);
  given(...history).when(acme, 'port.update', { portId: id(3) }).thenFails(t, 'VALIDATION_FAILED');
});

test('allowed address pairs - bad addresses, host bits, repeats, multicast MACs and too many pairs are refused', (t) => {
  const create = (allowedAddressPairs: unknown[]) => given(vpcWithSubnet()).when(acme, 'port.create', { subnetId: id(2), ipAddress: '10.0.1.9', macAddress: mac(9), allowedAddressPairs });
  create([{ ipAddress: 'vip' }]).thenFails(t, 'VALIDATION_FAILED', { index: 0 });
  create([{ ipAddress: '192.168.50.1/24' }]).thenFails(t, 'INVALID_CIDR', { canonical: '192.168.50.0/24' });
  create([{ ipAddress: '10.0.1.9' }]).thenFails(t, 'VALIDATION_FAILED');
  create([{ ipAddress: '10.0.1.100' }, { ipAddress: '10.0.1.100', macAddress: mac(9) }]).thenFails(t, 'VALIDATION_FAILED', { index: 1 });
  create([{ ipAddress: '10.0.1.100', macAddress: '01:00:5e:00:00:01' }]).thenFails(t, 'VALIDATION_FAILED');
  create([{ ipAddress: '10.0.1.100', extra: true }]).thenFails(t, 'VALIDATION_FAILED');
  create([{ ipAddress: '10.0.1.1' }]).thenFails(t, 'IP_RESERVED');
  create([{ ipAddress: '10.0.1.1/32' }]).thenFails(t, 'IP_RESERVED');
  create([{ ipAddress: '10.0.1.100', macAddress: mac(1) }]).thenFails(t, 'MAC_ALREADY_ALLOCATED', { macAddress: mac(1) });
  create(Array.from({ length: 11 }, (_, i) => ({ ipAddress: `10.0.1.${100 + i}` }))).thenFails(t, 'VALIDATION_FAILED');
});

test('allowed address pairs - a /32 is an address; a pair\'s own MAC is in use until the pair goes', (t) => {
  const pairMac = '0a:00:5e:00:01:01';
  const history = [vpcWithSubnet(), { scope: acme, events: [
    { ...portCreated(3, '10.0.1.2'), data: { ...portCreated(3, '10.0.1.2').data, allowedAddressPairs: [{ ipAddress: '10.0.1.200', macAddress: pairMac }] } } as NovanetEvent,
  ] }] as const;
  given(...history).when(acme, 'port.create', { subnetId: id(2), macAddress: pairMac }).thenFails(t, 'MAC_ALREADY_ALLOCATED');
  given(...history).when(acme, 'port.create', { subnetId: id(2), allowedAddressPairs: [{ ipAddress: '10.0.1.201', macAddress: pairMac }] }).thenFails(t, 'MAC_ALREADY_ALLOCATED');
  // The holder may list its pair MAC again, and a /32 is recorded as the address.
  given(...history).when(acme, 'port.update', { portId: id(3), allowedAddressPairs: [{ ipAddress: '10.0.1.201/32', macAddress: pairMac }] })
    .then(t, [{ type: 'PortAllowedAddressPairsChanged', data: { portId: id(3), allowedAddressPairs: [{ ipAddress: '10.0.1.201', macAddress: pairMac }] } }]);
  const released = { scope: acme, events: [{ type: 'PortAllowedAddressPairsChanged' as const, data: { portId: id(3), allowedAddressPairs: [] } }] };
  t.truthy(given(...history, released).when(acme, 'port.create', { subnetId: id(2), macAddress: pairMac }).decision, 'the MAC is free again');
});

test('vpc.route.add and subnet.update - a zero-padded prefix is not canonical; an update must change something', (t) => {
  given(vpcWithSubnet(), { scope: acme, events: [routeAdded(5, '172.16.0.0/12', '10.0.1.10')] })
    .when(acme, 'vpc.route.add', { vpcId: id(1), destination: '172.16.0.0/012', nextHop: '10.0.1.11' }).thenFails(t, 'INVALID_CIDR');
  given(vpcWithSubnet()).when(acme, 'subnet.update', { subnetId: id(2) }).thenFails(t, 'VALIDATION_FAILED');
});

test('allowed address pairs - IPAM skips addresses named in pairs, though a VIP port may ask for one', (t) => {
  const history = [vpcWithSubnet(), { scope: acme, events: [
    { ...portCreated(3, '10.0.1.2'), data: { ...portCreated(3, '10.0.1.2').data, allowedAddressPairs: [{ ipAddress: '10.0.1.3', macAddress: mac(3) }] } } as NovanetEvent,
  ] }] as const;
  t.like(given(...history).when(acme, 'port.create', { subnetId: id(2) }).decision?.result, { port: { ipAddress: '10.0.1.4' } });
  t.like(given(...history).when(acme, 'port.create', { subnetId: id(2), ipAddress: '10.0.1.3' }).decision?.result, { port: { ipAddress: '10.0.1.3' } });
  given(...history).when(acme, 'loadbalancer.create', { subnetId: id(2), name: 'lb', vipAddress: '10.0.1.3', listeners: [{ port: 80 }] })
    .thenFails(t, 'IP_ALREADY_ALLOCATED', { portIds: [id(3)] });
  // Once the pair goes, the address is handed out again.
  const dropped = { scope: acme, events: [{ type: 'PortAllowedAddressPairsChanged' as const, data: { portId: id(3), allowedAddressPairs: [] } }] };
  t.like(given(...history, dropped).when(acme, 'port.create', { subnetId: id(2) }).decision?.result, { port: { ipAddress: '10.0.1.3' } });
});

test('allowed address pairs - a load balancer\'s VIP cannot be a pair; a MAC two ports use stays in use until both go', (t) => {
  const lb = { scope: acme, events: [{ type: 'LoadBalancerCreated' as const, data: { loadBalancerId: id(5), subnetId: id(2), name: 'lb', vipAddress: '10.0.1.9', protocol: 'tcp' as const, listeners: [{ port: 80, targetPort: 80 }], memberPortIds: [] } }] };
  given(vpcWithSubnet(), lb).when(acme, 'port.create', { subnetId: id(2), allowedAddressPairs: [{ ipAddress: '10.0.1.9' }] })
    .thenFails(t, 'IP_ALREADY_ALLOCATED', { loadBalancerId: id(5) });
  // Logs may hold a pair MAC shared by two ports (written before pairs were checked): counted, not a set.
  const shared = '0a:00:5e:00:01:01';
  const withPair = (n: number, ip: string) => ({ ...portCreated(n, ip), data: { ...portCreated(n, ip).data, allowedAddressPairs: [{ ipAddress: '10.0.1.100', macAddress: shared }] } }) as NovanetEvent;
  const both = { scope: acme, events: [withPair(3, '10.0.1.2'), withPair(4, '10.0.1.3'), { type: 'PortDeleted' as const, data: { portId: id(3) } }] };
  given(vpcWithSubnet(), both).when(acme, 'port.create', { subnetId: id(2), macAddress: shared }).thenFails(t, 'MAC_ALREADY_ALLOCATED');
});

test('subnet host routes - canonical, on-link next hops, one per destination; the default via the gateway is implied', (t) => {
  const create = (hostRoutes: unknown[]) => given(vpcWithSubnet()).when(acme, 'subnet.create', { vpcId: id(1), name: 'db', cidr: '10.0.2.0/24', hostRoutes });
  const d = create([{ destination: '192.168.70.0/24', nextHop: '10.0.2.254' }, { destination: '0.0.0.0/0', nextHop: '10.0.2.1' }]).decision!;
  t.like(d.events[0], { type: 'SubnetCreated', data: { dhcp: { hostRoutes: [{ destination: '192.168.70.0/24', nextHop: '10.0.2.254' }] } } });
  t.like(d.result, { subnet: { hostRoutes: [{ destination: '192.168.70.0/24', nextHop: '10.0.2.254' }] } });
  create([{ destination: '192.168.70.1/24', nextHop: '10.0.2.254' }]).thenFails(t, 'INVALID_CIDR', { canonical: '192.168.70.0/24' });
  create([{ destination: '192.168.70.0/24', nextHop: '10.0.3.254' }]).thenFails(t, 'IP_OUTSIDE_SUBNET');
  create([{ destination: '192.168.70.0/24', nextHop: '10.0.2.255' }]).thenFails(t, 'IP_OUTSIDE_SUBNET');
  create([{ destination: '192.168.70.0/24', nextHop: '10.0.2.9' }, { destination: '192.168.70.0/24', nextHop: '10.0.2.8' }]).thenFails(t, 'VALIDATION_FAILED');
  create([{ destination: '192.168.70.0/24' }]).thenFails(t, 'VALIDATION_FAILED');
  create([{ destination: '10.0.2.128/25', nextHop: '10.0.2.254' }]).thenFails(t, 'CIDR_OVERLAP');
  t.truthy(create([{ destination: '10.0.0.0/8', nextHop: '10.0.2.254' }]).decision, 'a wider route than the subnet is fine');
  // An update replaces them; [] removes them.
  given(vpcWithSubnet()).when(acme, 'subnet.update', { subnetId: id(2), hostRoutes: [{ destination: '172.16.0.0/12', nextHop: '10.0.1.5' }] })
    .then(t, [{ type: 'SubnetUpdated', data: { subnetId: id(2), name: 'app', dhcp: { ...dhcpDefaults, hostRoutes: [{ destination: '172.16.0.0/12', nextHop: '10.0.1.5' }] } } }]);
  given(vpcWithSubnet()).when(acme, 'subnet.update', { subnetId: id(2), hostRoutes: [] })
    .then(t, [{ type: 'SubnetUpdated', data: { subnetId: id(2), name: 'app', dhcp: dhcpDefaults } }]);
});
