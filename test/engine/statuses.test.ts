import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { subjects } from '../../events/mod.js';
import type { Scope, StatusMessage } from '../../events/mod.js';
import { streamNames } from '../../events/mod.js';
import { OvsdbClient } from '../../src/ovsdb/mod.js';
import { eventually, startStack, storedStatus } from '../support/stack.js';
import type { Stack } from '../support/stack.js';
import type { EngineConfig } from '../../src/engine/config.js';

const statusStream = streamNames('novanet').status;
const statusSubject = subjects('novanet').status;

async function stackFor(t: ExecutionContext, config: Partial<EngineConfig> = {}): Promise<Stack> {
  const stack = await startStack({ config });
  t.teardown(() => stack.stop());
  return stack;
}

interface Network { subnetId: string; portIds: string[] }

/** A subnet with `ports` ports, every latest stored status Ready. */
async function network(stack: Stack, scope: Scope, ports: number): Promise<Network> {
  const { client } = stack;
  const vpc = (await client.call(scope, 'vpc.create', { name: 'v' })).result.vpc as { id: string };
  const subnet = (await client.call(scope, 'subnet.create', { vpcId: vpc.id, name: 's' })).result.subnet as { id: string };
  const portIds: string[] = [];
  for (let i = 0; i < ports; i++) portIds.push(((await client.call(scope, 'port.create', { subnetId: subnet.id })).result.port as { id: string }).id);
  for (const id of portIds) await client.waitFor(scope, 'port', id, (s) => s.phase === 'Ready');
  await client.waitFor(scope, 'subnet', subnet.id, (s) => s.phase === 'Ready');
  return { subnetId: subnet.id, portIds };
}

async function latest(stack: Stack, scope: Scope, kind: string, id: string): Promise<StatusMessage | undefined> {
  return storedStatus(await jetstreamManager(stack.nc), 'novanet', scope, kind, id);
}

test.serial('statuses - a purged, garbled or wrong latest status is repaired by the paced sweep, a deleted resource reported alive by the next full resync; kinds it does not report are left alone', async (t) => {
  const stack = await stackFor(t);
  const scope = { org: 'repair', project: 'p1' };
  const { subnetId, portIds: [purged, garbled, deleted] } = await network(stack, scope, 3) as { subnetId: string; portIds: [string, string, string] };
  const removal = await stack.client.call(scope, 'port.delete', { portId: deleted });
  await stack.client.waitFor(scope, 'port', deleted, (s) => s.phase === 'Deleted' && s.observedSeq >= removal.seq);
  // Positive control: before the damage every latest stored status is right.
  t.like(await latest(stack, scope, 'port', purged), { phase: 'Ready' });
  t.like(await latest(stack, scope, 'port', garbled), { phase: 'Ready' });
  t.like(await latest(stack, scope, 'port', deleted), { phase: 'Deleted' });
  const subnetStatus = await latest(stack, scope, 'subnet', subnetId);
  t.like(subnetStatus, { phase: 'Ready' });

  // A privileged user damages the stream: a purge, garbage, a wrong status, a deleted port
  // reported alive; and writes on subjects the reconciler does not report on.
  const jsm = await jetstreamManager(stack.nc);
  const js = jetstream(stack.nc);
  await jsm.streams.purge(statusStream, { filter: statusSubject(scope, 'port', purged) });
  await js.publish(statusSubject(scope, 'port', garbled), 'not a status {');
  await js.publish(statusSubject(scope, 'subnet', subnetId), JSON.stringify({ ...subnetStatus, phase: 'Failed', message: 'forged' }));
  await js.publish(statusSubject(scope, 'port', deleted), JSON.stringify({ kind: 'port', id: deleted, ...scope, phase: 'Ready', observedSeq: 1 }));
  const provider = { org: '_provider', project: '_provider' };
  const quarantine = JSON.stringify({ kind: 'quarantine', id: 'q1', ...provider, phase: 'Ready', observedSeq: 1 });
  await js.publish(statusSubject(provider, 'quarantine', 'q1'), quarantine);
  await js.publish(statusSubject(provider, 'default-deny', 'novanet'), 'internal plumbing has no status');
  t.is(await latest(stack, scope, 'port', purged), undefined, 'the purge took');
  t.is(await latest(stack, scope, 'port', garbled), undefined, 'the garbage took');

  // The sweep (every 2 s here, the whole test cloud in one slice) reads the stored status of
  // each resource of the view: what the monitor cannot report.
  await eventually(async () => {
    const [p, g, s] = await Promise.all([latest(stack, scope, 'port', purged), latest(stack, scope, 'port', garbled), latest(stack, scope, 'subnet', subnetId)]);
    return p?.phase === 'Ready' && g?.phase === 'Ready' && s?.phase === 'Ready' && s.message === undefined;
  }, 10_000, 'the damaged statuses repaired');
  // A resource gone from the view has nothing for the sweep to walk: the stream is read whole
  // at a full resync (start, takeover, Northbound reconnect), here asked for by hand.
  t.like(await latest(stack, scope, 'port', deleted), { phase: 'Ready' }, 'the sweep leaves a status of a resource it does not know');
  await stack.engine.reconciler.resync();
  await eventually(async () => (await latest(stack, scope, 'port', deleted))?.phase === 'Deleted', 10_000, 'the deleted port reported Deleted again');
  t.like(await latest(stack, scope, 'port', purged), { ipAddress: '10.0.0.2', ovn: { logicalSwitchPort: purged } });

  await new Promise((r) => setTimeout(r, 2500));
  const left = async (subject: string) => (await jsm.direct.getMessage(statusStream, { last_by_subj: subject }))?.string();
  t.is(await left(statusSubject(provider, 'quarantine', 'q1')), quarantine, 'another kind is not the reconciler\'s to repair');
  t.is(await left(statusSubject(provider, 'default-deny', 'novanet')), 'internal plumbing has no status');
});

