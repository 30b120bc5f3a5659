import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { pino } from 'pino';
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { streamNames, subjects } from '../../events/mod.js';
import type { Scope } from '../../events/mod.js';
import type { EngineConfig } from '../../src/engine/config.js';
import { EventLog } from '../../src/bus/log.js';
import { StatusPublisher } from '../../src/bus/status.js';
import { OvsdbClient } from '../../src/ovsdb/mod.js';
import { Reconciler } from '../../src/reconcile/reconciler.js';
import type { ReconcilerObserver, StoredStatus } from '../../src/reconcile/reconciler.js';
import { startNorthbound } from '../../src/sandbox/mod.js';
import { eventually, nbRows, startStack, storedStatus } from '../support/stack.js';
import type { Stack } from '../support/stack.js';

const run = promisify(execFile);
const statusStream = streamNames('novanet').status;
const statusSubject = subjects('novanet').status;

/** What the reconciler reported: each sweep tick, each batch, each full resync. */
class Observed implements ReconcilerObserver {
  readonly sweeps: { resources: number; rows: number }[] = [];
  readonly batches: number[] = [];
  resyncs = 0;
  batch(resources: number): void { this.batches.push(resources); }
  transaction(): void {}
  resync(): void { this.resyncs++; }
  sweep(resources: number, rows: number): void { this.sweeps.push({ resources, rows }); }
  statusPublishFailed(): void {}
  writing(): void {}
}

async function stackFor(t: ExecutionContext, config: Partial<EngineConfig>, observed: Observed): Promise<Stack> {
  const stack = await startStack({ config, observers: { reconciler: observed } });
  t.teardown(() => stack.stop());
  return stack;
}

/** A subnet with `ports` ports, each Ready. */
async function network(stack: Stack, scope: Scope, ports: number): Promise<{ subnetId: string; portIds: string[]; mac: string; ip: string }> {
  const { client } = stack;
  const vpc = (await client.call(scope, 'vpc.create', { name: 'v' })).result.vpc as { id: string };
  const subnet = (await client.call(scope, 'subnet.create', { vpcId: vpc.id, name: 's' })).result.subnet as { id: string };
  const created = [];
  for (let i = 0; i < ports; i++) created.push((await client.call(scope, 'port.create', { subnetId: subnet.id })).result.port as { id: string; macAddress: string; ipAddress: string });
  for (const { id } of created) await client.waitFor(scope, 'port', id, (s) => s.phase === 'Ready');
  await client.waitFor(scope, 'subnet', subnet.id, (s) => s.phase === 'Ready');
  return { subnetId: subnet.id, portIds: created.map((p) => p.id), mac: created[0]!.macAddress, ip: created[0]!.ipAddress };
}

test.serial('resync - the paced sweep re-checks a bounded slice a tick, and republishes a status deleted from the stream', async (t) => {
  const observed = new Observed();
  const slice = 3;
  const stack = await stackFor(t, { resyncIntervalMs: 200, resyncSlice: slice }, observed);
  const scope = { org: 'sweep', project: 'p1' };
  const { portIds } = await network(stack, scope, 8);
  await stack.engine.reconciler.idle();
  const ticksBefore = observed.sweeps.length;
  const renderedBefore = observed.batches.reduce((a, b) => a + b, 0);

  // Nothing reports a purge to the reconciler: only the sweep's read of the stored status finds it.
  const jsm = await jetstreamManager(stack.nc);
  const purged = portIds.at(-1)!;
  await jsm.streams.purge(statusStream, { filter: statusSubject(scope, 'port', purged) });
  t.is(await storedStatus(jsm, 'novanet', scope, 'port', purged), undefined, 'the purge took');
  const back = await eventually(() => storedStatus(jsm, 'novanet', scope, 'port', purged), 20_000, 'the purged status republished by the sweep');
  t.like(back, { phase: 'Ready', id: purged });
  await stack.engine.reconciler.idle();

  // The cloud (a VPC, its default security group, a subnet, 8 ports and the default-deny group)
  // is more than a slice: each tick took at most `slice` resources and `slice` owned rows,
  // and what was rendered since the idle point is what the ticks took (plus the slice in flight then).
  const ticks = observed.sweeps.slice(ticksBefore);
  t.true(observed.sweeps.length >= 4, 'a round of the cloud takes more than one tick');
  t.true(observed.sweeps.every((s) => s.resources <= slice && s.rows <= slice), JSON.stringify(observed.sweeps));
  t.true(observed.sweeps.some((s) => s.resources === slice), 'full slices were taken');
  const swept = ticks.reduce((a, s) => a + s.resources, 0);
  const rendered = observed.batches.reduce((a, b) => a + b, 0) - renderedBefore;
  t.true(rendered <= swept + slice, `rendered ${rendered}, swept ${swept}`);
  t.is(observed.resyncs, 1, 'one full resync: the one at takeover');
});

