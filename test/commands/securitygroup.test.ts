import test from 'ava';
import type { NovanetEvent, SecurityGroupRule } from '../../events/mod.js';
import {
  acme, DEFAULT_GROUP, defaultGroupCreated, given, globex, groupCreated, id, mac, portCreated, read, vpc, vpcWithSubnet,
} from '../support/decider.js';

const did = (...events: NovanetEvent[]) => ({ scope: acme, events });
const ssh = { protocol: 'tcp', portRange: { min: 22, max: 22 }, remote: { cidr: '10.0.0.0/8' } } as const;
const allEgress = (ruleId: string): SecurityGroupRule => ({ ruleId, protocol: 'all', remote: { cidr: '0.0.0.0/0' } });

/** A second VPC of acme (id 20) with its default group (id 30) and a subnet (id 21). */
const otherVpc = did(
  { type: 'VpcCreated', data: { vpcId: id(20), name: 'other', cidr: '10.1.0.0/16' } },
  defaultGroupCreated(id(20), 30),
  {
    type: 'SubnetCreated',
    data: {
      subnetId: id(21), vpcId: id(20), name: 'app', cidr: '10.1.1.0/24', gatewayIp: '10.1.1.1', gatewayMac: mac(21),
      dhcp: { enabled: true, leaseTime: 43200, dnsServers: [], ntpServers: [] },
    },
  },
);

/** globex's VPC (id 40), its default group (id 41) and a group "web" (id 44). */
const globexVpc = {
  scope: globex,
  events: [
    { type: 'VpcCreated', data: { vpcId: id(40), name: 'main', cidr: '10.0.0.0/16' } },
    defaultGroupCreated(id(40), 41),
    groupCreated(44, 'web', {}, id(40)),
  ] satisfies NovanetEvent[],
};

/** acme's group "web" (id 5) in the common VPC: ssh in, nothing out. */
const web = did(groupCreated(5, 'web', { ingressRules: [{ ruleId: id(6), ...ssh }] }));

// --- the VPC's default group --------------------------------------------------

test('vpc.create - the default group comes in the same commit: members reach each other, all egress allowed', (t) => {
  const d = given().when(acme, 'vpc.create', { name: 'main', cidr: '10.0.0.0/16' }).then(t, [
    { type: 'VpcCreated', data: { vpcId: id(100), name: 'main', cidr: '10.0.0.0/16' } },
    {
      type: 'SecurityGroupCreated',
      data: {
        securityGroupId: id(101), vpcId: id(100), name: 'default', description: 'default security group', isDefault: true,
        ingressRules: [{ ruleId: id(102), protocol: 'all', remote: { securityGroupId: id(101) } }],
        egressRules: [allEgress(id(103))],
      },
    },
  ]);
  t.like(d.result, { vpc: { id: id(100), defaultSecurityGroupId: id(101) } });
  // Replayed, the commit gives a VPC that knows its default group.
  const view = given(did(...d.events)).view;
  t.is(view.vpcs.get(id(100))?.defaultSecurityGroupId, id(101));
  t.like(read(view, acme, 'vpc.get', { vpcId: id(100) }), { vpc: { defaultSecurityGroupId: id(101) } });
});

test('vpc.delete - IN_USE while groups besides the default exist; subnets are named first', (t) => {
  given(vpc(), web).when(acme, 'vpc.delete', { vpcId: id(1) }).thenFails(t, 'IN_USE', { securityGroupIds: [id(5)] });
  given(vpcWithSubnet(), web).when(acme, 'vpc.delete', { vpcId: id(1) }).thenFails(t, 'IN_USE', { subnetIds: [id(2)] });
  given(vpc(), web, did({ type: 'SecurityGroupDeleted', data: { securityGroupId: id(5) } }))
    .when(acme, 'vpc.delete', { vpcId: id(1) })
    .then(t, [{ type: 'SecurityGroupDeleted', data: { securityGroupId: DEFAULT_GROUP } }, { type: 'VpcDeleted', data: { vpcId: id(1) } }]);
});

// --- ports and their groups -----------------------------------------------------

