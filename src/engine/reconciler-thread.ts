import { Worker } from 'node:worker_threads';
import type { TransferListItem } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { CommitRecord } from '../../events/mod.js';
import type { View } from '../../projections/mod.js';
import type { StreamNames } from '../bus/streams.js';
import type { Operation } from '../ovsdb/mod.js';
import type { Writer } from '../reconcile/fence.js';
import type { ReconcilerObserver } from '../reconcile/reconciler.js';
import type { EngineConfig } from './config.js';
import type { DigestAnswer, DigestQuery } from './digest.js';
import { errorData, UNRESPONSIVE_MS } from './reconciler-protocol.js';
import type { CallName, ErrorData, FromReconciler, LoopLag, ReconcilerCall, ReconcilerCalls, ReconcilerStart, ReconcilerState, ReconcilerWorkerData } from './reconciler-protocol.js';

/** pino's numeric levels, for the thread's lines. */
const LEVELS: Readonly<Record<number, 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal'>> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

export interface ReconcilerThreadOptions {
  readonly config: EngineConfig;
  readonly streams: StreamNames;
  readonly logger: Logger;
  readonly observer?: ReconcilerObserver;
  /** A module the thread loads and calls with its parts once they are built (ReconcilerHook; tests). */
  readonly hook?: URL;
}

/**
 * The engine's handle on the reconciler's thread (reconciler-worker.ts): requests as promises
 * (an error thrown there comes back as an Error with its message), the state it reports as
 * synchronous getters (as of its last message: a reply comes after the state it changed), its
 * observer events and log lines passed on to the engine's observer and logger. A thread that
 * ends by anything but `stop()` is logged as fatal and `died` resolves: the engine has no
 * reconciler any more.
 */