test.serial('resync - a Northbound reconnect resyncs everything: a row changed and a status purged while disconnected are repaired', async (t) => {
  const observed = new Observed();
  // No sweep in this test: only the reconnect's full resync can find the purge.
  const stack = await stackFor(t, { resyncIntervalMs: 3_600_000 }, observed);
  const scope = { org: 'reconnect', project: 'p1' };
  const { portIds, mac, ip } = await network(stack, scope, 2);
  const port = portIds[0]!;
  await stack.engine.reconciler.idle();
  t.is(observed.resyncs, 1, 'the full resync at takeover');

  const jsm = await jetstreamManager(stack.nc);
  const { dir } = stack.northbound;
  await stack.northbound.stop();
  await run('ovsdb-tool', ['transact', join(dir, 'ovnnb_db.db'), JSON.stringify(['OVN_Northbound', {
    op: 'update', table: 'Logical_Switch_Port', where: [['name', '==', port]], row: { addresses: ['set', ['02:00:00:00:00:99 10.0.0.99']] },
  }])]);
  const { stdout } = await run('ovsdb-tool', ['query', join(dir, 'ovnnb_db.db'), JSON.stringify(['OVN_Northbound', {
    op: 'select', table: 'Logical_Switch_Port', where: [['name', '==', port]], columns: ['addresses'],
  }])]);
  t.true(stdout.includes('02:00:00:00:00:99 10.0.0.99'), 'the row changed while the engine was away');
  await jsm.streams.purge(statusStream, { filter: statusSubject(scope, 'port', port) });
  const northbound = await startNorthbound({ dir });
  t.teardown(() => northbound.stop());

  await eventually(async () => (await nbRows(northbound, 'Logical_Switch_Port', ['addresses'], [`name=${port}`]))[0]?.addresses === `${mac} ${ip}`, 20_000, 'addresses restored');
  t.like(await eventually(() => storedStatus(jsm, 'novanet', scope, 'port', port), 20_000, 'the purged status republished'), { phase: 'Ready' });
  await eventually(() => observed.resyncs >= 2, 20_000, 'the reconnect\'s full resync reported done');
  t.is(observed.sweeps.length, 0, 'no sweep ran');
});

/**
 * The engine's reconciler stands down and a second one follows the same log and Northbound (it
 * takes over with a newer token when the test says), its read of the stored statuses `latest`.
 */
async function secondReconciler(t: ExecutionContext, stack: Stack, latest: (publisher: StatusPublisher, signal?: AbortSignal) => Promise<StoredStatus[]>): Promise<Reconciler> {
  await stack.engine.reconciler.idle();
  await stack.engine.reconciler.standDown();
  const js = jetstream(stack.nc);
  const jsm = await jetstreamManager(stack.nc);
  const publisher = new StatusPublisher(stack.nc, js, jsm, subjects('novanet'), statusStream);
  const sink = {
    publish: (statuses: Parameters<StatusPublisher['publish']>[0]) => publisher.publish(statuses),
    latest: (signal?: AbortSignal) => latest(publisher, signal),
    latestOf: (resources: Parameters<StatusPublisher['latestOf']>[0]) => publisher.latestOf(resources),
  };
  const ovsdb = await OvsdbClient.connect({ remote: stack.northbound.remote });
  t.teardown(() => ovsdb.close());
  const reconciler = new Reconciler({
    source: new EventLog(stack.nc, js, jsm, streamNames('novanet').events, subjects('novanet')), ovsdb, statusSink: sink,
    ownership: { owner: 'novanet' }, logger: pino({ level: 'silent' }), resyncIntervalMs: 3_600_000,
  });
  await reconciler.start();
  return reconciler;
}

