import type { Logger } from 'pino';
import { isQuarantined, isResourceKind, Phase, PROVIDER_SCOPE, resourceOf, scopeKey } from '../../events/mod.js';
import type { CommitRecord, LogRecord, QuarantinedRecord, Scope } from '../../events/mod.js';
import { allResources, evolve, initialView, scopeOf } from '../../projections/mod.js';
import type { View } from '../../projections/mod.js';
import { isOvsdbEncodingError, isOvsdbSchemaError, isOvsdbTransactionError } from '../ovsdb/mod.js';
import type { Atom, Operation, OvsdbClient, OvsdbError, Row, RowUpdate } from '../ovsdb/mod.js';
import { diff } from './diff.js';
import { isRetiredKind, ownerKey } from './names.js';
import type { Ownership, RowOwner } from './names.js';
import { actualRows, indexOwnedRows, rowOwner } from './actual.js';
import { ReferenceIndex } from './references.js';
import { dependantsOf } from './affected.js';
import { desiredRows, membersOf } from './kinds.js';
import type { DesiredResource } from './desired.js';
import type { DesiredRow } from './desired-row.js';
import { WriterFence } from './fence.js';
import type { Writer } from './fence.js';
import { QUARANTINE_KIND, QuarantineReport } from './quarantine.js';
import { PublishedDigests, statusDigest, statusOf } from './status.js';
import type { ResourceStatus } from './status.js';
import { Tables, tableNames } from './tables/mod.js';
import type { TableSpec } from './tables/mod.js';

/** Where the reconciler reads commits from (the event log). */
export interface CommitSource {
  lastSeq(): Promise<number>;
  read(fromSeq: number, toSeq: number): AsyncIterable<LogRecord>;
  follow(fromSeq: number, onRecord: (record: LogRecord) => Promise<void> | void, onError?: (err: unknown) => void): { stop(): Promise<void>; done: Promise<void> };
}

/** The latest stored message of a status subject: the resource the subject names, and the status if it is one. */
export interface StoredStatus {
  readonly kind: string;
  readonly id: string;
  readonly scope: Scope;
  readonly status: ResourceStatus | undefined;
}

/** A resource whose latest stored status is asked for. */
export interface StatusTarget {
  readonly kind: string;
  readonly id: string;
  readonly scope: Scope;
}

/** Where statuses go (the STATUS stream). */
export interface StatusSink {
  publish(statuses: readonly ResourceStatus[]): Promise<void>;
  /** The latest stored message of every status subject, as the stream holds them when called; rejects once `signal` aborts. */
  latest(signal?: AbortSignal): Promise<readonly StoredStatus[]>;
  /** The latest stored status of each resource, in their order: undefined where there is none or it is not a status. */
  latestOf(resources: readonly StatusTarget[]): Promise<readonly (ResourceStatus | undefined)[]>;
}

/** What the reconciler reports as it works (metrics at the edge: src/http). */
export interface ReconcilerObserver {
  /** One batch through render, diff, transaction and statuses: how many resources, in seconds. */
  batch(resources: number, seconds: number): void;
  /**
   * One Northbound transaction: `committed`, `refused` (rows refused), `fenced` (another engine
   * holds the writer lease) or `failed` (outcome unknown: disconnected, timed out).
   */
  transaction(result: 'committed' | 'refused' | 'fenced' | 'failed', seconds: number): void;
  /**
   * A full resync (at start, on takeOver, on an OVSDB reconnect): from reading the stored
   * statuses until every resource it marked was through a pass, in seconds.
   */
  resync(seconds: number): void;
  /** One tick of the paced sweep: the resources it re-checks (each rendered once) and the owned rows it looked at for orphans. */
  sweep(resources: number, rows: number): void;
  /** Statuses that could not be published (retried in 1 s). */
  statusPublishFailed(count: number): void;
  /** This reconciler became the writer (took over), or stopped being it (stood down, fenced out). */
  writing(writing: boolean): void;
}

export interface ReconcilerOptions {
  readonly source: CommitSource;
  readonly ovsdb: OvsdbClient;
  readonly statusSink: StatusSink;
  readonly ownership: Ownership;
  readonly logger: Logger;
  /**
   * The paced sweep's tick: every interval it re-checks the next `resyncSlice` resources of
   * the view (rows and stored status) and the next `resyncSlice` owned rows (orphans), so
   * every resource is re-checked once per ceil(resources / slice) intervals.
   */
  readonly resyncIntervalMs: number;
  /** Resources (and owned rows) a tick of the sweep re-checks; default RESYNC_SWEEP_SLICE. */
  readonly resyncSlice?: number;
  /** Resources per OVSDB transaction. */
  readonly batchSize?: number;
  readonly observer?: ReconcilerObserver;
}

/**
 * What a resync marked is reconciled this many at a time: a resync batch rarely writes, so
 * it is all CPU, and a commit arriving meanwhile waits for at most one slice (~0.3–0.4 ms a
 * resource on the development VM, so ~3 ms) instead of a full batch. 32 held the event loop
 * for 10–15 ms a slice: a full resync at 30k ports then read 60 ms of event-loop lag p99.
 */
const RESYNC_SLICE = 8;

/**
 * What one tick of the paced sweep re-checks when not told (the engine's default,
 * EngineConfig.resyncSlice): a resource re-checked costs ~0.4 ms of engine CPU on the
 * development VM (render, diff, status digest, one direct get, and the GC of all that), so
 * with the default 30 s tick 1,000 resources are ~1.5 % of a core whatever the cloud's size;
 * 100k resources are all re-checked every 50 minutes.
 */
