import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import test from 'ava';
import { jetstreamManager } from '@nats-io/jetstream';
import { streamNames } from '../../events/mod.js';
import { ipToInt } from '../../projections/mod.js';
import { reconcilerHook } from '../support/reconciler-hook.js';
import { nbRows, startStack } from '../support/stack.js';
import type { Stack } from '../support/stack.js';

const cli = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const run = promisify(execFile);
type Failed = Error & { code: number; stdout: string; stderr: string };

// Statuses and rows are checked by hand here: no periodic resync may repair what a test breaks on purpose.
let stack: Stack;
test.before(async () => { stack = await startStack({ config: { resyncIntervalMs: 3_600_000 }, hooked: true }); });
test.after.always(async () => { await stack?.stop(); });

async function novanet(...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [cli, '--nats', stack.nats.url, '--ovn-nb', stack.northbound.remote, ...args]);
  return stdout;
}
const json = async (...args: string[]) => JSON.parse(await novanet('-o', 'json', ...args));
const lines = async (...args: string[]) => (await novanet('-o', 'json', ...args)).trim().split('\n').map((l) => JSON.parse(l));
const lastSeq = async () => (await (await jetstreamManager(stack.nc)).streams.info(streamNames().events)).state.last_seq;

test.serial('history, at and diff: a resource\'s commits, the view after a commit or at a time, and what changed between two points', async (t) => {
  const scope = { org: 'audit', project: 'p1' };
  const tenant = ['--org', scope.org, '--project', scope.project];
  const { client } = stack;
  const vpcCommit = await client.call(scope, 'vpc.create', { name: 'a' });
  const vpc = vpcCommit.result.vpc as { id: string };
  const subnetCommit = await client.call(scope, 'subnet.create', { vpcId: vpc.id, name: 'app', cidr: '10.0.1.0/24' });
  const subnet = subnetCommit.result.subnet as { id: string };
  const created = await client.call(scope, 'port.create', { subnetId: subnet.id });
  const port = created.result.port as { id: string; ipAddress: string };
  const updated = await client.call(scope, 'port.update', { portId: port.id, securityGroupIds: [] });
  const deleted = await client.call(scope, 'port.delete', { portId: port.id });

  const history = await lines('history', `port/${port.id}`);
  t.deepEqual(history.map((h) => [h.seq, h.operation]), [[created.seq, 'port.create'], [updated.seq, 'port.update'], [deleted.seq, 'port.delete']]);
  t.deepEqual(history.map((h) => h.events.map((e: { type: string }) => e.type)), [['PortCreated'], ['PortSecurityGroupsChanged'], ['PortDeleted']]);
  t.like(history[0].events[0].data, { portId: port.id, ipAddress: port.ipAddress });

  t.like((await json('at', String(created.seq), `port/${port.id}`)).port, { id: port.id, ipAddress: port.ipAddress, securityGroupIds: [(vpcCommit.result.vpc as { defaultSecurityGroupId: string }).defaultSecurityGroupId] });
  t.deepEqual((await json('at', String(updated.seq), `port/${port.id}`)).port.securityGroupIds, []);
  const gone = await t.throwsAsync(novanet('at', String(deleted.seq), `port/${port.id}`)) as Failed;
  t.is(gone.code, 1);
  t.regex(gone.stderr, /NOT_FOUND: port\/.+ did not exist at seq/);
  const createdAt = history[0].at as string;
  t.like((await json('at', createdAt, `port/${port.id}`)).port, { id: port.id }, 'a time: the view after the last commit at or before it');

  const tenantView = await json('at', String(created.seq), ...tenant);
  t.deepEqual(tenantView.resources.map((r: { kind: string }) => r.kind).sort(), ['port', 'securitygroup', 'subnet', 'vpc']);
  const summary = await json('at', String(created.seq));
  t.true(summary.kinds.port >= 1 && summary.tenants >= 1);

  const changes = (await json('diff', String(subnetCommit.seq), String(created.seq), ...tenant)).changes as { change: string; kind: string; id: string; fields?: string[] }[];
  t.deepEqual(changes.map((c) => [c.change, c.kind]).sort(), [['changed', 'securitygroup'], ['changed', 'subnet'], ['created', 'port']]);
  t.true(changes.find((c) => c.kind === 'subnet')!.fields!.includes('allocated'));
  const overall = (await json('diff', String(vpcCommit.seq), String(deleted.seq), ...tenant)).changes as { change: string; kind: string }[];
  t.false(overall.some((c) => c.kind === 'port'), 'created and deleted in between: no change');

  const table = await novanet('-o', 'table', 'history', `port/${port.id}`);
  t.regex(table, new RegExp(`^${created.seq}  \\S+  audit/p1  port.create  `, 'm'));
});

