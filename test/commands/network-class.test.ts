import test from 'ava';
import type { EventOf, NovanetEvent } from '../../events/mod.js';
import { subjects } from '../../events/mod.js';
import { admit, isCommandError } from '../../src/commands/mod.js';
import { emptyBlockSet, freeBlock, lowestFreeBlock, takeBlock } from '../../projections/mod.js';
import { acme, defaultGroupCreated, externalNetworkCreated, given, globex, id, mac, outside, provider, read } from '../support/decider.js';

/** Network classes, VPCs of a class, pooled VPC CIDRs and bare-metal ports, as specifications. */

type ClassData = EventOf<'NetworkClassCreated'>['data'];
const builtIn = { vpcPrefixLength: 16, subnetPrefixLength: 24, defaultSubnet: true, natGateway: false };
const dhcpDefaults = { enabled: true, leaseTime: 43200, dnsServers: [], ntpServers: [] };
const baremetal = { physicalNetwork: 'physnet-bm', vlanRange: { first: 100, last: 101 }, chassis: [{ name: 'gw-1', priority: 10 }] };

/** A class id(n) as networkclass.create records it. */
function classCreated(n: number, fields: Partial<ClassData> = {}): EventOf<'NetworkClassCreated'> {
  return { type: 'NetworkClassCreated', data: { networkClassId: id(n), name: `class${n}`, description: '', defaults: builtIn, disableCapabilities: [], isDefault: true, ...fields } };
}
const classes = (...events: NovanetEvent[]) => ({ scope: provider, events });

/** A VPC id(n) of class id(cls), 10.x.0.0/16 from the pool, without the default group (tests name it when they need it). */
function classVpc(n: number, cls: number, cidr: string, fields: Partial<EventOf<'VpcCreated'>['data']> = {}): EventOf<'VpcCreated'> {
  return { type: 'VpcCreated', data: { vpcId: id(n), name: `vpc${n}`, cidr, networkClassId: id(cls), cidrFromPool: true, ...fields } };
}
function subnetCreated(n: number, vpc: number, cidr: string): EventOf<'SubnetCreated'> {
  const gatewayIp = cidr.replace(/0\/\d+$/, '1');
  return { type: 'SubnetCreated', data: { subnetId: id(n), vpcId: id(vpc), name: `s${n}`, cidr, gatewayIp, gatewayMac: mac(n), dhcp: dhcpDefaults } };
}

// --- networkclass.create ---------------------------------------------------------

test('networkclass.create - records the class with the built-in defaults; the first class is the default', (t) => {
  const d = given().when(provider, 'networkclass.create', { name: 'standard' }).then(t, [classCreated(100, { name: 'standard' })]);
  t.like(d.result, { networkClass: { id: id(100), isDefault: true, externalNetworkId: null, baremetal: null, defaults: builtIn, vpcCount: 0 } });
  given(classes(classCreated(1))).when(provider, 'networkclass.create', { name: 'second' }).then(t, [classCreated(100, { name: 'second', isDefault: false })]);
  given(classes(classCreated(1))).when(provider, 'networkclass.create', { name: 'second', default: true }).then(t, [classCreated(100, { name: 'second', isDefault: true })]);
});

test('networkclass.create - defaults, rules and bare metal are recorded as given, rules in canonical form', (t) => {
  given(outside()).when(provider, 'networkclass.create', {
    name: 'bm', description: 'hosts', externalNetworkId: id(50), baremetal, disableCapabilities: ['loadBalancers'],
    defaults: { vpcPrefixLength: 20, subnetPrefixLength: 26, natGateway: true, ingressRules: [{ protocol: 'tcp', portRange: { min: 22, max: 22 }, remote: { cidr: '10.0.0.0/8' } }], egressRules: [] },
  }).then(t, [classCreated(100, {
    name: 'bm', description: 'hosts', externalNetworkId: id(50), baremetal, disableCapabilities: ['loadBalancers'],
    defaults: { vpcPrefixLength: 20, subnetPrefixLength: 26, defaultSubnet: true, natGateway: true, ingressRules: [{ protocol: 'tcp', portRange: { min: 22, max: 22 }, remote: { cidr: '10.0.0.0/8' } }], egressRules: [] },
  })]);
});

