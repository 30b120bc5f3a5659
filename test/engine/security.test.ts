import test from 'ava';
import { asList, eventually, nbRows, startStack } from '../support/stack.js';
import type { Stack } from '../support/stack.js';

let stack: Stack;
test.before(async () => { stack = await startStack(); });
test.after.always(async () => { await stack?.stop(); });

const pgName = (id: string) => `pg_${id.replaceAll('-', '_')}`;

test('security - 50 ports in one group with 3 rules make 3 ACLs, not 150; every port is in its VPC\'s drop group', async (t) => {
  const scope = { org: 'acl-count', project: 'p1' };
  const { client, northbound } = stack;
  const vpc = (await client.call(scope, 'vpc.create', { name: 'v' })).result.vpc as { id: string };
  const subnet = (await client.call(scope, 'subnet.create', { vpcId: vpc.id, name: 's' })).result.subnet as { id: string };
  const created = await client.call(scope, 'securitygroup.create', {
    vpcId: vpc.id, name: 'web',
    ingressRules: [
      { protocol: 'tcp', portRange: { min: 80, max: 80 }, remote: { cidr: '0.0.0.0/0' } },
      { protocol: 'tcp', portRange: { min: 8000, max: 8100 }, remote: { cidr: '10.1.0.0/16' } },
    ],
    egressRules: [{ protocol: 'icmp', icmpType: 8, remote: { cidr: '0.0.0.0/0' } }],
  });
  const group = created.result.securityGroup as { id: string };
  const ports = await Promise.all(Array.from({ length: 50 }, () => client.call(scope, 'port.create', { subnetId: subnet.id, securityGroupIds: [group.id] })));
  const last = Math.max(...ports.map((p) => p.seq));
  const status = await client.waitFor(scope, 'securitygroup', group.id, (s) => s.phase === 'Ready' && s.observedSeq >= created.seq);
  t.like(status, { aclCount: 3, ovn: { portGroup: group.id } });

  const [pg] = await eventually(async () => {
    const rows = await nbRows(northbound, 'Port_Group', ['name', 'ports', 'acls'], [`name=${pgName(group.id)}`]);
    return rows[0] && (rows[0].ports as string[]).length === 50 ? rows : undefined;
  }, 20_000, '50 members');
  t.is((pg!.acls as string[]).length, 3);
  const acls = await nbRows(northbound, 'ACL', ['priority', 'direction', 'match', 'action'], [`external_ids:"novanet:id"="${group.id}"`]);
  t.deepEqual(acls.map((a) => a.match).sort(), [
    `inport == @${pgName(group.id)} && ip4 && icmp4 && icmp4.type == 8`,
    `outport == @${pgName(group.id)} && ip4 && ip4.src == 10.1.0.0/16 && tcp && tcp.dst >= 8000 && tcp.dst <= 8100`,
    `outport == @${pgName(group.id)} && ip4 && tcp && tcp.dst == 80`,
  ]);
  t.true(acls.every((a) => a.priority === 1002 && a.action === 'allow-related'));
  t.deepEqual(acls.map((a) => a.direction).sort(), ['from-lport', 'to-lport', 'to-lport']);

  const dropName = `drop_${vpc.id.replaceAll('-', '_')}`;
  const [drop] = await nbRows(northbound, 'Port_Group', ['ports', 'acls'], [`name=${dropName}`]);
  t.is((drop!.ports as string[]).length, 50, 'its ports, and only those: the group is the VPC\'s');
  const dropAcls = await nbRows(northbound, 'ACL', ['priority', 'action', 'match'], [`external_ids:"novanet:id"="${vpc.id}"`]);
  t.deepEqual(dropAcls.map((a) => `${a.priority} ${a.action} ${a.match}`).sort(), [
    `1001 drop inport == @${dropName} && ip`,
    `1001 drop outport == @${dropName} && ip`,
    `1002 allow inport == @${dropName} && ip4 && udp && udp.src == 68 && udp.dst == 67`,
  ]);
  t.true(last > 0);
});

test('security - rule changes and group membership changes reach OVN without recreating ports', async (t) => {
  const scope = { org: 'sg-change', project: 'p1' };
  const { client, northbound } = stack;
  const vpc = (await client.call(scope, 'vpc.create', { name: 'v' })).result.vpc as { id: string; defaultSecurityGroupId: string };
  const subnet = (await client.call(scope, 'subnet.create', { vpcId: vpc.id, name: 's' })).result.subnet as { id: string };
  const group = (await client.call(scope, 'securitygroup.create', { vpcId: vpc.id, name: 'g', ingressRules: [] })).result.securityGroup as { id: string };
  const port = (await client.call(scope, 'port.create', { subnetId: subnet.id })).result.port as { id: string };
  const members = async (sg: string) => {
    const [pg] = await nbRows(northbound, 'Port_Group', ['ports'], [`name=${pgName(sg)}`]);
    return pg && asList(pg.ports);
  };
  await eventually(async () => (await members(vpc.defaultSecurityGroupId))?.includes(port.id), 10_000, 'port in the default group');

  const added = await client.call(scope, 'securitygroup.rule.add', { securityGroupId: group.id, direction: 'ingress', rule: { protocol: 'udp', portRange: { min: 53, max: 53 }, remote: { cidr: '10.0.0.0/8' } } });
  await client.waitFor(scope, 'securitygroup', group.id, (s) => s.observedSeq >= added.seq && s.aclCount === 2);
  const ruleId = ((added.result.securityGroup as { ingressRules: { ruleId: string }[] }).ingressRules[0]!).ruleId;
  await client.call(scope, 'securitygroup.rule.remove', { securityGroupId: group.id, ruleId });
  await eventually(async () => (await nbRows(northbound, 'ACL', ['match'], [`external_ids:"novanet:id"="${group.id}"`])).length === 1, 10_000, 'rule ACL removed');

  const moved = await client.call(scope, 'port.update', { portId: port.id, securityGroupIds: [group.id] });
  await client.waitFor(scope, 'port', port.id, (s) => s.observedSeq >= moved.seq && s.phase === 'Ready');
  t.deepEqual(await members(group.id), [port.id]);
  t.deepEqual(await members(vpc.defaultSecurityGroupId), []);

  t.like(await client.request(scope, 'securitygroup.delete', { securityGroupId: group.id }), { ok: false, error: { code: 'IN_USE' } });
  await client.call(scope, 'port.delete', { portId: port.id });
  await client.call(scope, 'securitygroup.delete', { securityGroupId: group.id });
  await eventually(async () => (await members(group.id)) === undefined, 10_000, 'port group removed');
  t.deepEqual(await nbRows(northbound, 'ACL', ['match'], [`external_ids:"novanet:id"="${group.id}"`]), []);
});
