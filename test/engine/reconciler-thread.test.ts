import { readdir, readFile } from 'node:fs/promises';
import { getPriority } from 'node:os';
import { performance } from 'node:perf_hooks';
import test from 'ava';
import { pino } from 'pino';
import { startNorthbound } from '../../src/sandbox/mod.js';
import { RECONCILER_NICE, RECONCILER_THREAD_NAME, UNRESPONSIVE_MS } from '../../src/engine/reconciler-protocol.js';
import { leaseHolder } from '../support/processes.js';
import { reconcilerHook } from '../support/reconciler-hook.js';
import { eventually, startStack } from '../support/stack.js';

// The reconciler runs on a thread of its own (src/engine/reconciler-thread.ts): these show what
// that buys and what the engine does when that thread fails.

test('reconciler thread - while the reconciler\'s loop is held for 2 s, commands are answered at once; their ports are Ready after', async (t) => {
  const stack = await startStack({ hooked: true, config: { resyncIntervalMs: 600_000 } });
  t.teardown(() => stack.stop());
  const hook = reconcilerHook(stack.config.natsUrl);
  t.teardown(() => hook.close());
  const { client } = stack;
  const scope = { org: 'busy', project: 'p1' };
  const vpc = (await client.call(scope, 'vpc.create', { name: 'v' })).result.vpc as { id: string };
  const subnet = (await client.call(scope, 'subnet.create', { vpcId: vpc.id, name: 's' })).result.subnet as { id: string };
  await client.waitFor(scope, 'subnet', subnet.id, (s) => s.phase === 'Ready');

  const blocking = hook.next('blocking');
  const started = performance.now();
  const held = hook.ask({ action: 'block', ms: 2000 }).then(() => performance.now());
  await blocking;
  const answered: { id: string; seq: number; ms: number }[] = [];
  for (let i = 0; i < 10; i++) {
    const sent = performance.now();
    const reply = await client.call(scope, i % 2 === 0 ? 'port.create' : 'port.list', i % 2 === 0 ? { subnetId: subnet.id } : {});
    if (i % 2 === 0) answered.push({ id: (reply.result.port as { id: string }).id, seq: reply.seq, ms: performance.now() - sent });
    else answered.push({ id: '', seq: 0, ms: performance.now() - sent });
  }
  const commandsDone = performance.now();
  const released = await held;
  t.true(released - started >= 2000, 'the reconciler\'s loop was held');
  t.true(commandsDone < released, 'every command was answered while it was held');
  const slowest = Math.max(...answered.map((a) => a.ms));
  t.log(`10 commands answered in ${Math.round(commandsDone - started)} ms of the reconciler's 2 s hold; the slowest took ${Math.round(slowest)} ms`);
  t.true(slowest < 500, `no command waited for the reconciler (slowest ${Math.round(slowest)} ms)`);
  for (const port of answered.filter((a) => a.id !== '')) {
    await client.waitFor(scope, 'port', port.id, (s) => s.phase === 'Ready' && s.observedSeq >= port.seq);
  }
});

test.serial('reconciler thread - on Linux the thread is named, so /proc and top -H tell its CPU from the command path\'s, and it runs at a lower priority than the command path', async (t) => {
  // Serial: no other test's engine starts or stops meanwhile.
  const before = await threads();
  const stack = await startStack();
  t.teardown(() => stack.stop());
  const after = await threads();
  const reconcilers = (list: readonly Thread[]) => list.filter((thread) => thread.name === RECONCILER_THREAD_NAME);
  t.is(reconcilers(after).length, reconcilers(before).length + 1);
  // The process's own (main) thread keeps its name and its priority; the reconciler's is lower.
  const main = after[0]!;
  t.is(main.name, before[0]!.name);
  t.is(main.nice, getPriority(process.pid));
  const started = reconcilers(after).find((thread) => !reconcilers(before).some((b) => b.tid === thread.tid))!;
  t.is(started.nice, Math.min(19, main.nice + RECONCILER_NICE));
});

interface Thread { readonly tid: string; readonly name: string; readonly nice: number }

/** This process's threads, its main thread's first. */
async function threads(): Promise<Thread[]> {
  const tids = (await readdir('/proc/self/task')).sort((a, b) => (a === String(process.pid) ? -1 : b === String(process.pid) ? 1 : 0));
  // A thread may end between the listing and the read. stat's 19th field is the nice value (proc(5)).
  const read = async (tid: string): Promise<Thread> => {
    const stat = await readFile(`/proc/self/task/${tid}/stat`, 'utf8');
    return { tid, name: (await readFile(`/proc/self/task/${tid}/comm`, 'utf8')).trim(), nice: Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]) };
  };
  return (await Promise.all(tids.map((tid) => read(tid).catch(() => undefined)))).filter((thread) => thread !== undefined);
}

