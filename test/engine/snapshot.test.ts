import test from 'ava';
import type { ExecutionContext } from 'ava';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { isQuarantined, streamNames, subjects } from '../../events/mod.js';
import type { Reply, Scope } from '../../events/mod.js';
import { evolve, evolveCommands, initialCommandView, initialView } from '../../projections/mod.js';
import type { CommandView, View } from '../../projections/mod.js';
import { EventLog } from '../../src/bus/log.js';
import { SnapshotStore } from '../../src/bus/snapshot.js';
import type { Engine } from '../../src/engine/engine.js';
import { eventually, startStack } from '../support/stack.js';
import type { Stack } from '../support/stack.js';

/**
 * Snapshots of the views (src/bus/snapshot.ts, src/engine/snapshots.ts) are a cache: a start
 * from one gives both views deep-equal to a fold of the whole log and the same replies as a
 * start without one, whether it is missing, garbage or older than the log's head.
 */

let stack: Stack;
const EVERY = 5;
test.before(async () => { stack = await startStack({ config: { snapshotEvery: EVERY } }); });
test.after.always(async () => { await stack?.stop(); });

const scope: Scope = { org: 'snap', project: 'p1' };
const store = async () => new SnapshotStore(stack.nc, await jetstreamManager(stack.nc), streamNames('novanet').snapshot, subjects('novanet'));
const eventLog = async () => new EventLog(stack.nc, jetstream(stack.nc), await jetstreamManager(stack.nc), streamNames('novanet').events, subjects('novanet'));

/** Both views folded from the whole log, as a start without a snapshot folds them. */
async function fullFold(retention = { ms: stack.config.idempotencyRetentionMs, perScope: stack.config.idempotencyRetentionCommands }): Promise<{ view: View; commands: CommandView }> {
  const log = await eventLog();
  const view = initialView();
  const commands = initialCommandView(retention);
  for await (const record of log.read(1, await log.lastSeq())) {
    if (isQuarantined(record)) continue;
    evolve(view, record);
    evolveCommands(commands, record);
  }
  return { view, commands };
}

/** The intake's idempotency view (private: compared here as the replies depend on it). */
const commandsOf = (engine: Engine): CommandView => (engine.intake as unknown as { commands: CommandView }).commands;

async function assertFolded(t: ExecutionContext, engine: Engine, what: string): Promise<void> {
  const full = await fullFold();
  t.deepEqual(engine.intake.view, full.view, `${what}: the intake's view`);
  t.deepEqual(await engine.reconciler.renderedView(), full.view, `${what}: the reconciler's view`);
  t.deepEqual(commandsOf(engine), full.commands, `${what}: the idempotency view`);
}

/** Commands with commandIds, of several kinds, with deletes and a bulk create; returns each one's request and reply. */
async function work(tag: string): Promise<{ operation: string; payload: Record<string, unknown>; reply: Reply }[]> {
  const done: { operation: string; payload: Record<string, unknown>; reply: Reply }[] = [];
  const run = async (operation: string, payload: Record<string, unknown>) => {
    const reply = await stack.client.request(scope, operation, { commandId: `${tag}-${done.length}`, ...payload });
    if (!reply.ok) throw new Error(`${operation}: ${JSON.stringify(reply.error)}`);
    done.push({ operation, payload, reply });
    return reply.result;
  };
  const vpc = (await run('vpc.create', { name: tag })).vpc as { id: string };
  const subnet = (await run('subnet.create', { vpcId: vpc.id, name: 's' })).subnet as { id: string };
  const ports = await Promise.all([0, 1, 2].map(async () => ((await run('port.create', { subnetId: subnet.id })).port as { id: string }).id));
  await run('port.delete', { portId: ports[0] });
  await run('securitygroup.create', { vpcId: vpc.id, name: 'web' });
  await run('port.create', { ports: [{ subnetId: subnet.id }, { subnetId: subnet.id }] });
  return done;
}

async function assertRepeats(t: ExecutionContext, done: Awaited<ReturnType<typeof work>>, what: string): Promise<void> {
  for (const [i, { operation, payload, reply }] of done.entries()) {
    t.deepEqual(await stack.client.request(scope, operation, { commandId: reply.ok ? reply.commandId : '', ...payload }), reply, `${what}: repeat ${i} (${operation})`);
  }
}