test('networkclass.create - refusals', (t) => {
  const has = given(classes(classCreated(1, { name: 'taken', baremetal })));
  has.when(provider, 'networkclass.create', { name: 'taken' }).thenFails(t, 'ALREADY_EXISTS');
  has.when(provider, 'networkclass.create', { name: 'x', externalNetworkId: id(9) }).thenFails(t, 'NOT_FOUND', { kind: 'externalnetwork' });
  has.when(provider, 'networkclass.create', { name: 'x', baremetal: { ...baremetal, vlanRange: { first: 101, last: 200 } } }).thenFails(t, 'CONFLICT', { networkClassId: id(1) });
  has.when(provider, 'networkclass.create', { name: 'x', baremetal: { ...baremetal, physicalNetwork: 'other' } }).thenSucceeds(t);
  given(classes(externalNetworkCreated(50, { physicalNetwork: 'physnet-bm', vlanId: 100 })))
    .when(provider, 'networkclass.create', { name: 'x', baremetal }).thenFails(t, 'CONFLICT', { externalNetworkId: id(50) });
  given().when(provider, 'networkclass.create', { name: 'x', baremetal: { ...baremetal, vlanRange: { first: 200, last: 100 } } }).thenFails(t, 'VALIDATION_FAILED');
  given().when(provider, 'networkclass.create', { name: 'x', baremetal: { ...baremetal, vlanRange: { first: 0, last: 100 } } }).thenFails(t, 'VALIDATION_FAILED');
  given().when(provider, 'networkclass.create', { name: 'x', baremetal: { ...baremetal, chassis: [] } }).thenFails(t, 'VALIDATION_FAILED');
  given().when(provider, 'networkclass.create', { name: 'x', defaults: { vpcPrefixLength: 24, subnetPrefixLength: 20 } }).thenFails(t, 'VALIDATION_FAILED');
  given().when(provider, 'networkclass.create', { name: 'x', defaults: { vpcPrefixLength: 4 } }).thenFails(t, 'VALIDATION_FAILED');
  given().when(provider, 'networkclass.create', { name: 'x', disableCapabilities: ['ipv4'] }).thenFails(t, 'VALIDATION_FAILED');
  given().when(provider, 'networkclass.create', { name: 'x', disableCapabilities: ['bgp'] }).thenFails(t, 'VALIDATION_FAILED');
  given().when(provider, 'networkclass.create', { name: 'x', defaults: { ingressRules: [{ protocol: 'all', remote: { securityGroupId: id(3) } }] } }).thenFails(t, 'VALIDATION_FAILED');
  given().when(provider, 'networkclass.create', { name: 'x', defaults: { ingressRules: [{ protocol: 'icmp', portRange: { min: 1, max: 2 }, remote: { cidr: '0.0.0.0/0' } }] } })
    .thenFails(t, 'VALIDATION_FAILED', { rule: 'defaults.ingressRules[0]' });
});

test('networkclass - tenants never write classes (FORBIDDEN) and read only the public part', (t) => {
  const history = given(outside(), classes(classCreated(1, { externalNetworkId: id(50), baremetal, disableCapabilities: ['natGateway'] })));
  for (const verb of ['create', 'update', 'delete']) {
    const refused = t.throws(() => admit(subjects().parseCommand(`novanet.cmd.acme.web.networkclass.${verb}`)!, new TextEncoder().encode('{}')));
    t.true(isCommandError(refused) && refused.code === 'FORBIDDEN', verb);
  }
  const capabilities = { ipv4: true, ipv6: false, externalIps: true, natGateway: false, baremetal: true, loadBalancers: true };
  t.deepEqual(read(history.view, acme, 'networkclass.get', { networkClassId: id(1) }), { networkClass: { id: id(1), name: 'class1', description: '', capabilities, isDefault: true } });
  t.deepEqual(read(history.view, acme, 'networkclass.list'), { networkClasses: [{ id: id(1), name: 'class1', description: '', capabilities, isDefault: true }] });
  t.like(read(history.view, provider, 'networkclass.get', { networkClassId: id(1) }), { networkClass: { baremetal, externalNetworkId: id(50), capabilities } });
});

test('networkclass - capabilities are computed: external IPs need a pool, NAT gateways a network, bare metal a VLAN range', (t) => {
  const caps = (view: ReturnType<typeof given>['view']) => (read(view, provider, 'networkclass.get', { networkClassId: id(1) }) as { networkClass: { capabilities: Record<string, boolean> } }).networkClass.capabilities;
  t.like(caps(given(classes(classCreated(1))).view), { ipv4: true, ipv6: false, externalIps: false, natGateway: false, baremetal: false, loadBalancers: true });
  t.like(caps(given(classes(externalNetworkCreated(50)), classes(classCreated(1))).view), { externalIps: false, natGateway: true });
  t.like(caps(given(outside(), classes(classCreated(1, { baremetal }))).view), { externalIps: true, natGateway: true, baremetal: true });
  t.like(caps(given(outside(), classes(classCreated(1, { baremetal, disableCapabilities: ['baremetal', 'externalIps'] }))).view), { externalIps: false, baremetal: false });
});

