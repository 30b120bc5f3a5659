import { copyFile, readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect } from '@nats-io/transport-node';
import { Phase } from '../../events/mod.js';
import type { Scope } from '../../events/mod.js';
import { NovanetClient } from '../../src/bus/client.js';
import { EngineConfig } from '../../src/engine/config.js';
import { RECONCILER_THREAD_NAME } from '../../src/engine/reconciler-protocol.js';
import { OvsdbClient } from '../../src/ovsdb/mod.js';
import { startDaemon } from '../../src/sandbox/mod.js';
import type { Daemon } from '../../src/sandbox/mod.js';
import type { RowOwner } from '../../src/reconcile/names.js';
import { History } from './history.js';
import { APPEND_WINDOW, freshNorthbound, inWorker } from './infra.js';
import type { BenchNorthbound } from './infra.js';
import type { BenchEnv } from './infra.js';
import { insertOps } from './reconcile.bench.js';
import { fmt, median, perSecond, section, timed } from './report.js';
import type { Row } from './report.js';
import type { PortTarget } from './sender.js';

const TENANTS = 25;
const SUBNETS_PER_TENANT = 4;
/** One more port, one at a time, this many times at each size; the median is reported. */
const MARGINAL = 60;
const DEFAULT_SIZES = [1_000, 10_000];
/** The raw Northbound baseline writes this many ports (or the largest size, if smaller). */
const RAW_PORTS = 10_000;
const prefix = 'benchscale';

/** What the scenario measures at one size (ports in the cloud). */
interface AtSize {
  readonly ports: number;
  /** Ports/s over the fill up to this size, 256 in flight, each until Ready. */
  readonly fillRate: number;
  /** CPU (user + system) per port over that fill (ms): the engine's, the Northbound ovsdb-server's, nats-server's. */
  readonly fillCpuMs: number;
  readonly fillNbCpuMs: number;
  readonly fillNatsCpuMs: number;
  /** The engine's over the fill, a port: by thread, and what it wrote to its sockets. */
  readonly fillEngine: EngineUsage;
  /** Median command → Ready of one more port, one at a time (ms). */
  readonly marginalMs: number;
  readonly rssBytes: number;
  /** Share of one core the engine used over one tick of the paced resync with no commands. */
  readonly idleCpu: number;
}

/**
 * The scale scenario of issue 7: 25 tenants × 1 VPC × 4 /22 subnets, ports created 256
 * in flight (round-robin over the subnets), each counted when its status is Ready. The
 * engine is a `novanet serve` process of its own, so its RSS and CPU are its own. At each
 * size: the fill rate, one more port one at a time, RSS and idle CPU over one tick of the
 * paced resync; at the largest, the event-loop lag during a full resync and a restart. Baselines: the figures at the smallest size, and the same rows
 * written straight into an empty Northbound, 256 ports a transaction.
 *
 * NOVANET_BENCH_SCALE=N adds a size (e.g. 100000); NOVANET_BENCH_RESYNC_MS sets the
 * engine's resync tick (the engine's default, 30 s, when unset); NOVANET_BENCH_PROFILE=DIR starts the
 * engines with --cpu-prof into DIR/<engine> (one profile per thread of the engine, written at its exit) and
 * --trace-gc into their logs, and writes DIR/phases.json (when each phase began, in the
 * profiles' clock) and copies the engines' logs there.
 */