test('port.create - without securityGroupIds the port joins its VPC\'s default group, recorded explicitly', (t) => {
  const d = given(vpcWithSubnet()).when(acme, 'port.create', { subnetId: id(2) })
    .then(t, [{ type: 'PortCreated', data: { portId: id(100), subnetId: id(2), macAddress: mac(0xa0), ipAddress: '10.0.1.2', securityGroupIds: [DEFAULT_GROUP], primary: true } }]);
  t.like(d.result, { port: { securityGroupIds: [DEFAULT_GROUP] } });
  t.deepEqual([...given(vpcWithSubnet(), did(...d.events)).view.securityGroups.get(DEFAULT_GROUP)!.portIds], [id(100)]);
});

test('port.create - an explicit list is used as given (repeats collapse); an empty list means no group', (t) => {
  const d = given(vpcWithSubnet(), web).when(acme, 'port.create', { subnetId: id(2), securityGroupIds: [id(5), DEFAULT_GROUP, id(5)] })
    .then(t, [{ type: 'PortCreated', data: { portId: id(100), subnetId: id(2), macAddress: mac(0xa0), ipAddress: '10.0.1.2', securityGroupIds: [id(5), DEFAULT_GROUP], primary: true } }]);
  t.like(d.result, { port: { securityGroupIds: [id(5), DEFAULT_GROUP] } });
  given(vpcWithSubnet(), web).when(acme, 'port.create', { subnetId: id(2), securityGroupIds: [] })
    .then(t, [{ type: 'PortCreated', data: { portId: id(100), subnetId: id(2), macAddress: mac(0xa0), ipAddress: '10.0.1.2', securityGroupIds: [], primary: true } }]);
});

test('port.create - a VPC from before security groups has no default: the port is in no group', (t) => {
  const legacy = did(
    { type: 'VpcCreated', data: { vpcId: id(1), name: 'main', cidr: '10.0.0.0/16' } },
    vpcWithSubnet().events[2]!,
  );
  given(legacy).when(acme, 'port.create', { subnetId: id(2) })
    .then(t, [{ type: 'PortCreated', data: { portId: id(100), subnetId: id(2), macAddress: mac(0xa0), ipAddress: '10.0.1.2', securityGroupIds: [], primary: true } }]);
});

test('port.create - a group that is unknown, another tenant\'s, or in another VPC is SECURITY_GROUP_NOT_FOUND', (t) => {
  const history = [vpcWithSubnet(), otherVpc, globexVpc] as const;
  given(...history).when(acme, 'port.create', { subnetId: id(2), securityGroupIds: [id(99)] }).thenFails(t, 'SECURITY_GROUP_NOT_FOUND', { securityGroupId: id(99) });
  given(...history).when(acme, 'port.create', { subnetId: id(2), securityGroupIds: [id(44)] }).thenFails(t, 'SECURITY_GROUP_NOT_FOUND', { securityGroupId: id(44) });
  given(...history).when(acme, 'port.create', { subnetId: id(2), securityGroupIds: [DEFAULT_GROUP, id(30)] })
    .thenFails(t, 'SECURITY_GROUP_NOT_FOUND', { securityGroupId: id(30), vpcId: id(1) });
  given(...history).when(acme, 'port.create', { subnetId: id(2), securityGroupIds: ['web'] }).thenFails(t, 'VALIDATION_FAILED');
  given(...history).when(acme, 'port.create', { subnetId: id(2), securityGroupIds: Array.from({ length: 33 }, (_, i) => id(200 + i)) })
    .thenFails(t, 'VALIDATION_FAILED');
});

test('port.update - records the complete new list', (t) => {
  const history = [vpcWithSubnet(), web, did(portCreated(3, '10.0.1.2', id(2), [DEFAULT_GROUP]))] as const;
  const d = given(...history).when(acme, 'port.update', { portId: id(3), securityGroupIds: [DEFAULT_GROUP, id(5)] })
    .then(t, [{ type: 'PortSecurityGroupsChanged', data: { portId: id(3), securityGroupIds: [DEFAULT_GROUP, id(5)] } }]);
  t.like(d.result, { port: { id: id(3), ipAddress: '10.0.1.2', securityGroupIds: [DEFAULT_GROUP, id(5)] } });
  given(...history).when(acme, 'port.update', { portId: id(3), securityGroupIds: [] })
    .then(t, [{ type: 'PortSecurityGroupsChanged', data: { portId: id(3), securityGroupIds: [] } }]);
});