test.serial('verify: a fresh fold equals both engine views and the Northbound; a corrupted view is found and named', async (t) => {
  const scope = { org: 'verify', project: 'p1' };
  const vpc = (await stack.client.call(scope, 'vpc.create', { name: 'v' })).result.vpc as { id: string };
  const subnet = (await stack.client.call(scope, 'subnet.create', { vpcId: vpc.id, name: 'app' })).result.subnet as { id: string };
  const port = (await stack.client.call(scope, 'port.create', { subnetId: subnet.id })).result.port as { id: string };
  await stack.engine.reconciler.idle();

  const report = await json('verify');
  t.true(report.views.intake.equal && report.views.reconciler.equal);
  t.is(report.views.intake.seq, await lastSeq());
  t.deepEqual(report.northbound.implied, report.northbound.present);
  t.true(report.northbound.present.Logical_Switch_Port >= 2, 'the port and the router port');
  t.log(`folded to seq ${report.seq} in ${report.foldSeconds} s`);

  // A view that drifted from the log, as a bug in a fold would leave it.
  const held = stack.engine.intake.view.ports.get(port.id)! as { ip: number };
  const ip = held.ip;
  held.ip = ipToInt('10.0.0.250');
  try {
    const err = await t.throwsAsync(novanet('-o', 'table', 'verify', '--no-northbound')) as Failed;
    t.is(err.code, 1);
    t.regex(err.stdout, /intake\s+view at seq \d+: DIFFERS \(first: port\//);
    t.regex(err.stderr, new RegExp(`VERIFY_FAILED: the engine's intake view differs from a fresh fold of the log at seq \\d+: first at port/${port.id}`));
  } finally {
    held.ip = ip;
  }
  t.true((await json('verify', '--no-northbound')).views.intake.equal, 'positive control: repaired, equal again');
});

test.serial('plan: the events and Northbound rows a command would produce, committing nothing; the rows are what the reconciler then writes', async (t) => {
  const scope = { org: 'plan', project: 'p1' };
  const tenant = ['--org', scope.org, '--project', scope.project];
  const vpc = (await stack.client.call(scope, 'vpc.create', { name: 'p' })).result.vpc as { id: string };
  const subnet = (await stack.client.call(scope, 'subnet.create', { vpcId: vpc.id, name: 'app', cidr: '10.0.77.0/24' })).result.subnet as { id: string };
  await stack.engine.reconciler.idle();

  const before = await lastSeq();
  const payload = JSON.stringify({ subnetId: subnet.id, mtu: 1400, dnsServers: ['9.9.9.9'] });
  const plan = await json(...tenant, 'plan', 'subnet.update', payload);
  t.is(await lastSeq(), before, 'nothing appended');
  t.is(plan.seq, before + 1);
  t.deepEqual(plan.result.commit.events.map((e: { type: string }) => e.type), ['SubnetUpdated']);
  const dhcp = plan.result.northbound.update.find((u: { table: string }) => u.table === 'DHCP_Options');
  t.like(dhcp.columns.options, { mtu: '1400', dns_server: '9.9.9.9' });
  t.deepEqual(plan.result.northbound.insert, []);

  const updated = await stack.client.call(scope, 'subnet.update', { ...JSON.parse(payload) as Record<string, unknown>, commandId: 'plan-update' });
  await stack.engine.reconciler.idle();
  const rows = await nbRows(stack.northbound, 'DHCP_Options', ['_uuid', 'options'], ['cidr="10.0.77.0/24"']);
  t.deepEqual(rows, [{ _uuid: dhcp.uuid, options: dhcp.columns.options }], 'the reconciler wrote the planned row');

  const portPlan = await json(...tenant, 'plan', 'port.create', JSON.stringify({ subnetId: subnet.id }));
  const [event] = portPlan.result.commit.events as { data: { portId: string; macAddress: string; ipAddress: string } }[];
  const lsp = portPlan.result.northbound.insert.find((i: { table: string }) => i.table === 'Logical_Switch_Port');
  t.is(lsp.row.name, event!.data.portId);
  t.deepEqual(lsp.row.addresses, [`${event!.data.macAddress} ${event!.data.ipAddress}`]);
  t.true(portPlan.result.northbound.mutate.some((m: { table: string }) => m.table === 'Logical_Switch'), 'referenced from its switch in the same transaction');

  const refused = await t.throwsAsync(novanet('-o', 'table', ...tenant, 'plan', 'subnet.update', JSON.stringify({ subnetId: subnet.id, cidr: '10.0.0.0/24' }))) as Failed;
  t.regex(refused.stderr, /^novanet: VALIDATION_FAILED: /);
  t.is(await lastSeq(), before + 1, 'only the real update appended');

  // A commandId already accepted is planned as its repeat: the first commit's result, read back from the log, and nothing to write.
  const repeat = await json(...tenant, 'plan', 'subnet.update', JSON.stringify({ ...JSON.parse(payload) as Record<string, unknown>, commandId: 'plan-update' }));
  t.is(repeat.result.repeatOf, updated.seq);
  t.deepEqual(repeat.result.commit.result, updated.result);
  t.deepEqual(repeat.result.commit.events, []);
  t.deepEqual(repeat.result.northbound, { insert: [], update: [], mutate: [], delete: [] });
});

test.serial('plan --drift: the reconciler\'s pending diff against the Northbound, computed and not applied', async (t) => {
  await stack.engine.reconciler.idle();
  t.regex(await novanet('-o', 'table', 'plan', '--drift'), /Northbound: no change/);

  const scope = { org: 'drift', project: 'p1' };
  const vpc = (await stack.client.call(scope, 'vpc.create', { name: 'd' })).result.vpc as { id: string };
  const subnet = (await stack.client.call(scope, 'subnet.create', { vpcId: vpc.id, name: 'app' })).result.subnet as { id: string };
  const port = (await stack.client.call(scope, 'port.create', { subnetId: subnet.id })).result.port as { id: string; macAddress: string; ipAddress: string };
  await stack.engine.reconciler.idle();
  // The reconciler's view disagreeing with the Northbound (nothing marks the port dirty: no resync in this file).
  const hook = reconcilerHook(stack.config.natsUrl);
  t.teardown(() => hook.close());
  await hook.ask({ action: 'setPortAddress', portId: port.id, ipAddress: '10.0.0.251' });
  try {
    const drift = await json('plan', '--drift');
    const lsp = drift.result.northbound.update.find((u: { table: string; uuid: string }) => u.table === 'Logical_Switch_Port');
    t.deepEqual(lsp.columns.addresses, [`${port.macAddress} 10.0.0.251`]);
    const [row] = await nbRows(stack.northbound, 'Logical_Switch_Port', ['addresses'], [`name=${port.id}`]);
    t.is(row!.addresses, `${port.macAddress} ${port.ipAddress}`, 'not applied');
  } finally {
    await hook.ask({ action: 'setPortAddress', portId: port.id, ipAddress: port.ipAddress });
  }
  t.regex(await novanet('-o', 'table', 'plan', '--drift'), /Northbound: no change/);
});
