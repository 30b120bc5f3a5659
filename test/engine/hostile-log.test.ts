import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { jetstreamManager } from '@nats-io/jetstream';
import { headers } from '@nats-io/transport-node';
import type { MsgHdrs } from '@nats-io/transport-node';
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { PROVIDER_SCOPE, readStatus } from '../../events/mod.js';
import type { Commit, Scope, StatusMessage } from '../../events/mod.js';
import { logRecord } from '../../src/bus/log.js';
import { streamNames } from '../../events/mod.js';
import { eventually, nbRows, startStack } from '../support/stack.js';
import type { Stack } from '../support/stack.js';

const cli = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const run = promisify(execFile);

let stack: Stack;
test.before(async () => { stack = await startStack(); });
test.after.always(async () => { await stack?.stop(); });

const acme: Scope = { org: 'acme', project: 'web' };
const globex: Scope = { org: 'globex', project: 'shop' };
const streams = streamNames('novanet');

interface TenantNetwork {
  readonly scope: Scope;
  readonly subnetId: string;
  readonly portId: string;
}

async function tenantNetwork(scope: Scope): Promise<TenantNetwork> {
  const vpc = (await stack.client.call(scope, 'vpc.create', { name: 'main' })).result.vpc as { id: string };
  const subnet = (await stack.client.call(scope, 'subnet.create', { vpcId: vpc.id, name: 'app' })).result.subnet as { id: string };
  const created = await stack.client.call(scope, 'port.create', { subnetId: subnet.id });
  const portId = (created.result.port as { id: string }).id;
  await stack.client.waitFor(scope, 'port', portId, (s) => s.phase === 'Ready' && s.observedSeq >= created.seq);
  return { scope, subnetId: subnet.id, portId };
}

/** The tenant's engine works end to end: a command is accepted, reaches Ready in OVN, and reads show it. */
async function serves(t: ExecutionContext, net: TenantNetwork, when: string): Promise<void> {
  const created = await stack.client.call(net.scope, 'port.create', { subnetId: net.subnetId });
  const portId = (created.result.port as { id: string }).id;
  const status = await stack.client.waitFor(net.scope, 'port', portId, (s) => s.phase === 'Ready' && s.observedSeq >= created.seq);
  t.like(status, { kind: 'port', id: portId, org: net.scope.org, project: net.scope.project }, `${net.scope.org}: Ready ${when}`);
  const listed = (await stack.client.call(net.scope, 'port.list', { subnetId: net.subnetId })).result.ports as { id: string }[];
  t.true(listed.some((p) => p.id === portId), `${net.scope.org}: read back ${when}`);
  t.is((await nbRows(stack.northbound, 'Logical_Switch_Port', ['name'], [`name=${portId}`])).length, 1, `${net.scope.org}: in the Northbound ${when}`);
}

/**
 * Stores a message on a stream the way any privileged NATS user can: a plain core-NATS
 * publish, with a reply subject only to learn the sequence it was stored at.
 */
async function storeRaw(subject: string, data: string | Uint8Array, hdrs?: MsgHdrs): Promise<number> {
  const ack = await stack.nc.request(subject, data, { timeout: 5000, ...(hdrs && { headers: hdrs }) });
  const { seq, error } = ack.json<{ seq?: number; error?: unknown }>();
  if (seq === undefined) throw new Error(`not stored: ${JSON.stringify(error)}`);
  return seq;
}

async function lastEventSeq(): Promise<number> {
  return (await (await jetstreamManager(stack.nc)).streams.info(streams.events)).state.last_seq;
}

async function auditLog(...args: string[]): Promise<Record<string, unknown>[]> {
  const { stdout } = await run(process.execPath, [cli, '--nats', stack.nats.url, 'log', ...args]);
  return stdout.trim().split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Record<string, unknown>);
}

function forgedCommit(scope: Scope, commandId: string, vpcId: string): Commit {
  return {
    v: 1, commandId, scope, operation: 'vpc.create', at: new Date().toISOString(),
    request: { name: 'forged' }, result: { vpc: { id: vpcId } },
    events: [{ type: 'VpcCreated', data: { vpcId, name: 'forged', cidr: '10.200.0.0/16' } }],
  };
}