test('port.update - foreign, unknown or other-VPC groups are SECURITY_GROUP_NOT_FOUND; the port must be the caller\'s', (t) => {
  const history = [vpcWithSubnet(), otherVpc, globexVpc, did(portCreated(3, '10.0.1.2', id(2), [DEFAULT_GROUP]))] as const;
  given(...history).when(acme, 'port.update', { portId: id(3), securityGroupIds: [id(44)] }).thenFails(t, 'SECURITY_GROUP_NOT_FOUND', { securityGroupId: id(44) });
  given(...history).when(acme, 'port.update', { portId: id(3), securityGroupIds: [id(41)] }).thenFails(t, 'SECURITY_GROUP_NOT_FOUND', { securityGroupId: id(41) });
  given(...history).when(acme, 'port.update', { portId: id(3), securityGroupIds: [id(30)] }).thenFails(t, 'SECURITY_GROUP_NOT_FOUND', { securityGroupId: id(30), vpcId: id(1) });
  given(...history).when(acme, 'port.update', { portId: id(3), securityGroupIds: [id(99)] }).thenFails(t, 'SECURITY_GROUP_NOT_FOUND');
  given(...history).when(globex, 'port.update', { portId: id(3), securityGroupIds: [id(44)] }).thenFails(t, 'NOT_FOUND', { id: id(3) });
  given(...history).when(acme, 'port.update', { portId: id(9), securityGroupIds: [] }).thenFails(t, 'NOT_FOUND');
  given(...history).when(acme, 'port.update', { portId: id(3) }).thenFails(t, 'VALIDATION_FAILED');
});

// --- securitygroup.create -------------------------------------------------------

test('securitygroup.create - without egressRules one rule allows all egress; ingress defaults to none', (t) => {
  const d = given(vpc()).when(acme, 'securitygroup.create', { vpcId: id(1), name: 'web' }).then(t, [{
    type: 'SecurityGroupCreated',
    data: { securityGroupId: id(100), vpcId: id(1), name: 'web', description: '', isDefault: false, ingressRules: [], egressRules: [allEgress(id(101))] },
  }]);
  t.deepEqual(d.result, {
    securityGroup: {
      id: id(100), org: 'acme', project: 'web', vpcId: id(1), name: 'web', description: '', isDefault: false,
      ingressRules: [], egressRules: [allEgress(id(101))], createdAt: '2026-01-01T12:00:00Z',
    },
  });
});

test('securitygroup.create - an explicit empty egress list means nothing goes out; each rule gets an id', (t) => {
  const http = { protocol: 'tcp', portRange: { min: 80, max: 80 }, remote: { cidr: '0.0.0.0/0' } } as const;
  const d = given(vpc(), web).when(acme, 'securitygroup.create', {
    vpcId: id(1), name: 'db', description: 'databases', egressRules: [],
    ingressRules: [{ protocol: 'tcp', portRange: { min: 5432, max: 5432 }, remote: { securityGroupId: id(5) } }, http, { protocol: 'icmp', icmpType: 8, icmpCode: 0, remote: { cidr: '10.0.0.0/16' } }],
  }).then(t, [{
    type: 'SecurityGroupCreated',
    data: {
      securityGroupId: id(100), vpcId: id(1), name: 'db', description: 'databases', isDefault: false, egressRules: [],
      ingressRules: [
        { ruleId: id(101), protocol: 'tcp', portRange: { min: 5432, max: 5432 }, remote: { securityGroupId: id(5) } },
        { ruleId: id(102), ...http },
        { ruleId: id(103), protocol: 'icmp', icmpType: 8, icmpCode: 0, remote: { cidr: '10.0.0.0/16' } },
      ],
    },
  }]);
  t.like(d.result, { securityGroup: { egressRules: [], ingressRules: [{ ruleId: id(101) }, { ruleId: id(102) }, { ruleId: id(103) }] } });
});

test('securitygroup.create - names are unique per VPC and "default" is reserved', (t) => {
  given(vpc(), web).when(acme, 'securitygroup.create', { vpcId: id(1), name: 'web' }).thenFails(t, 'ALREADY_EXISTS', { name: 'web' });
  given(vpc()).when(acme, 'securitygroup.create', { vpcId: id(1), name: 'default' }).thenFails(t, 'ALREADY_EXISTS', { name: 'default' });
  given(vpc(), web, otherVpc).when(acme, 'securitygroup.create', { vpcId: id(20), name: 'web' }).thenSucceeds(t);
});

