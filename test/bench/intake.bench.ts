import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { subjects } from '../../events/mod.js';
import type { Commit } from '../../events/mod.js';
import { NovanetClient } from '../../src/bus/client.js';
import { CommandEndpoint } from '../../src/bus/command-endpoint.js';
import { Intake } from '../../src/intake/intake.js';
import { EventLog } from '../../src/bus/log.js';
import { ensureStreams } from '../../src/bus/streams.js';
import { DEFAULT_DECIDE_CONFIG } from '../../src/commands/mod.js';
import { DEFAULT_ADMIN_REPLY_PREFIXES, DEFAULT_REPLY_PREFIXES, EngineConfig } from '../../src/engine/config.js';
import { startEngine } from '../../src/engine/engine.js';
import { benchScope, History } from './history.js';
import { APPEND_WINDOW, appendPipelined, connectJetStream, freshNorthbound, inWorker } from './infra.js';
import type { BenchEnv } from './infra.js';
import { fmt, percentile, perSecond, section, timed } from './report.js';
import type { Row } from './report.js';
import type { Sent } from './sender.js';

const COMMANDS = 2000;
const WARMUP_COMMANDS = 200;
const APPENDS = 2000;
const silent = pino({ level: 'silent' });

/** Something that answers commands on a prefix: the whole engine, or the intake alone. */
interface Target {
  readonly name: string;
  readonly prefix: string;
  /** Resolves once the work a run caused after its replies is done, so it stays out of the next run's clock. */
  settle(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Intake throughput: N port.create commands through NovanetClient, all at once (the
 * intake pipelines up to 256 fenced appends) against the same N sent one after
 * another (one append in flight, so every command pays a full round trip to JetStream).
 * Measured against the running engine, where one-by-one also means one reconciler pass
 * per commit on the same event loop, and against the intake alone, which isolates the
 * pipelining. Each run gets a subnet of its own, so both pay the same IPAM cost. The
 * commands come from a worker thread, as from another process.
 */
export async function benchIntake(env: BenchEnv): Promise<Row[]> {
  const rows: Row[] = [];
  for (const start of [runningEngine, intakeAlone]) {
    const target = await start(env);
    rows.push(await compareSending(env, target));
    await target.stop();
  }
  rows.push(await benchAppends(env));
  return rows;
}

async function runningEngine(env: BenchEnv): Promise<Target> {
  const nb = await freshNorthbound(env, 'nb-intake');
  const prefix = 'benchengine';
  // No periodic resync during the measurement: it would re-render every port at a random moment.
  const config = EngineConfig.parse({ natsUrl: env.nats.url, ovnNb: nb.remote, prefix, resyncIntervalMs: 3_600_000, logLevel: 'silent' });
  const engine = await startEngine(config, silent);
  const stopEngine = env.cleanup.adopt(() => engine.stop());
  return {
    name: 'engine', prefix,
    async settle() {
      const head = engine.intake.view.seq;
      while (engine.reconciler.observedSeq < head) await sleep(20);
      await engine.reconciler.idle();
    },
    async stop() {
      await stopEngine();
      await nb.stop();
    },
  };
}

/** The engine's write side without its reconciler: decide, append, reply. */
async function intakeAlone(env: BenchEnv): Promise<Target> {
  const { nc, js, jsm } = await connectJetStream(env);
  const prefix = 'benchintake';
  const log = new EventLog(nc, js, jsm, (await ensureStreams(jsm, prefix, 1)).events, subjects(prefix));
  const intake = new Intake({ log, config: DEFAULT_DECIDE_CONFIG, logger: silent });
  const endpoint = new CommandEndpoint({ nc, intake, subjects: subjects(prefix), prefix, logger: silent, replyPrefixes: DEFAULT_REPLY_PREFIXES, adminReplyPrefixes: DEFAULT_ADMIN_REPLY_PREFIXES });
  await intake.start();
  await endpoint.start();
  // Nothing runs after a reply here: there is nothing to settle.
  return { name: 'intake alone', prefix, settle: () => Promise.resolve(), stop: env.cleanup.adopt(async () => { await endpoint.stop(); await intake.stop(); }) };
}

async function compareSending(env: BenchEnv, target: Target): Promise<Row> {
  const { nc } = await connectJetStream(env);
  const client = new NovanetClient(nc, target.prefix);
  const send = async (subnetId: string, count: number, mode: 'one-by-one' | 'concurrent'): Promise<Sent> => {
    const inFlight = mode === 'one-by-one' ? 1 : count;
    const sent = await inWorker({ natsUrl: env.nats.url, prefix: target.prefix, targets: [{ scope: benchScope, subnetId }], count, inFlight, untilReady: false });
    await target.settle();
    return sent;
  };
  const [warm, oneByOneSubnet, concurrentSubnet] = await subnets(client, ['10.0.0.0/20', '10.0.16.0/20', '10.0.32.0/20']);
  await send(warm!, WARMUP_COMMANDS, 'concurrent');
  // One-by-one first: the drop group and the default group only grow, so the later run pays more.
  const oneByOne = await send(oneByOneSubnet!, COMMANDS, 'one-by-one');
  const concurrent = await send(concurrentSubnet!, COMMANDS, 'concurrent');

  const oneByOneRate = perSecond(COMMANDS, oneByOne.totalMs);
  const concurrentRate = perSecond(COMMANDS, concurrent.totalMs);
  section(`intake (${target.name}): ${COMMANDS} port.create through NovanetClient`, [
    describe('one at a time', oneByOne),
    describe('all at once  ', concurrent),
    `speed-up: ${(concurrentRate / oneByOneRate).toFixed(2)}x`,
  ]);
  return {
    name: `intake (${target.name}): ${COMMANDS} port.create`, unit: 'cmd/s', value: concurrentRate, baseline: oneByOneRate,
    ratio: concurrentRate / oneByOneRate, reads: 'concurrent / one-by-one (higher is better)',
  };
}

function describe(label: string, sent: Sent): string {
  return `${label}: ${fmt(perSecond(sent.latencies.length, sent.totalMs))} commands/s, latency p50 ${fmt(percentile(sent.latencies, 50))} ms, p99 ${fmt(percentile(sent.latencies, 99))} ms (${fmt(sent.totalMs)} ms in all)`;
}

/** A VPC and one subnet per CIDR; returns the subnet ids in order. */
async function subnets(client: NovanetClient, cidrs: readonly string[]): Promise<string[]> {
  const { result } = await client.call(benchScope, 'vpc.create', { name: 'bench', cidr: '10.0.0.0/16' });
  const vpcId = (result.vpc as { id: string }).id;
  const ids: string[] = [];
  for (const [i, cidr] of cidrs.entries()) {
    const created = await client.call(benchScope, 'subnet.create', { vpcId, name: `bench-${i}`, cidr });
    ids.push((created.result.subnet as { id: string }).id);
  }
  return ids;
}

/**
 * Raw fenced appends on EventLog, without deciding or replying: awaited one by one
 * against up to 256 in flight with chained expected sequences, as the intake sends them.
 */
async function benchAppends(env: BenchEnv): Promise<Row> {
  const { nc, js, jsm } = await connectJetStream(env);
  const prefix = 'benchlog';
  const log = new EventLog(nc, js, jsm, (await ensureStreams(jsm, prefix, 1)).events, subjects(prefix));
  const commit = samplePortCommit();
  let head = await log.lastSeq();

  const awaitedMs = await timed(async () => {
    for (let i = 0; i < APPENDS; i++) head = await log.append(commit, head);
  });
  const pipelinedMs = await timed(async () => {
    head = await appendPipelined(log, Array.from({ length: APPENDS }, () => commit), head);
  });
  if (await log.lastSeq() !== head) throw new Error(`log ends at ${await log.lastSeq()}, expected ${head}`);

  const awaitedRate = perSecond(APPENDS, awaitedMs);
  const pipelinedRate = perSecond(APPENDS, pipelinedMs);
  section(`raw fenced appends: ${APPENDS} commits on EventLog`, [
    `awaited one by one: ${fmt(awaitedRate)} commits/s (${fmt(awaitedMs / APPENDS)} ms each)`,
    `${APPEND_WINDOW} in flight:     ${fmt(pipelinedRate)} commits/s`,
    `speed-up: ${(pipelinedRate / awaitedRate).toFixed(2)}x`,
  ]);
  return {
    name: `EventLog: ${APPENDS} fenced appends, ${APPEND_WINDOW} in flight`, unit: 'commit/s', value: pipelinedRate, baseline: awaitedRate,
    ratio: pipelinedRate / awaitedRate, reads: 'pipelined / awaited (higher is better)',
  };
}

/** A real port.create commit, decided by the real deciders, so the payload has a realistic size. */
function samplePortCommit(): Commit {
  const history = new History();
  const subnetId = history.network('10.0.0.0/16', '10.0.0.0/24');
  history.run('port.create', { subnetId });
  return history.records.at(-1)!.commit;
}
