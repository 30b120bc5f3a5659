import test from 'ava';
import { OvsdbClient } from '../../src/ovsdb/mod.js';
import type { Operation, Row } from '../../src/ovsdb/mod.js';
import { rowName, rowUuid } from '../../src/reconcile/names.js';
import { LEGACY_DROP_GROUP, legacyDropGroup } from '../support/legacy.js';
import { eventually, startStack } from '../support/stack.js';
import type { Stack } from '../support/stack.js';

/**
 * Each VPC has its own drop group (its ports' default deny). An installation upgraded from the
 * version with one drop group for everything has that group with every port in it: the new
 * engine moves each port into its VPC's group, and removes the old group only once it is empty,
 * so no port is ever without a drop group.
 */

let stack: Stack;
test.before(async () => { stack = await startStack(); });
test.after.always(async () => { await stack?.stop(); });

/** Ports in no group that drops (a group with a drop ACL), as a Northbound's rows say. */
function unprotected(groups: Iterable<Row>, acl: (uuid: string) => Row | undefined, ports: readonly string[]): string[] {
  const guarded = new Set<string>();
  for (const group of groups) {
    const drops = (group.acls as readonly string[]).some((a) => acl(a)?.action === 'drop');
    if (drops) for (const p of group.ports as readonly string[]) guarded.add(p);
  }
  return ports.filter((p) => !guarded.has(p));
}

test('drop groups - an installation with the old single drop group moves every port into its VPC\'s group, never leaving one without', async (t) => {
  const { client } = stack;
  const tenants = [{ org: 'drop-a', project: 'p' }, { org: 'drop-b', project: 'p' }];
  const made = await Promise.all(tenants.map(async (scope) => {
    const vpc = (await client.call(scope, 'vpc.create', { name: 'v' })).result.vpc as { id: string; defaultSecurityGroupId: string };
    const subnet = (await client.call(scope, 'subnet.create', { vpcId: vpc.id, name: 's' })).result.subnet as { id: string };
    const ports = await Promise.all(Array.from({ length: 150 }, () => client.call(scope, 'port.create', { subnetId: subnet.id })));
    const ids = ports.map((p) => (p.result.port as { id: string }).id);
    await Promise.all(ids.map((id, i) => client.waitFor(scope, 'port', id, (s) => s.phase === 'Ready' && s.observedSeq >= ports[i]!.seq)));
    return { scope, vpc, subnet, ports: ids };
  }));
  const allPorts = made.flatMap((m) => m.ports);

  // A watcher of the Northbound: after every update, every port's switch port must be in a group that drops.
  const watcher = await OvsdbClient.connect({ remote: stack.northbound.remote });
  t.teardown(() => watcher.close());
  await watcher.monitor({ Port_Group: {}, ACL: {}, Logical_Switch_Port: {} });
  const violations: string[][] = [];
  const check = () => {
    const ports = [...watcher.cache.table('Logical_Switch_Port').values()].filter((p) => (p.external_ids as Record<string, string>)['novanet:kind'] === 'port');
    const bare = unprotected(watcher.cache.table('Port_Group').values(), (uuid) => watcher.cache.get('ACL', uuid), ports.map((p) => p._uuid));
    if (bare.length > 0) violations.push(bare);
  };
  watcher.onUpdate(check);

  await stack.restartEngine(async () => {
    // As the version before left it: the old group holds every port; the VPCs have no group of their own.
    await watcher.transact([
      ...legacyDropGroup(allPorts),
      ...made.map((m): Operation => ({ op: 'delete', table: 'Port_Group', where: [['_uuid', '==', rowUuid.dropPortGroup(m.vpc.id)]] })),
    ]);
    t.deepEqual(unprotected(watcher.cache.table('Port_Group').values(), (uuid) => watcher.cache.get('ACL', uuid), allPorts), []);
    t.is(watcher.cache.get('Port_Group', rowUuid.dropPortGroup(made[0]!.vpc.id)), undefined);
  });
  // Commands right after the start reach ports before the resync has reached their VPCs.
  const [first] = made;
  const group = (await client.call(first!.scope, 'securitygroup.create', { vpcId: first!.vpc.id, name: 'g', ingressRules: [] })).result.securityGroup as { id: string };
  const moved = await client.call(first!.scope, 'port.update', { portId: first!.ports[0]!, securityGroupIds: [group.id] });
  const created = await client.call(first!.scope, 'port.create', { subnetId: first!.subnet.id });
  const newPort = (created.result.port as { id: string }).id;
  await client.waitFor(first!.scope, 'port', newPort, (s) => s.phase === 'Ready' && s.observedSeq >= created.seq);
  await client.waitFor(first!.scope, 'port', first!.ports[0]!, (s) => s.phase === 'Ready' && s.observedSeq >= moved.seq);

  await eventually(() => watcher.cache.get('Port_Group', LEGACY_DROP_GROUP) === undefined, 30_000, 'the old group removed');
  t.deepEqual(violations, [], 'no port was ever outside every drop group');
  for (const m of made) {
    const pg = watcher.cache.get('Port_Group', rowUuid.dropPortGroup(m.vpc.id))!;
    t.is(pg.name, rowName.dropPortGroup(m.vpc.id));
    const members = [...(pg.ports as readonly string[])].sort();
    t.deepEqual(members, [...m.ports, ...(m === first ? [newPort] : [])].sort(), `every port of ${m.scope.org} is in its VPC's drop group, and only those`);
    t.deepEqual((pg.acls as readonly string[]).map((a) => watcher.cache.get('ACL', a)?.action).sort(), ['allow', 'drop', 'drop']);
  }
  t.deepEqual([...watcher.cache.table('ACL').values()].filter((a) => (a.external_ids as Record<string, string>)['novanet:kind'] === 'default-deny'), [], 'the old ACLs are gone');
});