test('securitygroup.create - the VPC must be the caller\'s; payloads must fit the schema', (t) => {
  given(vpc()).when(globex, 'securitygroup.create', { vpcId: id(1), name: 'web' }).thenFails(t, 'NOT_FOUND', { kind: 'vpc' });
  given(vpc()).when(acme, 'securitygroup.create', { vpcId: id(9), name: 'web' }).thenFails(t, 'NOT_FOUND', { kind: 'vpc' });
  for (const bad of [
    { vpcId: id(1) },
    { vpcId: id(1), name: 'x', ingressRules: [{ protocol: 'gre', remote: { cidr: '0.0.0.0/0' } }] },
    { vpcId: id(1), name: 'x', ingressRules: [{ protocol: 'tcp' }] },
    { vpcId: id(1), name: 'x', ingressRules: [{ protocol: 'tcp', remote: { cidr: '0.0.0.0/0', securityGroupId: id(5) } }] },
    { vpcId: id(1), name: 'x', ingressRules: [{ protocol: 'tcp', ports: '22', remote: { cidr: '0.0.0.0/0' } }] },
    { vpcId: id(1), name: 'x', ingressRules: [{ protocol: 'tcp', portRange: { min: '22', max: 22 }, remote: { cidr: '0.0.0.0/0' } }] },
    { vpcId: id(1), name: 'x', description: 'd'.repeat(256) },
  ]) {
    given(vpc()).when(acme, 'securitygroup.create', bad).thenFails(t, 'VALIDATION_FAILED');
  }
});

// --- rule validation ------------------------------------------------------------

const invalidRules: ReadonlyArray<readonly [string, Record<string, unknown>, RegExp, Record<string, unknown>]> = [
  ['port below 1', { protocol: 'tcp', portRange: { min: 0, max: 22 }, remote: { cidr: '0.0.0.0/0' } }, /portRange\.min must be an integer from 1 to 65535/, { field: 'portRange.min' }],
  ['port above 65535', { protocol: 'udp', portRange: { min: 1, max: 65536 }, remote: { cidr: '0.0.0.0/0' } }, /portRange\.max must be an integer/, { field: 'portRange.max' }],
  ['fractional port', { protocol: 'tcp', portRange: { min: 22.5, max: 23 }, remote: { cidr: '0.0.0.0/0' } }, /portRange\.min must be an integer/, { field: 'portRange.min' }],
  ['min above max', { protocol: 'tcp', portRange: { min: 443, max: 80 }, remote: { cidr: '0.0.0.0/0' } }, /portRange\.min 443 is above portRange\.max 80/, { field: 'portRange' }],
  ['ports on icmp', { protocol: 'icmp', portRange: { min: 1, max: 2 }, remote: { cidr: '0.0.0.0/0' } }, /portRange applies to tcp and udp only, not to icmp/, { field: 'portRange' }],
  ['ports on all', { protocol: 'all', portRange: { min: 1, max: 2 }, remote: { cidr: '0.0.0.0/0' } }, /not to all/, { field: 'portRange' }],
  ['icmpType on tcp', { protocol: 'tcp', icmpType: 8, remote: { cidr: '0.0.0.0/0' } }, /icmpType applies to icmp only, not to tcp/, { field: 'icmpType' }],
  ['icmpCode on all', { protocol: 'all', icmpType: 8, icmpCode: 0, remote: { cidr: '0.0.0.0/0' } }, /icmpType applies to icmp only/, { field: 'icmpType' }],
  ['icmpType above 255', { protocol: 'icmp', icmpType: 256, remote: { cidr: '0.0.0.0/0' } }, /icmpType must be an integer from 0 to 255/, { field: 'icmpType' }],
  ['negative icmpCode', { protocol: 'icmp', icmpType: 3, icmpCode: -1, remote: { cidr: '0.0.0.0/0' } }, /icmpCode must be an integer from 0 to 255/, { field: 'icmpCode' }],
  ['icmpCode without icmpType', { protocol: 'icmp', icmpCode: 1, remote: { cidr: '0.0.0.0/0' } }, /icmpCode needs an icmpType/, { field: 'icmpCode' }],
  ['host bits in the CIDR', { protocol: 'all', remote: { cidr: '10.0.0.5/24' } }, /did you mean 10\.0\.0\.0\/24/, { field: 'remote.cidr', canonical: '10.0.0.0/24' }],
  ['not a CIDR', { protocol: 'all', remote: { cidr: 'anywhere' } }, /not an IPv4 CIDR/, { field: 'remote.cidr', cidr: 'anywhere' }],
  ['an IPv6 CIDR', { protocol: 'all', remote: { cidr: '::/0' } }, /not an IPv4 CIDR/, { field: 'remote.cidr' }],
  ['no prefix', { protocol: 'all', remote: { cidr: '10.0.0.1' } }, /not an IPv4 CIDR/, { field: 'remote.cidr' }],
];