test.serial('hostile log - garbage on EVENTS is quarantined and reported, garbage on STATUS is skipped; every tenant keeps working, also after a restart', async (t) => {
  const operatorSees: StatusMessage[] = [];
  const operatorWatch = stack.nc.subscribe('novanet.status._provider.quarantine.>', {
    callback: (err, msg) => {
      const status = err ? undefined : readStatus(msg.data);
      if (status) operatorSees.push(status);
    },
  });
  t.teardown(() => operatorWatch.unsubscribe());
  const nets = [await tenantNetwork(acme), await tenantNetwork(globex)];
  const [acmeNet, globexNet] = nets as [TenantNetwork, TenantNetwork];

  // Positive control: the same checks pass on a clean log.
  for (const net of nets) await serves(t, net, 'before the garbage');
  const beforeGarbage = await stack.client.waitFor(acme, 'port', acmeNet.portId, (s) => s.phase === 'Ready');
  t.is(beforeGarbage.id, acmeNet.portId, 'a watch of the port delivers its stored status');
  t.is(stack.engine.reconciler.quarantined, 0);
  t.false((await auditLog()).some((line) => 'quarantined' in line), 'a clean log has no quarantined lines');

  // Round 1, then acme commands first: its append expects a stale last sequence, is refused,
  // and the intake rebuilds its view from a log that now holds garbage.
  const notJson = await storeRaw('novanet.evt.acme.web', 'not json');
  const notUtf8 = await storeRaw('novanet.evt.globex.shop', new Uint8Array([0xff, 0xfe, 0x7b, 0x7d]));
  const notCommit = await storeRaw('novanet.evt.acme.web', JSON.stringify({ hello: 'world' }));
  await eventually(() => stack.engine.reconciler.quarantined === 3, 10_000, 'the follower past round 1');
  await serves(t, acmeNet, 'after garbage round 1 (rebuild)');
  await serves(t, globexNet, 'after garbage round 1');

  // Round 2, then a globex read first: the intake folds the log's tail in before answering.
  const forgedVpcId = randomUUID();
  const unfenced = await storeRaw('novanet.evt.acme.web', JSON.stringify(forgedCommit(acme, 'forged-vpc', forgedVpcId)));
  const fencing = headers();
  fencing.set('Nats-Expected-Last-Sequence', String(await lastEventSeq()));
  const unknownVersion = await storeRaw('novanet.evt.globex.shop', JSON.stringify({ ...forgedCommit(globex, 'from-the-future', randomUUID()), v: 2 }), fencing);
  t.is(((await stack.client.call(globex, 'vpc.list')).result.vpcs as unknown[]).length, 1, 'globex reads past the garbage');
  for (const net of nets) await serves(t, net, 'after garbage round 2 (catch-up)');

  // Garbage on STATUS, on tenants' resource subjects.
  await storeRaw(`novanet.status.acme.web.port.${acmeNet.portId}`, 'not a status');
  await storeRaw(`novanet.status.globex.shop.port.${globexNet.portId}`, JSON.stringify({ kind: 'port', id: globexNet.portId, phase: 'Bogus' }));

  const expected = new Map<number, string | RegExp>([
    [notJson, 'not JSON'],
    [notUtf8, 'not UTF-8'],
    [notCommit, /^not a commit: /],
    [unfenced, 'not a fenced append (no Nats-Expected-Last-Sequence header)'],
    [unknownVersion, 'unknown commit version 2'],
  ]);
  const subjectOf = new Map([[notJson, 'novanet.evt.acme.web'], [notUtf8, 'novanet.evt.globex.shop'], [notCommit, 'novanet.evt.acme.web'], [unfenced, 'novanet.evt.acme.web'], [unknownVersion, 'novanet.evt.globex.shop']]);
  const checkQuarantine = (status: StatusMessage | undefined, seq: number, what: string) => {
    t.like(status, { kind: 'quarantine', id: `events-${seq}`, org: '_provider', project: '_provider', phase: 'Failed', observedSeq: seq, subject: subjectOf.get(seq) }, what);
    const reason = expected.get(seq)!;
    if (typeof reason === 'string') t.is(status?.message, reason, what);
    else t.regex(status?.message ?? '', reason, what);
  };
  await eventually(() => operatorSees.length >= expected.size, 10_000, 'the quarantine statuses');
  t.deepEqual(operatorSees.map((s) => s.observedSeq).sort((a, b) => a - b), [...expected.keys()], 'one status per quarantined message, seen on the wildcard');
  for (const seq of expected.keys()) checkQuarantine(operatorSees.find((s) => s.observedSeq === seq), seq, `live status of ${seq}`);
  t.is(stack.engine.reconciler.quarantined, expected.size);

  // The forged commit decided nothing: not in the views, not in OVN, its commandId is free.
  const acmeVpcs = () => stack.client.call(acme, 'vpc.list').then((r) => (r.result.vpcs as { id: string }[]).map((v) => v.id));
  t.false((await acmeVpcs()).includes(forgedVpcId), 'the forged VPC is not in the intake\'s view');
  t.deepEqual(await nbRows(stack.northbound, 'Logical_Router', ['name'], [`name=novanet-${forgedVpcId}`]), [], 'nor in the Northbound');
  const reused = await stack.client.request(acme, 'vpc.create', { commandId: 'forged-vpc', name: 'forged' });
  t.true(reused.ok && reused.seq > unknownVersion && (reused.result.vpc as { id: string }).id !== forgedVpcId, 'the forged commandId is not in the idempotency view');

  // A watch of a resource whose stored status is garbage still delivers real statuses.
  const delivered: StatusMessage[] = [];
  const stopWatch = await stack.client.watch(acme, 'port', acmeNet.portId, (s) => delivered.push(s));
  t.teardown(stopWatch);
  const updated = await stack.client.call(acme, 'port.update', { portId: acmeNet.portId, securityGroupIds: [] });
  await eventually(() => delivered.some((s) => s.observedSeq >= updated.seq && s.phase === 'Ready'), 10_000, 'a real status after the garbage');
  t.true(delivered.every((s) => s.kind === 'port' && s.id === acmeNet.portId), 'only statuses are delivered');
  const updatedGlobex = await stack.client.call(globex, 'port.update', { portId: globexNet.portId, securityGroupIds: [] });
  await stack.client.waitFor(globex, 'port', globexNet.portId, (s) => s.phase === 'Ready' && s.observedSeq >= updatedGlobex.seq);

  // The audit log prints quarantined messages as such, under the tenant their subject names.
  const tail = await auditLog('--from', String(notJson), '--to', String(unknownVersion));
  for (const [seq, reason] of expected) {
    const line = tail.find((l) => l.seq === seq);
    t.like(line, { seq, subject: subjectOf.get(seq) }, `log line of ${seq}`);
    if (typeof reason === 'string') t.is(line?.quarantined, reason);
    else t.regex(String(line?.quarantined), reason);
  }
  t.deepEqual((await auditLog('--org', 'globex', '--from', String(notJson), '--to', String(unknownVersion))).filter((l) => 'quarantined' in l).map((l) => l.seq), [notUtf8, unknownVersion]);

  // A restart rebuilds both views from the log, skipping the garbage, and counts it again; the
  // stored quarantine statuses are right, so none is published again.
  const seenBeforeRestart = operatorSees.length;
  await stack.restartEngine();
  for (const net of nets) await serves(t, net, 'after a restart');
  t.is(stack.engine.reconciler.quarantined, expected.size);
  await stack.engine.reconciler.idle();
  t.is(operatorSees.length, seenBeforeRestart, 'a restart republishes no quarantine status');
  for (const seq of expected.keys()) {
    checkQuarantine(await stack.client.waitFor(PROVIDER_SCOPE, 'quarantine', `events-${seq}`, (s) => s.phase === 'Failed', 10_000), seq, `stored status of ${seq}`);
  }
  t.false((await acmeVpcs()).includes(forgedVpcId), 'the forged VPC is not in the rebuilt view');
  t.deepEqual(await stack.client.request(acme, 'vpc.create', { commandId: 'forged-vpc', name: 'forged' }), reused, 'the real commit holds the commandId after the restart');
});

