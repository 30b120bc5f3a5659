import { DeliverPolicy } from '@nats-io/jetstream';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { createInbox } from '@nats-io/transport-node';
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import { decodeJson, readStatus } from '../../events/mod.js';
import type { StatusMessage, Subjects } from '../../events/mod.js';
import type { StatusTarget, StoredStatus } from '../reconcile/reconciler.js';
import type { ResourceStatus } from '../reconcile/status.js';

/** How long reading the stored statuses waits for the next message before it gives up. */
const READ_STALL_MS = 5000;

/** Direct gets in flight at once when reading some resources' latest statuses. */
const DIRECT_GETS_IN_FLIGHT = 256;

/**
 * Statuses the read asks the server for at once: the client's default (100, asking again at
 * 75 left) made a pull request every 25 statuses, ~2 s of a restart at 10k ports. Statuses
 * are a few hundred bytes.
 */
const READ_BATCH = 1024;

/** How long a batch of statuses waits for every stream acknowledgement (the JetStream client's default for one). */
const ACK_TIMEOUT_MS = 5000;

/** A batch of statuses in flight: the acknowledgements still awaited, and how it ends. */
interface Batch {
  awaited: number;
  refused: string | undefined;
  readonly done: (err?: Error) => void;
}

/**
 * Publishes statuses to the STATUS stream, all in flight at once. The stream keeps
 * the latest few per subject, so a late subscriber still gets each resource's state.
 *
 * A batch is sent as plain publishes whose replies (the stream's acknowledgements) come to
 * one subscription of this publisher, checked together under one timer: `js.publish` is a
 * request a status, with its own timer, promise race and an Error built at each reply
 * (~10 % of the engine's CPU in bulk creation, test/bench's scale scenario). What it
 * promises is the same: it resolves once the stream stored every status, and rejects
 * (the reconciler publishes them again) if any was refused or not acknowledged in time.
 */
export class StatusPublisher {
  /** Replies come to `<inbox>.<batch>.<index>`, under the connection's inbox prefix (what its permissions let it subscribe to). */
  private readonly inbox: string;
  /** The subscription the acknowledgements come to: opened at the first batch, for the connection's life (it resubscribes after a reconnect). */
  private acks: Subscription | undefined;
  private readonly batches = new Map<string, Batch>();
  private nextBatch = 0;

  constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly subjects: Subjects,
    readonly stream: string,
    inboxPrefix?: string,
  ) {
    this.inbox = createInbox(inboxPrefix);
  }

  publish(statuses: readonly ResourceStatus[]): Promise<void> {
    if (statuses.length === 0) return Promise.resolve();
    if (!this.acks) {
      this.acks = this.nc.subscribe(`${this.inbox}.*.*`, { callback: (err, msg) => { if (!err) this.acknowledged(msg); } });
      // Closed: no acknowledgement will come.
      void this.nc.closed().then(() => { for (const batch of this.batches.values()) batch.done(new Error(`the NATS connection closed before ${this.stream} acknowledged the statuses`)); });
    }
    const id = String(this.nextBatch++);
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => batch.done(new Error(`${batch.awaited} of ${statuses.length} statuses not acknowledged by ${this.stream} within ${ACK_TIMEOUT_MS} ms`)), ACK_TIMEOUT_MS);
      const batch: Batch = {
        awaited: statuses.length,
        refused: undefined,
        done: (err) => {
          clearTimeout(timer);
          this.batches.delete(id);
          if (err) reject(err);
          else resolve();
        },
      };
      this.batches.set(id, batch);
      try {
        statuses.forEach(({ scope, ...status }, i) => {
          this.nc.publish(this.subjects.status(scope, status.kind, status.id), JSON.stringify({ ...status, org: scope.org, project: scope.project }), { reply: `${this.inbox}.${id}.${i}` });
        });
      } catch (err) {
        // Closed or draining: nothing more of the batch is sent; what was sent may still be stored.
        batch.done(err as Error);
      }
    });
  }

  /** One acknowledgement (or refusal) of a status of a batch. */
  private acknowledged(msg: Msg): void {
    const id = msg.subject.slice(this.inbox.length + 1, msg.subject.lastIndexOf('.'));
    const batch = this.batches.get(id);
    if (!batch) return;
    const refusal = ackRefusal(msg);
    if (refusal !== undefined) batch.refused ??= refusal;
    if (--batch.awaited > 0) return;
    batch.done(batch.refused === undefined ? undefined : new Error(`${this.stream} refused a status: ${batch.refused}`));
  }

  /**
   * The latest stored message of every status subject, as the stream holds them when
   * called: one ordered consumer delivering the last message per subject, so the read
   * costs O(resources), not O(history). Messages published meanwhile may be included.
   */
  async latest(): Promise<StoredStatus[]> {
    const { state } = await this.jsm.streams.info(this.stream);
    if (state.messages === 0) return [];
    const consumer = await this.js.consumers.get(this.stream, { deliver_policy: DeliverPolicy.LastPerSubject, filter_subjects: this.subjects.statusWildcard });
    const messages = await consumer.consume({ max_messages: READ_BATCH });
    // Ends a read that stopped delivering (NATS away, the stream purged under it).
    const stall = setTimeout(() => { void messages.close(); }, READ_STALL_MS);
    const latest = new Map<string, StoredStatus>();
    let complete = false;
    try {
      for await (const m of messages) {
        stall.refresh();
        // Delivered in stream order, also again after a consumer reset: the last one per subject wins.
        const target = this.subjects.statusTarget(m.subject);
        if (target) latest.set(m.subject, { ...target, status: resourceStatus(readStatus(m.data)) });
        if (m.seq >= state.last_seq || m.info.pending === 0) {
          complete = true;
          break;
        }
      }
    } finally {
      clearTimeout(stall);
      await messages.close();
    }
    if (!complete) throw new Error(`reading the latest statuses of ${this.stream} stopped before its sequence ${state.last_seq}`);
    return [...latest.values()];
  }

  /** The latest stored status of each resource: one direct get by subject each, so O(resources asked), not O(stream). */
  async latestOf(resources: readonly StatusTarget[]): Promise<(ResourceStatus | undefined)[]> {
    const found: (ResourceStatus | undefined)[] = [];
    for (let i = 0; i < resources.length; i += DIRECT_GETS_IN_FLIGHT) {
      found.push(...await Promise.all(resources.slice(i, i + DIRECT_GETS_IN_FLIGHT).map(async ({ kind, id, scope }) => {
        const stored = await this.jsm.direct.getMessage(this.stream, { last_by_subj: this.subjects.status(scope, kind, id) });
        return stored ? resourceStatus(readStatus(stored.data)) : undefined;
      })));
    }
    return found;
  }
}

/** The wire's status as the reconciler produces it: its tenant as a scope. */
function resourceStatus(message: StatusMessage | undefined): ResourceStatus | undefined {
  if (!message) return undefined;
  const { org, project, ...status } = message;
  return { ...status, scope: { org, project } };
}

/** Why the stream did not store a status, from its reply; undefined for an acknowledgement. */
function ackRefusal(msg: Msg): string | undefined {
  // No stream listens on the subject: the server answers with an empty 503.
  if (msg.data.length === 0) return msg.headers?.code === 503 ? 'no stream takes the subject' : 'an empty reply';
  const reply = decodeJson(msg.data);
  if ('reason' in reply || typeof reply.value !== 'object' || reply.value === null) return 'a reply that is not JSON';
  const { stream, error } = reply.value as { stream?: unknown; error?: { description?: unknown } };
  if (error !== undefined) return typeof error.description === 'string' ? error.description : 'an error';
  return typeof stream === 'string' && stream !== '' ? undefined : 'a reply that is not an acknowledgement';
}