for (const [what, rule, message, details] of invalidRules) {
  test(`rules - ${what} is VALIDATION_FAILED naming the rule`, (t) => {
    const create = given(vpc()).when(acme, 'securitygroup.create', { vpcId: id(1), name: 'x', ingressRules: [ssh, rule] })
      .thenFails(t, 'VALIDATION_FAILED', { rule: 'ingressRules[1]', ...details });
    t.regex(create.message, /^ingressRules\[1\]: /);
    t.regex(create.message, message);
    given(vpc(), web).when(acme, 'securitygroup.update', { securityGroupId: id(5), egressRules: [rule] })
      .thenFails(t, 'VALIDATION_FAILED', { rule: 'egressRules[0]', ...details });
    const add = given(vpc(), web).when(acme, 'securitygroup.rule.add', { securityGroupId: id(5), direction: 'egress', rule })
      .thenFails(t, 'VALIDATION_FAILED', { rule: 'rule', ...details });
    t.regex(add.message, /^rule: /);
  });
}

test('rules - the edges of every range are accepted; CIDRs from /0 to /32', (t) => {
  given(vpc()).when(acme, 'securitygroup.create', {
    vpcId: id(1), name: 'edges',
    ingressRules: [
      { protocol: 'tcp', portRange: { min: 1, max: 65535 }, remote: { cidr: '0.0.0.0/0' } },
      { protocol: 'udp', portRange: { min: 53, max: 53 }, remote: { cidr: '10.0.0.7/32' } },
      { protocol: 'icmp', icmpType: 0, icmpCode: 0, remote: { cidr: '10.0.0.0/16' } },
      { protocol: 'icmp', icmpType: 255, icmpCode: 255, remote: { cidr: '10.0.0.0/16' } },
      { protocol: 'icmp', icmpType: 8, remote: { cidr: '10.0.0.0/16' } },
      { protocol: 'tcp', remote: { cidr: '10.0.0.0/16' } },
    ],
  }).thenSucceeds(t);
});

test('rules - a repeated rule in a list is VALIDATION_FAILED; the same match in the other direction is fine', (t) => {
  const e = given(vpc()).when(acme, 'securitygroup.create', { vpcId: id(1), name: 'x', ingressRules: [ssh, { protocol: 'all', remote: { cidr: '0.0.0.0/0' } }, ssh], egressRules: [ssh] })
    .thenFails(t, 'VALIDATION_FAILED', { rule: 'ingressRules[2]', repeats: 'ingressRules[0]' });
  t.regex(e.message, /ingressRules\[2\]: repeats ingressRules\[0\]/);
  given(vpc()).when(acme, 'securitygroup.create', { vpcId: id(1), name: 'x', ingressRules: [ssh], egressRules: [ssh] }).thenSucceeds(t);
});

test('rules - at most 200 per direction', (t) => {
  const many = (n: number) => Array.from({ length: n }, (_, i) => ({ protocol: 'tcp' as const, portRange: { min: i + 1, max: i + 1 }, remote: { cidr: '0.0.0.0/0' } }));
  given(vpc()).when(acme, 'securitygroup.create', { vpcId: id(1), name: 'x', ingressRules: many(200), egressRules: many(200) }).thenSucceeds(t);
  given(vpc()).when(acme, 'securitygroup.create', { vpcId: id(1), name: 'x', ingressRules: many(201) }).thenFails(t, 'VALIDATION_FAILED', { direction: 'ingress', limit: 200 });
  given(vpc(), web).when(acme, 'securitygroup.update', { securityGroupId: id(5), egressRules: many(201) }).thenFails(t, 'VALIDATION_FAILED', { direction: 'egress', limit: 200 });
  const full = did(groupCreated(7, 'full', { egressRules: many(200).map((r, i) => ({ ruleId: id(1000 + i), ...r })) }));
  given(vpc(), full).when(acme, 'securitygroup.rule.add', { securityGroupId: id(7), direction: 'egress', rule: { protocol: 'udp', remote: { cidr: '0.0.0.0/0' } } })
    .thenFails(t, 'VALIDATION_FAILED', { direction: 'egress', limit: 200 });
  given(vpc(), full).when(acme, 'securitygroup.rule.add', { securityGroupId: id(7), direction: 'ingress', rule: { protocol: 'udp', remote: { cidr: '0.0.0.0/0' } } }).thenSucceeds(t);
});