export async function benchScale(env: BenchEnv): Promise<Row[]> {
  const sizes = scaleSizes();
  // The engine's default tick, so the idle figure is the defaults' (the slice is left at its default too).
  const resyncMs = Number(process.env.NOVANET_BENCH_RESYNC_MS ?? EngineConfig.parse({}).resyncIntervalMs);
  const phases = new Phases(process.env.NOVANET_BENCH_PROFILE);
  const rawRate = await rawNorthbound(env, Math.min(RAW_PORTS, sizes.at(-1)!));

  const nb = await freshNorthbound(env, 'nb-scale');
  const nc = await connect({ servers: env.nats.url });
  env.cleanup.defer(() => nc.close());
  const client = new NovanetClient(nc, prefix, 120_000);
  let engine = await startEngineProcess(env, nb, resyncMs, 'engine-1');
  const targets = await tenants(client);

  const measured: AtSize[] = [];
  let ports = 0;
  for (const size of sizes) {
    const pids = [engine.daemon.pid, nb.pid, env.nats.pid];
    const cpuBefore = await Promise.all(pids.map(cpuMs));
    const engineBefore = await engineUsage(engine.daemon.pid);
    phases.mark(`fill to ${size}`);
    const fill = await inWorker({ natsUrl: env.nats.url, prefix, targets, count: size - ports, inFlight: APPEND_WINDOW, untilReady: true });
    phases.mark(`marginal at ${size}`);
    const cpuAfter = await Promise.all(pids.map(cpuMs));
    const fillEngine = perPort(engineBefore, await engineUsage(engine.daemon.pid), size - ports);
    const [fillCpuMs, fillNbCpuMs, fillNatsCpuMs] = cpuAfter.map((ms, i) => (ms - cpuBefore[i]!) / (size - ports)) as [number, number, number];
    ports = size;
    const marginal = await inWorker({ natsUrl: env.nats.url, prefix, targets, count: MARGINAL, inFlight: 1, untilReady: true });
    ports += MARGINAL;
    phases.mark(`idle at ${size}`);
    const at: AtSize = {
      ports: size, fillRate: perSecond(fill.latencies.length, fill.totalMs), fillCpuMs, fillNbCpuMs, fillNatsCpuMs, fillEngine, marginalMs: median(marginal.latencies),
      rssBytes: await rss(engine.daemon.pid), idleCpu: await cpuShare(engine.daemon.pid, resyncMs),
    };
    measured.push(at);
    section(`scale: ${fmt(size)} ports in ${TENANTS} tenants`, [
      `fill: ${fmt(at.fillRate)} ports/s command → Ready, ${APPEND_WINDOW} in flight`,
      `CPU a port over the fill: engine ${fmt(at.fillCpuMs)} ms, Northbound ovsdb-server ${fmt(at.fillNbCpuMs)} ms, nats-server ${fmt(at.fillNatsCpuMs)} ms`,
      `the engine's a port over the fill: ${usageWords(at.fillEngine)}`,
      `one more port, command → Ready: median ${fmt(at.marginalMs)} ms of ${MARGINAL}`,
      `engine RSS ${fmt(at.rssBytes / 2 ** 20)} MiB; idle CPU over ${fmt(resyncMs / 1000)} s (one tick of the paced resync): ${fmt(at.idleCpu * 100)}% of a core`,
    ]);
  }

  phases.mark(`full resync at ${ports}`);
  const lag = await fullResyncLag(engine, nb);
  section(`scale: a full resync at ${fmt(ports)} ports (an OVSDB reconnect)`, [
    `until the reconciler is idle again: ${fmt(lag.seconds)} s; event-loop lag p99 over ${LAG_WINDOW_MS / 1000} s windows: median ${fmt(lag.medianMs)} ms, worst ${fmt(lag.worstMs)} ms (prom-client samples every 10 ms: an idle loop reads ~10 ms)`,
    `the reconciler thread's own loop meanwhile: p99 median ${fmt(lag.reconciler.medianMs)} ms, worst ${fmt(lag.reconciler.worstMs)} ms; longest delay ${fmt(lag.reconciler.maxMs)} ms`,
  ]);

  phases.mark('stop');
  const stopMs = await timed(() => engine.daemon.stop());
  phases.mark('restart');
  const restart = await restartedEngine(env, nb, resyncMs, client, targets[0]!);
  engine = restart.engine;
  section(`scale: restart at ${fmt(ports)} ports`, [
    `SIGTERM → exited: ${fmt(stopMs)} ms`,
    `new engine: first read answered ${fmt(restart.readMs)} ms, first new port Ready ${fmt(restart.readyMs)} ms after start`,
    `engine RSS after restart ${fmt(await rss(engine.daemon.pid) / 2 ** 20)} MiB`,
  ]);
  // The restarted engine's full resync (at start) is served beside commands: bulk is measured after it, so its CPU is its own.
  phases.mark('resync after the restart');
  const startResync = await timed(() => untilResynced(engine, { resyncs: 0, batches: Number.NaN }));
  phases.mark('bulk');
  const bulk = await bulkCreation(env, client, [engine.daemon.pid, nb.pid, env.nats.pid]);
  section(`scale: bulk creation, ${BULK_COMMANDS} commands of ${fmt(BULK_PORTS)} ports at once, on ${fmt(ports)} ports`, [
    `after the restarted engine's full resync: ${fmt(startResync / 1000)} s after the first new port was Ready`,
    `command → every port Ready: ${fmt(bulk.rate)} ports/s; a command's median ${fmt(bulk.medianMs)} ms`,
    `CPU a port: engine ${fmt(bulk.cpuMs)} ms, Northbound ovsdb-server ${fmt(bulk.nbCpuMs)} ms, nats-server ${fmt(bulk.natsCpuMs)} ms`,
    `the engine's a port: ${usageWords(bulk.engine)}`,
  ]);
  phases.mark('end');
  await engine.daemon.stop();
  await phases.write();
  if (process.env.NOVANET_BENCH_PROFILE !== undefined) {
    for (const name of ['engine-1', 'engine-2']) await copyFile(join(env.dir, `${name}.log`), join(process.env.NOVANET_BENCH_PROFILE, `${name}.log`));
  }
  return [...rows(measured, rawRate, restart, sizes.at(-1)!, lag), {
    name: `scale: bulk, ${BULK_COMMANDS} × ${fmt(BULK_PORTS)} ports → all Ready`, unit: 'ports/s', value: bulk.rate, baseline: rawRate,
    ratio: bulk.rate / rawRate, reads: 'engine command → all Ready / raw NB, 256 a txn (goal ≥ 20,000 ports/s)',
  }, {
    name: 'scale: engine CPU a port, bulk vs one port a command', unit: 'ms', value: bulk.cpuMs, baseline: measured.at(-1)!.fillCpuMs,
    ratio: bulk.cpuMs / measured.at(-1)!.fillCpuMs, reads: `in ${fmt(BULK_PORTS)}-port commands / in one-port commands (fill to the largest size)`,
  }];
}