// --- networkclass.update / delete --------------------------------------------------

test('networkclass.update - description, defaults (merged), disabled capabilities and the default change at any time', (t) => {
  const used = given(outside(), classes(classCreated(1)), { scope: acme, events: [classVpc(2, 1, '10.0.0.0/16')] });
  used.when(provider, 'networkclass.update', { networkClassId: id(1), description: 'd', defaults: { natGateway: true }, disableCapabilities: ['loadBalancers'], default: false }).then(t, [{
    type: 'NetworkClassUpdated',
    data: { networkClassId: id(1), description: 'd', defaults: { ...builtIn, natGateway: true }, disableCapabilities: ['loadBalancers'], isDefault: false },
  }]);
  used.when(provider, 'networkclass.update', { networkClassId: id(1) }).thenFails(t, 'VALIDATION_FAILED');
});

test('networkclass.update - the external and bare-metal networks are fixed while VPCs use the class (IN_USE)', (t) => {
  const used = given(outside(), classes(classCreated(1)), { scope: acme, events: [classVpc(2, 1, '10.0.0.0/16')] });
  used.when(provider, 'networkclass.update', { networkClassId: id(1), externalNetworkId: id(50) }).thenFails(t, 'IN_USE', { vpcCount: 1, vpcIds: [id(2)] });
  used.when(provider, 'networkclass.update', { networkClassId: id(1), baremetal }).thenFails(t, 'IN_USE');
  given(outside(), classes(classCreated(1))).when(provider, 'networkclass.update', { networkClassId: id(1), externalNetworkId: id(50), baremetal })
    .then(t, [{ type: 'NetworkClassUpdated', data: { networkClassId: id(1), externalNetworkId: id(50), baremetal } }]);
  // Once the VPC is gone the class is free to change again.
  given(outside(), classes(classCreated(1)), { scope: acme, events: [classVpc(2, 1, '10.0.0.0/16'), { type: 'VpcDeleted', data: { vpcId: id(2) } }] })
    .when(provider, 'networkclass.update', { networkClassId: id(1), externalNetworkId: null }).thenSucceeds(t);
});

test('networkclass.update - another class becomes the default (the previous one stops being it); its own VLAN range is no conflict; NOT_FOUND', (t) => {
  const two = given(classes(classCreated(1, { baremetal }), classCreated(2, { isDefault: false })));
  const d = two.when(provider, 'networkclass.update', { networkClassId: id(2), default: true }).then(t, [{ type: 'NetworkClassUpdated', data: { networkClassId: id(2), isDefault: true } }]);
  t.like(d.result, { networkClass: { id: id(2), isDefault: true } });
  t.is(given(classes(classCreated(1, { baremetal }), classCreated(2, { isDefault: false })), classes(...d.events)).view.defaultNetworkClassId, id(2));
  two.when(provider, 'networkclass.update', { networkClassId: id(1), baremetal: { ...baremetal, vlanRange: { first: 100, last: 150 } } }).thenSucceeds(t);
  two.when(provider, 'networkclass.update', { networkClassId: id(2), baremetal }).thenFails(t, 'CONFLICT', { networkClassId: id(1) });
  two.when(provider, 'networkclass.update', { networkClassId: id(9), description: 'x' }).thenFails(t, 'NOT_FOUND', { kind: 'networkclass' });
});

test('networkclass.delete - IN_USE while VPCs use it; the default goes with it', (t) => {
  const used = given(classes(classCreated(1)), { scope: acme, events: [classVpc(2, 1, '10.0.0.0/16')] });
  used.when(provider, 'networkclass.delete', { networkClassId: id(1) }).thenFails(t, 'IN_USE', { vpcCount: 1 });
  const gone = given(classes(classCreated(1), { type: 'NetworkClassDeleted', data: { networkClassId: id(1) } }));
  t.is(gone.view.defaultNetworkClassId, undefined);
  given(classes(classCreated(1))).when(provider, 'networkclass.delete', { networkClassId: id(1) }).then(t, [{ type: 'NetworkClassDeleted', data: { networkClassId: id(1) } }]);
  given().when(provider, 'networkclass.delete', { networkClassId: id(1) }).thenFails(t, 'NOT_FOUND');
});