const RESYNC_SWEEP_SLICE = 1000;

/**
 * Long loops of a full resync (comparing 100k stored statuses, marking every resource and
 * owned row) hand the event loop back this often, so a command waits at most this long.
 */
const CHUNK_MS = 5;

/** Why a resource is being reconciled: a status is always published after an event. */
type Reason = 'event' | 'drift' | 'resync' | 'dependency';

interface Dirty {
  readonly ref: RowOwner;
  readonly scope: Scope;
  readonly reason: Reason;
  /** A dependency brought into a batch: the key of the member it came with, which a split keeps it with. */
  readonly unit?: string;
}

/** A batch member with its desired rows, rendered once for both the dependency check and the diff. */
interface Rendered {
  readonly dirty: Dirty;
  readonly resource: DesiredResource | undefined;
}

/**
 * The log as the engine read it once for both views (src/engine): every record through
 * `head`, or, `from` a snapshot's view (this reconciler's own copy) and the messages through
 * its seq that are not commits, the records after it.
 */
export interface ReconcilerRead {
  readonly head: number;
  readonly records: AsyncIterable<LogRecord>;
  readonly from?: { readonly view: View; readonly quarantined: readonly QuarantinedRecord[] };
}

/**
 * Converges the Northbound to the view folded from the log, level-based:
 * events and monitor updates only mark resources dirty; a pass computes the
 * desired rows of the dirty resources, diffs them against the monitored cache
 * and applies the difference in one transaction per batch. Re-running is a no-op.
 *
 * Drift the monitor did not report is found by two mechanisms. A full resync (every resource,
 * every owned row, every stored status) runs where the state may be anything: at start, on
 * takeOver (the previous writer may have left anything half-done) and on an OVSDB reconnect.
 * Its loops hand the event loop back every CHUNK_MS, and what it marks is served RESYNC_SLICE
 * at a time after commits. The periodic safety net is a paced sweep instead: each tick
 * re-checks a bounded slice (`resyncSlice` resources with their stored statuses, and as many
 * owned rows for orphans), so its cost a tick does not grow with the cloud; monitor updates
 * and commits already mark what they change, so the sweep rarely finds anything.
 *
 * It writes only as the installation's writer (`takeOver`, given by the writer lease): until
 * then, and after `standDown`, it folds the log and follows the Northbound as a warm standby,
 * and neither writes nor publishes statuses. The Northbound itself refuses its transactions
 * once another writer took over (WriterFence).
 */
export class Reconciler {
  /** Replaced only at start, by a snapshot's. */
  private view: View = initialView();
  /**
   * Resources to reconcile, in two queues: what commits, drift and dependencies marked is
   * served before what a full resync marked, so a command's resource never waits behind a
   * pass over the whole cloud (at 30k ports a pass takes seconds; test/bench's scale scenario).
   */
  private readonly dirty = new Map<string, Dirty>();
  private readonly resyncDirty = new Map<string, Dirty>();
  /**
   * The digest of the last status published (or found stored) per resource (statusDigest):
   * what a pass compares a non-event status with. A digest, not the status: ~0.7 KiB a port less.
   */
  private readonly published = new PublishedDigests();
  /** The full resync in progress (reading the stored statuses and marking), and when it began. */
  private resyncing: Promise<void> | undefined;
  private resyncStarted: number | undefined;
  /** Stored-status reads in flight, each with what is published meanwhile: newer than what it reads. */
  private readonly reads = new Set<Set<string>>();
  /** The paced sweep: the tick in progress, and where it is in the view and in the owned rows. */
  private sweeping: Promise<void> | undefined;
  private sweepResources: Iterator<{ ref: RowOwner; scope: Scope; seq: number }> | undefined;
  private sweepRows: Iterator<Row> | undefined;
  private readonly resyncSlice: number;
  /** The last batch's statuses on their way to the stream (publish). */
  private statusesInFlight: Promise<void> | undefined;
  /** Rows the transaction in flight touches: their monitor updates are our own writes, not drift. */
  private readonly expecting = new Set<string>();
  /**
   * The memberships the transaction in flight adds or drops (`holder/member`): a change to an
   * expected holder's set is our own write only for those; any other member it gained or lost
   * is someone else's edit, repaired like any drift.
   */
  private readonly expectingMembers = new Set<string>();
  private pass: Promise<void> | undefined;
  private follower: { stop(): Promise<void> } | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Resources whose status did not reach NATS, and the timer that marks them dirty again. */
  private readonly statusRetries = new Map<string, Dirty>();
  private statusRetry: NodeJS.Timeout | undefined;
  /** Aborted by `stop()`: nothing more is scheduled, and a full resync's read of the stored statuses ends. */
  private readonly stopping = new AbortController();
  private get stopped(): boolean {
    return this.stopping.signal.aborted;
  }
  /** No pass before the log is folded: the initial Northbound dump marks rows dirty that a partial view would delete. */
  private folded = false;
  /**
   * Until the first comparison with the stored statuses only commits are served: `published`
   * is empty until then, and a pass would publish every status it touches again. A commit's
   * status is published anyway, so a new port does not wait for the read (100k statuses at
   * 100k ports); everything else marked meanwhile waits in the resync queue, which the full
   * resync that compares marks anyway.
   */
  private statusesCompared = false;
  private readonly disposers: (() => void)[] = [];
  private readonly fence: WriterFence;
  /** Who this reconciler writes as; undefined while standing by. */
  private writer: Writer | undefined;
  /** The writer's token is in the Northbound (the first thing a writer's pass makes sure of). */
  private claimed = false;
  private readonly batchSize: number;
  private readonly references: ReferenceIndex;
  /** Messages on the log that are not commits: skipped by the fold, reported to the operator. */
  readonly quarantine: QuarantineReport;

