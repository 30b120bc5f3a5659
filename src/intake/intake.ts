import { randomFillSync, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { canonicalJson, COMMIT_VERSION, isQuarantined } from '../../events/mod.js';
import type { CommandAddress, Commit, CommitRecord, LogRecord, NovanetEvent, QuarantinedRecord, Reply, Scope } from '../../events/mod.js';
import { acceptedSeq, evolve, evolveCommands, initialCommandView, initialView } from '../../projections/mod.js';
import type { CommandRetention, CommandView, View } from '../../projections/mod.js';
import { admit, CommandError, ErrorCode, isCommandError, providerOperations, tenantOperations } from '../commands/mod.js';
import type { DecideConfig, DecideContext, Operation } from '../commands/mod.js';

/** How many appends may wait for their acknowledgement at once. */
const MAX_IN_FLIGHT = 256;

/** Where commits go and come from: the event log (src/bus/log.ts on JetStream). */
export interface CommitLog {
  lastSeq(): Promise<number>;
  read(fromSeq: number, toSeq: number): AsyncIterable<LogRecord>;
  /** The record at `seq` (one request, not a consumer), or undefined if the log has none there. */
  readAt(seq: number): Promise<LogRecord | undefined>;
  /** Appends iff the log's last sequence is `expectedLastSeq` (write fencing); resolves with the new sequence. */
  append(commit: Commit, expectedLastSeq: number): Promise<number>;
}

/**
 * The whole log up to `head` as one read: every record from sequence 1 through `head`, in
 * order, or, `from` a snapshot of the state after the records through its seq, every record
 * after it.
 */
export interface LogRead {
  readonly head: number;
  readonly records: AsyncIterable<LogRecord>;
  readonly from?: IntakeState;
}

/** The intake's state when every record through `seq` is folded in and nothing more: what a snapshot holds. */
export interface IntakeState {
  readonly seq: number;
  readonly view: View;
  readonly commands: CommandView;
  /** The log's messages through `seq` that are not commits. */
  readonly quarantined: readonly QuarantinedRecord[];
}

/**
 * Snapshots of the intake's state: `take` is called, synchronously, once at least `every`
 * records were folded since the last one and no append is in flight (the state is then the
 * log's fold through its head), and at `stop`. It must not keep the state past the call
 * (the views go on changing) and says whether it took it (false: ask again later).
 */
export interface IntakeSnapshots {
  readonly every: number;
  take(state: IntakeState): boolean;
}

/** The log from its first record through its last one now. */
async function readAll(log: Pick<CommitLog, 'lastSeq' | 'read'>): Promise<LogRead> {
  const head = await log.lastSeq();
  return { head, records: log.read(1, head) };
}

/** What the intake draws at the edge and writes into commits: time, ids, MAC candidates. */
export interface Draws {
  now(): string;
  newId(): string;
  newMac(): string;
}

/**
 * Random octets for MACs, filled 4 KiB at a time (as Node buffers randomUUID): one
 * randomBytes call per MAC cost ~25 µs, a fortieth of a 1,000-port command's decision.
 */
const macOctets = { pool: Buffer.alloc(4096), next: 4096 };

export const systemDraws: Draws = {
  now: () => new Date().toISOString(),
  newId: () => randomUUID(),
  // A locally administered unicast MAC: 0a:4e ("N") then four random octets.
  newMac: () => {
    if (macOctets.next + 4 > macOctets.pool.length) {
      randomFillSync(macOctets.pool);
      macOctets.next = 0;
    }
    const hex = macOctets.pool.toString('hex', macOctets.next, macOctets.next += 4);
    return `0a:4e:${hex.slice(0, 2)}:${hex.slice(2, 4)}:${hex.slice(4, 6)}:${hex.slice(6, 8)}`;
  },
};

/** What the intake reports as it works (metrics at the edge: src/http). */
export interface IntakeObserver {
  /**
   * A request answered: its operation (`unknown` for a name that is none, so the label set
   * stays bounded), `ok` or the error code, and the seconds since it was submitted.
   */
  answered(operation: string, result: string, seconds: number): void;
  /** An append the log confirmed, in seconds from sending it. */
  committed(seconds: number): void;
}

export interface IntakeOptions {
  readonly log: CommitLog;
  readonly config: DecideConfig;
  /** How long a commandId is remembered (default DEFAULT_COMMAND_RETENTION). */
  readonly retention?: CommandRetention;
  readonly logger: Logger;
  readonly draws?: Draws;
  readonly observer?: IntakeObserver;
  readonly snapshots?: IntakeSnapshots;
}

interface Job {
  readonly ordinal: number;
  readonly scope: Scope;
  readonly operationName: string;
  readonly operation: Operation;
  readonly input: Record<string, unknown>;
  /** Set once the job was decided again after a catch-up: one view caught up after it arrived is enough. */
  caughtUp?: boolean;
  /** The log refused the append for good (a commit over NATS's max_payload): answered after the rebuild, not decided again. */
  refusal?: CommandError;
  answer(reply: Reply): void;
}

/**
 * The write side, apart from any transport: admits a request, decides it against its
 * view, appends one fenced commit per accepted command and answers.
 *
 * Appends are pipelined: a command is decided on the view that already holds the
 * commits still in flight, and its append expects the sequence after theirs. If
 * any append fails (another writer got in first, the log went away) the chain behind
 * it fails too: the intake waits for the in-flight appends, rebuilds its view from
 * the log and decides the failed commands again. Anything that appends nothing (a
 * query, a refusal, a repeated commandId) is answered only once the commits before
 * it are confirmed, so no answer ever reflects a commit that did not happen.
 */
export class Intake {
  #view: View = initialView();
  private commands: CommandView;
  /** The log's messages folded past that are not commits (rare: garbage published past the intake). */
  private quarantined: QuarantinedRecord[] = [];
  /** Sequence the next append expects as the log's last. */
  private head = 0;
  /** The head at the last snapshot taken (or loaded). */
  private snapshotSeq = 0;
  /** A rebuild or catch-up is folding records: the view is between two heads. */
  private folding = false;
  private readonly queue: Job[] = [];
  private wake: (() => void) | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  /** Repeats whose first reply is being read back from the log: answered beside the queue. */
  private readonly readingBack = new Set<Promise<void>>();
  private failed: Job[] = [];
  private ordinal = 0;
  private running: Promise<void> | undefined;
  private stopping = false;
  private readonly draws: Draws;

  constructor(private readonly opts: IntakeOptions) {
    this.draws = opts.draws ?? systemDraws;
    this.commands = initialCommandView(opts.retention);
  }

  /** The view commands are decided on (diagnostics and replay checks; do not mutate). */
  get view(): View {
    return this.#view;
  }

  /**
   * Folds the log, then takes requests. `read`, if given, is the log from its first sequence
   * through `head`, read once for the intake and the reconciler (src/engine); without it the
   * intake reads the log itself.
   */
  async start(read?: LogRead): Promise<void> {
    await this.rebuild(read);
    this.running = this.run();
  }

  /** Answers what was submitted before, then stops, taking a snapshot of what it folded since the last one. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.running;
    await Promise.allSettled([...this.inFlight, ...this.readingBack]);
    this.snapshot(1);
  }

  /** Offers the state to `snapshots` if it is the log's fold through the head and `every` records passed since the last. */
  private snapshot(every: number): void {
    const { snapshots } = this.opts;
    if (!snapshots || this.head - this.snapshotSeq < every || this.inFlight.size > 0 || this.failed.length > 0 || this.folding) return;
    if (snapshots.take({ seq: this.head, view: this.#view, commands: this.commands, quarantined: this.quarantined })) this.snapshotSeq = this.head;
  }

  /**
   * One request: where it was addressed and its payload bytes. Stateless checks happen at
   * once; everything touching the view is queued, in arrival order.
   */
  submit(address: CommandAddress, data: Uint8Array): Promise<Reply> {
    const reply = new Promise<Reply>((answer) => {
      try {
        this.queue.push({ ordinal: this.ordinal++, ...admit(address, data), answer });
        this.wake?.();
      } catch (err) {
        answer(errorReply(err, undefined, this.opts.logger));
      }
    });
    const { observer } = this.opts;
    if (!observer) return reply;
    const started = performance.now();
    return reply.then((answer) => {
      const operation = (address.admin ? providerOperations : tenantOperations).has(address.operation) ? address.operation : 'unknown';
      observer.answered(operation, answer.ok ? 'ok' : answer.error.code, (performance.now() - started) / 1000);
      return answer;
    });
  }

  /**
   * What-if: the commit a command would append now, decided on the view the next command
   * would be decided on (commits in flight included), appended nowhere. A commandId already
   * accepted within the retention appends nothing: `repeatOf` names its commit, whose result
   * is read back from the log. Throws the command's refusal.
   */
  async preview(address: CommandAddress, data: Uint8Array): Promise<{ readonly commit: Commit; readonly expectedSeq: number; readonly repeatOf?: number }> {
    const { scope, operationName, operation, input } = admit(address, data);
    if (operation.kind === 'query') throw new CommandError(ErrorCode.VALIDATION_FAILED, `${operationName} is a read: it appends nothing`);
    const commandId = input.commandId as string;
    const context = this.context(scope, commandId);
    const expectedSeq = this.head + 1;
    const repeatOf = acceptedSeq(this.commands, scope, commandId);
    if (repeatOf === undefined) return { commit: commitOf({ scope, operationName, input }, commandId, context, operation.decide(this.#view, input, context)), expectedSeq };
    // Its append may still be in flight (the appends in flight now include it): the log has it once they settle.
    await Promise.allSettled([...this.inFlight]);
    const first = firstCommit(await this.opts.log.readAt(repeatOf), scope, commandId, repeatOf);
    return { commit: commitOf({ scope, operationName, input }, commandId, context, { events: [], result: first.result }), expectedSeq, repeatOf };
  }

  private async run(): Promise<void> {
    while (!this.stopping || this.queue.length > 0) {
      if (this.failed.length > 0) {
        await this.recover();
        continue;
      }
      const job = this.queue.shift();
      if (!job) {
        await new Promise<void>((resolve) => { this.wake = resolve; });
        this.wake = undefined;
        continue;
      }
      try {
        await this.process(job);
      } catch (err) {
        job.answer(errorReply(err, job.input.commandId as string | undefined, this.opts.logger));
      }
    }
  }

  private async process(job: Job): Promise<void> {
    const { operation } = job;
    if (operation.kind === 'query') {
      if (await this.requeueAfterSettle(job)) return;
      await this.catchUp();
      job.answer({ ok: true, seq: this.#view.seq, result: operation.query(this.#view, job.input, job.scope) });
      return;
    }
    const commandId = job.input.commandId as string;
    if (acceptedSeq(this.commands, job.scope, commandId) !== undefined) {
      // The first reply is the log's once its append is confirmed (a refused one is decided again).
      if (await this.requeueAfterSettle(job)) return;
      const seq = acceptedSeq(this.commands, job.scope, commandId);
      if (seq !== undefined) {
        this.answerRepeat(job, commandId, seq);
        return;
      }
    }
    // The one clock read of this command: the reply's timestamps and the commit's `at` agree.
    const context = this.context(job.scope, commandId);
    let decision;
    try {
      decision = operation.decide(this.#view, job.input, context);
    } catch (err) {
      // A refusal may rest on commits still in flight, or on a view behind commits other
      // engines appended (the VPC another engine just created): answer it only once those are
      // confirmed and folded in, deciding again on the caught-up view whenever it moved.
      if (isCommandError(err) && (await this.requeueAfterSettle(job) || await this.requeueAfterCatchUp(job))) return;
      throw err;
    }
    await this.append(job, commitOf(job, commandId, context, decision));
  }

  private async append(job: Job, commit: Commit): Promise<void> {
    while (this.inFlight.size >= MAX_IN_FLIGHT) await Promise.race(this.inFlight);
    const expected = this.head;
    const record: CommitRecord = { seq: expected + 1, commit };
    this.apply(record);
    const sent = performance.now();
    const pending = this.opts.log.append(commit, expected).then(
      (seq) => {
        if (seq !== record.seq) throw new Error(`append stored at ${seq}, expected ${record.seq}`);
        this.opts.observer?.committed((performance.now() - sent) / 1000);
        job.answer({ ok: true, commandId: commit.commandId, seq, result: commit.result });
      },
    ).catch((err: unknown) => {
      if (isCommandError(err)) job.refusal = err;
      this.opts.logger.warn({ err, commandId: commit.commandId, expected }, 'append refused; the view will be rebuilt from the log');
      this.failed.push(job);
      this.wake?.();
    }).finally(() => {
      this.inFlight.delete(pending);
      if (this.opts.snapshots) this.snapshot(this.opts.snapshots.every);
    });
    this.inFlight.add(pending);
  }

  /**
   * Answers a repeated commandId from its commit, read back from the log by sequence. The
   * commit is confirmed and immutable, so the queue does not wait for the read.
   */
  private answerRepeat(job: Job, commandId: string, seq: number): void {
    const reading = this.opts.log.readAt(seq)
      .then((record) => repeatReply(job, commandId, firstCommit(record, job.scope, commandId, seq), seq))
      .catch((err: unknown): Reply => {
        this.opts.logger.warn({ err, commandId, seq }, 'reading a repeated command\'s commit back from the log failed');
        return {
          ok: false, commandId,
          error: { code: ErrorCode.INTERNAL, message: `commandId ${commandId} was accepted at seq ${seq}, but its commit could not be read back from the log: send it again`, details: { seq } },
        };
      })
      .then((reply) => job.answer(reply))
      .finally(() => this.readingBack.delete(reading));
    this.readingBack.add(reading);
  }

  private apply(record: LogRecord): void {
    // A quarantined message holds nothing to decide on or answer from, but it is in the
    // log: the next append must expect its sequence as the last.
    if (!isQuarantined(record)) {
      evolve(this.#view, record);
      evolveCommands(this.commands, record);
    } else {
      this.quarantined.push(record);
    }
    this.head = record.seq;
  }

  /**
   * Waits until every in-flight append is confirmed or refused. If one was refused,
   * puts `job` back at the front of the queue and returns true: the run loop then
   * recovers, which queues the refused commands ahead of it.
   */
  private async requeueAfterSettle(job: Job): Promise<boolean> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    if (this.failed.length === 0) return false;
    this.queue.unshift(job);
    return true;
  }

  /**
   * Folds in what other writers appended since the view was built (call only when settled).
   * If there was anything, puts `job` back at the front of the queue and returns true: it is
   * decided again on the caught-up view, once.
   */
  private async requeueAfterCatchUp(job: Job): Promise<boolean> {
    // Another engine appending without pause must not keep a refusal (and all behind it) waiting.
    if (job.caughtUp) return false;
    const head = this.head;
    await this.catchUp();
    if (this.head === head) return false;
    job.caughtUp = true;
    this.queue.unshift(job);
    return true;
  }

  /** After a refused append: rebuild the view from the log and decide the refused commands again, in order. */
  private async recover(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    const retry = this.failed.sort((a, b) => a.ordinal - b.ordinal);
    this.failed = [];
    for (let attempt = 0; ; attempt++) {
      try {
        await this.rebuild();
        break;
      } catch (err) {
        if (this.stopping) {
          // Unanswered, not refused: whether an append cut off by the stop landed is the log's to say,
          // and a client retrying with the same commandId gets the log's answer.
          this.opts.logger.warn({ err, commands: retry.length }, 'stopping with the log away: commands whose appends failed are left unanswered');
          return;
        }
        // The log is away (NATS reconnects forever): keep the commands and wait.
        this.opts.logger.warn({ err, attempt }, 'rebuilding the view from the log failed; retrying');
        await new Promise((r) => setTimeout(r, Math.min(5000, 100 * 2 ** attempt)));
      }
    }
    for (const job of retry) if (job.refusal) job.answer(errorReply(job.refusal, job.input.commandId as string, this.opts.logger));
    this.queue.unshift(...retry.filter((job) => !job.refusal));
  }

  /**
   * Folds in commits other writers appended (several engines may share the log), so a
   * read reflects every commit acknowledged before it was asked. Call only when settled.
   */
  private async catchUp(): Promise<void> {
    const last = await this.opts.log.lastSeq();
    if (last <= this.head) return;
    this.folding = true;
    try {
      for await (const record of this.opts.log.read(this.head + 1, last)) this.apply(record);
    } finally {
      this.folding = false;
    }
  }

  /** Folds the log from its first record, or from the snapshot `read` starts from. */
  private async rebuild(read?: LogRead): Promise<void> {
    const from = read?.from;
    this.#view = from?.view ?? initialView();
    this.commands = from?.commands ?? initialCommandView(this.opts.retention);
    this.quarantined = [...from?.quarantined ?? []];
    this.head = from?.seq ?? 0;
    // A rebuild after a refused append leaves the stored snapshot as it was.
    if (from) this.snapshotSeq = from.seq;
    const { head, records } = read ?? await readAll(this.opts.log);
    this.folding = true;
    try {
      for await (const record of records) this.apply(record);
    } finally {
      this.folding = false;
    }
    this.head = head;
  }

  private context(scope: Scope, commandId: string): DecideContext {
    return { scope, commandId, now: this.draws.now(), config: this.opts.config, newId: this.draws.newId, newMac: this.draws.newMac };
  }
}

/** The commit of a decided command: its request and result, and the one clock read of its context. */
function commitOf(
  job: { readonly scope: Scope; readonly operationName: string; readonly input: Record<string, unknown> },
  commandId: string, context: DecideContext, decision: { readonly events: readonly NovanetEvent[]; readonly result: Record<string, unknown> },
): Commit {
  return {
    v: COMMIT_VERSION, commandId, scope: job.scope, operation: job.operationName, at: context.now,
    request: job.input, result: decision.result, events: [...decision.events],
  };
}

/** The commit the idempotency view names for a commandId, as read back from the log. */
function firstCommit(record: LogRecord | undefined, scope: Scope, commandId: string, seq: number): Commit {
  if (record === undefined || isQuarantined(record) || record.commit.commandId !== commandId
    || record.commit.scope.org !== scope.org || record.commit.scope.project !== scope.project) {
    throw new Error(`the log holds no commit of commandId ${commandId} at seq ${seq}`);
  }
  return record.commit;
}

/** The first reply again, or a conflict if the commandId was used for another command. */
function repeatReply(job: Job, commandId: string, first: Commit, seq: number): Reply {
  if (first.operation !== job.operationName || canonicalJson(first.request) !== canonicalJson(job.input)) {
    return {
      ok: false, commandId,
      error: { code: ErrorCode.IDEMPOTENCY_CONFLICT, message: `commandId ${commandId} was already used for a different command`, details: { seq, operation: first.operation } },
    };
  }
  return { ok: true, commandId, seq, result: first.result };
}

function errorReply(err: unknown, commandId: string | undefined, logger: Logger): Reply {
  const base = commandId === undefined ? {} : { commandId };
  if (isCommandError(err)) {
    return { ok: false, ...base, error: { code: err.code, message: err.message, ...(err.details !== undefined && { details: err.details }) } };
  }
  logger.error({ err }, 'command failed unexpectedly');
  return { ok: false, ...base, error: { code: ErrorCode.INTERNAL, message: 'internal error; the command was not applied' } };
}
