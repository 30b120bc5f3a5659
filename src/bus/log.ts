import { DeliverPolicy } from '@nats-io/jetstream';
import type { JetStreamClient, JetStreamManager, JsMsg } from '@nats-io/jetstream';
import { ClosedConnectionError, headers as natsHeaders, InvalidArgumentError } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { readCommit } from '../../events/mod.js';
import type { Commit, LogRecord, Subjects } from '../../events/mod.js';
import { CommandError, ErrorCode } from '../commands/mod.js';
import type { CommitLog } from '../intake/intake.js';
import { StreamAcks, StreamRefusal } from './stream-acks.js';
import type { StreamMessage } from './stream-acks.js';
import { TurnSends } from './turn-sends.js';

/** How often a follower that got nothing new checks whether the log moved on without it. */
const FOLLOW_WATCHDOG_MS = 5000;

/**
 * Messages a read or the follow asks the server for at once. The client's default (100, asking
 * again at 75 left) costs one pull request every 25 messages: at 30k commits that was ~1 s of
 * socket writes of the engine's restart. Bounded by count, so what waits in the client is at
 * most this many commits (~1 KiB each, at most NATS's max payload).
 */
const READ_BATCH = 256;

/**
 * The fencing header of an append. nats-server (2.9 verified) stores it with the message,
 * so the log itself tells a fenced append from a plain publish on an events subject.
 */
const EXPECTED_LAST_SEQUENCE = 'Nats-Expected-Last-Sequence';

/**
 * The event log on JetStream: fenced appends of commits, bounded catch-up reads
 * and an open-ended follow. Knows nothing of views or decisions. Readers get every
 * sequence, each a commit or a quarantined record (`logRecord`): nothing stored on
 * the stream makes a read fail.
 */
export class EventLog implements CommitLog {
  private readonly acks: StreamAcks;
  private readonly appends = new TurnSends<Append>((appends) => this.sendAppends(appends));

  constructor(
    nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    readonly stream: string,
    private readonly subjects: Subjects,
    /** The connection's inbox prefix, if it has one of its own (the engine's permissions). */
    inboxPrefix?: string,
  ) {
    this.acks = new StreamAcks(nc, stream, inboxPrefix);
  }

  async lastSeq(): Promise<number> {
    const info = await this.jsm.streams.info(this.stream);
    return info.state.last_seq;
  }

  /** The stream's creation time: which log this is (one deleted and made again is another, whatever its seqs). */
  async created(): Promise<string> {
    const info = await this.jsm.streams.info(this.stream);
    return info.created;
  }

  /**
   * Appends one commit, on its scope's events subject, if and only if the stream's last
   * sequence is `expectedLastSeq` (write fencing). Resolves with the commit's sequence.
   *
   * Sent with the other appends of this turn of the event loop (`TurnSends`), their
   * acknowledgements checked together (`StreamAcks`): the intake decides one command a
   * microtask, and the NATS client wrote to its socket after each microtask it published in.
   */
  append(commit: Commit, expectedLastSeq: number): Promise<number> {
    // In the executor: a commit that cannot be encoded rejects, as any failed append does.
    return new Promise((resolve, reject) => {
      const data = JSON.stringify(commit);
      const headers = natsHeaders();
      headers.set(EXPECTED_LAST_SEQUENCE, String(expectedLastSeq));
      this.appends.push({ subject: this.subjects.events(commit.scope), data, headers, resolve, reject });
    });
  }

  /** One turn's appends, in the order they were made. */
  private sendAppends(appends: readonly Append[]): void {
    this.acks.send(appends, {
      stored: (i, seq) => appends[i]!.resolve(seq),
      failed: (i, err) => appends[i]!.reject(appendRefusal(err, appends[i]!.data, this.stream)),
    });
  }

  /** Reads records from `fromSeq` through `toSeq` (inclusive), then stops. */
  async *read(fromSeq: number, toSeq: number): AsyncGenerator<LogRecord> {
    if (fromSeq > toSeq) return;
    const consumer = await this.js.consumers.get(this.stream, { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: fromSeq });
    const messages = await consumer.consume({ max_messages: READ_BATCH });
    try {
      for await (const m of messages) {
        yield logRecord(m);
        if (m.seq >= toSeq) break;
      }
    } finally {
      await messages.close();
    }
  }

  /**
   * The record at `seq`: one message-get request, answered by the stream's leader (EVENTS has
   * no direct get, whose replicas could lag a just-acknowledged append). Undefined if the
   * stream has no message there.
   */
  async readAt(seq: number): Promise<LogRecord | undefined> {
    const m = await this.jsm.streams.getMessage(this.stream, { seq });
    return m === null ? undefined : logRecord({ seq: m.seq, subject: m.subject, data: m.data, headers: m.header });
  }

