import test from 'ava';
import { OvsdbClient } from '../../src/ovsdb/mod.js';
import { rowName, rowUuid } from '../../src/reconcile/names.js';
import { eventually, startStack } from '../support/stack.js';

test('drop groups - a port whose VPC drop group cannot be created waits, Pending, outside the Northbound; it joins once the group is there', async (t) => {
  const stack = await startStack({ config: { resyncIntervalMs: 600_000 } });
  t.teardown(() => stack.stop());
  const { client } = stack;
  const scope = { org: 'rv3', project: 'p' };
  const vpc = (await client.call(scope, 'vpc.create', { name: 'v' })).result.vpc as { id: string };
  const subnet = (await client.call(scope, 'subnet.create', { vpcId: vpc.id, name: 's' })).result.subnet as { id: string };
  await client.waitFor(scope, 'subnet', subnet.id, (s) => s.phase === 'Ready');
  await stack.engine.reconciler.idle();
  const watcher = await OvsdbClient.connect({ remote: stack.northbound.remote });
  t.teardown(() => watcher.close());
  await watcher.monitor({ Port_Group: {}, ACL: {}, Logical_Switch_Port: {} });
  const pgUuid = rowUuid.dropPortGroup(vpc.id);
  // Something else holds the drop group's name: the VPC's rows (router, routes, drop group) are refused together.
  await watcher.transact([
    { op: 'delete', table: 'Port_Group', where: [['_uuid', '==', pgUuid]] },
    { op: 'insert', table: 'Port_Group', row: { name: rowName.dropPortGroup(vpc.id) } },
  ]);
  const vpcStatus = await client.waitFor(scope, 'vpc', vpc.id, (s) => s.phase === 'Failed', 15_000).catch(() => undefined);
  t.log('vpc status:', vpcStatus?.phase, vpcStatus?.message);
  const r = await client.call(scope, 'port.create', { subnetId: subnet.id });
  const port = (r.result.port as { id: string }).id;
  const status = await client.waitFor(scope, 'port', port, (s) => s.observedSeq >= r.seq, 15_000);
  await stack.engine.reconciler.idle();
  t.log('port status:', status.phase, status.message);
  t.is(status.phase, 'Pending', 'a port with no default deny is not Ready');
  t.regex(status.message ?? '', new RegExp(`Port_Group ${pgUuid}, which its logicalSwitchPort \\(Logical_Switch_Port\\) joins`), 'it says what it waits for');
  t.is(watcher.cache.get('Logical_Switch_Port', port), undefined, 'its switch port waits too: it would be in no group that drops');

  // The squatter gone, the next pass over the VPC (here: a second port brings it along) inserts the group, and its waiting port joins.
  await watcher.transact([{ op: 'delete', table: 'Port_Group', where: [['name', '==', rowName.dropPortGroup(vpc.id)]] }]);
  const second = await client.call(scope, 'port.create', { subnetId: subnet.id });
  await client.waitFor(scope, 'port', (second.result.port as { id: string }).id, (s) => s.phase === 'Ready' && s.observedSeq >= second.seq);
  await client.waitFor(scope, 'port', port, (s) => s.phase === 'Ready', 10_000);
  await eventually(() => (watcher.cache.get('Port_Group', pgUuid)?.ports as string[] | undefined)?.includes(port), 10_000, 'the first port in its drop group');
  t.pass();
});
