import test from 'ava';
import { PROVIDER_SCOPE } from '../../events/mod.js';
import { nbRows, startStack } from '../support/stack.js';
import type { Stack } from '../support/stack.js';

/** Network classes over the wire: real NATS subjects, real Northbound rows and statuses. */

let stack: Stack;
test.before(async () => { stack = await startStack(); });
test.after.always(async () => { await stack?.stop(); });

const raw = async (subject: string, body: object) => (await stack.nc.request(subject, JSON.stringify(body), { timeout: 5000 })).json<{ ok: boolean; result?: Record<string, unknown>; error?: { code: string } }>();

test.serial('network classes - the provider writes them on admin subjects; tenants read the public part and write nothing', async (t) => {
  const created = await raw('novanet.admin.cmd.networkclass.create', {
    commandId: 'c1', name: 'metal', description: 'VMs and hosts',
    baremetal: { physicalNetwork: 'physnet1', vlanRange: { first: 100, last: 109 }, chassis: [{ name: 'gw-1', priority: 20 }, { name: 'gw-2', priority: 10 }] },
  });
  t.like(created, { ok: true, result: { networkClass: { name: 'metal', isDefault: true, capabilities: { baremetal: true, natGateway: false } } } });
  const cls = (created.result!.networkClass as { id: string });
  for (const verb of ['create', 'update', 'delete']) {
    t.like(await raw(`novanet.cmd.acme.p1.networkclass.${verb}`, { commandId: `t-${verb}`, name: 'mine', networkClassId: cls.id }), { ok: false, error: { code: 'FORBIDDEN' } }, verb);
  }
  const seen = await raw('novanet.cmd.acme.p1.networkclass.get', { networkClassId: cls.id });
  t.deepEqual(Object.keys(seen.result!.networkClass as object).sort(), ['capabilities', 'description', 'id', 'isDefault', 'name']);
  const full = await raw('novanet.admin.cmd.networkclass.list', {});
  t.like((full.result!.networkClasses as object[])[0], { baremetal: { physicalNetwork: 'physnet1' } });

  const status = await stack.client.waitFor(PROVIDER_SCOPE, 'networkclass', cls.id, (s) => s.phase === 'Ready');
  t.like(status, { name: 'metal', isDefault: true, vpcCount: 0 });
  const chassis = await nbRows(stack.northbound, 'HA_Chassis', ['chassis_name', 'priority'], [`external_ids:"novanet:id"="${cls.id}"`]);
  t.deepEqual(chassis.map((c) => [c.chassis_name, c.priority]).sort(), [['gw-1', 20], ['gw-2', 10]]);

  // A VPC of the class: the class's status counts it, and the class is IN_USE until it goes.
  const scope = { org: 'acme', project: 'p1' };
  const vpc = (await stack.client.call(scope, 'vpc.create', { name: 'v', scope: 'baremetal' })).result.vpc as { id: string; networkClassId: string };
  t.is(vpc.networkClassId, cls.id);
  await stack.client.waitFor(PROVIDER_SCOPE, 'networkclass', cls.id, (s) => s.vpcCount === 1);
  t.like(await raw('novanet.admin.cmd.networkclass.delete', { commandId: 'd1', networkClassId: cls.id }), { ok: false, error: { code: 'IN_USE' } });
  const subnet = ((await stack.client.call(scope, 'subnet.list', { vpcId: vpc.id })).result.subnets as { id: string }[])[0]!;
  await stack.client.call(scope, 'subnet.delete', { subnetId: subnet.id });
  await stack.client.call(scope, 'vpc.delete', { vpcId: vpc.id });
  t.like(await raw('novanet.admin.cmd.networkclass.delete', { commandId: 'd2', networkClassId: cls.id }), { ok: true });
  await stack.client.waitFor(PROVIDER_SCOPE, 'networkclass', cls.id, (s) => s.phase === 'Deleted');
  t.deepEqual(await nbRows(stack.northbound, 'HA_Chassis_Group', ['name'], [`external_ids:"novanet:id"="${cls.id}"`]), [], 'its chassis group goes with it');
});