// --- vpc.create with classes --------------------------------------------------------

test('vpc.create - takes the default class and its defaults: a /16 of the pool, a subnet named "default"', (t) => {
  const d = given(classes(classCreated(1))).when(acme, 'vpc.create', { name: 'main' }).then(t, [
    classVpc(100, 1, '10.0.0.0/16', { name: 'main' }),
    defaultGroupCreated(id(100), 101),
    { type: 'SubnetCreated', data: { subnetId: id(104), vpcId: id(100), name: 'default', cidr: '10.0.0.0/24', gatewayIp: '10.0.0.1', gatewayMac: mac(0xa0), dhcp: dhcpDefaults } },
  ]);
  t.like(d.result, { vpc: { networkClassId: id(1), scope: null, cidr: '10.0.0.0/16' } });
});

test('vpc.create - a named class, a scope, the class\'s prefix lengths, rules and NAT gateway with its own IP', (t) => {
  const cls = classCreated(2, {
    isDefault: false, externalNetworkId: id(50), baremetal,
    defaults: { vpcPrefixLength: 20, subnetPrefixLength: 26, defaultSubnet: true, natGateway: true, ingressRules: [{ protocol: 'tcp', portRange: { min: 22, max: 22 }, remote: { cidr: '0.0.0.0/0' } }] },
  });
  given(outside(), classes(classCreated(1), cls)).when(acme, 'vpc.create', { name: 'bm', networkClassId: id(2), scope: 'baremetal' }).then(t, [
    classVpc(100, 2, '10.0.0.0/20', { name: 'bm', scope: 'baremetal' }),
    {
      type: 'SecurityGroupCreated',
      data: {
        securityGroupId: id(101), vpcId: id(100), name: 'default', description: 'default security group', isDefault: true,
        ingressRules: [{ ruleId: id(102), protocol: 'tcp', portRange: { min: 22, max: 22 }, remote: { cidr: '0.0.0.0/0' } }],
        egressRules: [{ ruleId: id(103), protocol: 'all', remote: { cidr: '0.0.0.0/0' } }],
      },
    },
    { type: 'SubnetCreated', data: { subnetId: id(104), vpcId: id(100), name: 'default', cidr: '10.0.0.0/26', gatewayIp: '10.0.0.1', gatewayMac: mac(0xa0), dhcp: dhcpDefaults } },
    { type: 'ExternalIpAllocated', data: { externalIpId: id(105), poolId: id(51), address: '203.0.113.10' } },
    { type: 'NatGatewayCreated', data: { natGatewayId: id(106), vpcId: id(100), externalIpId: id(105), gatewayMac: mac(0xa1), releaseIpOnDelete: true } },
  ]);
});

test('vpc.create - no class named and no default is NO_NETWORK_CLASS; an unknown class NOT_FOUND; without any class as before', (t) => {
  const noDefault = given(classes(classCreated(1, { isDefault: false })));
  noDefault.when(acme, 'vpc.create', { name: 'x' }).thenFails(t, 'NO_NETWORK_CLASS', { networkClassIds: [id(1)] });
  noDefault.when(acme, 'vpc.create', { name: 'x', networkClassId: id(9) }).thenFails(t, 'NOT_FOUND', { kind: 'networkclass' });
  noDefault.when(acme, 'vpc.create', { name: 'x', networkClassId: id(1) }).thenSucceeds(t);
  given().when(acme, 'vpc.create', { name: 'x' })
    .then(t, [{ type: 'VpcCreated', data: { vpcId: id(100), name: 'x', cidr: '10.0.0.0/16' } }, defaultGroupCreated(id(100), 101)]);
  given().when(acme, 'vpc.create', { name: 'x', scope: 'baremetal' }).thenFails(t, 'CAPABILITY_UNAVAILABLE', { capability: 'baremetal' });
  given().when(acme, 'vpc.create', { name: 'x', scope: 'galaxy' }).thenFails(t, 'VALIDATION_FAILED');
});