test('reconciler thread - an error thrown for a request comes back as an Error with its name and message', async (t) => {
  const stack = await startStack();
  t.teardown(() => stack.stop());
  // A record that is no commit: the fold in the thread throws on it.
  const err = await t.throwsAsync(stack.engine.reconciler.plan(stack.engine.intake.view, { seq: 1, commit: {} as never }));
  t.is(err?.name, 'TypeError');
  t.regex(err?.message ?? '', /Cannot read properties of undefined/);
  // The thread goes on.
  await stack.engine.reconciler.idle();
  t.true(stack.engine.connected().reconciler);
});

test('reconciler thread - a thread that dies is logged as fatal and fails readiness; requests reject with why; the engine still stops', async (t) => {
  const lines: { level: number; msg: string; err?: { message: string } }[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => { lines.push(JSON.parse(line) as { level: number; msg: string }); } });
  const stack = await startStack({ hooked: true, logger });
  t.teardown(() => stack.stop());
  const hook = reconcilerHook(stack.config.natsUrl);
  t.teardown(() => hook.close());
  await stack.engine.reconciler.idle();
  t.true(stack.engine.connected().reconciler);

  await hook.ask({ action: 'crash', message: 'the reconciler broke' });
  const why = await stack.engine.reconcilerDied;
  t.is(why.message, 'the reconciler broke');
  t.false(stack.engine.connected().reconciler, 'readiness fails');
  await eventually(() => lines.some((l) => l.level === 60 && l.err?.message === 'the reconciler broke'), 5000, 'the fatal line');
  await t.throwsAsync(stack.engine.reconciler.idle(), { message: 'the reconciler broke' });
  // The command path still answers; the engine stops in time.
  t.deepEqual((await stack.client.call({ org: 'dead', project: 'p1' }, 'vpc.list', {})).result.vpcs, []);
  t.is(await stack.engine.stop(), 'clean');
});

test('reconciler thread - when told the Northbound session dropped or came back, the engine\'s readiness already says so', async (t) => {
  const stack = await startStack({ config: { resyncIntervalMs: 600_000 } });
  t.teardown(() => stack.stop());
  await stack.engine.reconciler.idle();
  // What a listener reads at each event: `connected()` is what /ready answers from.
  const seen: { event: string; northbound: boolean }[] = [];
  t.teardown(stack.engine.reconciler.onNorthboundConnection((event) => seen.push({ event, northbound: stack.engine.connected().northbound })));
  const { dir } = stack.northbound;
  await stack.northbound.stop();
  await eventually(() => seen.length >= 1, 10_000, 'the drop told');
  const northbound = await startNorthbound({ dir });
  t.teardown(() => northbound.stop());
  await eventually(() => seen.length >= 2, 20_000, 'the reconnect told');
  t.deepEqual(seen, [{ event: 'disconnected', northbound: false }, { event: 'connected', northbound: true }]);
});

test('reconciler thread - a loop held longer than the lease\'s TTL keeps the lease; held past UNRESPONSIVE_MS it fails readiness and lets the lease run out, and takes it again once it turns', async (t) => {
  t.timeout(UNRESPONSIVE_MS + 30_000);
  const stack = await startStack({ hooked: true });
  t.teardown(() => stack.stop());
  t.true(stack.engine.reconciler.writing, 'writing once its start resolved (a lease taken at start is the thread\'s by then)');
  const hook = reconcilerHook(stack.config.natsUrl);
  t.teardown(() => hook.close());
  await stack.engine.reconciler.idle();
  const holder = await leaseHolder(stack.nc);
  t.truthy(holder, 'the lone engine holds the lease');
  t.true(stack.engine.connected().reconcilerResponsive, 'responsive before');
  const blocking = hook.next('blocking');
  // Held past UNRESPONSIVE_MS by more than the lease's TTL, so that the lease runs out meanwhile.
  const held = hook.ask({ action: 'block', ms: UNRESPONSIVE_MS + 6000 });
  await blocking;
  const blockedAt = performance.now();
  // Past the lease's TTL (3 s) and its renewal margin, as the Northbound's dump holds the loop at 100k ports.
  await new Promise((resolve) => setTimeout(resolve, 5000));
  t.is(await leaseHolder(stack.nc), holder, 'still held 5 s into the hold');
  await eventually(() => !stack.engine.connected().reconcilerResponsive, UNRESPONSIVE_MS + 1500, 'readiness failing while the loop is held');
  t.true(stack.engine.connected().reconciler, 'not counted as dead');
  await eventually(async () => await leaseHolder(stack.nc) === undefined, 5000, 'the lease run out');
  t.true(performance.now() - blockedAt >= UNRESPONSIVE_MS, 'only once the thread counts as not responding');
  await held;
  await eventually(() => stack.engine.connected().reconcilerResponsive, 5000, 'responsive again');
  await eventually(async () => await leaseHolder(stack.nc) === holder && stack.engine.reconciler.writing, 5000, 'the lease taken again, and writing');
});