  constructor(private readonly opts: ReconcilerOptions) {
    this.batchSize = opts.batchSize ?? 256;
    this.resyncSlice = opts.resyncSlice ?? RESYNC_SWEEP_SLICE;
    this.fence = new WriterFence(opts.ovsdb, opts.ownership);
    this.references = new ReferenceIndex((row) => this.ownedResource(row) !== undefined);
    this.quarantine = new QuarantineReport((statuses) => opts.statusSink.publish(statuses), opts.logger);
  }

  /** The sequence of the last commit folded in. */
  get observedSeq(): number {
    return this.view.seq;
  }

  /** The view rows are rendered from (verify's digest; do not mutate). */
  get renderedView(): View {
    return this.view;
  }

  /**
   * The view's own string for a Northbound row's UUID that is a port's id (its switch port's,
   * `rowUuid.switchPort`), else `uuid`: the monitor cache keeps the view's string instead of a
   * copy of its own (OvsdbClientOptions.sharedUuid), 56 B a port.
   */
  sharedUuid(uuid: string): string {
    return this.view.ports.get(uuid)?.id ?? uuid;
  }

  /**
   * Monitors the Northbound and folds the log, side by side (ovsdb-server builds its dump
   * while the log is read), then follows the log. `reading`, if given, is the log read once
   * for the intake and the reconciler (src/engine); without it the reconciler reads it itself.
   */
  async start(reading?: ReconcilerRead | Promise<ReconcilerRead>): Promise<void> {
    const { ovsdb, source } = this.opts;
    indexOwnedRows(ovsdb.cache, this.opts.ownership);
    this.disposers.push(ovsdb.onUpdate((updates) => {
      this.references.apply(updates);
      this.onRowUpdates(updates);
    }));
    this.disposers.push(ovsdb.onConnection((state) => { if (state === 'connected') this.resync(); }));
    // The monitor request goes out first: ovsdb-server builds its dump while a snapshot loads.
    const started = performance.now();
    const since = () => Math.round(performance.now() - started);
    const requests = tableNames.map((table) => {
      const columns = (Tables as Record<string, TableSpec>)[table]!.columns;
      return [table, columns ? { columns } : {}] as const;
    });
    const monitored = ovsdb.monitor(Object.fromEntries(requests)).then(() => {
      this.opts.logger.info({ ms: since() }, 'the Northbound dump is in the cache');
      return this.fence.start();
    });
    monitored.catch(() => undefined);
    const read = await reading;
    if (read?.from) {
      this.view = read.from.view;
      for (const record of read.from.quarantined) this.quarantine.report(record);
    }
    const last = read?.head ?? await source.lastSeq();
    await Promise.all([
      monitored,
      (async () => {
        for await (const record of read?.records ?? source.read(1, last)) this.fold(record, false);
        this.opts.logger.info({ ms: since(), seq: this.view.seq }, 'the log is folded');
      })(),
    ]);
    this.folded = true;
    this.resync();
    const follower = source.follow(last + 1, (record) => {
      this.fold(record, true);
      this.schedule();
    }, (err) => this.opts.logger.warn({ err }, 'following the log failed; following again'));
    this.follower = follower;
    // Only a commit this engine cannot fold ends the follow: say so loudly, statuses stop here.
    follower.done.catch((err: unknown) => this.opts.logger.fatal({ err }, 'a commit could not be folded; the reconciler stopped following the log'));
    this.timer = setInterval(() => this.sweep(), this.opts.resyncIntervalMs);
    this.timer.unref();
  }

  /**
   * From now on this reconciler is the writer (the lease was acquired): it claims the
   * Northbound with the lease's token before its first transaction, then resyncs everything,
   * statuses included, since the previous writer may have left anything half-done.
   */
  takeOver(writer: Writer): void {
    this.writer = writer;
    this.claimed = false;
    this.opts.observer?.writing(true);
    this.resync();
    // Commits folded while standing by (at start: those that came while the dump was read) are
    // served now, not once the resync has read and compared every stored status (~3 s at 100k ports).
    this.schedule();
  }

  /** No more transactions or statuses from now on (the lease was lost or released); a transaction in flight ends as it may. */
  standDown(): void {
    if (this.writer === undefined) return;
    this.writer = undefined;
    this.opts.observer?.writing(false);
  }

  /** Whether this reconciler is the writer now. */
  get writing(): boolean {
    return this.writer !== undefined;
  }

  async stop(): Promise<void> {
    // A full resync's read of every stored status (~3 s at 100k ports) is not waited for: it writes nothing.
    this.stopping.abort();
    clearInterval(this.timer);
    for (const dispose of this.disposers) dispose();
    await this.follower?.stop();
    await this.resyncing;
    await this.sweeping;
    await this.pass;
    await this.quarantine.stop();
    clearTimeout(this.statusRetry);
  }