  /**
   * Delivers every record from `fromSeq` on, as it is appended, until `stop()`.
   * `onRecord` is awaited before the next record: the caller sees records in order, each
   * once. Consumer trouble is reported to `onError` and followed again from the next
   * record; a record `onRecord` cannot process ends the follow (`done` rejects).
   */
  follow(fromSeq: number, onRecord: (record: LogRecord) => Promise<void> | void, onError: (err: unknown) => void = () => undefined): { stop(): Promise<void>; done: Promise<void> } {
    const state: FollowState = { next: fromSeq, stopped: false, busy: false };
    const done = (async () => {
      // An ordered consumer can stall for good when a cluster loses a node: it stops
      // delivering (with or without missed heartbeats) and is never recreated. A stalled,
      // ended or failed consumer is replaced by one starting at the next commit.
      for (let attempt = 0; !state.stopped; attempt++) {
        const before = state.next;
        try {
          await this.followOnce(state, onRecord, onError);
        } catch (err) {
          if (err instanceof CommitFailed) throw err.cause;
          // Closed for good (the client is shutting down): nothing will come any more.
          if (err instanceof ClosedConnectionError) return;
          if (!state.stopped) onError(err);
        }
        if (state.next !== before) attempt = 0;
        if (!state.stopped) await new Promise<void>((resolve) => { state.wake = resolve; setTimeout(resolve, Math.min(5000, 250 * 2 ** attempt)).unref(); });
      }
    })();
    return {
      done,
      stop: async () => {
        state.stopped = true;
        state.wake?.();
        await state.close?.();
        await done.catch(() => undefined);
      },
    };
  }

  /** One consumer's life: until it ends, fails, stalls (the watchdog closes it) or the follow stops. */
  private async followOnce(state: FollowState, onRecord: (record: LogRecord) => Promise<void> | void, onError: (err: unknown) => void): Promise<void> {
    const consumer = await this.js.consumers.get(this.stream, { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: state.next });
    const messages = await consumer.consume({ max_messages: READ_BATCH });
    state.close = async () => { await messages.close(); };
    if (state.stopped) {
      // Not awaited: nats.js settles close() only through an iterator of the messages (its stop is
      // queued as their next item), and none is running yet. The subscription ends at once.
      void messages.close();
      return;
    }
    let active = true;
    let idleTicks = 0;
    let seen = state.next;
    const watchdog = setInterval(() => {
      // Stalled: two checks in a row without progress, nothing being processed, the log ahead.
      if (state.next !== seen || state.busy) {
        seen = state.next;
        idleTicks = 0;
        return;
      }
      if (++idleTicks < 2) return;
      this.lastSeq().then(async (last) => {
        if (!active || state.stopped || state.next !== seen || last < state.next) return;
        onError(new Error(`the log is at ${last} but its consumer stalled before ${state.next}`));
        await messages.close();
      }, () => undefined);
    }, FOLLOW_WATCHDOG_MS);
    try {
      for await (const m of messages) {
        if (state.stopped) return;
        state.busy = true;
        try {
          await onRecord(logRecord(m));
        } catch (err) {
          throw new CommitFailed(err);
        } finally {
          state.busy = false;
        }
        state.next = m.seq + 1;
      }
    } finally {
      active = false;
      clearInterval(watchdog);
    }
  }
}

/** An append waiting for the end of the turn. */
interface Append extends StreamMessage {
  resolve(seq: number): void;
  reject(err: unknown): void;
}

/**
 * Why an append failed. The client refuses a message over the server's max_payload before
 * sending it: no retry can succeed, so it is the command's refusal (a bulk port.create on a
 * server set below 1 MiB). Anything else fails the append (the intake rebuilds its view).
 */
function appendRefusal(err: unknown, data: string, stream: string): unknown {
  if (err instanceof StreamRefusal) return new Error(`${stream} refused the append: ${err.reason}`);
  if (!(err instanceof InvalidArgumentError && err.message.includes('max_payload'))) return err;
  const bytes = Buffer.byteLength(data);
  return new CommandError(ErrorCode.PAYLOAD_TOO_LARGE, `the command's commit is ${bytes} bytes, more than the NATS server carries (max_payload)`, { commitBytes: bytes });
}

/** Where a follow is, shared by its successive consumers. */
interface FollowState {
  next: number;
  stopped: boolean;
  /** A record is being processed: a slow onRecord is not a stall. */
  busy: boolean;
  close?: () => Promise<void>;
  wake?: () => void;
}

/** The caller's onRecord failed: not the consumer's trouble, so not retried. */
class CommitFailed extends Error {
  constructor(override readonly cause: unknown) {
    super('processing a commit failed', { cause });
  }
}

/**
 * A stored message as readers get it. Every legitimate append is fenced (`append`), so a
 * commit stored without the fencing header, or with one that does not name the sequence
 * before it, was published past the intake and is quarantined like any other garbage.
 */
export function logRecord(m: Pick<JsMsg, 'seq' | 'subject' | 'data' | 'headers'>): LogRecord {
  const read = readCommit(m.data);
  if ('reason' in read) return { seq: m.seq, subject: m.subject, reason: read.reason };
  const expected = m.headers?.get(EXPECTED_LAST_SEQUENCE) ?? '';
  if (expected === '') return { seq: m.seq, subject: m.subject, reason: `not a fenced append (no ${EXPECTED_LAST_SEQUENCE} header)` };
  if (!/^\d+$/.test(expected) || Number(expected) !== m.seq - 1) {
    return { seq: m.seq, subject: m.subject, reason: `out of fencing order: appended expecting last sequence ${expected.slice(0, 20)}, stored at ${m.seq}` };
  }
  return { seq: m.seq, commit: read.commit };
}
