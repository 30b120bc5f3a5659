import { createInbox } from '@nats-io/transport-node';
import type { Msg, MsgHdrs, NatsConnection, Subscription } from '@nats-io/transport-node';
import { decodeJson } from '../../events/mod.js';

/** How long a batch waits for every stream acknowledgement (the JetStream client's default for one publish). */
const ACK_TIMEOUT_MS = 5000;

/** One message into a stream. */
export interface StreamMessage {
  readonly subject: string;
  readonly data: string;
  readonly headers?: MsgHdrs;
}

/** The stream answered that it did not store a message: `reason` is the server's description. */
export class StreamRefusal extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

/** What becomes of each message of a batch, by its index; each is told once, stored or failed. */
export interface BatchOutcome {
  /** The stream stored the message at `seq`. */
  stored(index: number, seq: number): void;
  /** Refused by the stream (a StreamRefusal), not acknowledged in time, or not sent (the error `publish` threw). */
  failed(index: number, err: unknown): void;
}

/** A batch in flight: the messages not yet acknowledged, and how it ends. */
interface Batch {
  readonly outcome: BatchOutcome;
  readonly awaited: Set<number>;
  readonly timer: NodeJS.Timeout;
}

/**
 * Publishes into JetStream streams as plain publishes whose replies (the stream's
 * acknowledgements) come to one subscription of this publisher, `<inbox>.<batch>.<index>`,
 * a batch under one timer. `js.publish` is a request a message, with its own timer, deferred
 * and an Error built at each reply (for statuses ~10 % of the engine's CPU in bulk creation,
 * for appends ~4 % of the fill's: test/bench's scale scenario). What a message's outcome says
 * is the same: stored at a sequence, or refused (the server's description), or not
 * acknowledged in time.
 */
export class StreamAcks {
  /** Under the connection's inbox prefix: what its permissions let it subscribe to. */
  private readonly inbox: string;
  /** Opened at the first batch, for the connection's life (it resubscribes after a reconnect). */
  private acks: Subscription | undefined;
  private readonly batches = new Map<string, Batch>();
  private nextBatch = 0;
  /** How the stream's plain acknowledgement begins, as bytes, up to its sequence's key: most are read without JSON (plainAckSeq). */
  private readonly ackPrefix: Uint8Array;

  constructor(
    private readonly nc: NatsConnection,
    /** The stream the messages go to: an acknowledgement names it, and a timeout or a closed connection does. */
    private readonly stream: string,
    inboxPrefix?: string,
  ) {
    this.inbox = createInbox(inboxPrefix);
    this.ackPrefix = new TextEncoder().encode(`{"stream":${JSON.stringify(stream)},`);
  }

  /** Sends every message now, in order; `outcome` hears of each within ACK_TIMEOUT_MS. Never throws. */
  send(messages: readonly StreamMessage[], outcome: BatchOutcome): void {
    if (messages.length === 0) return;
    try {
      this.acks ??= this.subscribe();
    } catch (err) {
      // Closed before the first batch.
      messages.forEach((_, i) => outcome.failed(i, err));
      return;
    }
    const id = String(this.nextBatch++);
    const awaited = new Set<number>();
    const timer = setTimeout(() => this.fail(id, () => new Error(`not acknowledged by ${this.stream} within ${ACK_TIMEOUT_MS} ms`)), ACK_TIMEOUT_MS);
    this.batches.set(id, { outcome, awaited, timer });
    messages.forEach(({ subject, data, headers }, i) => {
      try {
        this.nc.publish(subject, data, { reply: `${this.inbox}.${id}.${i}`, ...(headers && { headers }) });
        awaited.add(i);
      } catch (err) {
        // Over max_payload (this message only), or closed or draining (every one after it too).
        outcome.failed(i, err);
      }
    });
    if (awaited.size === 0) this.end(id);
  }

  private subscribe(): Subscription {
    const acks = this.nc.subscribe(`${this.inbox}.*.*`, { callback: (err, msg) => { if (!err) this.acknowledged(msg); } });
    // Closed: no acknowledgement will come.
    void this.nc.closed().then(() => {
      for (const id of [...this.batches.keys()]) this.fail(id, () => new Error(`the NATS connection closed before ${this.stream} acknowledged`));
    });
    return acks;
  }

  /** One acknowledgement (or refusal) of a message of a batch. */
  private acknowledged(msg: Msg): void {
    const dot = msg.subject.lastIndexOf('.');
    const id = msg.subject.slice(this.inbox.length + 1, dot);
    const index = Number(msg.subject.slice(dot + 1));
    const batch = this.batches.get(id);
    if (!batch?.awaited.delete(index)) return;
    const ack = plainAckSeq(msg.data, this.ackPrefix) ?? readAck(msg, this.stream);
    if (typeof ack === 'number') batch.outcome.stored(index, ack);
    else batch.outcome.failed(index, new StreamRefusal(ack));
    if (batch.awaited.size === 0) this.end(id);
  }

  private fail(id: string, err: () => Error): void {
    const batch = this.batches.get(id);
    if (!batch) return;
    this.end(id);
    for (const index of batch.awaited) batch.outcome.failed(index, err());
  }

  private end(id: string): void {
    const batch = this.batches.get(id);
    if (!batch) return;
    clearTimeout(batch.timer);
    this.batches.delete(id);
  }
}

/**
 * The sequence of an acknowledgement that is exactly `{"stream":"<stream>", "seq":<digits>}` (the
 * space optional), as nats-server writes a stored message's (no domain, not a duplicate), read off
 * its bytes: a port is two acknowledgements (its commit's and its status's), ~0.1 µs each read so
 * against ~0.6 µs decoded as JSON. Undefined for any other reply, which readAck reads.
 */
export function plainAckSeq(data: Uint8Array, stream: Uint8Array): number | undefined {
  let at = 0;
  for (; at < stream.length; at++) if (data[at] !== stream[at]) return undefined;
  if (data[at] === 0x20) at++;
  for (let i = 0; i < SEQ_KEY.length; i++, at++) if (data[at] !== SEQ_KEY[i]) return undefined;
  const end = data.length - 1;
  // At least one digit, at most 15 (a safe integer), no leading zero (not JSON), then the closing brace.
  if (end - at < 1 || end - at > 15 || data[end] !== 0x7d || (data[at] === 0x30 && end - at > 1)) return undefined;
  let seq = 0;
  for (; at < end; at++) {
    const digit = data[at]! - 0x30;
    if (digit < 0 || digit > 9) return undefined;
    seq = seq * 10 + digit;
  }
  return seq;
}

const SEQ_KEY = new TextEncoder().encode('"seq":');

/**
 * The sequence `stream` stored a message at, from its reply, or why it did not store it. A reply
 * naming another stream is not taken as stored: only that stream's word counts.
 */
function readAck(msg: Msg, stream: string): number | string {
  // No stream listens on the subject: the server answers with an empty 503.
  if (msg.data.length === 0) return msg.headers?.code === 503 ? 'no stream takes the subject' : 'an empty reply';
  const reply = decodeJson(msg.data);
  if ('reason' in reply || typeof reply.value !== 'object' || reply.value === null) return 'a reply that is not JSON';
  const { stream: by, seq, error } = reply.value as { stream?: unknown; seq?: unknown; error?: { description?: unknown } };
  if (error !== undefined) return typeof error.description === 'string' ? error.description : 'an error';
  return by === stream && typeof seq === 'number' ? seq : 'a reply that is not an acknowledgement of the stream';
}
