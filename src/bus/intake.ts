import { randomBytes, randomUUID } from 'node:crypto';
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { isQuarantined } from '../../events/mod.js';
import type { Commit, CommitRecord, LogRecord, Scope, Subjects } from '../../events/mod.js';
import { commandKey, evolveCommands, evolve, initialCommandView, initialView } from '../../projections/mod.js';
import type { CommandView, View } from '../../projections/mod.js';
import { admit, ErrorCode, isCommandError } from '../commands/mod.js';
import type { CommandOperation, DecideConfig, DecideContext, Operation, QueryOperation } from '../commands/mod.js';
import type { EventLog } from './log.js';

/** How many appends may wait for their acknowledgement at once. */
const MAX_IN_FLIGHT = 256;

export type Reply =
  | { ok: true; commandId?: string; seq: number; result: Record<string, unknown> }
  | { ok: false; commandId?: string; error: { code: string; message: string; details?: unknown } };

interface Job {
  readonly ordinal: number;
  readonly scope: Scope;
  readonly operationName: string;
  readonly operation: Operation;
  readonly input: Record<string, unknown>;
  respond(reply: Reply): void;
}

export interface IntakeOptions {
  readonly nc: NatsConnection;
  readonly log: EventLog;
  readonly subjects: Subjects;
  readonly prefix: string;
  readonly config: DecideConfig;
  readonly logger: Logger;
  /** Reply subjects answered: those starting with one of these (client inboxes; EngineConfig checks them). */
  readonly replyPrefixes: readonly string[];
}

/**
 * The write side: validates commands from NATS, decides them against its view,
 * appends one fenced commit per accepted command and replies.
 *
 * Appends are pipelined: a command is decided on the view that already holds the
 * commits still in flight, and its append expects the sequence after theirs. If
 * any append fails (another writer got in first, NATS went away) the chain behind
 * it fails too: the intake waits for the in-flight appends, rebuilds its view from
 * the log and decides the failed commands again. Anything that appends nothing (a
 * query, a refusal, a repeated commandId) is answered only once the commits before
 * it are confirmed, so no reply ever reflects a commit that did not happen.
 */
export class Intake {
  private network: View = initialView();
  private commands: CommandView = initialCommandView();
  /** Sequence the next append expects as the stream's last. */
  private head = 0;
  private readonly queue: Job[] = [];
  private wake: (() => void) | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private failed: Job[] = [];
  private ordinal = 0;
  private subscriptions: Subscription[] = [];
  private running: Promise<void> | undefined;
  private stopping = false;
  /** Requests dropped unprocessed because their reply subject is not under a reply prefix. */
  droppedForReplySubject = 0;

  constructor(private readonly opts: IntakeOptions) {}

  /** The view commands are decided on (diagnostics and replay checks; do not mutate). */
  get view(): View {
    return this.network;
  }