test('rules - a remote group must exist in the same tenant and VPC, else NOT_FOUND', (t) => {
  const history = [vpc(), web, otherVpc, globexVpc] as const;
  const remote = (securityGroupId: string) => [{ protocol: 'all', remote: { securityGroupId } }];
  const e = given(...history).when(acme, 'securitygroup.create', { vpcId: id(1), name: 'x', ingressRules: remote(id(99)) }).thenFails(t, 'NOT_FOUND', { id: id(99), rule: 'ingressRules[0]' });
  t.regex(e.message, /^ingressRules\[0\]: remote security group/);
  given(...history).when(acme, 'securitygroup.create', { vpcId: id(1), name: 'x', ingressRules: remote(id(44)) }).thenFails(t, 'NOT_FOUND', { id: id(44) });
  given(...history).when(acme, 'securitygroup.create', { vpcId: id(1), name: 'x', egressRules: remote(id(30)) }).thenFails(t, 'NOT_FOUND', { id: id(30), vpcId: id(1) });
  given(...history).when(acme, 'securitygroup.update', { securityGroupId: id(5), ingressRules: remote(id(30)) }).thenFails(t, 'NOT_FOUND', { id: id(30) });
  given(...history).when(acme, 'securitygroup.rule.add', { securityGroupId: id(5), direction: 'ingress', rule: remote(id(44))[0] }).thenFails(t, 'NOT_FOUND', { id: id(44) });
  given(...history).when(acme, 'securitygroup.create', { vpcId: id(1), name: 'x', ingressRules: remote(DEFAULT_GROUP) }).thenSucceeds(t);
});

// --- securitygroup.update -------------------------------------------------------

test('securitygroup.update - a given list replaces the whole list with new rule ids; the rest stays', (t) => {
  const history = [vpc(), did(groupCreated(5, 'web', { ingressRules: [{ ruleId: id(6), ...ssh }], egressRules: [allEgress(id(7))] }))] as const;
  const https = { protocol: 'tcp', portRange: { min: 443, max: 443 }, remote: { cidr: '0.0.0.0/0' } } as const;
  const d = given(...history).when(acme, 'securitygroup.update', { securityGroupId: id(5), ingressRules: [ssh, https] })
    .then(t, [{ type: 'SecurityGroupUpdated', data: { securityGroupId: id(5), ingressRules: [{ ruleId: id(100), ...ssh }, { ruleId: id(101), ...https }] } }]);
  t.like(d.result, { securityGroup: { id: id(5), name: 'web', ingressRules: [{ ruleId: id(100) }, { ruleId: id(101) }], egressRules: [allEgress(id(7))] } });
  given(...history).when(acme, 'securitygroup.update', { securityGroupId: id(5), description: 'front', egressRules: [] })
    .then(t, [{ type: 'SecurityGroupUpdated', data: { securityGroupId: id(5), description: 'front', egressRules: [] } }]);
});

test('securitygroup.update - a group may name itself; the default group\'s rules may change', (t) => {
  given(vpc(), web).when(acme, 'securitygroup.update', { securityGroupId: id(5), ingressRules: [{ protocol: 'all', remote: { securityGroupId: id(5) } }] })
    .then(t, [{ type: 'SecurityGroupUpdated', data: { securityGroupId: id(5), ingressRules: [{ ruleId: id(100), protocol: 'all', remote: { securityGroupId: id(5) } }] } }]);
  given(vpc()).when(acme, 'securitygroup.update', { securityGroupId: DEFAULT_GROUP, ingressRules: [] })
    .then(t, [{ type: 'SecurityGroupUpdated', data: { securityGroupId: DEFAULT_GROUP, ingressRules: [] } }]);
});

test('securitygroup.update - an unknown or foreign group is SECURITY_GROUP_NOT_FOUND', (t) => {
  given(vpc(), web, globexVpc).when(acme, 'securitygroup.update', { securityGroupId: id(44), description: 'x' }).thenFails(t, 'SECURITY_GROUP_NOT_FOUND', { securityGroupId: id(44) });
  given(vpc(), web).when(acme, 'securitygroup.update', { securityGroupId: id(99), description: 'x' }).thenFails(t, 'SECURITY_GROUP_NOT_FOUND', { securityGroupId: id(99) });
  given(vpc(), web).when(acme, 'securitygroup.update', { securityGroupId: id(5), name: 'renamed' }).thenFails(t, 'VALIDATION_FAILED');
});