/** Bulk creation (issue 7, goal 6): this many port.create commands of BULK_PORTS ports each, all sent at once. */
const BULK_COMMANDS = 10;
const BULK_PORTS = 1000;

interface Bulk {
  /** Ports/s from the first command sent to every port of every command Ready. */
  readonly rate: number;
  readonly medianMs: number;
  /** CPU (user + system) per port (ms): the engine's, the Northbound ovsdb-server's, nats-server's. */
  readonly cpuMs: number;
  readonly nbCpuMs: number;
  readonly natsCpuMs: number;
  readonly engine: EngineUsage;
}

/**
 * Ten tenants of their own (a VPC with four /22 subnets each, so the cloud's other subnets
 * keep their room), one command of 1,000 ports each, spread over its subnets.
 */
/** `pids`: the engine's, the Northbound's and nats-server's, whose CPU is counted. */
async function bulkCreation(env: BenchEnv, client: NovanetClient, pids: readonly number[]): Promise<Bulk> {
  const targets: PortTarget[] = [];
  for (let t = 0; t < BULK_COMMANDS; t++) {
    const scope: Scope = { org: 'scale-bulk', project: `tenant-${t}` };
    const { result } = await client.call(scope, 'vpc.create', { name: 'bulk', cidr: `10.${100 + t}.0.0/16` });
    const vpcId = (result.vpc as { id: string }).id;
    for (let s = 0; s < SUBNETS_PER_TENANT; s++) {
      const created = await client.call(scope, 'subnet.create', { vpcId, name: `bulk-${s}`, cidr: `10.${100 + t}.${s * 4}.0/22` });
      targets.push({ scope, subnetId: (created.result.subnet as { id: string }).id });
    }
  }
  const before = await Promise.all(pids.map(cpuMs));
  const engineBefore = await engineUsage(pids[0]!);
  const sent = await inWorker({ natsUrl: env.nats.url, prefix, targets, count: BULK_COMMANDS, inFlight: BULK_COMMANDS, untilReady: true, portsPerCommand: BULK_PORTS });
  const after = await Promise.all(pids.map(cpuMs));
  const engine = perPort(engineBefore, await engineUsage(pids[0]!), BULK_COMMANDS * BULK_PORTS);
  const [cpu, nbCpu, natsCpu] = after.map((ms, i) => (ms - before[i]!) / (BULK_COMMANDS * BULK_PORTS)) as [number, number, number];
  return { rate: perSecond(BULK_COMMANDS * BULK_PORTS, sent.totalMs), medianMs: median(sent.latencies), cpuMs: cpu, nbCpuMs: nbCpu, natsCpuMs: natsCpu, engine };
}

