import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { pino } from 'pino';
import type { Logger } from 'pino';
import { streamNames, subjects } from '../../events/mod.js';
import { CommandEndpoint } from '../bus/command-endpoint.js';
import { Intake } from '../intake/intake.js';
import type { IntakeObserver } from '../intake/intake.js';
import { EventLog, shareRead } from '../bus/log.js';
import { StatusPublisher } from '../bus/status.js';
import { SnapshotStore } from '../bus/snapshot.js';
import { ensureStreams } from '../bus/streams.js';
import { Lease } from '../bus/lease.js';
import { OvsdbClient } from '../ovsdb/mod.js';
import { Reconciler } from '../reconcile/reconciler.js';
import type { ReconcilerObserver } from '../reconcile/reconciler.js';
import { natsOptions, ovnNbSsl } from './config.js';
import { operatorRequests } from './operator.js';
import { loadSnapshot, Snapshots } from './snapshots.js';
import type { EngineConfig } from './config.js';

/**
 * How long a dead engine's writer lease outlives it: a standby takes over at most this long
 * (plus one renewal period) after the writer died. Renewed three times per TTL.
 */
const WRITER_LEASE_TTL_MS = 3000;

/** The composition root: wires the NATS and OVSDB adapters to the intake and the reconciler. */
export interface Engine {
  readonly intake: Intake;
  readonly endpoint: CommandEndpoint;
  readonly reconciler: Reconciler;
  /** The writer lease: which engine of those sharing the log reconciles. */
  readonly lease: Lease;
  readonly nc: NatsConnection;
  readonly ovsdb: OvsdbClient;
  /** The seq of the snapshot both views started from; 0 when the whole log was folded. */
  readonly startedFrom: number;
  /** The connections readiness depends on: false while one is lost (both reconnect by themselves). */
  connected(): { readonly nats: boolean; readonly northbound: boolean };
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

/** Who watches the engine work (metrics): the intake's and the reconciler's observers. */
export interface EngineObservers {
  readonly intake?: IntakeObserver;
  readonly reconciler?: ReconcilerObserver;
}

/** How a stop ended: everything drained, or cut off at the deadline. */
export type StopOutcome = 'clean' | 'forced';

/** What the engine gives a stop before it closes its connections regardless. */
export const STOP_DEADLINE_MS = 4000;

export async function startEngine(config: EngineConfig, logger: Logger = pino({ level: config.logLevel }), observers: EngineObservers = {}): Promise<Engine> {
  // Stack traces for every request's error object cost ~5% of engine CPU (test/bench): off.
  const nc = await connect({ ...natsOptions(config, 'novanet-engine'), maxReconnectAttempts: -1, noAsyncTraces: true });
  let natsConnected = true;
  void (async () => {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect') natsConnected = false;
      else if (status.type === 'reconnect') natsConnected = true;
    }
  })();
  let ovsdb: OvsdbClient | undefined;
  try {
    const js = jetstream(nc);
    const jsm = await jetstreamManager(nc);
    const streams = await ensureStreams(jsm, config.prefix, config.replicas);
    const subs = subjects(config.prefix);
    const log = new EventLog(nc, js, jsm, streams.events, subs, config.natsInboxPrefix);

    const ssl = ovnNbSsl(config);
    ovsdb = await OvsdbClient.connect({
      remote: config.ovnNb, database: 'OVN_Northbound', ...(ssl && { ssl }), logger: logger.child({ component: 'ovsdb' }),
      // A clustered Northbound elects a new leader within a couple of seconds: look for it at least every second.
      reconnectDelayMs: { min: 100, max: 1000 },
    });
    const reconciler = new Reconciler({
      source: log,
      ovsdb,
      statusSink: new StatusPublisher(nc, js, jsm, subs, streams.status, config.natsInboxPrefix),
      ownership: { owner: config.owner },
      logger: logger.child({ component: 'reconciler' }),
      resyncIntervalMs: config.resyncIntervalMs,
      resyncSlice: config.resyncSlice,
      ...(observers.reconciler && { observer: observers.reconciler }),
    });
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
    // Both views start from the newest snapshot, if there is a sound one, and one read of the
    // log after it folds both (reading and validating a commit costs as much as folding it).
    // The reconciler asks for its Northbound dump first: ovsdb-server builds it meanwhile.
    const reading = (async () => {
      const snapshot = snapshots && await loadSnapshot(store, { head, log: logCreated, retention }, snapshotLogger);
      const [intakeRecords, reconcilerRecords] = shareRead(log.read((snapshot?.intake.seq ?? 0) + 1, head));
      return { snapshot, intakeRecords, reconcilerRecords };
    })();
    let served: () => void = () => undefined;
    const serving = new Promise<void>((resolve) => { served = resolve; });
    const reconcilerStarted = reconciler.start(reading.then(async ({ snapshot, reconcilerRecords }) => {
      // The reconciler's copy is decoded once reads are answered (at 100k ports ~1 s): reads do not wait for it.
      if (snapshot) await serving;
      return { head, records: reconcilerRecords, ...(snapshot && { from: snapshot.reconciler() }) };
    }));
    // Awaited below with the intake's start; until then a failure must not count as unhandled.
    reconcilerStarted.catch(() => undefined);
    const { snapshot, intakeRecords } = await reading;
    const endpoint = new CommandEndpoint({
      nc, intake, subjects: subs, prefix: config.prefix, logger: logger.child({ component: 'intake' }), replyPrefixes: config.replyPrefixes, adminReplyPrefixes: config.adminReplyPrefixes,
      operator: operatorRequests({ intake, reconciler, reconcilerStarted, subjects: subs }), version: PACKAGE_VERSION,
    });
    // Every engine serves commands; the lease holder alone reconciles, the others stand by warm.
    const holder = `${hostname()}:${process.pid}`;
    const lease = new Lease(nc, {
      bucket: streamNames(config.prefix).lease, holder, ttlMs: WRITER_LEASE_TTL_MS, replicas: config.replicas, logger: logger.child({ component: 'lease' }),
      onAcquired: (token) => reconciler.takeOver({ token, holder }),
      onLost: () => reconciler.standDown(),
    });
    // Reads and commands are answered once the intake's view is folded, not after the
    // reconciler's start; the lease waits for the reconciler alone (a takeover resyncs from
    // its folded view and its Northbound cache).
    const started = await Promise.allSettled([
      intake.start({ head, records: intakeRecords, ...(snapshot && { from: snapshot.intake }) }).then(() => endpoint.start()).finally(served),
      reconcilerStarted.then(() => lease.start()),
    ]);
    const failed = started.find((s) => s.status === 'rejected');
    if (failed) {
      // Whichever half started stops again before the connections close.
      await Promise.allSettled([endpoint.stop(), intake.stop(), reconciler.stop(), lease.stop()]);
      throw failed.reason;
    }
    logger.info({ nats: config.natsUrl, ovnNb: config.ovnNb, prefix: config.prefix, holder, writing: reconciler.writing }, 'novanet engine ready');
    const client = ovsdb;
    return {
      intake, endpoint, reconciler, lease, nc, ovsdb: client, startedFrom: snapshot?.intake.seq ?? 0,
      connected: () => ({ nats: natsConnected && !nc.isClosed(), northbound: client.connected }),
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
          reconciler.standDown();
          await reconciler.stop();
          await lease.stop();
          await client.close();
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
          // Whatever still waits on NATS or the Northbound fails now and gives up (both know they are stopping).
          // The lease stops renewing (it expires by itself: a standby takes over), the reconciler writes no more.
          reconciler.standDown();
          await Promise.allSettled([client.close(), nc.close()]);
          await lease.stop().catch(() => undefined);
          logger.warn({ deadlineMs }, 'novanet engine stopped at its deadline: connections closed with work in flight (left for the log)');
        } else {
          logger.info('novanet engine stopped');
        }
        return outcome;
      },
    };
  } catch (err) {
    // A start that fails half-way (NATS without JetStream yet, OVSDB away) leaves nothing open.
    await ovsdb?.close();
    await nc.close();
    throw err;
  }
}