// --- securitygroup.rule.add / rule.remove ---------------------------------------

test('securitygroup.rule.add - appends a rule with a new id to the direction given', (t) => {
  const https = { protocol: 'tcp', portRange: { min: 443, max: 443 }, remote: { cidr: '0.0.0.0/0' } } as const;
  const d = given(vpc(), web).when(acme, 'securitygroup.rule.add', { securityGroupId: id(5), direction: 'ingress', rule: https })
    .then(t, [{ type: 'SecurityGroupRuleAdded', data: { securityGroupId: id(5), direction: 'ingress', rule: { ruleId: id(100), ...https } } }]);
  t.like(d.result, { securityGroup: { ingressRules: [{ ruleId: id(6) }, { ruleId: id(100) }], egressRules: [] } });
  given(vpc(), web).when(acme, 'securitygroup.rule.add', { securityGroupId: id(5), direction: 'egress', rule: ssh })
    .then(t, [{ type: 'SecurityGroupRuleAdded', data: { securityGroupId: id(5), direction: 'egress', rule: { ruleId: id(100), ...ssh } } }]);
});

test('securitygroup.rule.add - the same rule twice is ALREADY_EXISTS naming the existing rule', (t) => {
  given(vpc(), web).when(acme, 'securitygroup.rule.add', { securityGroupId: id(5), direction: 'ingress', rule: ssh }).thenFails(t, 'ALREADY_EXISTS', { ruleId: id(6) });
  given(vpc(), web, globexVpc).when(acme, 'securitygroup.rule.add', { securityGroupId: id(44), direction: 'ingress', rule: ssh }).thenFails(t, 'SECURITY_GROUP_NOT_FOUND');
  given(vpc(), web).when(acme, 'securitygroup.rule.add', { securityGroupId: id(5), direction: 'sideways', rule: ssh }).thenFails(t, 'VALIDATION_FAILED');
});

test('securitygroup.rule.remove - removes the rule from whichever direction holds it', (t) => {
  const d = given(vpc(), web).when(acme, 'securitygroup.rule.remove', { securityGroupId: id(5), ruleId: id(6) })
    .then(t, [{ type: 'SecurityGroupRuleRemoved', data: { securityGroupId: id(5), ruleId: id(6) } }]);
  t.like(d.result, { securityGroup: { id: id(5), ingressRules: [], egressRules: [] } });
  given(vpc()).when(acme, 'securitygroup.rule.remove', { securityGroupId: DEFAULT_GROUP, ruleId: id(12) })
    .then(t, [{ type: 'SecurityGroupRuleRemoved', data: { securityGroupId: DEFAULT_GROUP, ruleId: id(12) } }]);
});

test('securitygroup.rule.remove - an unknown rule, or one of another group, is NOT_FOUND', (t) => {
  given(vpc(), web).when(acme, 'securitygroup.rule.remove', { securityGroupId: id(5), ruleId: id(99) }).thenFails(t, 'NOT_FOUND', { ruleId: id(99) });
  given(vpc(), web).when(acme, 'securitygroup.rule.remove', { securityGroupId: id(5), ruleId: id(11) }).thenFails(t, 'NOT_FOUND', { ruleId: id(11) });
  given(vpc(), web).when(globex, 'securitygroup.rule.remove', { securityGroupId: id(5), ruleId: id(6) }).thenFails(t, 'SECURITY_GROUP_NOT_FOUND');
});

// --- securitygroup.delete -------------------------------------------------------

test('securitygroup.delete - deletes an unused group, also one whose rules name itself', (t) => {
  given(vpc(), web).when(acme, 'securitygroup.delete', { securityGroupId: id(5) })
    .then(t, [{ type: 'SecurityGroupDeleted', data: { securityGroupId: id(5) } }]);
  const selfish = did(groupCreated(7, 'peers', { ingressRules: [{ ruleId: id(8), protocol: 'all', remote: { securityGroupId: id(7) } }] }));
  given(vpc(), selfish).when(acme, 'securitygroup.delete', { securityGroupId: id(7) })
    .then(t, [{ type: 'SecurityGroupDeleted', data: { securityGroupId: id(7) } }]);
});