  /** Resolves once every dirty resource has been through a pass (tests and graceful stops). */
  async idle(): Promise<void> {
    while (this.pass ?? this.resyncing ?? this.sweeping) await (this.pass ?? this.resyncing ?? this.sweeping);
  }

  private fold(record: LogRecord, markDirty: boolean): void {
    if (isQuarantined(record)) {
      this.quarantine.report(record);
      return;
    }
    if (!markDirty) {
      evolve(this.view, record);
      return;
    }
    for (const dirty of this.foldTouched(this.view, record)) {
      const key = ownerKey(dirty.ref);
      this.dirty.set(key, dirty);
      this.resyncDirty.delete(key);
    }
  }

  /** Folds a commit into `view` and returns every resource whose rows or status it may change. */
  private foldTouched(view: View, record: CommitRecord): Dirty[] {
    const { events, scope } = record.commit;
    // Dependants are looked up before and after: a deleted port's attachments are only
    // findable before, a created one's only after.
    const touched = events.flatMap((e) => [...refs(resourceOf(e)), ...dependantsOf(view, e)]);
    evolve(view, record);
    touched.push(...events.flatMap((e) => dependantsOf(view, e)));
    return touched.map((ref) => ({ ref, scope: this.scopeIn(view, ref) ?? scope, reason: 'event' as const }));
  }

  /**
   * What-if: the Northbound operations this reconciler would send for a commit folded into
   * `view` (a copy: it is changed), against the Northbound as it is now. Nothing is applied.
   */
  plan(view: View, record: CommitRecord): Operation[] {
    const touched = new Map(this.foldTouched(view, record).map((d) => [ownerKey(d.ref), d]));
    return this.operationsFor(this.rendered([...touched.values()], view)).ops;
  }

  /**
   * The pending difference between the view and the Northbound right now, as a full resync
   * would find it (every resource of the view and every owned row it does not explain), without
   * applying it. O(the cloud): an operator's question, not a step of the loop.
   */
  drift(): Operation[] {
    const all = new Map<string, Dirty>();
    for (const dirty of this.everything()) if (!all.has(ownerKey(dirty.ref))) all.set(ownerKey(dirty.ref), dirty);
    return this.operationsFor(this.rendered([...all.values()], this.view, false)).ops;
  }

  /** The reconciler's diff: desired rows of each rendered resource against the cache, and the operations between. */
  private operationsFor(batch: readonly Rendered[]) {
    const work = batch.map(({ dirty, resource }) => {
      const desired = resource?.rows ?? [];
      return { dirty, resource, desired, actual: actualRows(this.opts.ovsdb.cache, dirty.ref, desired) };
    });
    return { work, ops: diff(work, (uuid) => this.references.referencesTo(uuid), (table, uuid) => this.opts.ovsdb.cache.get(table, uuid) !== undefined) };
  }

  /**
   * A full resync: everything in the view, every owned row the view no longer explains
   * (orphans), and every latest stored status that is missing or wrong. O(the cloud), chunked:
   * at start, on takeOver and on an OVSDB reconnect (and by hand). A resync asked for while
   * one reads the stored statuses and marks is that one.
   */
  resync(): void {
    if (!this.writer) return;
    this.resyncing ??= this.markForResync().finally(() => {
      this.resyncing = undefined;
      this.resyncServed();
    });
  }

  private async markForResync(): Promise<void> {
    this.resyncStarted ??= performance.now();
    const pace = new Pacer();
    const publishedMeanwhile = this.openRead();
    let stored: Map<string, { ref: RowOwner; scope: Scope; status: ResourceStatus | undefined }> | undefined;
    const storedQuarantine = new Map<string, ResourceStatus | undefined>();
    try {
      try {
        const reading = performance.now();
        const latest = await this.opts.statusSink.latest(this.stopping.signal);
        this.opts.logger.info({ statuses: latest.length, ms: Math.round(performance.now() - reading) }, 'the stored statuses are read');
        stored = new Map();
        let garbage = 0;
        for (const { kind, id, scope, status } of latest) {
          if (!status) garbage++;
          if (kind === QUARANTINE_KIND) storedQuarantine.set(id, status);
          // Only what this reconciler renders: other kinds on the stream are not its to repair.
          if (!isResourceKind(kind)) continue;
          const ref = { kind, id };
          stored.set(`${scopeKey(scope)}/${ownerKey(ref)}`, { ref, scope, status });
          if (pace.due() && await this.yieldedStopped(pace)) return;
        }
        if (garbage > 0) this.opts.logger.warn({ garbage }, 'latest stored statuses that are not statuses; those of resources are replaced');
      } catch (err) {
        if (this.stopped) return;
        this.opts.logger.warn({ err }, 'reading the stored statuses failed; this resync compares with what it published itself');
      }
      this.quarantine.repair(storedQuarantine);
      const inView = new Set<string>();
      for (const { ref, scope, seq } of allResources(this.view)) {
        const key = ownerKey(ref);
        inView.add(key);
        if (stored) this.adoptStored(ref, seq, publishedMeanwhile, stored.get(`${scopeKey(scope)}/${key}`)?.status);
        if (pace.due() && await this.yieldedStopped(pace)) return;
      }
      for (const [, { ref, scope, status }] of stored ?? []) {
        const key = ownerKey(ref);
        // Gone from the view but not reported Deleted: the pass finds no desired rows and publishes Deleted.
        if (!inView.has(key) && !publishedMeanwhile.has(key) && status?.phase !== Phase.Deleted) this.mark(ref, scope, 'resync');
        if (pace.due() && await this.yieldedStopped(pace)) return;
      }
    } finally {
      this.reads.delete(publishedMeanwhile);
      this.statusesCompared = true;
    }
    if (this.stopped) return;
    for (const { ref, scope } of this.everything()) {
      this.mark(ref, scope, 'resync');
      if (pace.due()) {
        this.schedule();
        if (await this.yieldedStopped(pace)) return;
      }
    }
    this.schedule();
  }