function scaleSizes(): number[] {
  const extra = process.env.NOVANET_BENCH_SCALE;
  if (extra === undefined) return DEFAULT_SIZES;
  const size = Number(extra);
  if (!Number.isSafeInteger(size) || size <= DEFAULT_SIZES[0]! || size > TENANTS * SUBNETS_PER_TENANT * 1000) {
    throw new Error(`NOVANET_BENCH_SCALE wants a port count above ${DEFAULT_SIZES[0]} and at most ${TENANTS * SUBNETS_PER_TENANT * 1000}, not "${extra}"`);
  }
  return [...new Set([...DEFAULT_SIZES, size])].sort((a, b) => a - b);
}

function rows(measured: readonly AtSize[], rawRate: number, restart: Restart, largest: number, lag: ResyncLag): Row[] {
  const base = measured[0]!;
  const top = measured.at(-1)!;
  const label = (at: AtSize): string => `${fmt(at.ports / 1000)}k`;
  const out: Row[] = [];
  for (const at of measured.slice(1)) {
    out.push({
      name: `scale: one more port at ${label(at)}`, unit: 'ms', value: at.marginalMs, baseline: base.marginalMs,
      ratio: at.marginalMs / base.marginalMs, reads: `at ${label(at)} / at ${label(base)} (goal ≤ 1.5)`,
    });
    out.push({
      name: `scale: engine CPU a port, fill to ${label(at)}`, unit: 'ms', value: at.fillCpuMs, baseline: base.fillCpuMs,
      ratio: at.fillCpuMs / base.fillCpuMs, reads: `at ${label(at)} / at ${label(base)} (1 is O(1) a port)`,
    });
    out.push({
      name: `scale: NB ovsdb-server CPU a port, fill to ${label(at)}`, unit: 'ms', value: at.fillNbCpuMs, baseline: base.fillNbCpuMs,
      ratio: at.fillNbCpuMs / base.fillNbCpuMs, reads: `at ${label(at)} / at ${label(base)} (1 is O(1) a port)`,
    });
    out.push({
      name: `scale: fill up to ${label(at)}`, unit: 'ports/s', value: at.fillRate, baseline: base.fillRate,
      ratio: at.fillRate / base.fillRate, reads: `at ${label(at)} / at ${label(base)} (goal ≥ 0.9)`,
    });
    const perPort = (at.rssBytes - base.rssBytes) / (at.ports - base.ports);
    out.push({
      name: `scale: engine RSS per port at ${label(at)}`, unit: 'KiB', value: perPort / 1024, baseline: 2,
      ratio: perPort / 2048, reads: `(RSS − RSS at ${label(base)}) / ports, against the goal 2 KiB (goal ≤ 1)`,
    });
    out.push({
      name: `scale: idle CPU at ${label(at)}`, unit: '%', value: at.idleCpu * 100, baseline: base.idleCpu * 100,
      ratio: at.idleCpu / base.idleCpu, reads: `at ${label(at)} / at ${label(base)}, of one core (goal ≤ 5 %)`,
    });
  }
  out.push({
    name: `scale: fill at ${label(top)} vs raw Northbound`, unit: 'ports/s', value: top.fillRate, baseline: rawRate,
    ratio: top.fillRate / rawRate, reads: 'engine command → Ready / raw NB, 256 a txn (goal ≥ 0.5)',
  });
  out.push({
    name: `scale: event-loop lag p99, full resync at ${label(top)}`, unit: 'ms', value: lag.worstMs, baseline: 20,
    ratio: lag.worstMs / 20, reads: `worst ${LAG_WINDOW_MS / 1000} s window's p99 / the goal 20 ms (goal ≤ 1)`,
  });
  out.push({
    name: `scale: restart at ${fmt(largest / 1000)}k, first port Ready`, unit: 'ms', value: restart.readyMs, baseline: restart.readMs,
    ratio: restart.readyMs / restart.readMs, reads: 'new port Ready / first read answered, after start (goals 5 s, 3 s)',
  });
  return out;
}