test('vpc.create - a baremetal scope needs the capability; a class that gives NAT gateways needs an external network', (t) => {
  given(classes(classCreated(1))).when(acme, 'vpc.create', { name: 'x', scope: 'baremetal' }).thenFails(t, 'CAPABILITY_UNAVAILABLE', { capability: 'baremetal', networkClassId: id(1) });
  given(classes(classCreated(1, { baremetal, disableCapabilities: ['baremetal'] }))).when(acme, 'vpc.create', { name: 'x', scope: 'baremetal' }).thenFails(t, 'CAPABILITY_UNAVAILABLE');
  given(classes(classCreated(1, { defaults: { ...builtIn, natGateway: true } }))).when(acme, 'vpc.create', { name: 'x' }).thenFails(t, 'CAPABILITY_UNAVAILABLE', { capability: 'natGateway' });
});

test('vpc.create - pooled CIDRs never overlap across tenants, skip the tenant\'s own explicit ranges, and come back on delete', (t) => {
  const base = classes(classCreated(1, { defaults: { ...builtIn, defaultSubnet: false } }));
  const theirs = { scope: globex, events: [classVpc(2, 1, '10.0.0.0/16'), classVpc(3, 1, '10.1.0.0/16')] };
  given(base, theirs).when(acme, 'vpc.create', { name: 'a' }).then(t, [classVpc(100, 1, '10.2.0.0/16', { name: 'a' }), defaultGroupCreated(id(100), 101)]);
  // The tenant's own explicit 10.2.0.0/15 is in the way; another tenant's explicit range is not.
  const explicit = { scope: acme, events: [classVpc(4, 1, '10.2.0.0/15', { cidrFromPool: undefined })] };
  const others = { scope: globex, events: [classVpc(5, 1, '10.4.0.0/16', { cidrFromPool: undefined })] };
  given(base, theirs, explicit, others).when(acme, 'vpc.create', { name: 'a' }).then(t, [classVpc(100, 1, '10.4.0.0/16', { name: 'a' }), defaultGroupCreated(id(100), 101)]);
  // Deleting a pooled VPC frees its block for anyone.
  given(base, theirs, { scope: globex, events: [{ type: 'VpcDeleted', data: { vpcId: id(2) } }] })
    .when(acme, 'vpc.create', { name: 'a' }).then(t, [classVpc(100, 1, '10.0.0.0/16', { name: 'a' }), defaultGroupCreated(id(100), 101)]);
  given(base, theirs).when(acme, 'vpc.create', { name: 'a' }, { config: { vpcPool: '10.0.0.0/15' } }).thenFails(t, 'POOL_EXHAUSTED', { pool: '10.0.0.0/15' });
});

test('vpc.create - what the class\'s defaults create counts against the tenant\'s quota', (t) => {
  const limited = { scope: provider, events: [{ type: 'QuotaSet' as const, data: { tenant: acme, limits: { subnets: 0 } } }] };
  given(classes(classCreated(1)), limited).when(acme, 'vpc.create', { name: 'x' }).thenFails(t, 'QUOTA_EXCEEDED', { kind: 'subnets' });
  given(classes(classCreated(1, { defaults: { ...builtIn, defaultSubnet: false } })), limited).when(acme, 'vpc.create', { name: 'x' }).thenSucceeds(t);
});

test('subnet.create - without a CIDR takes the class\'s subnet prefix length', (t) => {
  const cls = classCreated(1, { defaults: { ...builtIn, defaultSubnet: false, subnetPrefixLength: 28 } });
  given(classes(cls), { scope: acme, events: [classVpc(2, 1, '10.0.0.0/16')] }).when(acme, 'subnet.create', { vpcId: id(2), name: 'app' })
    .then(t, [{ type: 'SubnetCreated', data: { subnetId: id(100), vpcId: id(2), name: 'app', cidr: '10.0.0.0/28', gatewayIp: '10.0.0.1', gatewayMac: mac(0xa0), dhcp: dhcpDefaults } }]);
});

test('natgateway.create - refused in a VPC whose class disables NAT gateways', (t) => {
  given(outside(), classes(classCreated(1, { disableCapabilities: ['natGateway'] })), { scope: acme, events: [classVpc(2, 1, '10.0.0.0/16')] })
    .when(acme, 'natgateway.create', { vpcId: id(2) }).thenFails(t, 'CAPABILITY_UNAVAILABLE', { capability: 'natGateway' });
});

