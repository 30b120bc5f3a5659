import { access, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Phase, subjects } from '../../events/mod.js';
import type { Scope } from '../../events/mod.js';
import { NovanetClient } from '../../src/bus/client.js';
import { EventLog } from '../../src/bus/log.js';
import { ensureStreams } from '../../src/bus/streams.js';
import { startDaemon, startNatsServer } from '../../src/sandbox/mod.js';
import type { NatsServer } from '../../src/sandbox/mod.js';
import { History } from './history.js';
import { appendPipelined, CLUSTERED_NORTHBOUND, startBenchNorthbound } from './infra.js';
import type { BenchEnv, BenchNorthbound } from './infra.js';
import { fmt, median } from './report.js';
import type { Row } from './report.js';

const prefix = 'benchrestart';
const TENANTS = 25;
const SUBNETS_PER_TENANT = 4;

/**
 * A restart at N ports, again and again, without the scale scenario's fill: N `port.create`
 * commits (25 tenants × 4 /22 subnets, as the scale scenario) decided in-process and appended
 * straight to the log while an engine runs, which reconciles them and then stops (its snapshot at SIGTERM);
 * then each round starts a new `novanet serve` (log level info) and times its first read
 * answered and a new port Ready, with the engine's and ovsdb-server's CPU time until then (/proc), and prints the engine's
 * log lines by milliseconds since its start. NOVANET_BENCH_RESTART_PORTS (10,000),
 * NOVANET_BENCH_RESTART_ROUNDS (3); NOVANET_BENCH_RESTART_DIR keeps NATS's store and the
 * Northbound there, so a later run at the same size skips the fill; NOVANET_BENCH_PROFILE=DIR
 * runs each engine with --cpu-prof into DIR/<engine> (one profile per thread, named by Node
 * with the thread's id: 0 the command path, 1 the reconciler) and --trace-gc. NOVANET_BENCH_NB=clustered:
 * a one-member raft Northbound (infra.ts), whose restarts resume the reconciler's saved cache.
 */
export async function benchRestart(env: BenchEnv): Promise<Row[]> {
  const ports = Number(process.env.NOVANET_BENCH_RESTART_PORTS ?? 10_000);
  const rounds = Number(process.env.NOVANET_BENCH_RESTART_ROUNDS ?? 3);
  // A clustered Northbound's run keeps its state apart: the log is filled for one Northbound.
  const dir = join(process.env.NOVANET_BENCH_RESTART_DIR ?? join(env.dir, 'restart'), CLUSTERED_NORTHBOUND ? 'clustered' : '');
  const nats = await startNatsServer({ dir: join(dir, 'nats') });
  env.cleanup.adopt(() => nats.stop());
  const nb = await startBenchNorthbound(join(dir, 'nb'));
  env.cleanup.adopt(() => nb.stop());
  const nc = await connect({ servers: nats.url });
  env.cleanup.defer(() => nc.close());
  const client = new NovanetClient(nc, prefix, 120_000);

  const filled = join(dir, `filled-${ports}.json`);
  let target: { scope: Scope; subnetId: string };
  if (await exists(filled)) {
    target = JSON.parse(await readFile(filled, 'utf8')) as typeof target;
  } else {
    target = await fill(nats, nb, client, dir, ports);
    await writeFile(filled, JSON.stringify(target));
  }

  const results: { readMs: number; readyMs: number; cpuMs: number }[] = [];
  // A log and a profile of their own for each run's rounds: a log file is appended to.
  const run = new Date().toISOString().slice(11, 19).replaceAll(':', '');
  for (let round = 1; round <= rounds; round++) {
    const name = `engine-${run}-r${round}`;
    const nbBefore = await cpuMs(nb.pid);
    const started = Date.now();
    const start = performance.now();
    const engine = await engineProcess(nats, nb, dir, name, client);
    const readMs = performance.now() - start;
    const { seq, result } = await client.call(target.scope, 'port.create', { subnetId: target.subnetId });
    const portId = (result.port as { id: string }).id;
    await client.waitFor(target.scope, 'port', portId, (s) => s.phase === Phase.Ready && s.observedSeq >= seq, 600_000);
    const readyMs = performance.now() - start;
    const cpu = await cpuMs(engine.pid);
    const nbCpu = await cpuMs(nb.pid) - nbBefore;
    await sleep(500);
    await engine.stop();
    results.push({ readMs, readyMs, cpuMs: cpu });
    console.log(`\n== restart ${round} at ${fmt(ports)} ports: first read ${fmt(readMs)} ms, new port Ready ${fmt(readyMs)} ms, CPU until then: engine ${fmt(cpu)} ms, ovsdb-server ${fmt(nbCpu)} ms (load ${(await loadAverage())})`);
    console.log(await timeline(join(dir, `${name}.log`), started));
  }
  return [{
    name: `restart at ${fmt(ports / 1000)}k: new port Ready`, unit: 'ms', value: median(results.map((r) => r.readyMs)),
    baseline: median(results.map((r) => r.readMs)), ratio: median(results.map((r) => r.readyMs)) / median(results.map((r) => r.readMs)),
    reads: `median of ${rounds}: new port Ready / first read answered (goals 5 s, 3 s)`,
  }];
}