  /** Hands the event loop back; true if the reconciler was stopped meanwhile (a resync's loops end then). */
  private async yieldedStopped(pace: Pacer): Promise<boolean> {
    await pace.yield();
    return this.stopped;
  }

  /** A stored-status read begins: what is published from now on is newer than what it reads. */
  private openRead(): Set<string> {
    const meanwhile = new Set<string>();
    this.reads.add(meanwhile);
    return meanwhile;
  }

  /**
   * What a client reads is what the stream holds, so a pass compares with that, unless this
   * reconciler published since the read began. One older than the resource's last commit
   * misses that commit's status (a kill before it was published): it is published again.
   */
  private adoptStored(ref: RowOwner, seq: number, publishedMeanwhile: ReadonlySet<string>, status: ResourceStatus | undefined): void {
    if (publishedMeanwhile.has(ownerKey(ref))) return;
    if (status && status.observedSeq >= seq) this.published.set(ref.kind, ref.id, statusDigest(status));
    else this.published.delete(ref.kind, ref.id);
  }

  /** The full resync's marks have all been through a pass: report how long it took. */
  private resyncServed(): void {
    if (this.resyncStarted === undefined || this.resyncing || this.resyncDirty.size > 0) return;
    this.opts.observer?.resync((performance.now() - this.resyncStarted) / 1000);
    this.resyncStarted = undefined;
  }

  /**
   * One tick of the paced sweep, the safety net for drift nothing reported: the next slice of
   * the view's resources (with their stored statuses, one direct get each) and the next slice
   * of owned rows (orphans). Skipped while a full resync or the previous tick is still being
   * served, so ticks never pile up; a round ends at the end of the view, and the next tick
   * starts the next one.
   */
  private sweep(): void {
    if (!this.writer || !this.statusesCompared || this.resyncing || this.sweeping || this.resyncDirty.size > 0) return;
    this.sweeping = this.sweepSlice().finally(() => { this.sweeping = undefined; });
  }

  private async sweepSlice(): Promise<void> {
    const slice: { ref: RowOwner; scope: Scope; seq: number }[] = [];
    this.sweepResources ??= allResources(this.view);
    while (slice.length < this.resyncSlice) {
      const next = this.sweepResources.next();
      if (next.done) {
        this.sweepResources = undefined;
        break;
      }
      slice.push(next.value);
    }
    const rows = this.sweepOrphans();
    const publishedMeanwhile = this.openRead();
    let stored: readonly (ResourceStatus | undefined)[] | undefined;
    try {
      stored = await this.opts.statusSink.latestOf(slice.map(({ ref, scope }) => ({ kind: ref.kind, id: ref.id, scope })));
    } catch (err) {
      this.opts.logger.warn({ err }, 'reading stored statuses for the sweep failed; it compares with what it published itself');
    } finally {
      this.reads.delete(publishedMeanwhile);
    }
    if (this.stopped || !this.writer) return;
    slice.forEach(({ ref, seq }, i) => { if (stored) this.adoptStored(ref, seq, publishedMeanwhile, stored[i]); });
    for (const { ref, scope } of slice) this.mark(ref, scope, 'resync');
    this.opts.observer?.sweep(slice.length, rows);
    this.schedule();
  }

  /** The sweep's look at the next slice of owned rows: a row whose resource the view does not hold is an orphan. Returns the rows looked at. */
  private sweepOrphans(): number {
    this.sweepRows ??= this.ownedRows();
    let looked = 0;
    while (looked < this.resyncSlice) {
      const next = this.sweepRows.next();
      if (next.done) {
        this.sweepRows = undefined;
        break;
      }
      looked++;
      const owned = rowOwner(this.opts.ownership, next.value);
      // A retired kind's rows are orphans wherever they are; the diff removes them once that is safe.
      if (owned && (isRetiredKind(owned.owner.kind) || !this.scopeOf(owned.owner))) this.mark(owned.owner, owned.scope, 'resync');
    }
    return looked;
  }

  /** Every row of the tables novanet writes, table after table (live: rows added meanwhile are met too). */
  private *ownedRows(): Generator<Row> {
    for (const table of tableNames) yield* this.opts.ovsdb.cache.table(table).values();
  }

  /**
   * What a full resync reconciles: every resource of the view, and
   * every resource an owned row names (orphans the view no longer explains).
   */
  private *everything(): Generator<Dirty> {
    for (const { ref, scope } of allResources(this.view)) yield { ref, scope, reason: 'resync' };
    for (const row of this.ownedRows()) {
      const owned = this.ownedResource(row);
      if (owned) yield owned;
    }
  }

