import test from 'ava';
import { OvsdbClient } from '../../src/ovsdb/mod.js';
import { rowUuid } from '../../src/reconcile/names.js';
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
  await eventually(() => watcher.cache.get('Port_Group', pgUuid), 10_000, 'drop group recreated');
  await new Promise((r) => setTimeout(r, 4000));
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
  await new Promise((r) => setTimeout(r, 4000));
  await stack.engine.reconciler.idle();
  t.deepEqual([...(watcher.cache.get('Port_Group', pgUuid)!.ports as string[])], [port], 'the port back in its drop group');
});
