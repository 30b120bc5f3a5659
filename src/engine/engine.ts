import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { pino } from 'pino';
import type { Logger } from 'pino';
import { streamNames, subjects } from '../../events/mod.js';
import { CommandEndpoint } from '../bus/command-endpoint.js';
import { trackConnected } from '../bus/connection.js';
import { Intake } from '../intake/intake.js';
import type { IntakeObserver } from '../intake/intake.js';
import { EventLog } from '../bus/log.js';
import { Lease } from '../bus/lease.js';
import { SnapshotStore } from '../bus/snapshot.js';
import { ensureStreams } from '../bus/streams.js';
import type { ReconcilerObserver } from '../reconcile/reconciler.js';
import { natsOptions } from './config.js';
import { operatorRequests } from './operator.js';
import { ReconcilerThread } from './reconciler-thread.js';
import { loadSnapshot, Snapshots } from './snapshots.js';
import type { EngineConfig } from './config.js';

/**
 * How long a dead engine's writer lease outlives it: a standby takes over at most this long
 * (plus one renewal period) after the writer died. Renewed three times per TTL.
 */
const WRITER_LEASE_TTL_MS = 3000;

/**
 * The composition root: the command path (NATS, the intake, the command endpoint, snapshots) and
 * the writer lease on this thread, the reconciler (its own NATS connection, log follow, OVSDB
 * client and statuses) on a thread of its own, reached through `reconciler` (README "Scale").
 */
export interface Engine {
  readonly intake: Intake;
  readonly endpoint: CommandEndpoint;
  readonly reconciler: ReconcilerThread;
  readonly nc: NatsConnection;
  /** The seq of the snapshot both views started from; 0 when the whole log was folded. */
  readonly startedFrom: number;
  /**
   * What readiness depends on: false while a connection is lost (both reconnect by themselves),
   * `reconciler` false for good once its thread died (the engine cannot go on without it), and
   * `reconcilerResponsive` false while that thread has not been heard of for UNRESPONSIVE_MS.
   */
  connected(): { readonly nats: boolean; readonly northbound: boolean; readonly reconciler: boolean; readonly reconcilerResponsive: boolean };
  /** Resolves with why if the reconciler's thread died (then the process should end and be restarted). */
  readonly reconcilerDied: Promise<Error>;
  /** The log's last sequence, or undefined when NATS does not tell within a second. */
  logHead(): Promise<number | undefined>;
  /**
   * Stops taking commands, answers those taken, lets the reconciler finish its pass and
   * closes NATS and the Northbound — or, if that has not happened within `deadlineMs`
   * (NATS or the Northbound unreachable), closes both at once: `forced`. Either way nothing
   * is half-applied: a commit is one JetStream message and a pass one OVSDB transaction, so
   * an append or a transaction cut off is either in the log (in the Northbound) or not, and
   * the next start folds the log and converges from there.
   */
  stop(deadlineMs?: number): Promise<StopOutcome>;
}

/** The service version `nats micro info` shows: the package's (dist/src/engine → the package root). */
const PACKAGE_VERSION = (createRequire(import.meta.url)('../../../package.json') as { version: string }).version;

/** Who watches the engine work (metrics): the intake's and the reconciler's observers (the latter's events come from its thread). */
export interface EngineObservers {
  readonly intake?: IntakeObserver;
  readonly reconciler?: ReconcilerObserver;
}

/**
 * Where tests reach into the running engine. `reconcilerHook`: a module the reconciler's thread
 * imports and whose default export (ReconcilerHook) it calls with its parts before it starts.
 */
export interface EngineSeams {
  readonly reconcilerHook?: URL;
}

/** How a stop ended: everything drained, or cut off at the deadline. */
export type StopOutcome = 'clean' | 'forced';

/** What the engine gives a stop before it closes its connections regardless. */
export const STOP_DEADLINE_MS = 4000;