test.serial('snapshot - a restart starts from the snapshot taken at the stop: both views and the idempotency view are the full fold, repeats get their replies', async (t) => {
  const done = await work('a');
  const log = await eventLog();
  const head = await log.lastSeq();
  const restarted = await stack.restartEngine();
  t.is(restarted.startedFrom, head, 'the stop\'s snapshot is at the log\'s head');
  await assertFolded(t, restarted, 'from the snapshot');
  await assertRepeats(t, done, 'from the snapshot');
  t.is(await log.lastSeq(), head, 'repeats append nothing');
});

test.serial('snapshot - a snapshot older than the log: the tail after it is folded in, repeats from before and after it get their replies', async (t) => {
  const before = await work('b');
  const s = await store();
  const old = await s.load();
  if ('reason' in old) throw new Error(old.reason);
  const after = await work('c');
  const restarted = await stack.restartEngine(async () => {
    // The stop stored a newer one: put the older one back.
    await s.clear();
    await s.save(old.seq, old.bytes);
  });
  t.is(restarted.startedFrom, old.seq);
  t.true(old.seq < await (await eventLog()).lastSeq());
  await assertFolded(t, restarted, 'from an older snapshot');
  await assertRepeats(t, [...before, ...after], 'from an older snapshot');
});

test.serial('snapshot - taken every N records while commands go on: a restart from one of them folds the tail', async (t) => {
  const s = await store();
  await s.clear();
  const done = await work('d');
  // Taken while commands went on, and stored a little later (the store does not hold the command path).
  const periodic = await eventually(async () => { const loaded = await s.load(); return 'reason' in loaded ? undefined : loaded; }, 10_000, 'a snapshot taken while commands went on');
  const restarted = await stack.restartEngine(async () => {
    await s.clear();
    await s.save(periodic.seq, periodic.bytes);
  });
  t.true(restarted.startedFrom > 0);
  await assertFolded(t, restarted, 'from a periodic snapshot');
  await assertRepeats(t, done, 'from a periodic snapshot');
});

test.serial('snapshot - deleted or garbage: the whole log is folded, with the same views and replies', async (t) => {
  const done = await work('e');
  const s = await store();
  const deleted = await stack.restartEngine(() => s.clear());
  t.is(deleted.startedFrom, 0);
  await assertFolded(t, deleted, 'without a snapshot');
  await assertRepeats(t, done, 'without a snapshot');

  // The stop stores a snapshot of the fold each time (the first since the start): its bytes are spoilt.
  const spoil: [string, (bytes: Uint8Array) => Uint8Array][] = [
    ['garbage of its length', (bytes) => new Uint8Array(bytes.length).fill(0x78)],
    ['a byte of its body changed', (bytes) => { const spoilt = Uint8Array.from(bytes); spoilt[spoilt.length - 2] = spoilt[spoilt.length - 2]! ^ 1; return spoilt; }],
    ['cut short', (bytes) => bytes.subarray(0, bytes.length - 1)],
  ];
  for (const [what, spoilt] of spoil) {
    const restarted = await stack.restartEngine(async () => {
      const stored = await s.load();
      if ('reason' in stored) throw new Error(stored.reason);
      await jetstream(stack.nc).publish(subjects('novanet').snapshotChunk(stored.seq, 0), spoilt(stored.bytes));
    });
    t.is(restarted.startedFrom, 0, `${what}: not loaded`);
    await assertFolded(t, restarted, what);
    await work(`e-${what.length}`);
  }
  await assertRepeats(t, done, 'after spoilt snapshots');
});

test.serial('snapshot - one taken with another idempotency retention is not loaded', async (t) => {
  await work('f');
  const other = await startStack({ config: { snapshotEvery: EVERY, idempotencyRetentionCommands: 3 } });
  t.teardown(() => other.stop());
  await other.client.call(scope, 'vpc.create', { name: 'v' });
  const snapshots = new SnapshotStore(other.nc, await jetstreamManager(other.nc), streamNames('novanet').snapshot, subjects('novanet'));
  const restarted = await other.restartEngine(async () => {
    const taken = await snapshots.load();
    if ('reason' in taken) throw new Error(taken.reason);
    // The same snapshot, found by an engine with the default retention.
    (other.config as { idempotencyRetentionCommands: number }).idempotencyRetentionCommands = stack.config.idempotencyRetentionCommands;
  });
  t.is(restarted.startedFrom, 0);
});