/** 25 tenants, each a VPC with four /22 subnets: 100 subnets of ~1,000 ports. */
async function tenants(client: NovanetClient): Promise<PortTarget[]> {
  const targets: PortTarget[] = [];
  for (let t = 0; t < TENANTS; t++) {
    const scope: Scope = { org: 'scale', project: `tenant-${t}` };
    const { result } = await client.call(scope, 'vpc.create', { name: 'scale', cidr: `10.${t}.0.0/16` });
    const vpcId = (result.vpc as { id: string }).id;
    for (let s = 0; s < SUBNETS_PER_TENANT; s++) {
      const created = await client.call(scope, 'subnet.create', { vpcId, name: `scale-${s}`, cidr: `10.${t}.${s * 4}.0/22` });
      targets.push({ scope, subnetId: (created.result.subnet as { id: string }).id });
    }
  }
  // Round-robin over tenants first, so consecutive commands go to different tenants.
  return Array.from({ length: SUBNETS_PER_TENANT }, (_, s) => targets.filter((_, i) => i % SUBNETS_PER_TENANT === s)).flat();
}

interface EngineProcess {
  readonly daemon: Daemon;
  /** The engine's Prometheus endpoint. */
  readonly metricsUrl: string;
}

/** `novanet serve` as a process of its own, ready once it answers a read. */
async function startEngineProcess(env: BenchEnv, nb: BenchNorthbound, resyncMs: number, name: string, client?: NovanetClient): Promise<EngineProcess> {
  const cli = new URL('../../src/cli/main.js', import.meta.url).pathname;
  const profileDir = process.env.NOVANET_BENCH_PROFILE;
  // --trace-gc puts the heap after each collection into the engine's log, to tell live heap from RSS.
  // One directory an engine: Node names each thread's profile (thread 0 the command path, 1 the reconciler); a fixed name would keep one.
  const nodeFlags = [
    ...profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${join(profileDir, name)}`, '--trace-gc'],
    ...(process.env.NOVANET_BENCH_ENGINE_FLAGS ?? '').split(' ').filter((flag) => flag !== ''),
  ];
  const nc = client ? undefined : await connect({ servers: env.nats.url });
  const metricsAt = `127.0.0.1:${await freePort()}`;
  const reader = client ?? new NovanetClient(nc!, prefix, 2000);
  try {
    const daemon = await startDaemon({
      name,
      argv: [process.execPath, ...nodeFlags, cli, 'serve', '--nats', env.nats.url, '--ovn-nb', nb.remote, '--prefix', prefix,
        '--resync-interval-ms', String(resyncMs), '--http-listen', metricsAt, '--log-level', 'warn'],
      // As deploy/systemd/novanet.env runs it: glibc gives freed large buffers back.
      env: { ...process.env, MALLOC_MMAP_THRESHOLD_: '131072' },
      logPath: join(env.dir, `${name}.log`),
      ready: (signal) => answersReads(reader, signal),
      readyTimeoutMs: 600_000,
      // A stop at 100k ports waits for the pass in flight, and a CPU profile is written at exit.
      stopTimeoutMs: 60_000,
    });
    env.cleanup.defer(() => daemon.stop());
    return { daemon, metricsUrl: `http://${metricsAt}/metrics` };
  } finally {
    await nc?.close();
  }
}