test('loadbalancer.create - refused in a VPC whose class disables load balancers', (t) => {
  const history = (disabled: ('loadBalancers')[]) => given(classes(classCreated(1, { disableCapabilities: disabled })), { scope: acme, events: [classVpc(2, 1, '10.0.0.0/16'), subnetCreated(3, 2, '10.0.1.0/24')] });
  history(['loadBalancers']).when(acme, 'loadbalancer.create', { subnetId: id(3), name: 'lb', listeners: [{ port: 80 }] }).thenFails(t, 'CAPABILITY_UNAVAILABLE', { capability: 'loadBalancers' });
  history([]).when(acme, 'loadbalancer.create', { subnetId: id(3), name: 'lb', listeners: [{ port: 80 }] }).thenSucceeds(t);
});

// --- bare-metal ports ----------------------------------------------------------------

const HOST = '52:54:00:12:34:56';
/** A bare-metal class id(1), its VPC id(2) (scope as given) with subnets id(3) 10.0.1.0/24 and id(4) 10.0.2.0/24. */
function bmTenant(scope?: 'compute' | 'cluster' | 'baremetal') {
  return [
    classes(classCreated(1, { baremetal })),
    { scope: acme, events: [classVpc(2, 1, '10.0.0.0/16', scope ? { scope } : {}), subnetCreated(3, 2, '10.0.1.0/24'), subnetCreated(4, 2, '10.0.2.0/24')] },
  ];
}

test('port.create - a bare-metal port takes its interface as MAC and draws the subnet\'s VLAN once', (t) => {
  const d = given(...bmTenant()).when(acme, 'port.create', { subnetId: id(3), vnicType: 'baremetal', interface: '52:54:00:12:34:56', securityGroupIds: [] }).then(t, [
    { type: 'SubnetVlanAllocated', data: { subnetId: id(3), vlanId: 100 } },
    { type: 'PortCreated', data: { portId: id(100), subnetId: id(3), macAddress: HOST, ipAddress: '10.0.1.2', securityGroupIds: [], primary: true, vnicType: 'baremetal' } },
  ]);
  t.like(d.result, { port: { vnicType: 'baremetal', interface: HOST, macAddress: HOST } });
  const vlan: NovanetEvent = { type: 'SubnetVlanAllocated', data: { subnetId: id(3), vlanId: 100 } };
  const first: NovanetEvent = { type: 'PortCreated', data: { portId: id(9), subnetId: id(3), macAddress: HOST, ipAddress: '10.0.1.2', securityGroupIds: [], vnicType: 'baremetal' } };
  const withHost = [...bmTenant(), { scope: acme, events: [vlan, first] }];
  given(...withHost).when(acme, 'port.create', { subnetId: id(3), vnicType: 'baremetal', interface: '52:54:00:00:00:02', securityGroupIds: [] }).then(t, [
    { type: 'PortCreated', data: { portId: id(100), subnetId: id(3), macAddress: '52:54:00:00:00:02', ipAddress: '10.0.1.3', securityGroupIds: [], primary: true, vnicType: 'baremetal' } },
  ]);
  given(...withHost).when(acme, 'port.create', { subnetId: id(4), vnicType: 'baremetal', interface: '52:54:00:00:00:02', securityGroupIds: [] })
    .then(t, [{ type: 'SubnetVlanAllocated', data: { subnetId: id(4), vlanId: 101 } }, { type: 'PortCreated', data: { portId: id(100), subnetId: id(4), macAddress: '52:54:00:00:00:02', ipAddress: '10.0.2.2', securityGroupIds: [], primary: true, vnicType: 'baremetal' } }]);
  given(...withHost).when(acme, 'port.create', { subnetId: id(4), vnicType: 'baremetal', interface: HOST }).thenFails(t, 'MAC_ALREADY_ALLOCATED');
  // A virtual port shares the subnet.
  given(...withHost).when(acme, 'port.create', { subnetId: id(3) }).thenSucceeds(t);
});

test('port.create ports - bare-metal hosts in one command: a subnet draws its VLAN once, two subnets draw two, a third finds the range used up', (t) => {
  const host = (subnet: number, n: number) => ({ subnetId: id(subnet), vnicType: 'baremetal', interface: `52:54:00:00:00:0${n}`, securityGroupIds: [] });
  const d = given(...bmTenant()).when(acme, 'port.create', { ports: [host(3, 1), host(3, 2), host(4, 3)] }).thenSucceeds(t);
  t.deepEqual(d.events.flatMap((e) => e.type === 'SubnetVlanAllocated' ? [[e.data.subnetId, e.data.vlanId]] : []), [[id(3), 100], [id(4), 101]]);
  const third = { scope: acme, events: [subnetCreated(5, 2, '10.0.3.0/24')] };
  given(...bmTenant(), third).when(acme, 'port.create', { ports: [host(3, 1), host(4, 2), host(5, 3)] }).thenFails(t, 'VLAN_EXHAUSTED', { index: 2 });
  given(...bmTenant()).when(acme, 'port.create', { ports: [host(3, 1), host(4, 1)] }).thenFails(t, 'MAC_ALREADY_ALLOCATED', { index: 1 });
});