  async start(): Promise<void> {
    await this.rebuild();
    this.subscriptions = [this.opts.subjects.commandWildcard, this.opts.subjects.adminCommandWildcard].map((subject) =>
      this.opts.nc.subscribe(subject, {
        queue: `${this.opts.prefix}-intake`,
        callback: (err, msg) => {
          if (err) this.opts.logger.error({ err }, 'command subscription failed');
          else this.receive(msg);
        },
      }));
    this.running = this.run();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.subscriptions.map((sub) => sub.drain()));
    this.wake?.();
    await this.running;
    await Promise.allSettled(this.inFlight);
  }

  /** Parses and validates at once (cheap, stateless); everything touching the view is queued. */
  private receive(msg: Msg): void {
    // The engine may publish into streams and the JetStream API: a reply subject a client
    // chose must not take it there (another tenant's status, a purge, the event log).
    if (msg.reply && !this.opts.replyPrefixes.some((prefix) => msg.reply!.startsWith(prefix))) {
      this.droppedForReplySubject++;
      this.opts.logger.warn({ subject: msg.subject, reply: msg.reply }, 'request dropped unprocessed: its reply subject is not an inbox');
      return;
    }
    const respond = (reply: Reply) => {
      if (msg.reply) msg.respond(JSON.stringify(reply));
    };
    try {
      const job = this.parse(msg, respond);
      this.queue.push(job);
      this.wake?.();
    } catch (err) {
      respond(errorReply(err, undefined, this.opts.logger));
    }
  }

  private parse(msg: Msg, respond: (reply: Reply) => void): Job {
    return { ordinal: this.ordinal++, ...admit(this.opts.subjects, msg.subject, msg.data), respond };
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
        job.respond(errorReply(err, job.input.commandId as string | undefined, this.opts.logger));
      }
    }
  }

  private async process(job: Job): Promise<void> {
    if (job.operation.kind === 'query') {
      if (await this.requeueAfterSettle(job)) return;
      await this.catchUp();
      job.respond({ ok: true, seq: this.network.seq, result: (job.operation as QueryOperation).query(this.network, job.input, job.scope) });
      return;
    }
    const commandId = job.input.commandId as string;
    const key = commandKey(job.scope, commandId);
    if (this.commands.accepted.has(key)) {
      if (await this.requeueAfterSettle(job)) return;
      const accepted = this.commands.accepted.get(key);
      if (accepted) {
        job.respond(repeatReply(job, commandId, accepted));
        return;
      }
    }
    let decision;
    try {
      decision = (job.operation as CommandOperation).decide(this.network, job.input, this.context(job.scope, commandId));
    } catch (err) {
      // A refusal may rest on commits still in flight: answer it only once they are confirmed,
      // and decide again if the view had to be rebuilt meanwhile.
      if (isCommandError(err) && await this.requeueAfterSettle(job)) return;
      throw err;
    }
    const commit: Commit = {
      v: 1, commandId, scope: job.scope, operation: job.operationName, at: new Date().toISOString(),
      request: job.input, result: decision.result, events: [...decision.events],
    };
    await this.append(job, commit);
  }

  private async append(job: Job, commit: Commit): Promise<void> {
    while (this.inFlight.size >= MAX_IN_FLIGHT) await Promise.race(this.inFlight);
    const expected = this.head;
    const record: CommitRecord = { seq: expected + 1, commit };
    this.apply(record);
    const pending = this.opts.log.append(this.opts.subjects.events(job.scope), commit, expected).then(
      (seq) => {
        if (seq !== record.seq) throw new Error(`append stored at ${seq}, expected ${record.seq}`);
        job.respond({ ok: true, commandId: commit.commandId, seq, result: commit.result });
      },
    ).catch((err: unknown) => {
      this.opts.logger.warn({ err, commandId: commit.commandId, expected }, 'append refused; the view will be rebuilt from the log');
      this.failed.push(job);
      this.wake?.();
    }).finally(() => this.inFlight.delete(pending));
    this.inFlight.add(pending);
  }

  private apply(record: LogRecord): void {
    // A quarantined message holds nothing to decide on or answer from, but it is on the
    // stream: the next append must expect its sequence as the last.
    if (!isQuarantined(record)) {
      evolve(this.network, record);
      evolveCommands(this.commands, record);
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
        // NATS is away: the connection reconnects forever, so keep the commands and wait.
        this.opts.logger.warn({ err, attempt }, 'rebuilding the view from the log failed; retrying');
        await new Promise((r) => setTimeout(r, Math.min(5000, 100 * 2 ** attempt)));
      }
    }
    this.queue.unshift(...retry);
  }

  /**
   * Folds in commits other writers appended (several engines may share the log), so a
   * read reflects every commit acknowledged before it was asked. Call only when settled.
   */
  private async catchUp(): Promise<void> {
    const last = await this.opts.log.lastSeq();
    if (last <= this.head) return;
    for await (const record of this.opts.log.read(this.head + 1, last)) this.apply(record);
  }

  private async rebuild(): Promise<void> {
    this.network = initialView();
    this.commands = initialCommandView();
    this.head = 0;
    const last = await this.opts.log.lastSeq();
    for await (const record of this.opts.log.read(1, last)) this.apply(record);
    this.head = last;
  }

  private context(scope: Scope, commandId: string): DecideContext {
    return {
      scope, commandId, now: new Date().toISOString(), config: this.opts.config,
      newId: () => randomUUID(),
      newMac: () => randomMac(),
    };
  }
}

/** A locally administered unicast MAC: 0a:4e ("N") then four random octets. */
function randomMac(): string {
  return ['0a', '4e', ...[...randomBytes(4)].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}

function repeatReply(job: Job, commandId: string, accepted: { seq: number; operation: string; request: unknown; result: Record<string, unknown> }): Reply {
  if (accepted.operation !== job.operationName || canonicalJson(accepted.request) !== canonicalJson(job.input)) {
    return {
      ok: false, commandId,
      error: { code: ErrorCode.IDEMPOTENCY_CONFLICT, message: `commandId ${commandId} was already used for a different command`, details: { seq: accepted.seq, operation: accepted.operation } },
    };
  }
  return { ok: true, commandId, seq: accepted.seq, result: accepted.result };
}

function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => v && typeof v === 'object' && !Array.isArray(v)
    ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
    : v);
}

function errorReply(err: unknown, commandId: string | undefined, logger: Logger): Reply {
  const base = commandId === undefined ? {} : { commandId };
  if (isCommandError(err)) {
    return { ok: false, ...base, error: { code: err.code, message: err.message, ...(err.details !== undefined && { details: err.details }) } };
  }
  logger.error({ err }, 'command failed unexpectedly');
  return { ok: false, ...base, error: { code: ErrorCode.INTERNAL, message: 'internal error; the command was not applied' } };
}
