import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Worker } from 'node:worker_threads';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Commit } from '../../events/mod.js';
import type { EventLog } from '../../src/bus/log.js';
import { startNorthbound, startNorthboundCluster } from '../../src/sandbox/mod.js';
import type { NatsServer } from '../../src/sandbox/mod.js';
import type { SendJob, Sent } from './sender.js';

/** Undo steps, run newest first; every step runs even if an earlier one fails. */
export class Cleanup {
  private readonly steps: (() => Promise<unknown>)[] = [];

  defer(step: () => Promise<unknown>): void {
    this.steps.push(step);
  }

  /** Registers `stop` and returns it made idempotent, for benchmarks that stop early to free the machine. */
  adopt(stop: () => Promise<unknown>): () => Promise<void> {
    let done: Promise<void> | undefined;
    const once = (): Promise<void> => (done ??= stop().then(() => undefined));
    this.defer(once);
    return once;
  }

  async run(): Promise<void> {
    for (const step of this.steps.splice(0).reverse()) {
      await step().catch((err: unknown) => console.error('bench cleanup step failed:', err));
    }
  }
}

/** What the run shares with every benchmark: one nats-server and a scratch dir. */
export interface BenchEnv {
  readonly dir: string;
  readonly nats: NatsServer;
  readonly cleanup: Cleanup;
}

/**
 * A Northbound of the benchmarks: a standalone ovsdb-server, or with NOVANET_BENCH_NB=clustered
 * a one-member raft cluster, the shape OVN runs in production, whose server keeps a transaction
 * history: a restarted engine resumes its saved cache with monitor_cond_since (a standalone one
 * always answers with the full dump). Every benchmark of a run, the raw baseline too, gets the same kind.
 */
export interface BenchNorthbound {
  readonly remote: string;
  readonly pid: number;
  readonly clustered: boolean;
  /** ovs-appctl to the server. */
  appctl(...args: string[]): Promise<string>;
  stop(): Promise<void>;
}

export const CLUSTERED_NORTHBOUND = process.env.NOVANET_BENCH_NB === 'clustered';

/** A Northbound in `dir` (its database kept there: started again on it, it holds what it held). */
export async function startBenchNorthbound(dir: string): Promise<BenchNorthbound> {
  if (CLUSTERED_NORTHBOUND) {
    const cluster = await startNorthboundCluster({ dir, members: 1 });
    const member = cluster.members[0]!;
    return { remote: member.remote, pid: member.pid, clustered: true, appctl: (...args) => member.appctl(...args), stop: () => cluster.stop() };
  }
  const nb = await startNorthbound({ dir });
  const appctl = async (...args: string[]) => (await promisify(execFile)('ovs-appctl', ['-t', join(nb.dir, 'ovnnb_db.ctl'), ...args])).stdout;
  return { remote: nb.remote, pid: nb.pid, clustered: false, appctl, stop: () => nb.stop() };
}

/** A fresh, empty Northbound; each measurement gets its own so none inherits another's rows. */
export async function freshNorthbound(env: BenchEnv, name: string): Promise<BenchNorthbound> {
  const nb = await startBenchNorthbound(join(env.dir, name));
  return { ...nb, stop: env.cleanup.adopt(() => nb.stop()) };
}

export interface Jet {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
}

export async function connectJetStream(env: BenchEnv): Promise<Jet> {
  const nc = await connect({ servers: env.nats.url });
  env.cleanup.defer(() => nc.close());
  return { nc, js: jetstream(nc), jsm: await jetstreamManager(nc) };
}

/** As many appends in flight as the intake allows itself. */
export const APPEND_WINDOW = 256;

/**
 * Appends commits the way the intake does: up to APPEND_WINDOW in flight, each expecting
 * the sequence after the one before it. Resolves with the last sequence; any refused
 * append rejects, since a fenced chain with a gap means a broken benchmark.
 */
export async function appendPipelined(log: EventLog, commits: readonly Commit[], expectedLastSeq: number): Promise<number> {
  const inFlight = new Set<Promise<number>>();
  let head = expectedLastSeq;
  for (const commit of commits) {
    while (inFlight.size >= APPEND_WINDOW) await Promise.race(inFlight);
    const pending = log.append(commit, head++);
    inFlight.add(pending);
    void pending.then(() => inFlight.delete(pending), () => inFlight.delete(pending));
  }
  await Promise.all(inFlight);
  return head;
}

/** Runs one SendJob in a worker thread (see sender.ts): the commands come as from another process. */
export function inWorker(job: SendJob): Promise<Sent> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./sender.js', import.meta.url), { workerData: job });
    worker.once('message', (sent: Sent) => resolve(sent));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`sender worker exited with ${code} before reporting`)));
  });
}