test('port.create - VLAN_EXHAUSTED when the range is used up; a deleted subnet gives its VLAN back', (t) => {
  const vlans = { scope: acme, events: [{ type: 'SubnetVlanAllocated' as const, data: { subnetId: id(3), vlanId: 100 } }, { type: 'SubnetVlanAllocated' as const, data: { subnetId: id(4), vlanId: 101 } }, subnetCreated(5, 2, '10.0.3.0/24')] };
  const port = { subnetId: id(5), vnicType: 'baremetal', interface: HOST };
  given(...bmTenant(), vlans).when(acme, 'port.create', port).thenFails(t, 'VLAN_EXHAUSTED', { networkClassId: id(1) });
  const d = given(...bmTenant(), vlans, { scope: acme, events: [{ type: 'SubnetDeleted', data: { subnetId: id(3) } }] }).when(acme, 'port.create', port).thenSucceeds(t);
  t.deepEqual(d.events[0], { type: 'SubnetVlanAllocated', data: { subnetId: id(5), vlanId: 100 } });
});

test('port.create - a compute VPC refuses bare-metal ports, a baremetal VPC virtual ones, a class without bare metal both kinds of host', (t) => {
  const bm = { subnetId: id(3), vnicType: 'baremetal', interface: HOST };
  given(...bmTenant('compute')).when(acme, 'port.create', bm).thenFails(t, 'CONFLICT', { scope: 'compute' });
  given(...bmTenant('baremetal')).when(acme, 'port.create', { subnetId: id(3) }).thenFails(t, 'CONFLICT', { scope: 'baremetal' });
  given(...bmTenant('baremetal')).when(acme, 'port.create', { subnetId: id(3), vnicType: 'normal' }).thenFails(t, 'CONFLICT');
  given(...bmTenant('baremetal')).when(acme, 'port.create', bm).thenSucceeds(t);
  given(...bmTenant('cluster')).when(acme, 'port.create', bm).thenSucceeds(t);
  given(classes(classCreated(1)), { scope: acme, events: [classVpc(2, 1, '10.0.0.0/16'), subnetCreated(3, 2, '10.0.1.0/24')] })
    .when(acme, 'port.create', bm).thenFails(t, 'CAPABILITY_UNAVAILABLE', { capability: 'baremetal' });
});

test('port.create - a bare-metal port needs its interface, and only it', (t) => {
  given(...bmTenant()).when(acme, 'port.create', { subnetId: id(3), vnicType: 'baremetal' }).thenFails(t, 'VALIDATION_FAILED', { field: 'interface' });
  given(...bmTenant()).when(acme, 'port.create', { subnetId: id(3), interface: HOST }).thenFails(t, 'VALIDATION_FAILED', { field: 'interface' });
  given(...bmTenant()).when(acme, 'port.create', { subnetId: id(3), vnicType: 'baremetal', interface: HOST, macAddress: '52:54:00:00:00:09' }).thenFails(t, 'VALIDATION_FAILED', { field: 'macAddress' });
  given(...bmTenant()).when(acme, 'port.create', { subnetId: id(3), vnicType: 'baremetal', interface: '01:00:5e:00:00:01' }).thenFails(t, 'VALIDATION_FAILED');
  given(...bmTenant()).when(acme, 'port.create', { subnetId: id(3), vnicType: 'baremetal', interface: 'nope' }).thenFails(t, 'VALIDATION_FAILED');
});

// --- the pool's blocks ------------------------------------------------------------