export class ReconcilerThread {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve(value: unknown): void; reject(err: Error): void }>();
  private nextId = 0;
  private state: ReconcilerState = { observedSeq: 0, writing: false, quarantined: 0, northbound: { connected: false, remote: undefined }, nats: false };
  private readonly connectionListeners = new Set<(state: 'connected' | 'disconnected') => void>();
  private stopping = false;
  private exit: Error | undefined;
  /** When the thread last sent anything (a heartbeat at least every HEARTBEAT_MS while its loop turns). */
  private lastHeard = performance.now();
  /** Resolves with why, if the thread ended by anything but `stop()` (it crashed, or was cut off). */
  readonly died: Promise<Error>;
  private readonly exited: Promise<void>;

  constructor(private readonly opts: ReconcilerThreadOptions) {
    const data: ReconcilerWorkerData = {
      config: opts.config, streams: opts.streams, logLevel: opts.logger.level,
      observe: opts.observer !== undefined, ...(opts.hook && { hook: opts.hook.href }),
    };
    // Built next to this file (dist/src/engine): tsc compiles both.
    this.worker = new Worker(new URL('./reconciler-worker.js', import.meta.url), { workerData: data, name: 'novanet-reconciler' });
    let died!: (err: Error) => void;
    this.died = new Promise((resolve) => { died = resolve; });
    let crash: Error | undefined;
    this.worker.on('message', (message: FromReconciler) => this.received(message));
    // An uncaught exception in the thread, as an Error of this thread (its name, message and stack).
    this.worker.on('error', (err) => { crash = asError(errorData(err)); });
    this.exited = new Promise((resolve) => {
      this.worker.once('exit', (code) => {
        const why = crash ?? new Error(`the reconciler's thread exited (code ${code})`);
        this.exit = why;
        for (const { reject } of this.pending.values()) reject(why);
        this.pending.clear();
        if (!this.stopping) {
          this.opts.logger.fatal({ err: why }, 'the reconciler\'s thread died: this engine no longer reconciles');
          died(why);
        }
        resolve();
      });
    });
  }

  /** The sequence of the last commit the reconciler folded. */
  get observedSeq(): number {
    return this.state.observedSeq;
  }

  /** Whether the reconciler writes the Northbound now (it holds the writer lease). */
  get writing(): boolean {
    return this.state.writing;
  }

  /** Records of the log that are not commits, as the reconciler reports them. */
  get quarantined(): number {
    return this.state.quarantined;
  }

  /** The reconciler's Northbound session: connected (every monitor in place), and to which remote. */
  get northbound(): ReconcilerState['northbound'] {
    return this.state.northbound;
  }

  /** Whether the thread's own NATS connection is up (it follows the log and publishes statuses). */
  get natsConnected(): boolean {
    return this.state.nats;
  }

  /** False once the thread has sent nothing for UNRESPONSIVE_MS: its loop is held (wedged, or a stall far past any measured). */
  get responsive(): boolean {
    return performance.now() - this.lastHeard < UNRESPONSIVE_MS;
  }

  /** Told each time the reconciler's Northbound session connects or drops. */
  onNorthboundConnection(listener: (state: 'connected' | 'disconnected') => void): () => void {
    this.connectionListeners.add(listener);
    return () => this.connectionListeners.delete(listener);
  }

  /** Folds the log from `read` (a snapshot's bytes are moved to the thread) and follows it. */
  start(read: ReconcilerStart): Promise<void> {
    const bytes = read.snapshot;
    // Moved, not copied, when the bytes are a buffer of their own (SnapshotStore.load's are).
    const movable = bytes !== undefined && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
    return this.call('start', [read], movable ? [bytes.buffer as ArrayBuffer] : []);
  }

  /** Resolves once every dirty resource has been through a pass (tests and graceful stops). */
  idle(): Promise<void> {
    return this.call('idle', []);
  }

  /** A full resync (by hand). */
  resync(): Promise<void> {
    return this.call('resync', []);
  }

  /** The engine acquired the writer lease: the reconciler writes the Northbound as `writer` from now on. */
  takeOver(writer: Writer): Promise<void> {
    return this.call('takeOver', [writer]);
  }

  /** No more transactions or statuses from this reconciler (until the lease is acquired again). */
  standDown(): Promise<void> {
    return this.call('standDown', []);
  }

  /** What-if: the Northbound operations for `record` folded into `view` (sent as a copy), against the Northbound as it is now. */
  plan(view: View, record: CommitRecord): Promise<Operation[]> {
    return this.call('plan', [view, record]);
  }

  /** The pending difference between the reconciler's view and the Northbound. */
  drift(): Promise<Operation[]> {
    return this.call('drift', []);
  }

  /** Digests of the view the reconciler renders from (src/engine/digest.ts). */
  digest(query: DigestQuery): Promise<DigestAnswer> {
    return this.call('digest', [query]);
  }

  /** A copy of the view the reconciler renders from. */
  renderedView(): Promise<View> {
    return this.call('renderedView', []);
  }

  /** The thread's event-loop delay since the last ask. */
  loopLag(): Promise<LoopLag> {
    return this.call('loopLag', []);
  }

  /** Stops the reconciler and closes its connections; then the thread ends. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.exit) return;
    try {
      await this.call('stop', []);
    } finally {
      await this.worker.terminate();
      await this.exited;
    }
  }

  /** Ends the thread now, whatever it is doing: its connections close with it. */
  async terminate(): Promise<void> {
    this.stopping = true;
    await this.worker.terminate();
    await this.exited;
  }

  private call<K extends CallName>(call: K, args: Parameters<ReconcilerCalls[K]>, transfer: TransferListItem[] = []): Promise<ReturnType<ReconcilerCalls[K]>> {
    if (this.exit) return Promise.reject(this.exit);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.worker.postMessage({ type: 'call', id, call, args } as ReconcilerCall, transfer);
    });
  }

  private received(message: FromReconciler): void {
    this.lastHeard = performance.now();
    switch (message.type) {
      case 'heartbeat':
        return;
      case 'reply':
        this.settle(message.id)?.resolve(message.value);
        return;
      case 'failed':
        this.settle(message.id)?.reject(asError(message.error));
        return;
      case 'state':
        this.state = message.state;
        return;
      case 'connection':
        for (const listener of this.connectionListeners) listener(message.state);
        return;
      case 'log': {
        const { level, msg, ...fields } = JSON.parse(message.line) as { level: number; msg?: string };
        this.opts.logger[LEVELS[level] ?? 'info'](fields, msg);
        return;
      }
      case 'observed':
        (this.opts.observer?.[message.event] as ((...args: unknown[]) => void) | undefined)?.(...message.args);
        return;
      default:
        message satisfies never;
    }
  }

  private settle(id: number) {
    const waiting = this.pending.get(id);
    this.pending.delete(id);
    return waiting;
  }
}

function asError(data: ErrorData): Error {
  const err = new Error(data.message);
  err.name = data.name;
  if (data.stack !== undefined) err.stack = data.stack;
  return err;
}