async function answersReads(client: NovanetClient, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    // No responders, or a timeout while the engine folds the log: not yet.
    const reply = await client.request({ org: 'scale', project: 'tenant-0' }, 'vpc.list').catch(() => undefined);
    if (reply?.ok) return;
    await sleep(20);
  }
  throw signal.reason;
}

interface Restart {
  readonly engine: EngineProcess;
  readonly readMs: number;
  readonly readyMs: number;
}

/** A new engine on the same log and Northbound: from its start to the first read, and to a new port Ready. */
async function restartedEngine(env: BenchEnv, nb: BenchNorthbound, resyncMs: number, client: NovanetClient, target: PortTarget): Promise<Restart> {
  const start = performance.now();
  const engine = await startEngineProcess(env, nb, resyncMs, 'engine-2', new NovanetClient(client.nc, prefix, 1000));
  const readMs = performance.now() - start;
  const { seq, result } = await client.call(target.scope, 'port.create', { subnetId: target.subnetId });
  const portId = (result.port as { id: string }).id;
  await client.waitFor(target.scope, 'port', portId, (s) => s.phase === Phase.Ready && s.observedSeq >= seq, 600_000);
  return { engine, readMs, readyMs: performance.now() - start };
}

/** A TCP port nothing listens on now (for the engine's metrics endpoint). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Windows the lag of a full resync is read in: each /metrics scrape resets prom-client's event-loop histogram. */
const LAG_WINDOW_MS = 2000;

interface ResyncLag {
  readonly seconds: number;
  /** The command path's loop (the main thread: nodejs_eventloop_lag_p99_seconds). */
  readonly medianMs: number;
  readonly worstMs: number;
  /** The reconciler thread's loop (novanet_reconciler_eventloop_lag_seconds). */
  readonly reconciler: { readonly medianMs: number; readonly worstMs: number; readonly maxMs: number };
}

/**
 * The engine's event-loop lag while a full resync runs, with no commands: the Northbound drops
 * its clients (`ovsdb-server/reconnect`), the engine reconnects and resyncs everything. Read as
 * nodejs_eventloop_lag_p99_seconds every LAG_WINDOW_MS until the resync is done (untilResynced);
 * the worst window is what a command arriving then would have waited.
 */
/** What the lag and the end of a full resync are read from: one scrape of the engine's /metrics. */
async function scrape(engine: EngineProcess) {
  const text = await (await fetch(engine.metricsUrl)).text();
  const sample = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
  return {
    p99: sample('nodejs_eventloop_lag_p99_seconds') * 1000, batches: sample('novanet_reconcile_batch_resources_count'), resyncs: sample('novanet_resync_duration_seconds_count'),
    reconcilerP99: sample('novanet_reconciler_eventloop_lag_seconds\\{quantile="0.99"\\}') * 1000, reconcilerMax: sample('novanet_reconciler_eventloop_lag_seconds\\{quantile="1"\\}') * 1000,
  };
}

/**
 * Until the engine counts a full resync done past `before` (novanet_resync_duration_seconds
 * counts it once every resource it marked was reconciled) and a window passed with no
 * reconcile batch, or 2 minutes; `window` is told each window's scrape.
 */
