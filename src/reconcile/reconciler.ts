import type { Logger } from 'pino';
import { canonicalJson, isQuarantined, isResourceKind, Phase, PROVIDER_SCOPE, resourceOf, scopeKey } from '../../events/mod.js';
import type { CommitRecord, LogRecord, Scope } from '../../events/mod.js';
import { allResources, evolve, initialView, scopeOf } from '../../projections/mod.js';
import type { View } from '../../projections/mod.js';
import { isOvsdbEncodingError, isOvsdbSchemaError, isOvsdbTransactionError } from '../ovsdb/mod.js';
import type { Operation, OvsdbClient, OvsdbError, Row, RowUpdate } from '../ovsdb/mod.js';
import { diff } from './diff.js';
import { DEFAULT_DENY, defaultDenyOwner, ownerKey } from './names.js';
import type { Ownership, RowOwner } from './names.js';
import { actualRows, indexOwnedRows, rowOwner } from './actual.js';
import { ReferenceIndex } from './references.js';
import { dependantsOf } from './affected.js';
import { desiredRows } from './kinds.js';
import { WriterFence } from './fence.js';
import type { Writer } from './fence.js';
import { QUARANTINE_KIND, QuarantineReport } from './quarantine.js';
import { statusOf } from './status.js';
import type { ResourceStatus } from './status.js';
import { tableNames } from './tables/mod.js';

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

/** Where statuses go (the STATUS stream). */
export interface StatusSink {
  publish(statuses: readonly ResourceStatus[]): Promise<void>;
  /** The latest stored message of every status subject, as the stream holds them when called. */
  latest(): Promise<readonly StoredStatus[]>;
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
  /** A full resync's reading of the stored statuses and marking of every resource, in seconds. */
  resync(seconds: number): void;
  /** Statuses that could not be published (retried in 1 s). */
  statusPublishFailed(count: number): void;
}

export interface ReconcilerOptions {
  readonly source: CommitSource;
  readonly ovsdb: OvsdbClient;
  readonly statusSink: StatusSink;
  readonly ownership: Ownership;
  readonly logger: Logger;
  /** Full resync period: repairs drift the monitor did not report, and removes owned orphans. */
  readonly resyncIntervalMs: number;
  /** Resources per OVSDB transaction. */
  readonly batchSize?: number;
  readonly observer?: ReconcilerObserver;
}

/**
 * What a resync marked is reconciled this many at a time: a resync batch rarely writes, so
 * it is all CPU, and a commit arriving meanwhile waits for at most one slice (~0.3 ms a
 * resource on the development VM) instead of a full batch.
 */
const RESYNC_SLICE = 32;

/** Why a resource is being reconciled: a status is always published after an event. */
type Reason = 'event' | 'drift' | 'resync' | 'dependency';

interface Dirty {
  readonly ref: RowOwner;
  readonly scope: Scope;
  readonly reason: Reason;
}

/**
 * Converges the Northbound to the view folded from the log, level-based:
 * events and monitor updates only mark resources dirty; a pass computes the
 * desired rows of the dirty resources, diffs them against the monitored cache
 * and applies the difference in one transaction per batch. Re-running is a no-op.
 *
 * It writes only as the installation's writer (`takeOver`, given by the writer lease): until
 * then, and after `standDown`, it folds the log and follows the Northbound as a warm standby,
 * and neither writes nor publishes statuses. The Northbound itself refuses its transactions
 * once another writer took over (WriterFence).
 */
