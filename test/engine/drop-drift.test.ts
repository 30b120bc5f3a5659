import test from 'ava';
import { OvsdbClient } from '../../src/ovsdb/mod.js';
import { rowUuid } from '../../src/reconcile/names.js';
import { reconcilerHook } from '../support/reconciler-hook.js';
import { eventually, startStack } from '../support/stack.js';

test('drop groups - a hand-deleted VPC drop group comes back with its ports (drift path, no sweep)', async (t) => {
  // The sweep is effectively off: only monitor-driven drift repair can act.
  const stack = await startStack({ config: { resyncIntervalMs: 600_000 } });
  t.teardown(() => stack.stop());
  const { client } = stack;
  const scope = { org: 'rv', project: 'p' };
  const vpc = (await client.call(scope, 'vpc.create', { name: 'v' })).result.vpc as { id: string };
  const subnet = (await client.call(scope, 'subnet.create', { vpcId: vpc.id, name: 's' })).result.subnet as { id: string };
  const ports: string[] = [];
  for (let i = 0; i < 3; i++) {
    const r = await client.call(scope, 'port.create', { subnetId: subnet.id });
    ports.push((r.result.port as { id: string }).id);
    await client.waitFor(scope, 'port', ports[i]!, (s) => s.phase === 'Ready' && s.observedSeq >= r.seq);
  }
  await stack.engine.reconciler.idle();
  const watcher = await OvsdbClient.connect({ remote: stack.northbound.remote });
  t.teardown(() => watcher.close());
  await watcher.monitor({ Port_Group: {} });
  const pgUuid = rowUuid.dropPortGroup(vpc.id);
  t.deepEqual([...(watcher.cache.get('Port_Group', pgUuid)!.ports as string[])].sort(), [...ports].sort(), 'ports in the drop group before');
  await watcher.transact([{ op: 'delete', table: 'Port_Group', where: [['_uuid', '==', pgUuid]] }]);
  await eventually(() => (watcher.cache.get('Port_Group', pgUuid)?.ports as string[] | undefined)?.length === ports.length, 10_000, 'drop group recreated with its ports');
  await stack.engine.reconciler.idle();
  const members = [...(watcher.cache.get('Port_Group', pgUuid)!.ports as string[])].sort();
  t.log('members after repair:', members.length, 'of', ports.length);
  t.deepEqual(members, [...ports].sort(), 'every port back in its VPC drop group');
});

test('drop groups - a port taken out of its drop group by hand is put back (drift path, no sweep)', async (t) => {
  const stack = await startStack({ config: { resyncIntervalMs: 600_000 } });
  t.teardown(() => stack.stop());
  const { client } = stack;
  const scope = { org: 'rv2', project: 'p' };
  const vpc = (await client.call(scope, 'vpc.create', { name: 'v' })).result.vpc as { id: string };
  const subnet = (await client.call(scope, 'subnet.create', { vpcId: vpc.id, name: 's' })).result.subnet as { id: string };
  const r = await client.call(scope, 'port.create', { subnetId: subnet.id });
  const port = (r.result.port as { id: string }).id;
  await client.waitFor(scope, 'port', port, (s) => s.phase === 'Ready' && s.observedSeq >= r.seq);
  await stack.engine.reconciler.idle();
  const watcher = await OvsdbClient.connect({ remote: stack.northbound.remote });
  t.teardown(() => watcher.close());
  await watcher.monitor({ Port_Group: {} });
  const pgUuid = rowUuid.dropPortGroup(vpc.id);
  await watcher.transact([{ op: 'mutate', table: 'Port_Group', where: [['_uuid', '==', pgUuid]], mutations: [['ports', 'delete', [port]]] }]);
  await eventually(() => (watcher.cache.get('Port_Group', pgUuid)!.ports as string[]).includes(port), 10_000, 'the port back in its drop group');
  await stack.engine.reconciler.idle();
  t.deepEqual([...(watcher.cache.get('Port_Group', pgUuid)!.ports as string[])], [port], 'the port back in its drop group');
});