test.serial('statuses - the latest stored statuses are compared at start, not only at a resync', async (t) => {
  const stack = await stackFor(t, { resyncIntervalMs: 600_000 });
  const scope = { org: 'start', project: 'p1' };
  const { portIds: [port] } = await network(stack, scope, 1) as { subnetId: string; portIds: [string] };
  const jsm = await jetstreamManager(stack.nc);
  await jsm.streams.purge(statusStream, { filter: statusSubject(scope, 'port', port) });
  await new Promise((r) => setTimeout(r, 1000));
  t.is(await latest(stack, scope, 'port', port), undefined, 'without a resync nothing repairs it');

  await stack.restartEngine();
  t.like(await eventually(() => latest(stack, scope, 'port', port), 10_000, 'the status republished after the restart'), { phase: 'Ready' });
});

test.serial('statuses - a restart with every status right publishes none and leaves every row in place', async (t) => {
  const stack = await stackFor(t);
  const scope = { org: 'quiet', project: 'p1' };
  const { subnetId } = await network(stack, scope, 20);
  await stack.engine.reconciler.idle();
  const jsm = await jetstreamManager(stack.nc);
  const before = (await jsm.streams.info(statusStream)).state.last_seq;
  const watcher = await OvsdbClient.connect({ remote: stack.northbound.remote });
  t.teardown(() => watcher.close());
  await watcher.monitor({ Logical_Switch_Port: {}, Logical_Switch: {}, Logical_Router: {} });
  let rowsGone = 0;
  watcher.onUpdate((updates) => { rowsGone += updates.filter((u) => u.old && !u.new).length; });

  await stack.restartEngine();
  await stack.engine.reconciler.idle();
  await new Promise((r) => setTimeout(r, 4500));
  t.is((await jsm.streams.info(statusStream)).state.last_seq, before, 'no status published through the restart and two resyncs');
  t.is(rowsGone, 0, 'no row deleted before the restarted engine had folded the log');

  // Positive control: the restarted engine does publish.
  const created = await stack.client.call(scope, 'port.create', { subnetId });
  await stack.client.waitFor(scope, 'port', (created.result.port as { id: string }).id, (s) => s.phase === 'Ready' && s.observedSeq >= created.seq);
  t.true((await jsm.streams.info(statusStream)).state.last_seq > before);
});
