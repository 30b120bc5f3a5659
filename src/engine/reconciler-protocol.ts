import type { CommitRecord } from '../../events/mod.js';
import type { View } from '../../projections/mod.js';
import type { StreamNames } from '../bus/streams.js';
import type { Operation, OvsdbClient } from '../ovsdb/mod.js';
import type { Writer } from '../reconcile/fence.js';
import type { Reconciler, ReconcilerObserver } from '../reconcile/reconciler.js';
import type { EngineConfig } from './config.js';
import type { DigestAnswer, DigestQuery } from './digest.js';

/**
 * The messages between the engine (main thread) and the reconciler's thread
 * (reconciler-worker.ts): one postMessage each, structured-cloned, in order on one port.
 * Both sides are this package's code, so the messages are typed, not validated.
 */

/** What the reconciler's thread is started with (workerData): plain data, no closures. */
export interface ReconcilerWorkerData {
  readonly config: EngineConfig;
  readonly streams: StreamNames;
  /** The engine's logger's level: the thread's lines go to the engine's logger (ReconcilerLog). */
  readonly logLevel: string;
  /** The engine has a reconciler observer: forward its events. */
  readonly observe: boolean;
  /** A module whose default export (ReconcilerHook) the thread calls once its parts are built (tests). */
  readonly hook?: string;
}

/** Where the reconciler starts: the log's head the engine read, and the snapshot it loaded (its bytes, moved to the thread). */
export interface ReconcilerStart {
  readonly head: number;
  readonly snapshot?: Uint8Array;
}

/** The event loop's delay in the reconciler's thread since the last ask (perf_hooks.monitorEventLoopDelay), in seconds. */
export interface LoopLag {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

/** What the reconciler's thread answers: each a request with its reply (a promise on the engine's side). */
export interface ReconcilerCalls {
  /** Folds the log from the snapshot and follows it; resolves once it is folded (and the Northbound's dump read). */
  start(read: ReconcilerStart): void;
  idle(): void;
  resync(): void;
  /** The engine acquired the writer lease: write the Northbound as `writer`. */
  takeOver(writer: Writer): void;
  standDown(): void;
  plan(view: View, record: CommitRecord): Operation[];
  drift(): Operation[];
  digest(query: DigestQuery): DigestAnswer;
  renderedView(): View;
  loopLag(): LoopLag;
  /** Stops the reconciler and closes its connections. */
  stop(): void;
}

export type CallName = keyof ReconcilerCalls;

export type ReconcilerCall = { [K in CallName]: { readonly type: 'call'; readonly id: number; readonly call: K; readonly args: Parameters<ReconcilerCalls[K]> } }[CallName];

/** The reconciler's state the engine reads synchronously (readiness, metrics, tests), sent whenever it changes. */
export interface ReconcilerState {
  readonly observedSeq: number;
  readonly writing: boolean;
  /** Records of the log that are not commits (QuarantineReport). */
  readonly quarantined: number;
  readonly northbound: { readonly connected: boolean; readonly remote: string | undefined };
  /** The thread's own NATS connection is up: it follows the log and publishes statuses. */
  readonly nats: boolean;
}

/** An Error across the boundary: its name and message (and stack, for the log). */
export interface ErrorData {
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
}

export type ObservedEvent = { [K in keyof ReconcilerObserver]: { readonly type: 'observed'; readonly event: K; readonly args: Parameters<ReconcilerObserver[K]> } }[keyof ReconcilerObserver];

/**
 * The thread's name on Linux (`top -H`, `/proc/<pid>/task/<tid>/comm`, set by the thread itself):
 * every thread of Node's is `node`, so which one is the reconciler, and its CPU, would be a guess.
 */
export const RECONCILER_THREAD_NAME = 'reconciler';
/** How much lower the reconciler's thread runs than the engine's (a nice value's difference; reconciler-worker.ts). */
export const RECONCILER_NICE = 5;

/** How often the reconciler's thread says it is alive, whatever it is doing between its turns. */
export const HEARTBEAT_MS = 1000;

/**
 * How long the engine waits for a word from the reconciler's thread before it counts it as not
 * responding (readiness fails, and the engine lets the writer lease run out): at 100k ports its
 * loop's longest hold is ~2 s (the Northbound's dump).
 */
export const UNRESPONSIVE_MS = 10_000;

export type FromReconciler =
  | { readonly type: 'reply'; readonly id: number; readonly value: unknown }
  | { readonly type: 'heartbeat' }
  | { readonly type: 'failed'; readonly id: number; readonly error: ErrorData }
  | { readonly type: 'state'; readonly state: ReconcilerState }
  | { readonly type: 'connection'; readonly state: 'connected' | 'disconnected' }
  | { readonly type: 'log'; readonly line: string }
  | ObservedEvent;

/** The parts a test hook may reach into, in the reconciler's thread. */
export interface ReconcilerHookParts {
  readonly reconciler: Reconciler;
  readonly ovsdb: OvsdbClient;
  readonly config: EngineConfig;
}

export type ReconcilerHook = (parts: ReconcilerHookParts) => void | Promise<void>;

export function errorData(err: unknown): ErrorData {
  return err instanceof Error ? { name: err.name, message: err.message, ...(err.stack !== undefined && { stack: err.stack }) } : { name: 'Error', message: String(err) };
}