/** Decides `ports` port.create commands in-process, appends them to the log, and lets an engine reconcile them all once. */
async function fill(nats: NatsServer, nb: BenchNorthbound, client: NovanetClient, dir: string, ports: number): Promise<{ scope: Scope; subnetId: string }> {
  const history = new History();
  const targets: { scope: Scope; subnetId: string }[] = [];
  for (let t = 0; t < TENANTS; t++) {
    const scope: Scope = { org: 'scale', project: `tenant-${t}` };
    const { vpc } = history.run('vpc.create', { name: 'scale', cidr: `10.${t}.0.0/16` }, scope) as { vpc: { id: string } };
    for (let s = 0; s < SUBNETS_PER_TENANT; s++) {
      const { subnet } = history.run('subnet.create', { vpcId: vpc.id, name: `scale-${s}`, cidr: `10.${t}.${s * 4}.0/22` }, scope) as { subnet: { id: string } };
      targets.push({ scope, subnetId: subnet.id });
    }
  }
  let last: { scope: Scope; id: string } | undefined;
  for (let i = 0; i < ports; i++) {
    const target = targets[i % targets.length]!;
    const { port } = history.run('port.create', { subnetId: target.subnetId }, target.scope) as { port: { id: string } };
    last = { scope: target.scope, id: port.id };
  }
  // The engine first, then the commits: it reconciles them as they come, 256 a batch (a full
  // resync of a log appended before its start goes 8 resources a batch, minutes at 100k).
  const engine = await engineProcess(nats, nb, dir, 'engine-fill', client);
  const jsm = await jetstreamManager(client.nc);
  const streams = await ensureStreams(jsm, prefix, 1);
  const log = new EventLog(client.nc, jetstream(client.nc), jsm, streams.events, subjects(prefix));
  const appended = performance.now();
  const head = await appendPipelined(log, history.records.map((r) => r.commit), await log.lastSeq());
  console.log(`restart bench: ${fmt(head)} commits appended in ${fmt(performance.now() - appended)} ms`);
  await client.waitFor(last!.scope, 'port', last!.id, (s) => s.phase === Phase.Ready, 1_800_000);
  console.log(`restart bench: reconciled ${fmt(performance.now() - appended)} ms after the first append`);
  await engine.stop();
  // Its intake folded none of them: one more engine folds the log and stores its snapshot at its stop.
  await (await engineProcess(nats, nb, dir, 'engine-snapshot', client)).stop();
  return targets[0]!;
}

/** `novanet serve` on the bench's NATS and Northbound, ready once it answers a read; stopped by SIGTERM (its snapshot). */
async function engineProcess(nats: NatsServer, nb: BenchNorthbound, dir: string, name: string, client: NovanetClient): Promise<{ pid: number; stop(): Promise<void> }> {
  const cli = new URL('../../src/cli/main.js', import.meta.url).pathname;
  const profileDir = process.env.NOVANET_BENCH_PROFILE;
  // No --cpu-prof-name: every thread would write that one file, the last to exit overwriting the others.
  const nodeFlags = profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${join(profileDir, name)}`, '--trace-gc'];
  const daemon = await startDaemon({
    name,
    argv: [process.execPath, ...nodeFlags, cli, 'serve', '--nats', nats.url, '--ovn-nb', nb.remote, '--prefix', prefix, '--log-level', 'info'],
    env: process.env,
    logPath: join(dir, `${name}.log`),
    ready: async (signal) => {
      while (!signal.aborted) {
        const reply = await client.request(TENANT_0, 'vpc.list').catch(() => undefined);
        if (reply?.ok) return;
        await sleep(20);
      }
      throw signal.reason;
    },
    readyTimeoutMs: 600_000,
    stopTimeoutMs: 60_000,
  });
  return { pid: daemon.pid, stop: () => daemon.stop() };
}

const TENANT_0: Scope = { org: 'scale', project: 'tenant-0' };

/** The engine's pino lines, each at its milliseconds since `started`, without the fields every line has. */
async function timeline(logPath: string, started: number): Promise<string> {
  const lines: string[] = [];
  for (const line of (await readFile(logPath, 'utf8')).split('\n')) {
    if (!line.startsWith('{')) continue;
    const { time, msg, level: _level, pid: _pid, hostname: _hostname, ...rest } = JSON.parse(line) as Record<string, unknown>;
    if (typeof time !== 'number' || time < started) continue;
    lines.push(`${String(time - started).padStart(7)} ms  ${String(msg)} ${JSON.stringify(rest)}`);
  }
  return lines.join('\n');
}

async function cpuMs(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function loadAverage(): Promise<string> {
  return (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(() => true, () => false);
}