async function untilResynced(engine: EngineProcess, before: { readonly resyncs: number; readonly batches: number }, window: (now: Awaited<ReturnType<typeof scrape>>) => void = () => undefined): Promise<void> {
  const start = performance.now();
  let last = before;
  while (performance.now() - start < 120_000) {
    await sleep(LAG_WINDOW_MS);
    const now = await scrape(engine);
    window(now);
    const quiet = now.batches === last.batches;
    last = now;
    if (quiet && now.resyncs > before.resyncs) return;
  }
}

async function fullResyncLag(engine: EngineProcess, nb: BenchNorthbound): Promise<ResyncLag> {
  const before = await scrape(engine);
  const start = performance.now();
  await nb.appctl('ovsdb-server/reconnect');
  const windows: number[] = [];
  const reconcilerWindows: number[] = [];
  let reconcilerMax = 0;
  await untilResynced(engine, before, (now) => {
    windows.push(now.p99);
    reconcilerWindows.push(now.reconcilerP99);
    reconcilerMax = Math.max(reconcilerMax, now.reconcilerMax);
  });
  return {
    seconds: (performance.now() - start - LAG_WINDOW_MS) / 1000, medianMs: median(windows), worstMs: Math.max(...windows),
    reconciler: { medianMs: median(reconcilerWindows), worstMs: Math.max(...reconcilerWindows), maxMs: reconcilerMax },
  };
}

/** Resident set size of a process, from /proc. */
async function rss(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kib = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1];
  if (kib === undefined) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(kib) * 1024;
}