  private mark(ref: RowOwner, scope: Scope, reason: Reason): void {
    const key = ownerKey(ref);
    // Before the first comparison only commits are served (statusesCompared).
    if (reason === 'resync' || (reason !== 'event' && !this.statusesCompared)) {
      if (!this.dirty.has(key)) this.resyncDirty.set(key, { ref, scope, reason });
      return;
    }
    // An event's reason wins: its status must be published even if nothing else changed.
    if (this.dirty.get(key)?.reason !== 'event') this.dirty.set(key, { ref, scope, reason });
    this.resyncDirty.delete(key);
  }

  private onRowUpdates(updates: readonly RowUpdate[]): void {
    // The initial dump (every row an insert) and what changes until the log is folded need no
    // marks: no pass runs before a full resync, which compares every owned row in the cache.
    // Marked as drift they were served before anything else: at 30k ports a new port waited
    // for all of them after a restart (test/bench's scale scenario).
    if (!this.folded) return;
    let any = false;
    for (const u of updates) {
      const ours = this.expecting.has(u.uuid);
      // A row's memberships are its own (referencedBy): the members a change added or removed are marked,
      // not only the holder. A row we insert holds what we wrote; a row we change may also carry someone
      // else's edit, a transaction of its own, which arrives while ours is in flight.
      const members = ours && !u.old ? [] : this.membersChanged(u, ours ? this.expectingMembers : undefined);
      for (const member of members) {
        this.mark(member.ref, member.scope, 'drift');
        any = true;
      }
      if (ours) continue;
      const owned = (u.new && this.ownedResource(u.new)) ?? (u.old && this.ownedResource(u.old));
      if (!owned) continue;
      this.mark(owned.ref, owned.scope, 'drift');
      any = true;
    }
    if (any) this.schedule();
  }

  /**
   * The owned rows an update put in or took out of the row's reference columns (a port group's
   * ports, a switch's ports), with their resources: O(the change) for a modify, O(the sets) for
   * an insert or a delete.
   */
  private *membersChanged(u: RowUpdate, ownWrites?: ReadonlySet<string>): Generator<Dirty> {
    const columns = (Tables as Record<string, TableSpec>)[u.table]?.references ?? [];
    for (const column of columns) {
      const refTable = this.opts.ovsdb.schema.tables.get(u.table)?.columns.get(column)?.key.refTable;
      if (!refTable) continue;
      const change = u.setChanges ? u.setChanges[column] : symmetricDifference(u.old?.[column], u.new?.[column]);
      for (const atom of [...change?.added ?? [], ...change?.removed ?? []]) {
        if (ownWrites?.has(`${u.uuid}/${String(atom)}`)) continue;
        const row = this.opts.ovsdb.cache.get(refTable, String(atom));
        const owned = row && this.ownedResource(row);
        if (owned) yield owned;
      }
    }
  }

  /** The resource an owned row belongs to; its scope is the view's, not what the row's marks (editable by hand) claim. */
  private ownedResource(row: Row): Dirty | undefined {
    const owned = rowOwner(this.opts.ownership, row);
    return owned && { ref: owned.owner, scope: this.scopeOf(owned.owner) ?? owned.scope, reason: 'drift' };
  }

  private schedule(): void {
    if (this.pass || !this.folded || !this.writer) return;
    this.pass = this.run().finally(() => {
      this.pass = undefined;
      if (this.servable() > 0 && this.opts.ovsdb.connected) this.schedule();
    });
  }

  /** Resources a pass may serve now: the resync queue only once the stored statuses were compared. */
  private servable(): number {
    return this.dirty.size + (this.statusesCompared ? this.resyncDirty.size : 0);
  }

  private async run(): Promise<void> {
    try {
      await this.serve();
    } finally {
      // A pass ends with its statuses stored (or their retry scheduled): idle() and stop() wait for them.
      await this.statusesInFlight;
    }
  }

  private async serve(): Promise<void> {
    while (this.servable() > 0 && this.opts.ovsdb.connected && this.writer) {
      // Let commits that arrive together land in one transaction, and commands run between
      // batches: a batch with nothing to write awaits no I/O, so a resync would hold the event
      // loop for its whole pass (~5 s at 10k ports in test/bench's scale scenario).
      await new Promise((resolve) => setImmediate(resolve));
      const writer = this.writer;
      if (!writer || (!this.claimed && !await this.claim(writer))) return;
      const batch = takeShares(this.statusesCompared ? [[this.dirty, this.batchSize], [this.resyncDirty, RESYNC_SLICE]] : [[this.dirty, this.batchSize]]);
      const started = performance.now();
      const work = this.rendered(batch);
      await this.reconcile(work);
      this.opts.observer?.batch(work.length, (performance.now() - started) / 1000);
      this.resyncServed();
    }
  }

  /** Writes the writer's token into the Northbound; false if that cannot be done now, or ever (a newer writer). */
  private async claim(writer: Writer): Promise<boolean> {
    try {
      if (await this.fence.claim(writer)) {
        if (this.writer === writer) this.claimed = true;
        this.opts.logger.info({ token: writer.token, holder: writer.holder }, 'writing the Northbound as its writer');
        return this.claimed;
      }
      this.opts.logger.warn({ token: writer.token, inForce: this.fence.current() }, 'a newer writer holds the Northbound; standing by');
      if (this.writer === writer) this.standDown();
    } catch (err) {
      // Disconnected: the reconnect resyncs, and the next pass claims again.
      this.opts.logger.warn({ err }, 'claiming the Northbound failed; will retry');
    }
    return false;
  }