test('securitygroup.delete - IN_USE while a port is in it; deletable once the port leaves', (t) => {
  const history = [vpcWithSubnet(), web, did(portCreated(3, '10.0.1.2', id(2), [id(5)]))] as const;
  given(...history).when(acme, 'securitygroup.delete', { securityGroupId: id(5) }).thenFails(t, 'IN_USE', { portIds: [id(3)] });
  given(...history, did({ type: 'PortSecurityGroupsChanged', data: { portId: id(3), securityGroupIds: [DEFAULT_GROUP] } }))
    .when(acme, 'securitygroup.delete', { securityGroupId: id(5) }).then(t, [{ type: 'SecurityGroupDeleted', data: { securityGroupId: id(5) } }]);
  given(...history, did({ type: 'PortDeleted', data: { portId: id(3) } }))
    .when(acme, 'securitygroup.delete', { securityGroupId: id(5) }).then(t, [{ type: 'SecurityGroupDeleted', data: { securityGroupId: id(5) } }]);
});

test('securitygroup.delete - IN_USE while another group\'s rule names it as remote', (t) => {
  const db = did(groupCreated(7, 'db', { egressRules: [{ ruleId: id(8), protocol: 'tcp', remote: { securityGroupId: id(5) } }] }));
  given(vpc(), web, db).when(acme, 'securitygroup.delete', { securityGroupId: id(5) }).thenFails(t, 'IN_USE', { securityGroupIds: [id(7)] });
  given(vpc(), web, db, did({ type: 'SecurityGroupRuleRemoved', data: { securityGroupId: id(7), ruleId: id(8) } }))
    .when(acme, 'securitygroup.delete', { securityGroupId: id(5) }).then(t, [{ type: 'SecurityGroupDeleted', data: { securityGroupId: id(5) } }]);
});

test('securitygroup.delete - the default group goes only with its VPC; foreign or unknown groups are SECURITY_GROUP_NOT_FOUND', (t) => {
  const e = given(vpc()).when(acme, 'securitygroup.delete', { securityGroupId: DEFAULT_GROUP }).thenFails(t, 'IN_USE', { vpcId: id(1) });
  t.regex(e.message, /deleted with the VPC/);
  given(vpc(), web).when(globex, 'securitygroup.delete', { securityGroupId: id(5) }).thenFails(t, 'SECURITY_GROUP_NOT_FOUND', { securityGroupId: id(5) });
  given(vpc()).when(acme, 'securitygroup.delete', { securityGroupId: id(99) }).thenFails(t, 'SECURITY_GROUP_NOT_FOUND', { securityGroupId: id(99) });
});

// --- queries --------------------------------------------------------------------

test('securitygroup.get/list - a tenant sees only its own groups; list filters by VPC and name', (t) => {
  const { view } = given(vpcWithSubnet(), web, otherVpc, globexVpc, did(portCreated(3, '10.0.1.2', id(2), [id(5)])));
  t.like(read(view, acme, 'securitygroup.get', { securityGroupId: id(5) }), {
    securityGroup: { id: id(5), org: 'acme', project: 'web', vpcId: id(1), name: 'web', isDefault: false, ingressRules: [{ ruleId: id(6), ...ssh }], egressRules: [] },
  });
  t.like(t.throws(() => read(view, acme, 'securitygroup.get', { securityGroupId: id(44) })), { code: 'SECURITY_GROUP_NOT_FOUND' });
  t.like(t.throws(() => read(view, globex, 'securitygroup.get', { securityGroupId: id(5) })), { code: 'SECURITY_GROUP_NOT_FOUND' });
  const names = (payload: Record<string, unknown>, scope = acme) =>
    (read(view, scope, 'securitygroup.list', payload).securityGroups as Array<{ id: string }>).map((g) => g.id);
  t.deepEqual(names({}), [DEFAULT_GROUP, id(5), id(30)]);
  t.deepEqual(names({ vpcId: id(1) }), [DEFAULT_GROUP, id(5)]);
  t.deepEqual(names({ name: 'default' }), [DEFAULT_GROUP, id(30)]);
  t.deepEqual(names({}, globex), [id(41), id(44)]);
  t.deepEqual(names({ vpcId: id(1) }, globex), []);
  t.like(read(view, acme, 'port.get', { portId: id(3) }), { port: { securityGroupIds: [id(5)] } });
});
