import test from 'ava';
import { OvsdbClient } from '../../src/ovsdb/mod.js';
import type { Row } from '../../src/ovsdb/mod.js';
import { sameValue } from '../../src/reconcile/diff.js';
import { SWITCH_PORT_COLUMNS } from '../../src/reconcile/tables/logical-switch-port.js';
import { reconcilerHook } from '../support/reconciler-hook.js';
import { eventually, startStack } from '../support/stack.js';

const LSP = 'Logical_Switch_Port';

test('switch ports - the reconciler caches only the columns it writes or reads: a hand edit of another is left as it was, one of a written column is repaired', async (t) => {
  // The sweep is effectively off: only monitor-driven drift repair can act.
  const stack = await startStack({ config: { resyncIntervalMs: 600_000 }, hooked: true });
  t.teardown(() => stack.stop());
  const { client } = stack;
  const scope = { org: 'columns', project: 'p' };
  const vpc = (await client.call(scope, 'vpc.create', { name: 'v' })).result.vpc as { id: string };
  const subnet = (await client.call(scope, 'subnet.create', { vpcId: vpc.id, name: 's' })).result.subnet as { id: string };
  const created = await client.call(scope, 'port.create', { subnetId: subnet.id });
  const port = (created.result.port as { id: string }).id;
  await client.waitFor(scope, 'port', port, (s) => s.phase === 'Ready' && s.observedSeq >= created.seq);
  await stack.engine.reconciler.idle();

  const hook = reconcilerHook(stack.config.natsUrl);
  t.teardown(() => hook.close());
  const cached = await hook.ask({ action: 'cacheRow', table: LSP, uuid: port }) as Row;
  t.deepEqual(Object.keys(cached).sort(), ['_uuid', ...SWITCH_PORT_COLUMNS].sort(), 'the cached row holds the monitored columns only');

  const watcher = await OvsdbClient.connect({ remote: stack.northbound.remote });
  t.teardown(() => watcher.close());
  await watcher.monitor({ [LSP]: {} });
  const before = watcher.cache.get(LSP, port)!;
  await watcher.transact([{ op: 'update', table: LSP, where: [['_uuid', '==', port]], row: { enabled: false, tag_request: 7, addresses: ['unknown'] } }]);
  await eventually(() => sameValue(watcher.cache.get(LSP, port)!['addresses'], before['addresses']), 10_000, 'the addresses set back');
  await stack.engine.reconciler.idle();
  const after = watcher.cache.get(LSP, port)!;
  t.deepEqual([after['enabled']].flat(), [false], 'a column novanet does not manage stays as the hand set it');
  t.deepEqual([after['tag_request']].flat(), [7]);
  for (const column of SWITCH_PORT_COLUMNS) t.true(sameValue(after[column], before[column]), column);
  const status = await client.waitFor(scope, 'port', port, (s) => s.phase === 'Ready');
  t.is(status.phase, 'Ready');
});