  /**
   * Each batch member's desired rows, rendered once (the diff reuses them), and with
   * `dependencies` the parents missing from the Northbound: a row referencing a missing parent
   * would be garbage-collected, so the parent comes along.
   */
  private rendered(batch: readonly Dirty[], view: View = this.view, dependencies = true): Rendered[] {
    const members = [...batch];
    const keys = new Set(members.map((d) => ownerKey(d.ref)));
    // The batch's ports share a few parents: look each up in the cache once (every table's owner index).
    const hasRows = new Map<string, boolean>();
    const out: Rendered[] = [];
    for (let i = 0; i < members.length; i++) {
      const dirty = members[i]!;
      const resource = desiredRows(view, dirty.ref, this.opts.ownership);
      out.push({ dirty, resource });
      if (!dependencies) continue;
      // A parent with rows may still lack one this resource joins (a VPC's drop group, new to an upgraded installation).
      const joinable = resource?.rows.every((r) => r.referencedBy.every((ref) => this.opts.ovsdb.cache.get(ref.table, ref.uuid))) ?? true;
      for (const dep of resource?.dependsOn ?? []) {
        const key = ownerKey(dep);
        if (keys.has(key)) continue;
        if (joinable) {
          let has = hasRows.get(key);
          if (has === undefined) hasRows.set(key, has = actualRows(this.opts.ovsdb.cache, dep, []).length > 0);
          if (has) continue;
        }
        const scope = this.scopeIn(view, dep);
        if (!scope) continue;
        keys.add(key);
        members.push({ ref: dep, scope, reason: 'dependency', unit: dirty.unit ?? ownerKey(dirty.ref) });
      }
    }
    return out;
  }

  private scopeOf(owner: RowOwner): Scope | undefined {
    return this.scopeIn(this.view, owner);
  }

  private scopeIn(view: View, owner: RowOwner): Scope | undefined {
    return isRetiredKind(owner.kind) ? PROVIDER_SCOPE : scopeOf(view, { kind: owner.kind, id: owner.id });
  }

  private async reconcile(rendered: readonly Rendered[]): Promise<void> {
    const batch = rendered.map((r) => r.dirty);
    const writer = this.writer;
    if (!writer) {
      for (const d of batch) this.mark(d.ref, d.scope, d.reason);
      return;
    }
    // Rendered just now, with no await since: the rows are the view's at this sequence.
    const seq = this.view.seq;
    const { work, ops } = this.operationsFor(rendered);
    let failure: string | undefined;
    if (ops.length > 0) {
      for (const w of work) {
        for (const d of w.desired) {
          this.expecting.add(d.uuid);
          for (const ref of d.referencedBy) this.expecting.add(ref.uuid);
        }
        for (const a of w.actual) this.expecting.add(a.row._uuid);
      }
      for (const op of ops) {
        if (op.op !== 'mutate') continue;
        const holder = op.where[0]?.[2];
        for (const [, , members] of op.mutations) if (Array.isArray(members)) for (const m of members) this.expectingMembers.add(`${String(holder)}/${String(m)}`);
      }
      const sent = performance.now();
      const took = () => (performance.now() - sent) / 1000;
      try {
        await this.opts.ovsdb.transact([...this.fence.guard(writer), ...ops]);
        this.opts.observer?.transaction('committed', took());
        this.markMembersOfInserted(work, ops);
      } catch (err) {
        if (this.fence.fencedOut(err)) {
          this.opts.observer?.transaction('fenced', took());
          for (const d of batch) this.mark(d.ref, d.scope, d.reason);
          this.opts.logger.warn({ token: writer.token, inForce: this.fence.current() }, 'another engine writes the Northbound now: this transaction was refused; standing by');
          if (this.writer === writer) this.standDown();
          return;
        }
        this.opts.observer?.transaction(refusedRows(err) ? 'refused' : 'failed', took());
        if (!refusedRows(err)) {
          // Disconnected or timed out: keep everything dirty; the reconnect triggers a full resync.
          for (const d of batch) this.mark(d.ref, d.scope, d.reason);
          this.opts.logger.warn({ err }, 'Northbound transaction did not complete; will retry');
          return;
        }
        if (batch.length > 1) {
          // One bad resource must not block the others: split until it stands alone (rendered
          // again: commits may have been folded while the transaction was out). A dependency stays
          // with what it came for while that splits the batch; then they are tried apart.
          for (const half of splitBatch(batch)) await this.reconcile(this.rendered(half, this.view, false));
          return;
        }
        failure = err.message;
        this.opts.logger.error({ err, resource: ownerKey(batch[0]!.ref) }, 'Northbound refused the resource\'s rows');
      } finally {
        this.expecting.clear();
        this.expectingMembers.clear();
      }
    }
    const cache = this.opts.ovsdb.cache;
    await this.publish(work.map((w) => statusOf(
      this.view, w.dirty.ref, w.dirty.scope, seq, w.resource,
      (d) => cache.get(d.table, d.uuid), failure,
      (ref, uuid) => (!cache.get(ref.table, ref.uuid) ? 'absent' : this.references.holds(ref, uuid) ? 'in' : 'out'),
    )), batch);
  }

