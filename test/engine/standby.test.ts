import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import test from 'ava';
import { pino } from 'pino';
import { NovanetClient } from '../../src/bus/client.js';
import { startEngine } from '../../src/engine/engine.js';
import { startNatsServer, startNorthbound } from '../../src/sandbox/mod.js';
import { eventually, startStack } from '../support/stack.js';
import { leaseHolder, PortLoad, ReadyWatch, startEngineProcess, untilAnswered, writerChanges, writerTransactions } from '../support/processes.js';
import type { EngineProcess } from '../support/processes.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('standby - two engines on one log both serve interleaved commands without a spurious refusal; one of them writes the Northbound', async (t) => {
  const stack = await startStack();
  t.teardown(() => stack.stop());
  const second = await startEngine(stack.config, pino({ level: process.env.NOVANET_TEST_LOG ?? 'silent' }));
  t.teardown(() => second.stop());
  t.not(stack.engine.reconciler.writing, second.reconciler.writing, 'exactly one engine writes');

  const scope = { org: 'standby', project: 'p1' };
  const replies = [];
  // Each command depends on the one before, and the queue group hands them to either engine.
  for (let i = 0; i < 20; i++) {
    const vpc = await stack.client.request(scope, 'vpc.create', { name: `v${i}`, cidr: `10.${i}.0.0/16` });
    replies.push(vpc);
    if (!vpc.ok) continue;
    const subnet = await stack.client.request(scope, 'subnet.create', { vpcId: (vpc.result.vpc as { id: string }).id, name: 's' });
    replies.push(subnet);
    if (!subnet.ok) continue;
    replies.push(await stack.client.request(scope, 'port.create', { subnetId: (subnet.result.subnet as { id: string }).id }));
  }
  t.deepEqual(replies.filter((r) => !r.ok), [], 'no command refused');
  t.is(replies.length, 60);
  t.true(stack.engine.intake.view.seq > 0 && second.intake.view.seq > 0, 'both engines decided commands');
  const ports = await stack.client.call(scope, 'port.list', {});
  for (const port of ports.result.ports as { id: string }[]) await stack.client.waitFor(scope, 'port', port.id, (s) => s.phase === 'Ready', 20_000);
});

test('standby - the writer killed, then paused: the standby takes over within 5 s each time, and the Northbound\'s own log shows one writer at a time', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'novanet-standby-'));
  const stops: (() => Promise<unknown> | void)[] = [() => rm(dir, { recursive: true, force: true })];
  t.teardown(async () => { for (const stop of stops.reverse()) await Promise.resolve(stop()).catch(() => undefined); });
  const nats = await startNatsServer({ dir: join(dir, 'nats') });
  stops.push(() => nats.stop());
  const northbound = await startNorthbound({ dir: join(dir, 'ovn') });
  stops.push(() => northbound.stop());
  const nc = await connect({ servers: nats.url });
  stops.push(() => nc.close());
  const client = new NovanetClient(nc, 'novanet', 2000);

  let n = 0;
  const engine = async (): Promise<EngineProcess> => {
    const log = join(dir, `engine-${++n}.log`);
    const e = startEngineProcess(['--nats', nats.url, '--ovn-nb', northbound.remote, '--resync-interval-ms', '2000'], log);
    stops.push(() => { e.kill('SIGCONT'); e.kill(); });
    await eventually(async () => (await readFile(log, 'utf8')).includes('novanet engine ready'), 30_000, `engine ${n} ready`);
    return e;
  };
  const a = await engine();
  t.is(await leaseHolder(nc), a.holder, 'the first engine holds the lease');
  const b = await engine();
  t.is(await leaseHolder(nc), a.holder, 'the second one stands by');

  const scope = { org: 'standby', project: 'p2' };
  const vpc = await untilAnswered(client, scope, 'vpc.create', { commandId: 'vpc', name: 'v' });
  // A /18: room for every port the load creates (a full subnet would be POOL_EXHAUSTED, a refusal).
  const subnet = await untilAnswered(client, scope, 'subnet.create', { commandId: 'subnet', vpcId: (vpc.ok && (vpc.result.vpc as { id: string }).id) || '', name: 's', cidr: '10.0.0.0/18' });
  t.true(subnet.ok);
  const watch = await ReadyWatch.start(nc, scope);
  stops.push(() => watch.stop());
  const load = new PortLoad(client, scope, subnet.ok ? (subnet.result.subnet as { id: string }).id : '', 'load');
  load.start(4);
  stops.push(() => load.stop());

  /** From now until `holder` holds the lease. */
  const takeover = async (holder: string, from: number): Promise<number> => {
    await eventually(async () => await leaseHolder(nc) === holder, 30_000, `${holder} holding the lease`);
    return Date.now() - from;
  };

  await sleep(1500);
  const killedAt = Date.now();
  a.kill('SIGKILL');
  const afterKill = await takeover(b.holder, killedAt);
  const ackedBeforeKill = load.acked.filter((p) => p.at <= killedAt);
  await sleep(1500);

  // A restarted engine stands by; then the writer freezes (a long GC pause, a stopped VM) past its lease.
  const c = await engine();
  t.is(await leaseHolder(nc), b.holder);
  const pausedAt = Date.now();
  b.kill('SIGSTOP');
  const afterPause = await takeover(c.holder, pausedAt);
  await sleep(2000);
  b.kill('SIGCONT');
  await sleep(2000);
  await load.stop();
  t.is(await leaseHolder(nc), c.holder, 'the paused writer, resumed, did not take the lease back');

  t.deepEqual(load.refused, [], 'no command refused');
  const lastAck = Math.max(...load.acked.map((p) => p.at));
  const late = await eventually(() => {
    const missing = watch.notReadyBy(load.acked, Number.POSITIVE_INFINITY);
    return missing.length === 0 ? [] : undefined;
  }, 30_000, 'every acknowledged port Ready').catch(() => watch.notReadyBy(load.acked, Number.POSITIVE_INFINITY));
  t.deepEqual(late, [], 'every acknowledged port is Ready');
  const readyAfterKill = Math.max(0, ...ackedBeforeKill.map((p) => (watch.readyAt.get(p.id)?.at ?? Number.POSITIVE_INFINITY) - killedAt));

  // The Northbound's transaction log: every novanet transaction names its writer and token.
  const log = await writerTransactions(join(northbound.dir, 'ovnnb_db.db'));
  const changes = writerChanges(log);
  t.deepEqual(changes.map((c) => c.holder), [a.holder, b.holder, c.holder], 'three writers, one after the other, none interleaved');
  t.log(`ports: ${load.acked.length} acknowledged, last at +${lastAck - killedAt} ms after the kill; ${log.length} novanet transactions in the Northbound log`);
  t.log(`takeover after SIGKILL: ${afterKill} ms; after SIGSTOP: ${afterPause} ms; ports acknowledged before the kill all Ready ${readyAfterKill} ms after it`);
  t.true(afterKill <= 5000, `takeover after the kill took ${afterKill} ms`);
  t.true(afterPause <= 5000, `takeover after the pause took ${afterPause} ms`);
  t.regex(await readFile(join(dir, 'engine-2.log'), 'utf8'), /writer lease lost|another engine writes the Northbound now/, 'the resumed writer knows it lost');
});