test('security groups - a port taken out of its group, or put by hand in another tenant\'s, is set back (drift path, no sweep)', async (t) => {
  const stack = await startStack({ config: { resyncIntervalMs: 600_000 } });
  t.teardown(() => stack.stop());
  const { client } = stack;
  const tenant = async (org: string) => {
    const scope = { org, project: 'p' };
    const vpc = (await client.call(scope, 'vpc.create', { name: 'v' })).result.vpc as { id: string };
    const subnet = (await client.call(scope, 'subnet.create', { vpcId: vpc.id, name: 's' })).result.subnet as { id: string };
    const group = (await client.call(scope, 'securitygroup.create', { vpcId: vpc.id, name: 'g', ingressRules: [] })).result.securityGroup as { id: string };
    const r = await client.call(scope, 'port.create', { subnetId: subnet.id, securityGroupIds: [group.id] });
    const port = (r.result.port as { id: string }).id;
    await client.waitFor(scope, 'port', port, (s) => s.phase === 'Ready' && s.observedSeq >= r.seq);
    return { group: rowUuid.portGroup(group.id), port };
  };
  const mine = await tenant('sg1');
  const theirs = await tenant('sg2');
  await stack.engine.reconciler.idle();
  const watcher = await OvsdbClient.connect({ remote: stack.northbound.remote });
  t.teardown(() => watcher.close());
  await watcher.monitor({ Port_Group: {} });
  const members = (group: string) => [...(watcher.cache.get('Port_Group', group)!.ports as string[])].sort();
  await watcher.transact([
    { op: 'mutate', table: 'Port_Group', where: [['_uuid', '==', mine.group]], mutations: [['ports', 'delete', [mine.port]]] },
    { op: 'mutate', table: 'Port_Group', where: [['_uuid', '==', theirs.group]], mutations: [['ports', 'insert', [mine.port]]] },
  ]);
  await eventually(() => members(mine.group).includes(mine.port) && !members(theirs.group).includes(mine.port), 10_000, 'memberships set back');
  await stack.engine.reconciler.idle();
  t.deepEqual(members(mine.group), [mine.port], 'back in its own group');
  t.deepEqual(members(theirs.group), [theirs.port], 'out of the other tenant\'s');
});

test('drop groups - a port taken out of its drop group by hand while the group is in a transaction of ours is put back (no sweep)', async (t) => {
  const stack = await startStack({ config: { resyncIntervalMs: 600_000 }, hooked: true });
  t.teardown(() => stack.stop());
  const { client } = stack;
  const scope = { org: 'rv4', project: 'p' };
  const vpc = (await client.call(scope, 'vpc.create', { name: 'v' })).result.vpc as { id: string };
  const subnet = (await client.call(scope, 'subnet.create', { vpcId: vpc.id, name: 's' })).result.subnet as { id: string };
  const first = await client.call(scope, 'port.create', { subnetId: subnet.id });
  const p1 = (first.result.port as { id: string }).id;
  await client.waitFor(scope, 'port', p1, (s) => s.phase === 'Ready' && s.observedSeq >= first.seq);
  await stack.engine.reconciler.idle();
  const watcher = await OvsdbClient.connect({ remote: stack.northbound.remote });
  t.teardown(() => watcher.close());
  await watcher.monitor({ Port_Group: {} });
  const pgUuid = rowUuid.dropPortGroup(vpc.id);
  const inGroup = (row: Record<string, unknown> | undefined) => (row?.ports as string[]).includes(p1);
  // The hand edit lands in the window of the engine's next transaction that joins a port to the
  // group: the group's update then arrives while the group is one the engine expects to change.
  const hook = reconcilerHook(stack.config.natsUrl);
  t.teardown(() => hook.close());
  await hook.ask({ action: 'holdTransaction', containing: pgUuid });
  const held = hook.next('held');
  const second = await client.call(scope, 'port.create', { subnetId: subnet.id });
  await held;
  await watcher.transact([{ op: 'mutate', table: 'Port_Group', where: [['_uuid', '==', pgUuid]], mutations: [['ports', 'delete', [p1]]] }]);
  await eventually(async () => !inGroup(await hook.ask({ action: 'cacheRow', table: 'Port_Group', uuid: pgUuid }) as Record<string, unknown>), 5000, 'the engine saw the hand edit');
  await hook.ask({ action: 'release' });
  const p2 = (second.result.port as { id: string }).id;
  await client.waitFor(scope, 'port', p2, (s) => s.phase === 'Ready' && s.observedSeq >= second.seq);
  await eventually(() => inGroup(watcher.cache.get('Port_Group', pgUuid)), 10_000, 'the port taken out is back in its drop group');
  t.true(inGroup(watcher.cache.get('Port_Group', pgUuid)));
});
