import test from 'ava';
import { OvsdbClient } from '../../src/ovsdb/mod.js';
import { rowName, rowUuid } from '../../src/reconcile/names.js';
import { eventually, startStack } from '../support/stack.js';

test('drop groups - a port created while its VPC drop group cannot be created is not Ready outside every drop group', async (t) => {
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
  const status = await client.waitFor(scope, 'port', port, (s) => s.observedSeq >= r.seq && s.phase !== 'Pending', 15_000).catch(() => undefined);
  await stack.engine.reconciler.idle();
  t.log('port status:', status?.phase, status?.message);
  const lsp = watcher.cache.get('Logical_Switch_Port', port);
  const droppingGroups = [...watcher.cache.table('Port_Group').values()].filter((g) => (g.acls as string[]).some((a) => watcher.cache.get('ACL', a)?.action === 'drop'));
  const guarded = droppingGroups.some((g) => (g.ports as string[]).includes(port));
  t.log('LSP in the Northbound:', lsp !== undefined, 'in a group that drops:', guarded);
  t.false(lsp !== undefined && !guarded, 'a port whose switch port exists is in a group that drops');
  t.not(status?.phase, 'Ready', 'a port with no default deny is not Ready');
});