export class Reconciler {
  private readonly view: View = initialView();
  /**
   * Resources to reconcile, in two queues: what commits, drift and dependencies marked is
   * served before what a full resync marked, so a command's resource never waits behind a
   * pass over the whole cloud (at 30k ports a pass takes seconds; test/bench's scale scenario).
   */
  private readonly dirty = new Map<string, Dirty>();
  private readonly resyncDirty = new Map<string, Dirty>();
  private readonly published = new Map<string, ResourceStatus>();
  /** The resync reading the stored statuses, and what is published meanwhile: newer than what it reads. */
  private resyncing: Promise<void> | undefined;
  private publishedDuringRead: Set<string> | undefined;
  /** Rows the transaction in flight touches: their monitor updates are our own writes, not drift. */
  private readonly expecting = new Set<string>();
  private pass: Promise<void> | undefined;
  private follower: { stop(): Promise<void> } | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Resources whose status did not reach NATS, and the timer that marks them dirty again. */
  private readonly statusRetries = new Map<string, Dirty>();
  private statusRetry: NodeJS.Timeout | undefined;
  private stopped = false;
  /** No pass before the log is folded: the initial Northbound dump marks rows dirty that a partial view would delete. */
  private folded = false;
  /**
   * No pass before the first comparison with the stored statuses either: until then `published`
   * is empty and a pass would publish every status it touches again.
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
   * Monitors the Northbound and folds the log, side by side (ovsdb-server builds its dump
   * while the log is read), then follows the log. `read`, if given, is the log from its first
   * sequence through `head`, read once for the intake and the reconciler (src/engine).
   */
  async start(read?: { readonly head: number; readonly records: AsyncIterable<LogRecord> }): Promise<void> {
    const { ovsdb, source } = this.opts;
    indexOwnedRows(ovsdb.cache, this.opts.ownership);
    this.disposers.push(ovsdb.onUpdate((updates) => {
      this.references.apply(updates);
      this.onRowUpdates(updates);
    }));
    this.disposers.push(ovsdb.onConnection((state) => { if (state === 'connected') this.resync(); }));
    const last = read?.head ?? await source.lastSeq();
    await Promise.all([
      ovsdb.monitor(Object.fromEntries(tableNames.map((t) => [t, {}]))).then(() => this.fence.start()),
      (async () => {
        for await (const record of read?.records ?? source.read(1, last)) this.fold(record, false);
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
    this.timer = setInterval(() => this.resync(), this.opts.resyncIntervalMs);
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
    this.resync();
  }

  /** No more transactions or statuses from now on (the lease was lost or released); a transaction in flight ends as it may. */
  standDown(): void {
    this.writer = undefined;
  }

  /** Whether this reconciler is the writer now. */
  get writing(): boolean {
    return this.writer !== undefined;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    for (const dispose of this.disposers) dispose();
    await this.follower?.stop();
    await this.resyncing;
    await this.pass;
    await this.quarantine.stop();
    clearTimeout(this.statusRetry);
  }

  /** Resolves once every dirty resource has been through a pass (tests and graceful stops). */
  async idle(): Promise<void> {
    while (this.pass ?? this.resyncing) await (this.pass ?? this.resyncing);
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
    return this.operationsFor(view, this.withMissingDependencies([...touched.values()], view)).ops;
  }

  /**
   * The pending difference between the view and the Northbound right now, as a full resync
   * would find it (every resource of the view and every owned row it does not explain), without
   * applying it. O(the cloud): an operator's question, not a step of the loop.
   */
  drift(): Operation[] {
    const all = new Map<string, Dirty>();
    for (const dirty of this.everything()) if (!all.has(ownerKey(dirty.ref))) all.set(ownerKey(dirty.ref), dirty);
    return this.operationsFor(this.view, [...all.values()]).ops;
  }

  /** The reconciler's render and diff: desired rows of each resource against the cache, and the operations between. */
  private operationsFor(view: View, batch: readonly Dirty[]) {
    const work = batch.map((d) => {
      const resource = desiredRows(view, d.ref, this.opts.ownership);
      const desired = resource?.rows ?? [];
      return { dirty: d, resource, desired, actual: actualRows(this.opts.ovsdb.cache, d.ref, desired) };
    });
    return { work, ops: diff(work, (uuid) => this.references.referencesTo(uuid)) };
  }

  /**
   * Everything in the view, every owned row the view no longer explains (orphans), and
   * every latest stored status that is missing or wrong. A resync asked for while one
   * reads the stored statuses is that one: it marks only after the read.
   */
  resync(): void {
    if (!this.writer) return;
    this.resyncing ??= this.resyncWithStoredStatuses().finally(() => { this.resyncing = undefined; });
  }

  private async resyncWithStoredStatuses(): Promise<void> {
    const started = performance.now();
    await this.markForResync();
    this.opts.observer?.resync((performance.now() - started) / 1000);
  }

  private async markForResync(): Promise<void> {
    const publishedMeanwhile = new Set<string>();
    this.publishedDuringRead = publishedMeanwhile;
    let stored: Map<string, { ref: RowOwner; scope: Scope; status: ResourceStatus | undefined }> | undefined;
    const storedQuarantine = new Map<string, ResourceStatus | undefined>();
    try {
      const latest = await this.opts.statusSink.latest();
      stored = new Map();
      let garbage = 0;
      for (const { kind, id, scope, status } of latest) {
        if (!status) garbage++;
        if (kind === QUARANTINE_KIND) storedQuarantine.set(id, status);
        // Only what this reconciler renders: other kinds on the stream are not its to repair.
        if (!isResourceKind(kind)) continue;
        const ref = { kind, id };
        stored.set(`${scopeKey(scope)}/${ownerKey(ref)}`, { ref, scope, status });
      }
      if (garbage > 0) this.opts.logger.warn({ garbage }, 'latest stored statuses that are not statuses; those of resources are replaced');
    } catch (err) {
      this.opts.logger.warn({ err }, 'reading the stored statuses failed; this resync compares with what it published itself');
    } finally {
      this.publishedDuringRead = undefined;
      this.statusesCompared = true;
    }
    this.quarantine.repair(storedQuarantine);
    if (this.stopped) return;
    const inView = new Set<string>();
    for (const { ref, scope, seq } of allResources(this.view)) {
      const key = ownerKey(ref);
      inView.add(key);
      if (stored && !publishedMeanwhile.has(key)) {
        // A client reads what the stream holds, so the pass compares with that. One older than
        // the resource's last commit misses that commit's status (a kill before it was published).
        const status = stored.get(`${scopeKey(scope)}/${key}`)?.status;
        if (status && status.observedSeq >= seq) this.published.set(key, status);
        else this.published.delete(key);
      }
    }
    for (const { ref, scope, status } of stored?.values() ?? []) {
      const key = ownerKey(ref);
      // Gone from the view but not reported Deleted: the pass finds no desired rows and publishes Deleted.
      if (!inView.has(key) && !publishedMeanwhile.has(key) && status?.phase !== Phase.Deleted) this.mark(ref, scope, 'resync');
    }
    for (const { ref, scope } of this.everything()) this.mark(ref, scope, 'resync');
    this.schedule();
  }

  /**
   * What a full resync reconciles: every resource of the view, the default-deny group, and
   * every resource an owned row names (orphans the view no longer explains).
   */
  private *everything(): Generator<Dirty> {
    for (const { ref, scope } of allResources(this.view)) yield { ref, scope, reason: 'resync' };
    yield { ref: defaultDenyOwner(this.opts.ownership), scope: PROVIDER_SCOPE, reason: 'resync' };
    for (const table of tableNames) {
      for (const row of this.opts.ovsdb.cache.table(table).values()) {
        const owned = this.ownedResource(row);
        if (owned) yield owned;
      }
    }
  }

  private mark(ref: RowOwner, scope: Scope, reason: Reason): void {
    const key = ownerKey(ref);
    if (reason === 'resync') {
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
      if (this.expecting.has(u.uuid)) continue;
      const owned = (u.new && this.ownedResource(u.new)) ?? (u.old && this.ownedResource(u.old));
      if (!owned) continue;
      this.mark(owned.ref, owned.scope, 'drift');
      any = true;
    }
    if (any) this.schedule();
  }

  /** The resource an owned row belongs to; its scope is the view's, not what the row's marks (editable by hand) claim. */
  private ownedResource(row: Row): Dirty | undefined {
    const owned = rowOwner(this.opts.ownership, row);
    return owned && { ref: owned.owner, scope: this.scopeOf(owned.owner) ?? owned.scope, reason: 'drift' };
  }

  private schedule(): void {
    if (this.pass || !this.folded || !this.statusesCompared || !this.writer) return;
    this.pass = this.run().finally(() => {
      this.pass = undefined;
      if (this.dirty.size + this.resyncDirty.size > 0 && this.opts.ovsdb.connected) this.schedule();
    });
  }

  private async run(): Promise<void> {
    while (this.dirty.size + this.resyncDirty.size > 0 && this.opts.ovsdb.connected && this.writer) {
      // Let commits that arrive together land in one transaction, and commands run between
      // batches: a batch with nothing to write awaits no I/O, so a resync would hold the event
      // loop for its whole pass (~5 s at 10k ports in test/bench's scale scenario).
      await new Promise((resolve) => setImmediate(resolve));
      const writer = this.writer;
      if (!writer || (!this.claimed && !await this.claim(writer))) return;
      const batch: Dirty[] = [];
      for (const [queue, limit] of [[this.dirty, this.batchSize], [this.resyncDirty, RESYNC_SLICE]] as const) {
        for (const [key, d] of queue) {
          if (batch.length >= limit) break;
          batch.push(d);
          queue.delete(key);
        }
      }
      const started = performance.now();
      const work = this.withMissingDependencies(batch);
      await this.reconcile(work);
      this.opts.observer?.batch(work.length, (performance.now() - started) / 1000);
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

  /** A row referencing a missing parent would be garbage-collected: bring the parent along. */
  private withMissingDependencies(batch: Dirty[], view: View = this.view): Dirty[] {
    const keys = new Set(batch.map((d) => ownerKey(d.ref)));
    for (let i = 0; i < batch.length; i++) {
      for (const dep of desiredRows(view, batch[i]!.ref, this.opts.ownership)?.dependsOn ?? []) {
        const key = ownerKey(dep);
        if (keys.has(key) || actualRows(this.opts.ovsdb.cache, dep, []).length > 0) continue;
        const scope = this.scopeIn(view, dep);
        if (!scope) continue;
        keys.add(key);
        batch.push({ ref: dep, scope, reason: 'dependency' });
      }
    }
    return batch;
  }

  private scopeOf(owner: RowOwner): Scope | undefined {
    return this.scopeIn(this.view, owner);
  }

  private scopeIn(view: View, owner: RowOwner): Scope | undefined {
    return owner.kind === DEFAULT_DENY ? PROVIDER_SCOPE : scopeOf(view, { kind: owner.kind, id: owner.id });
  }

  private async reconcile(batch: readonly Dirty[]): Promise<void> {
    const writer = this.writer;
    if (!writer) {
      for (const d of batch) this.mark(d.ref, d.scope, d.reason);
      return;
    }
    const seq = this.view.seq;
    const { work, ops } = this.operationsFor(this.view, batch);
    let failure: string | undefined;
    if (ops.length > 0) {
      for (const w of work) {
        for (const d of w.desired) {
          this.expecting.add(d.uuid);
          for (const ref of d.referencedBy) this.expecting.add(ref.uuid);
        }
        for (const a of w.actual) this.expecting.add(a.row._uuid);
      }
      const sent = performance.now();
      const took = () => (performance.now() - sent) / 1000;
      try {
        await this.opts.ovsdb.transact([...this.fence.guard(writer), ...ops]);
        this.opts.observer?.transaction('committed', took());
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
          // One bad resource must not block the others: split until it stands alone.
          const half = Math.ceil(batch.length / 2);
          await this.reconcile(batch.slice(0, half));
          await this.reconcile(batch.slice(half));
          return;
        }
        failure = err.message;
        this.opts.logger.error({ err, resource: ownerKey(batch[0]!.ref) }, 'Northbound refused the resource\'s rows');
      } finally {
        this.expecting.clear();
      }
    }
    await this.publish(work.map((w) => statusOf(
      this.view, w.dirty.ref, w.dirty.scope, seq, w.resource,
      (d) => this.opts.ovsdb.cache.get(d.table, d.uuid), failure,
    )), batch);
  }

  private async publish(statuses: readonly ResourceStatus[], batch: readonly Dirty[]): Promise<void> {
    const out: ResourceStatus[] = [];
    statuses.forEach((s, i) => {
      // The default-deny group is internal plumbing, not a resource anyone asked for.
      if (s.kind === DEFAULT_DENY) return;
      const key = `${s.kind}/${s.id}`;
      const before = this.published.get(key);
      if (batch[i]!.reason === 'event' || !before || !sameStatus(before, s)) {
        out.push(s);
        this.publishedDuringRead?.add(key);
      }
      if (s.phase === Phase.Deleted) this.published.delete(key);
      else this.published.set(key, s);
    });
    if (out.length === 0) return;
    try {
      await this.opts.statusSink.publish(out);
    } catch (err) {
      // A client may be waiting for exactly this status (a stream leader election, NATS away):
      // publish it again shortly rather than at the next full resync.
      this.opts.logger.warn({ err, count: out.length }, 'publishing statuses failed; retrying in 1 s');
      this.opts.observer?.statusPublishFailed(out.length);
      for (const s of out) this.published.delete(`${s.kind}/${s.id}`);
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

/** Statuses equal but for the sequence they were observed at, whatever their fields' order (a stored one was parsed). */
function sameStatus(a: ResourceStatus, b: ResourceStatus): boolean {
  const { observedSeq: _a, ...x } = a;
  const { observedSeq: _b, ...y } = b;
  return canonicalJson(x) === canonicalJson(y);
}

function refs(resource: RowOwner | undefined): RowOwner[] {
  return resource ? [{ kind: resource.kind, id: resource.id }] : [];
}