test('hostile log - a stored commit is a commit only if its fencing header names the sequence before it', (t) => {
  const commit = JSON.stringify(forgedCommit(acme, 'c', randomUUID()));
  const data = new TextEncoder().encode(commit);
  const fenced = (value: string) => {
    const h = headers();
    h.set('Nats-Expected-Last-Sequence', value);
    return h;
  };
  const subject = 'novanet.evt.acme.web';
  t.like(logRecord({ seq: 5, subject, data, headers: fenced('4') }), { seq: 5, commit: { commandId: 'c' } });
  t.deepEqual(logRecord({ seq: 5, subject, data, headers: fenced('3') }), { seq: 5, subject, reason: 'out of fencing order: appended expecting last sequence 3, stored at 5' });
  t.deepEqual(logRecord({ seq: 5, subject, data, headers: fenced('x') }), { seq: 5, subject, reason: 'out of fencing order: appended expecting last sequence x, stored at 5' });
  t.deepEqual(logRecord({ seq: 5, subject, data, headers: undefined }), { seq: 5, subject, reason: 'not a fenced append (no Nats-Expected-Last-Sequence header)' });
  // The content is judged first: garbage is garbage, fenced or not.
  t.deepEqual(logRecord({ seq: 5, subject, data: new TextEncoder().encode('[1]'), headers: fenced('4') }), { seq: 5, subject, reason: 'not a commit: (message): Invalid input: expected object, received array' });
});