/** A read of the stored statuses held until `release`; `reads` counts those begun. */
function heldRead() {
  let release!: () => void;
  const held = new Promise<void>((resolve) => { release = resolve; });
  const read = { reads: 0, release: () => release(), latest: async (publisher: StatusPublisher) => { read.reads++; await held; return publisher.latest(); } };
  return read;
}

test.serial('resync - a commit is reconciled and its status published before the stored statuses are read', async (t) => {
  const stack = await stackFor(t, { resyncIntervalMs: 3_600_000 }, new Observed());
  const scope = { org: 'first', project: 'p1' };
  const { subnetId } = await network(stack, scope, 1);
  const read = heldRead();
  const reconciler = await secondReconciler(t, stack, read.latest);
  t.teardown(() => reconciler.stop());
  reconciler.takeOver({ token: 1_000_000, holder: 'test' });
  await eventually(() => read.reads === 1, 10_000, 'the full resync reading the stored statuses');

  const created = await stack.client.call(scope, 'port.create', { subnetId });
  const portId = (created.result.port as { id: string }).id;
  const ready = await stack.client.waitFor(scope, 'port', portId, (s) => s.phase === 'Ready' && s.observedSeq >= created.seq);
  t.like(ready, { id: portId });
  t.is(reconciler.observedSeq, created.seq, 'the second reconciler folded the commit');
  t.is((await nbRows(stack.northbound, 'Logical_Switch_Port', ['name'], [`name=${portId}`])).length, 1, 'its rows written by the second reconciler');
  read.release();
  await eventually(async () => { await reconciler.idle(); return true; }, 10_000, 'the full resync done');
});

test.serial('resync - a commit folded while standing by is reconciled at takeover, before the stored statuses are read', async (t) => {
  const stack = await stackFor(t, { resyncIntervalMs: 3_600_000 }, new Observed());
  const scope = { org: 'standby', project: 'p1' };
  const { subnetId } = await network(stack, scope, 1);
  const read = heldRead();
  const reconciler = await secondReconciler(t, stack, read.latest);
  t.teardown(() => reconciler.stop());

  // Nobody writes: the commit is folded by the standby, and waits for it to take over.
  const created = await stack.client.call(scope, 'port.create', { subnetId });
  const portId = (created.result.port as { id: string }).id;
  await eventually(() => reconciler.observedSeq >= created.seq, 10_000, 'the standby folded the commit');
  reconciler.takeOver({ token: 1_000_000, holder: 'test' });
  await eventually(() => read.reads === 1, 10_000, 'the full resync reading the stored statuses');
  const ready = await stack.client.waitFor(scope, 'port', portId, (s) => s.phase === 'Ready' && s.observedSeq >= created.seq, 10_000);
  t.like(ready, { id: portId });
  t.is(read.reads, 1, 'the stored statuses are still being read');
  read.release();
  await eventually(async () => { await reconciler.idle(); return true; }, 10_000, 'the full resync done');
});

test.serial('resync - a stop does not wait for a full resync\'s read of the stored statuses (at 100k ports ~3 s, past the stop\'s deadline)', async (t) => {
  const stack = await stackFor(t, { resyncIntervalMs: 3_600_000 }, new Observed());
  await network(stack, { org: 'stopping', project: 'p1' }, 1);
  let reads = 0;
  let abandoned = false;
  // A read that lasts until it is abandoned.
  const reconciler = await secondReconciler(t, stack, (_, signal) => {
    reads++;
    return new Promise((_resolve, reject) => signal?.addEventListener('abort', () => { abandoned = true; reject(new Error('abandoned')); }));
  });
  reconciler.takeOver({ token: 1_000_000, holder: 'test' });
  await eventually(() => reads === 1, 10_000, 'the full resync reading the stored statuses');
  const started = performance.now();
  await reconciler.stop();
  t.true(abandoned, 'the read was abandoned');
  t.true(performance.now() - started < 1000, `stopped in ${Math.round(performance.now() - started)} ms`);
});