  /**
   * A row its members join by their own referencedBy, (re)inserted (a VPC's drop group, a security
   * group's port group): its members in the view are marked to join it. O(the group), on an insert only;
   * in the resync queue, so a group of 100k ports never waits in front of a command (a member that
   * drift or a commit marked stays where it is).
   */
  private markMembersOfInserted(work: readonly { dirty: Dirty; desired: readonly DesiredRow[] }[], ops: readonly Operation[]): void {
    const inserted = new Set(ops.flatMap((op) => (op.op === 'insert' && op.uuid !== undefined ? [op.uuid] : [])));
    for (const { dirty, desired } of work) {
      for (const row of desired) {
        if (!inserted.has(row.uuid)) continue;
        for (const member of membersOf(this.view, dirty.ref, row)) {
          const scope = this.scopeOf(member);
          if (scope) this.mark(member, scope, 'resync');
        }
      }
    }
  }

  /**
   * Decides which statuses of a batch go out and sends them, then waits for the previous
   * batch's: a batch's acknowledgements arrive while the next batch renders and transacts, and
   * at most two batches' statuses are in flight (sent in order on one connection).
   */
  private async publish(statuses: readonly ResourceStatus[], batch: readonly Dirty[]): Promise<void> {
    const out: ResourceStatus[] = [];
    statuses.forEach((s, i) => {
      // A retired kind's leftovers are not a resource anyone asked for.
      if (isRetiredKind(s.kind)) return;
      const key = `${s.kind}/${s.id}`;
      const digest = statusDigest(s);
      if (batch[i]!.reason === 'event' || this.published.get(s.kind, s.id) !== digest) {
        out.push(s);
        for (const read of this.reads) read.add(key);
      }
      if (s.phase === Phase.Deleted) this.published.delete(s.kind, s.id);
      else this.published.set(s.kind, s.id, digest);
    });
    const previous = this.statusesInFlight;
    if (out.length > 0) {
      const sending = this.send(out, batch).finally(() => { if (this.statusesInFlight === sending) this.statusesInFlight = undefined; });
      this.statusesInFlight = sending;
    }
    await previous;
  }

  /** Publishes statuses; those that do not reach the stream are marked again in 1 s. Never rejects. */
  private async send(out: readonly ResourceStatus[], batch: readonly Dirty[]): Promise<void> {
    try {
      await this.opts.statusSink.publish(out);
    } catch (err) {
      // A client may be waiting for exactly this status (a stream leader election, NATS away):
      // publish it again shortly rather than at the next full resync.
      this.opts.logger.warn({ err, count: out.length }, 'publishing statuses failed; retrying in 1 s');
      this.opts.observer?.statusPublishFailed(out.length);
      for (const s of out) this.published.delete(s.kind, s.id);
      if (this.stopped) return;
      for (const d of batch) if (out.some((s) => s.kind === d.ref.kind && s.id === d.ref.id)) this.statusRetries.set(ownerKey(d.ref), d);
      this.statusRetry ??= setTimeout(() => {
        this.statusRetry = undefined;
        if (this.stopped) return;
        for (const d of this.statusRetries.values()) this.mark(d.ref, d.scope, d.reason);
        this.statusRetries.clear();
        this.schedule();
      }, 1000).unref();
    }
  }
}

/**
 * The rows themselves were refused — by the Northbound, or before sending because a value
 * cannot be encoded — as opposed to the transaction's outcome being unknown (disconnect, timeout).
 */
function refusedRows(err: unknown): err is OvsdbError {
  return isOvsdbTransactionError(err) || isOvsdbEncodingError(err) || isOvsdbSchemaError(err);
}

/** Hands the event loop back once CHUNK_MS have passed since it last did, in a long loop. */
class Pacer {
  private last = performance.now();

  due(): boolean {
    return performance.now() - this.last >= CHUNK_MS;
  }

  async yield(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    this.last = performance.now();
  }
}

/**
 * The next batch: up to its share from each queue, taken out of it. Each queue has its own share,
 * so commits and drift never starve the resync queue (nor the sweep, which waits for it).
 */
export function takeShares<T>(queues: readonly (readonly [Map<string, T>, number])[]): T[] {
  const batch: T[] = [];
  for (const [queue, share] of queues) {
    let taken = 0;
    for (const [key, item] of queue) {
      if (taken++ >= share) break;
      batch.push(item);
      queue.delete(key);
    }
  }
  return batch;
}

/**
 * A refused batch in two: by units (a member with the dependencies it brought) while it has
 * several, then a unit's resources apart.
 */
function splitBatch(batch: readonly Dirty[]): Dirty[][] {
  const units = new Map<string, Dirty[]>();
  for (const d of batch) {
    const key = d.unit ?? ownerKey(d.ref);
    const unit = units.get(key);
    if (unit) unit.push(d);
    else units.set(key, [d]);
  }
  const parts = units.size > 1 ? [...units.values()] : batch.map((d) => [{ ref: d.ref, scope: d.scope, reason: d.reason }]);
  const half = Math.ceil(parts.length / 2);
  return [parts.slice(0, half).flat(), parts.slice(half).flat()];
}

/** What a full value change added to a set and removed from it. */
function symmetricDifference(before: unknown, after: unknown): { added: Atom[]; removed: Atom[] } {
  const was = new Set<Atom>(Array.isArray(before) ? before : []);
  const now = new Set<Atom>(Array.isArray(after) ? after : []);
  return { added: [...now].filter((a) => !was.has(a)), removed: [...was].filter((a) => !now.has(a)) };
}

function refs(resource: RowOwner | undefined): RowOwner[] {
  return resource ? [{ kind: resource.kind, id: resource.id }] : [];
}