test('blocks - lowest free, taken and freed in any order', (t) => {
  const set = emptyBlockSet();
  const pool = { network: 0x0a000000, prefix: 8 };
  t.is(lowestFreeBlock(set, pool, 16), 0x0a000000);
  takeBlock(set, 0x0a000000, 16);
  takeBlock(set, 0x0a020000, 16);
  t.is(lowestFreeBlock(set, pool, 16), 0x0a010000);
  t.is(lowestFreeBlock(set, pool, 15), 0x0a040000, 'a /15 must be aligned and wholly free');
  t.is(lowestFreeBlock(set, pool, 24), 0x0a010000);
  t.is(lowestFreeBlock(set, pool, 16, 0x0a010001), 0x0a030000, 'at or after from, aligned');
  freeBlock(set, 0x0a000000, 16);
  t.is(lowestFreeBlock(set, pool, 16), 0x0a000000);
  freeBlock(set, 0x0a020000, 16);
  t.deepEqual(set, emptyBlockSet(), 'freeing everything leaves nothing behind');
  takeBlock(set, 0x0a000000, 8);
  t.is(lowestFreeBlock(set, pool, 16), undefined);
  t.is(lowestFreeBlock(set, { network: 0x0a000000, prefix: 16 }, 24), undefined, 'a pool inside a taken block is taken');
  t.is(lowestFreeBlock(set, { network: 0x0b000000, prefix: 8 }, 16), 0x0b000000);
});

test('externalnetwork - a VLAN inside a class\'s bare-metal range is CONFLICT; a network a class names cannot be deleted (IN_USE)', (t) => {
  const external = { name: 'public', cidr: '198.51.100.0/24', gatewayIp: '198.51.100.1', physicalNetwork: 'physnet-bm', gatewayChassis: [{ name: 'gw-1', priority: 20 }] };
  const bm = given(classes(classCreated(1, { baremetal })));
  bm.when(provider, 'externalnetwork.create', { ...external, vlanId: 100 }).thenFails(t, 'CONFLICT', { networkClassId: id(1) });
  bm.when(provider, 'externalnetwork.create', { ...external, vlanId: 102 }).thenSucceeds(t);
  bm.when(provider, 'externalnetwork.create', { ...external, physicalNetwork: 'physnet', vlanId: 100 }).thenSucceeds(t);
  const named = given(classes(externalNetworkCreated(50), classCreated(1, { externalNetworkId: id(50) })));
  named.when(provider, 'externalnetwork.delete', { externalNetworkId: id(50) }).thenFails(t, 'IN_USE', { networkClassIds: [id(1)] });
  given(classes(externalNetworkCreated(50), classCreated(1))).when(provider, 'externalnetwork.delete', { externalNetworkId: id(50) }).thenSucceeds(t);
});

test('networkclass.update - a class in use may replace its chassis and change its range while the range keeps every VLAN held; not its physical network', (t) => {
  const used = given(classes(classCreated(1, { baremetal })), {
    scope: acme,
    events: [classVpc(2, 1, '10.0.0.0/16'), subnetCreated(3, 2, '10.0.0.0/24'), { type: 'SubnetVlanAllocated', data: { subnetId: id(3), vlanId: 101 } }],
  });
  const update = (next: typeof baremetal) => used.when(provider, 'networkclass.update', { networkClassId: id(1), baremetal: next });
  update({ ...baremetal, chassis: [{ name: 'gw-2', priority: 10 }] }).thenSucceeds(t);
  update({ ...baremetal, vlanRange: { first: 101, last: 120 } }).thenSucceeds(t);
  update({ ...baremetal, vlanRange: { first: 100, last: 100 } }).thenFails(t, 'IN_USE');
  update({ ...baremetal, physicalNetwork: 'physnet-other' }).thenFails(t, 'IN_USE');
});

test('externalipattachment.create - a target in a VPC whose class disables externalIps is CAPABILITY_UNAVAILABLE', (t) => {
  const history = (disableCapabilities: ('externalIps')[]) => given(outside(), classes(classCreated(1, { externalNetworkId: id(50), disableCapabilities })), {
    scope: acme,
    events: [
      classVpc(2, 1, '10.0.0.0/16'), subnetCreated(3, 2, '10.0.0.0/24'),
      { type: 'PortCreated', data: { portId: id(4), subnetId: id(3), macAddress: mac(4), ipAddress: '10.0.0.4', deviceId: 'vm-4', primary: true } },
      { type: 'ExternalIpAllocated', data: { externalIpId: id(9), poolId: id(51), address: '203.0.113.10' } },
    ],
  });
  for (const target of [{ portId: id(4) }, { deviceId: 'vm-4' }]) {
    history(['externalIps']).when(acme, 'externalipattachment.create', { externalIpId: id(9), target }).thenFails(t, 'CAPABILITY_UNAVAILABLE', { capability: 'externalIps' });
    history([]).when(acme, 'externalipattachment.create', { externalIpId: id(9), target }).thenSucceeds(t);
  }
});