export async function startEngine(config: EngineConfig, logger: Logger = pino({ level: config.logLevel }), observers: EngineObservers = {}, seams: EngineSeams = {}): Promise<Engine> {
  // Stack traces for every request's error object cost ~5% of engine CPU (test/bench): off.
  const nc = await connect({ ...natsOptions(config, 'novanet-engine'), maxReconnectAttempts: -1, noAsyncTraces: true });
  const natsConnected = trackConnected(nc);
  let reconciler: ReconcilerThread | undefined;
  let lease: Lease | undefined;
  try {
    // Every engine serves commands; the lease holder alone reconciles, the others stand by warm.
    const holder = `${hostname()}:${process.pid}`;
    // The thread loads its modules, connects to NATS and the Northbound and asks for the
    // Northbound's dump while this one ensures the streams (it touches them only once started),
    // reads the log's head and loads the snapshot.
    const thread = new ReconcilerThread({
      config, streams: streamNames(config.prefix), logger,
      ...(observers.reconciler && { observer: observers.reconciler }), ...(seams.reconcilerHook && { hook: seams.reconcilerHook }),
    });
    reconciler = thread;
    const js = jetstream(nc);
    const jsm = await jetstreamManager(nc);
    const streams = await ensureStreams(jsm, config.prefix, config.replicas);
    const subs = subjects(config.prefix);
    const log = new EventLog(nc, js, jsm, streams.events, subs, config.natsInboxPrefix);
    const retention = { ms: config.idempotencyRetentionMs, perScope: config.idempotencyRetentionCommands };
    const head = await log.lastSeq();
    const logCreated = await log.created();
    const store = new SnapshotStore(nc, jsm, streams.snapshot, subs);
    const snapshotLogger = logger.child({ component: 'snapshot' });
    const snapshots = config.snapshotEvery > 0 ? new Snapshots(store, logCreated, config.snapshotEvery, snapshotLogger) : undefined;
    const intake = new Intake({
      log, config: { vpcPool: config.vpcPool }, retention, logger: logger.child({ component: 'intake' }),
      ...(observers.intake && { observer: observers.intake }), ...(snapshots && { snapshots }),
    });
    // Both views start from the newest snapshot, if there is a sound one: this thread decodes the
    // intake's copy, the reconciler's thread its own from the same bytes (moved to it, not copied),
    // and each reads the log after it with a consumer of its own.
    const snapshot = snapshots && await loadSnapshot(store, { head, log: logCreated, retention }, snapshotLogger);
    const intakeFrom = snapshot?.intake;
    // Held on this loop, whose turns are short, not on the reconciler's, which the Northbound's
    // dump or a large collection holds for seconds (longer than the lease's margin); a thread
    // that stops turning for UNRESPONSIVE_MS, or whose own NATS connection is down (it can follow
    // no commit and publish no status), lets the lease run out to a standby. The
    // Northbound's fence keeps a writer told too late from interleaving with the next one.
    // The start ends once a lease taken at once is the thread's too: the engine is then writing.
    let tookOver: Promise<void> = Promise.resolve();
    const writerLease = new Lease(nc, {
      bucket: streams.lease, holder, ttlMs: WRITER_LEASE_TTL_MS, replicas: config.replicas, logger: logger.child({ component: 'lease' }),
      eligible: () => thread.responsive && thread.natsConnected,
      // A call rejects only once the thread has ended, which `died` reports.
      onAcquired: (token) => { tookOver = thread.takeOver({ token, holder }).catch(() => undefined); },
      onLost: () => { thread.standDown().catch(() => undefined); },
    });
    lease = writerLease;
    const reconcilerStarted = thread.start({ head, ...(snapshot && { snapshot: snapshot.bytes }) }).then(() => writerLease.start()).then(() => tookOver);
    // Awaited below with the intake's start; until then a failure must not count as unhandled.
    reconcilerStarted.catch(() => undefined);
    const endpoint = new CommandEndpoint({
      nc, intake, subjects: subs, prefix: config.prefix, logger: logger.child({ component: 'intake' }), replyPrefixes: config.replyPrefixes, adminReplyPrefixes: config.adminReplyPrefixes,
      operator: operatorRequests({ intake, reconciler: thread, reconcilerStarted, subjects: subs }), version: PACKAGE_VERSION,
    });
    // Reads and commands are answered once the intake's view is folded, not after the
    // reconciler's start (which ends with the writer lease taken or left to another engine).
    const started = await Promise.allSettled([
      intake.start({ head, records: log.read((intakeFrom?.seq ?? 0) + 1, head), ...(intakeFrom && { from: intakeFrom }) }).then(() => endpoint.start()),
      reconcilerStarted,
    ]);
    const failed = started.find((s) => s.status === 'rejected');
    if (failed) {
      // Whichever half started stops again before the connections close.
      await Promise.allSettled([endpoint.stop(), intake.stop()]);
      throw failed.reason;
    }
    logger.info({ nats: config.natsUrl, ovnNb: config.ovnNb, prefix: config.prefix, holder, writing: thread.writing }, 'novanet engine ready');
    let reconcilerAlive = true;
    void thread.died.then(() => { reconcilerAlive = false; });
    return {
      intake, endpoint, reconciler: thread, nc, startedFrom: intakeFrom?.seq ?? 0, reconcilerDied: thread.died,
      connected: () => ({ nats: natsConnected() && !nc.isClosed(), northbound: thread.northbound.connected, reconciler: reconcilerAlive, reconcilerResponsive: thread.responsive }),
      async logHead() {
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<undefined>((resolve) => { timer = setTimeout(() => resolve(undefined), 1000); });
        return Promise.race([log.lastSeq().catch(() => undefined), late]).finally(() => clearTimeout(timer));
      },
      async stop(deadlineMs = STOP_DEADLINE_MS) {
        const graceful = (async () => {
          await endpoint.stop();
          // The intake's stop takes a snapshot of what it folded since the last one.
          await intake.stop();
          await snapshots?.flush();
          // The reconciler stands down, finishes its pass and closes its connections; then the
          // lease is released, so a standby takes over without waiting for it to run out.
          await thread.stop();
          await writerLease.stop();
          await nc.drain();
          return 'clean' as const;
        })().catch((err: unknown) => {
          logger.warn({ err }, 'stopping failed; closing the connections');
          return 'forced' as const;
        });
        let timer: NodeJS.Timeout | undefined;
        const deadline = new Promise<'forced'>((resolve) => { timer = setTimeout(() => resolve('forced'), deadlineMs); });
        const outcome = await Promise.race([graceful, deadline]).finally(() => clearTimeout(timer));
        if (outcome === 'forced') {
          // Whatever still waits on NATS fails now and gives up (it knows it is stopping). The
          // reconciler's thread ends at once: it writes no more, its connections close with it and
          // the lease, renewed no more, expires by itself (NATS may be what did not answer).
          await Promise.allSettled([thread.terminate(), nc.close()]);
          await writerLease.stop();
          logger.warn({ deadlineMs }, 'novanet engine stopped at its deadline: connections closed with work in flight (left for the log)');
        } else {
          logger.info('novanet engine stopped');
        }
        return outcome;
      },
    };
  } catch (err) {
    // A start that fails half-way (NATS without JetStream yet, OVSDB away) leaves nothing open,
    // and a lease it took is released.
    await lease?.stop();
    await reconciler?.terminate();
    await nc.close();
    throw err;
  }
}
