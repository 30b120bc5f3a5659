import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jetstreamManager } from '@nats-io/jetstream';
import type { JetStreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { NovanetClient } from '../../src/bus/client.js';
import { OvsdbClient } from '../../src/ovsdb/mod.js';
import type { Reply } from '../../src/bus/client.js';
import { streamNames } from '../../events/mod.js';
import { startNatsServer, startNorthbound } from '../../src/sandbox/mod.js';
import type { Northbound } from '../../src/sandbox/mod.js';
import { eventually, nbRows, storedStatus } from '../support/stack.js';

const cli = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

function startEngineProcess(natsUrl: string, nb: string): ChildProcess {
  return spawn(process.execPath, [cli, 'serve', '--nats', natsUrl, '--ovn-nb', nb, '--log-level', 'warn', '--resync-interval-ms', '2000'], { stdio: ['ignore', 'ignore', 'inherit'] });
}

async function retryUntilAnswered(client: NovanetClient, scope: { org: string; project: string }, op: string, payload: Record<string, unknown>): Promise<Reply> {
  for (;;) {
    try {
      return await client.request(scope, op, payload);
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

interface CrashStack {
  readonly nc: NatsConnection;
  readonly jsm: JetStreamManager;
  readonly northbound: Northbound;
  readonly client: NovanetClient;
  /** The engine process running now. */
  engine: ChildProcess;
  /** Starts the engine process again (after a kill). */
  restart(): void;
}

/** nats-server, a Northbound and the engine as a process of its own, so a test can SIGKILL it. */
async function startCrashStack(t: ExecutionContext): Promise<CrashStack> {
  const dir = await mkdtemp(join(tmpdir(), 'novanet-crash-'));
  // Registered as each part starts, so a start that fails half-way leaves nothing behind either.
  const stops: (() => Promise<unknown> | void)[] = [() => rm(dir, { recursive: true, force: true })];
  t.teardown(async () => { for (const stop of stops.reverse()) await Promise.resolve(stop()).catch(() => undefined); });
  const nats = await startNatsServer({ dir: join(dir, 'nats') });
  stops.push(() => nats.stop());
  const northbound = await startNorthbound({ dir: join(dir, 'ovn') });
  stops.push(() => northbound.stop());
  const nc = await connect({ servers: nats.url });
  stops.push(() => nc.close());
  const stack: CrashStack = {
    nc, northbound, jsm: await jetstreamManager(nc), client: new NovanetClient(nc, 'novanet', 3000),
    engine: startEngineProcess(nats.url, northbound.remote),
    restart() { stack.engine = startEngineProcess(nats.url, northbound.remote); },
  };
  stops.push(() => { stack.engine.kill('SIGKILL'); });
  return stack;
}

/** Polls the ports' latest stored statuses until each is as expected or the time is up; returns those that are not. */
async function wrongStatuses(jsm: JetStreamManager, scope: { org: string; project: string }, expected: ReadonlyMap<string, { phase: string; seq: number }>, timeoutMs = 30_000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const wrong: string[] = [];
    for (const [id, { phase, seq }] of expected) {
      const s = await storedStatus(jsm, 'novanet', scope, 'port', id);
      if (s?.phase !== phase || s.observedSeq < seq) wrong.push(`${id}: ${s ? `${s.phase} at ${s.observedSeq}` : 'none'}, expected ${phase} at >= ${seq}`);
    }
    if (wrong.length === 0 || Date.now() > deadline) return wrong;
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function createSubnet(client: NovanetClient, scope: { org: string; project: string }): Promise<string> {
  const vpc = await retryUntilAnswered(client, scope, 'vpc.create', { commandId: 'vpc', name: 'c' });
  if (!vpc.ok) throw new Error('vpc.create failed');
  const subnet = await retryUntilAnswered(client, scope, 'subnet.create', { commandId: 'subnet', vpcId: (vpc.result.vpc as { id: string }).id, name: 's', cidr: '10.0.0.0/22' });
  if (!subnet.ok) throw new Error('subnet.create failed');
  return (subnet.result.subnet as { id: string }).id;
}

test('crash - an engine killed mid-stream loses nothing and duplicates nothing, in the log, in OVN or in the statuses', async (t) => {
  const stack = await startCrashStack(t);
  const { client, jsm, northbound } = stack;
  const scope = { org: 'crash', project: 'p1' };
  const subnetId = await createSubnet(client, scope);

  const count = 300;
  const killAfter = 30;
  const first = new Map<string, Reply>();
  // The kill happens in the reply callback, not on a poll: however fast the engine is,
  // it dies with most of the stream still in flight.
  const inFlight = Array.from({ length: count }, (_, i) => client.request(scope, 'port.create', { commandId: `port-${i}`, subnetId })
    .then((r) => {
      first.set(`port-${i}`, r);
      if (first.size === killAfter) stack.engine.kill('SIGKILL');
    }, () => undefined));
  await Promise.all(inFlight);
  t.true(first.size < count, 'the kill interrupted the stream');

  stack.restart();
  const replies = await Promise.all(Array.from({ length: count }, (_, i) =>
    retryUntilAnswered(client, scope, 'port.create', { commandId: `port-${i}`, subnetId })));
  for (const [commandId, reply] of first) {
    t.deepEqual(replies[Number(commandId.slice(5))], reply, `${commandId} answered the same before and after the crash`);
  }
  t.true(replies.every((r) => r.ok));
  const ips = replies.map((r) => r.ok && (r.result.port as { ipAddress: string }).ipAddress);
  t.is(new Set(ips).size, count, 'no address handed out twice');

  t.is((await jsm.streams.info(streamNames('novanet').events)).state.messages, 2 + count, 'one commit per command');
  const lsps = await eventually(async () => {
    const rows = await nbRows(northbound, 'Logical_Switch_Port', ['name'], ['external_ids:"novanet:kind"=port']);
    return rows.length === count ? rows : undefined;
  }, 30_000, `${count} LSPs`);
  t.is(new Set(lsps.map((r) => r.name)).size, count);
  // A port whose status was lost in the kill gets it after the restart: the latest stored one is right.
  const ready = new Map<string, { phase: string; seq: number }>();
  for (const r of replies) if (r.ok) ready.set((r.result.port as { id: string }).id, { phase: 'Ready', seq: r.seq });
  t.deepEqual(await wrongStatuses(jsm, scope, ready), []);
});

test('crash - an engine killed in a stream of deletes reports every deleted port Deleted after the restart', async (t) => {
  const stack = await startCrashStack(t);
  const { client, jsm, northbound } = stack;
  const scope = { org: 'crash', project: 'p2' };
  const subnetId = await createSubnet(client, scope);
  const count = 300;
  const deleted = 200;
  const ports = await Promise.all(Array.from({ length: count }, async (_, i) => {
    const reply = await client.request(scope, 'port.create', { commandId: `port-${i}`, subnetId });
    if (!reply.ok) throw new Error(`port.create failed: ${reply.error.code}`);
    return { id: (reply.result.port as { id: string }).id, seq: reply.seq };
  }));
  // Positive control: before the kill every port's latest stored status is Ready.
  t.deepEqual(await wrongStatuses(jsm, scope, new Map(ports.map((p) => [p.id, { phase: 'Ready', seq: p.seq }]))), []);

  // One delete after the other, and the kill comes the moment the Northbound reports the tenth
  // port's rows gone: the engine has committed that delete and is about to publish its status,
  // the window a random kill hits only now and then.
  const watcher = await OvsdbClient.connect({ remote: northbound.remote });
  t.teardown(() => watcher.close());
  await watcher.monitor({ Logical_Switch_Port: {} });
  const victim = stack.engine;
  let rowsGone = 0;
  watcher.onUpdate((updates) => {
    rowsGone += updates.filter((u) => u.old && !u.new).length;
    if (rowsGone >= 10) victim.kill('SIGKILL');
  });
  const acknowledged = new Map<string, number>();
  for (const p of ports.slice(0, deleted)) {
    const reply = await client.request(scope, 'port.delete', { commandId: `delete-${p.id}`, portId: p.id }).catch(() => undefined);
    if (!reply?.ok) break;
    acknowledged.set(p.id, reply.seq);
  }
  t.true(rowsGone > 0 && acknowledged.size < deleted, 'the kill interrupted the stream of deletes, after some rows were gone');

  stack.restart();
  // A delete in flight at the kill may have been committed without its reply reaching us:
  // the log decides, and port.get answers from it.
  const expected = new Map<string, { phase: string; seq: number }>();
  for (const [i, p] of ports.entries()) {
    const reply = await retryUntilAnswered(client, scope, 'port.get', { portId: p.id });
    if (acknowledged.has(p.id)) t.false(reply.ok, `${p.id}: its acknowledged delete is in the log`);
    if (i >= deleted) t.true(reply.ok, `${p.id}: never deleted`);
    expected.set(p.id, reply.ok ? { phase: 'Ready', seq: p.seq } : { phase: 'Deleted', seq: acknowledged.get(p.id) ?? p.seq });
  }
  t.deepEqual(await wrongStatuses(jsm, scope, expected), []);
  const remaining = [...expected.values()].filter((e) => e.phase === 'Ready').length;
  t.true(remaining >= count - deleted && remaining <= count - acknowledged.size);
  await eventually(async () => (await nbRows(northbound, 'Logical_Switch_Port', ['name'], ['external_ids:"novanet:kind"=port'])).length === remaining, 30_000, `${remaining} LSPs`);
});