/** CPU time (user + system, ms) a process (or `<pid>/task/<tid>`, a thread) has used, from /proc (USER_HZ is 100 on Linux). */
async function cpuMs(pid: number | string): Promise<number> {
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/**
 * What the engine process has used: CPU (ms) of its main thread (the command path), of its
 * reconciler's thread (by its name) and of all its other threads (V8's background threads: GC
 * marking and sweeping, compilation; libuv's pool), and the write syscalls and the bytes they
 * wrote (sockets: it writes no files) of the command path's thread and the reconciler's.
 */
interface EngineUsage {
  readonly mainMs: number;
  readonly reconcilerMs: number;
  readonly otherMs: number;
  readonly mainWrites: number;
  readonly mainBytes: number;
  readonly reconcilerWrites: number;
  readonly reconcilerBytes: number;
}

async function engineUsage(pid: number): Promise<EngineUsage> {
  const usage = { mainMs: 0, reconcilerMs: 0, otherMs: 0, mainWrites: 0, mainBytes: 0, reconcilerWrites: 0, reconcilerBytes: 0 };
  for (const tid of await readdir(`/proc/${pid}/task`)) {
    const task = `/proc/${pid}/task/${tid}`;
    // A thread may end between the listing and the read (a GC helper, a pool thread).
    const [comm, ms, io] = await Promise.all([readFile(`${task}/comm`, 'utf8'), cpuMs(`${pid}/task/${tid}`), readFile(`${task}/io`, 'utf8')]).catch(() => ['', 0, ''] as const);
    const field = (name: string) => Number(new RegExp(`^${name}: (\\d+)$`, 'm').exec(io)?.[1] ?? 0);
    if (tid === String(pid)) {
      usage.mainMs += ms;
      usage.mainWrites += field('syscw');
      usage.mainBytes += field('wchar');
    } else if (comm.trim() === RECONCILER_THREAD_NAME) {
      usage.reconcilerMs += ms;
      usage.reconcilerWrites += field('syscw');
      usage.reconcilerBytes += field('wchar');
    } else {
      usage.otherMs += ms;
    }
  }
  return usage;
}

function perPort(before: EngineUsage, after: EngineUsage, ports: number): EngineUsage {
  return Object.fromEntries(Object.entries(after).map(([key, value]) => [key, (value - before[key as keyof EngineUsage]) / ports])) as unknown as EngineUsage;
}

function usageWords(u: EngineUsage): string {
  return `CPU of the command path's thread ${fmt(u.mainMs)} ms, the reconciler's ${fmt(u.reconcilerMs)} ms, the other threads' (V8's GC and compiler, libuv) ${fmt(u.otherMs)} ms; `
    + `written by the command path ${fmt(u.mainWrites)} write syscalls, ${fmt(u.mainBytes)} bytes, by the reconciler ${fmt(u.reconcilerWrites)}, ${fmt(u.reconcilerBytes)} bytes`;
}

/** Share of one core a process used over the next `ms`. */
async function cpuShare(pid: number, ms: number): Promise<number> {
  const before = await cpuMs(pid);
  const start = performance.now();
  await sleep(ms);
  return (await cpuMs(pid) - before) / (performance.now() - start);
}

/**
 * When profiling: when each phase began, in microseconds of the monotonic clock the engine's
 * CPU profiles count in (`startTime`), written to phases.json so a profile can be cut by phase.
 */
class Phases {
  private readonly marks: { phase: string; atUs: number }[] = [];

  constructor(private readonly dir: string | undefined) {}

  mark(phase: string): void {
    if (this.dir !== undefined) this.marks.push({ phase, atUs: Number(process.hrtime.bigint() / 1000n) });
  }

  async write(): Promise<void> {
    if (this.dir !== undefined) await writeFile(join(this.dir, 'phases.json'), JSON.stringify(this.marks, null, 1));
  }
}

/**
 * The Northbound's own limit for the rows of a port (switch port with addresses, port
 * security, DHCP options and external_ids; switch, drop-group and security-group
 * memberships), as the reconciler's diff writes them: 256 ports a transaction, one after
 * another over one OVSDB connection with no monitor, into an empty Northbound.
 */
async function rawNorthbound(env: BenchEnv, count: number): Promise<number> {
  const history = new History();
  const { vpc } = history.run('vpc.create', { name: 'raw', cidr: '10.0.0.0/16' }) as { vpc: { id: string } };
  const subnetCount = Math.ceil(count / 1000);
  const subnetIds = Array.from({ length: subnetCount }, (_, s) =>
    (history.run('subnet.create', { vpcId: vpc.id, name: `raw-${s}`, cidr: `10.0.${s * 4}.0/22` }) as { subnet: { id: string } }).subnet.id);
  for (let i = 0; i < count; i++) history.run('port.create', { subnetId: subnetIds[i % subnetCount]! });
  const view = history.view;

  const nb = await freshNorthbound(env, 'nb-raw');
  const ovsdb = await OvsdbClient.connect({ remote: nb.remote });
  const closeOvsdb = env.cleanup.adopt(() => ovsdb.close());
  const infrastructure: RowOwner[] = [
    ...[...view.vpcs.keys()].map((id) => ({ kind: 'vpc' as const, id })),
    ...[...view.subnets.keys()].map((id) => ({ kind: 'subnet' as const, id })),
    ...[...view.securityGroups.keys()].map((id) => ({ kind: 'securitygroup' as const, id })),
  ];
  await ovsdb.transact(insertOps(view, infrastructure));
  const ports = [...view.ports.keys()].map((id): RowOwner => ({ kind: 'port', id }));
  const batches = Array.from({ length: Math.ceil(ports.length / APPEND_WINDOW) }, (_, b) => insertOps(view, ports.slice(b * APPEND_WINDOW, (b + 1) * APPEND_WINDOW)));
  const ms = await timed(async () => {
    for (const ops of batches) await ovsdb.transact(ops);
  });
  await closeOvsdb();
  await nb.stop();
  const rate = perSecond(count, ms);
  section(`scale: raw Northbound baseline, ${fmt(count)} ports`, [`${APPEND_WINDOW} ports a transaction over one connection: ${fmt(rate)} ports/s (${fmt(ms)} ms)`]);
  return rate;
}
