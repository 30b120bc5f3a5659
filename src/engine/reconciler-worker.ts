/**
 * The reconciler's thread (node:worker_threads): its own NATS connection, event log and follow,
 * status publisher, OVSDB client with its monitor cache and Reconciler, on an event loop and a
 * heap of their own, so that a full resync, the Northbound's dump or a GC of the reconciler's
 * heap never delays a command on the engine's loop. The writer lease is the engine's (it tells
 * this thread when it takes over and stands down), so a stall here does not cost it. The engine (reconciler-thread.ts) starts it with plain data
 * (ReconcilerWorkerData) and talks to it by the messages of reconciler-protocol.ts.
 */
import { readlinkSync, writeFileSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { pino } from 'pino';
import { subjects } from '../../events/mod.js';
import { trackConnected } from '../bus/connection.js';
import { EventLog } from '../bus/log.js';
import { decodeSnapshot, releaseBytes, SnapshotStore } from '../bus/snapshot.js';
import { StatusPublisher } from '../bus/status.js';
import { OvsdbClient } from '../ovsdb/mod.js';
import { Reconciler } from '../reconcile/reconciler.js';
import type { CommitSource, ReconcilerObserver, ReconcilerRead } from '../reconcile/reconciler.js';
import { natsOptions, ovnNbSsl } from './config.js';
import { viewDigest } from './digest.js';
import { loadNorthboundCache, restoreNorthboundCache, saveNorthboundCache } from './northbound-cache.js';
import { errorData, HEARTBEAT_MS, RECONCILER_NICE, RECONCILER_THREAD_NAME } from './reconciler-protocol.js';
import type { FromReconciler, ReconcilerCall, ReconcilerCalls, ReconcilerHook, ReconcilerStart, ReconcilerState, ReconcilerWorkerData } from './reconciler-protocol.js';

try {
  writeFileSync('/proc/thread-self/comm', RECONCILER_THREAD_NAME);
  // The command path's thread is woken for each command and must not wait for a core behind
  // this one's resync or fill (measured: 2 s of its 18 s run-queue waiting during a full resync
  // at 30k): this thread runs at a lower priority, a nice value above the engine's. On Linux a
  // thread id is a pid to setpriority(2); raising one's own nice needs no privilege.
  const thread = Number(readlinkSync('/proc/thread-self').split('/').at(-1));
  setPriority(thread, Math.min(19, getPriority(thread) + RECONCILER_NICE));
} catch {
  // Not Linux, or no /proc: the thread keeps Node's name and the engine's priority.
}

const port = parentPort!;
const data = workerData as ReconcilerWorkerData;
const send = (message: FromReconciler) => port.postMessage(message);

// The engine's logger writes every line (one mechanism, one destination): this one only formats them.
const logger = pino({ level: data.logLevel, base: undefined, timestamp: false }, { write: (line: string) => send({ type: 'log', line }) });
const lag = monitorEventLoopDelay({ resolution: 10 });
lag.enable();
// The longest the start held this thread's loop (the Northbound's dump, the snapshot's decode),
// logged once started: a stall delays the heartbeats the engine renews the writer lease on.
const startStalls = monitorEventLoopDelay({ resolution: 10 });
startStalls.enable();
// A wedged loop sends none: the engine's readiness says so (ReconcilerThread.responsive).
setInterval(() => send({ type: 'heartbeat' }), HEARTBEAT_MS).unref();

let lastState: ReconcilerState | undefined;
let stateQueued = false;
/** The state as it is now, sent if it changed; `current` reads it (once the parts exist). */
let current: (() => ReconcilerState) | undefined;
function flushState(): void {
  stateQueued = false;
  const state = current?.();
  if (!state) return;
  if (lastState && state.observedSeq === lastState.observedSeq && state.writing === lastState.writing && state.quarantined === lastState.quarantined
    && state.northbound.connected === lastState.northbound.connected && state.northbound.remote === lastState.northbound.remote
    && state.nats === lastState.nats) return;
  lastState = state;
  send({ type: 'state', state });
}
/** Coalesced: many commits folded in one turn of the loop are one message. */
function stateChanged(): void {
  if (stateQueued) return;
  stateQueued = true;
  setImmediate(flushState);
}

const forwarded = <K extends keyof ReconcilerObserver>(event: K) => (...args: Parameters<ReconcilerObserver[K]>): void => {
  if (data.observe) send({ type: 'observed', event, args } as FromReconciler);
  stateChanged();
};
const observer: ReconcilerObserver = {
  batch: forwarded('batch'), transaction: forwarded('transaction'), resync: forwarded('resync'),
  sweep: forwarded('sweep'), statusPublishFailed: forwarded('statusPublishFailed'), writing: forwarded('writing'),
};

let begin!: (read: ReconcilerStart) => void;
const started = new Promise<ReconcilerStart>((resolve) => { begin = resolve; });

/** Connects and builds the parts; the reconciler's start (its monitor request first) runs as soon as they exist. */
async function build() {
  const { config } = data;
  const nc = await connect({ ...natsOptions(config, 'novanet-reconciler'), maxReconnectAttempts: -1, noAsyncTraces: true });
  let ovsdb: OvsdbClient | undefined;
  const natsUp = trackConnected(nc, stateChanged);
  try {
    const js = jetstream(nc);
    const jsm = await jetstreamManager(nc);
    const subs = subjects(config.prefix);
    // Kept and restored as the views' snapshots are: not at all with snapshots off.
    const cacheStore = config.snapshotEvery > 0 ? new SnapshotStore(nc, jsm, data.streams.snapshot, subs.northboundCache) : undefined;
    const log = new EventLog(nc, js, jsm, data.streams.events, subs, config.natsInboxPrefix);
    const ssl = ovnNbSsl(config);
    const cacheLogger = logger.child({ component: 'northbound-cache' });
    // Read beside the Northbound's connect, handed to the client before the monitor request.
    const savedCache = cacheStore && loadNorthboundCache(cacheStore, cacheLogger);
    // The reconciler's once it exists (before its monitor request, so before any row arrives).
    let sharedUuid = (uuid: string): string => uuid;
    ovsdb = await OvsdbClient.connect({
      remote: config.ovnNb, database: 'OVN_Northbound', ...(ssl && { ssl }), logger: logger.child({ component: 'ovsdb' }),
      // A clustered Northbound elects a new leader within a couple of seconds: look for it at least every second.
      reconnectDelayMs: { min: 100, max: 1000 },
      sharedUuid: (uuid) => sharedUuid(uuid),
    });
    const client = ovsdb;
    const saved = await savedCache;
    if (saved) restoreNorthboundCache(client, saved, cacheLogger);
    client.onConnection((state) => {
      // The state first: whoever the engine tells of the change reads the state as of it (readiness).
      flushState();
      send({ type: 'connection', state });
    });
    // Every record followed may move the state the engine mirrors (observedSeq, quarantined).
    const source: CommitSource = {
      lastSeq: () => log.lastSeq(),
      read: (from, to) => log.read(from, to),
      follow: (from, onRecord, onError) => log.follow(from, async (record) => {
        await onRecord(record);
        stateChanged();
      }, onError),
    };
    const reconciler = new Reconciler({
      source, ovsdb, observer,
      statusSink: new StatusPublisher(nc, js, jsm, subs, data.streams.status, config.natsInboxPrefix),
      ownership: { owner: config.owner },
      logger: logger.child({ component: 'reconciler' }),
      resyncIntervalMs: config.resyncIntervalMs,
      resyncSlice: config.resyncSlice,
    });
    sharedUuid = (uuid) => reconciler.sharedUuid(uuid);
    current = () => ({
      observedSeq: reconciler.observedSeq, writing: reconciler.writing, quarantined: reconciler.quarantine.count,
      northbound: { connected: client.connected, remote: client.remote }, nats: natsUp(),
    });
    if (data.hook !== undefined) await ((await import(data.hook)) as { default: ReconcilerHook }).default({ reconciler, ovsdb, config });
    const running = reconciler.start(started.then((read) => reading(log, read)));
    running.catch(() => undefined);
    return { nc, ovsdb: client, reconciler, running, cacheStore, cacheLogger };
  } catch (err) {
    await ovsdb?.close();
    await nc.close();
    throw err;
  }
}

/** The log from the engine's snapshot (decoded here: its bytes were moved to this thread) through the head, read by this thread's own consumer. */
function reading(log: EventLog, { head, snapshot }: ReconcilerStart): ReconcilerRead {
  // Shared here, not in the intake's copy: there the decode's ~0.8 s more at 100k ports would be
  // before the first read; here it is beside the Northbound's dump.
  const decoded = snapshot && decodeSnapshot(snapshot, { shareStrings: true });
  // Nothing reads them after the decode: freed now, not at the next full collection.
  if (snapshot) releaseBytes(snapshot);
  // The engine decoded and checked the same bytes before handing them over.
  if (decoded && 'reason' in decoded) throw new Error(`the snapshot handed to the reconciler does not decode: ${decoded.reason}`);
  return {
    head, records: log.read((decoded?.seq ?? 0) + 1, head),
    ...(decoded && { from: { view: decoded.view, quarantined: decoded.quarantined } }),
  };
}

const parts = build();
parts.catch(() => undefined);

type Handlers = { [K in keyof ReconcilerCalls]: (...args: Parameters<ReconcilerCalls[K]>) => ReturnType<ReconcilerCalls[K]> | Promise<ReturnType<ReconcilerCalls[K]>> };

const calls: Handlers = {
  async start(read) {
    begin(read);
    await (await parts).running;
    startStalls.disable();
    logger.info({ longestStallMs: Math.round(startStalls.max / 1e6) }, 'the reconciler started');
  },
  idle: async () => (await parts).reconciler.idle(),
  resync: async () => (await parts).reconciler.resync(),
  takeOver: async (writer) => (await parts).reconciler.takeOver(writer),
  standDown: async () => (await parts).reconciler.standDown(),
  plan: async (view, record) => (await parts).reconciler.plan(view, record),
  drift: async () => (await parts).reconciler.drift(),
  digest: async (query) => viewDigest((await parts).reconciler.renderedView, query),
  renderedView: async () => (await parts).reconciler.renderedView,
  loopLag() {
    const answer = { p50: lag.percentile(50) / 1e9, p99: lag.percentile(99) / 1e9, max: lag.max / 1e9 };
    lag.reset();
    return answer;
  },
  async stop() {
    const { reconciler, ovsdb, nc, cacheStore, cacheLogger } = await parts;
    reconciler.standDown();
    await reconciler.stop();
    // Nothing writes any more: the cache is as of its last transaction, and the next start resumes from it.
    if (cacheStore) await saveNorthboundCache(cacheStore, ovsdb, cacheLogger);
    await ovsdb.close();
    await nc.drain();
  },
};

port.on('message', (message: ReconcilerCall) => {
  const handler = calls[message.call] as (...args: unknown[]) => unknown;
  Promise.resolve().then(() => handler(...message.args)).then(
    (value) => {
      // The reply comes after the state it may have changed: the engine reads it as of the answer.
      flushState();
      send({ type: 'reply', id: message.id, value });
    },
    (err: unknown) => {
      flushState();
      send({ type: 'failed', id: message.id, error: errorData(err) });
    },
  );
});
