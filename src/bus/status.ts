import { DeliverPolicy } from '@nats-io/jetstream';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { readStatus } from '../../events/mod.js';
import type { StatusMessage, Subjects } from '../../events/mod.js';
import type { StatusTarget, StoredStatus } from '../reconcile/reconciler.js';
import type { ResourceStatus } from '../reconcile/status.js';
import { StreamAcks, StreamRefusal } from './stream-acks.js';

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

/**
 * Publishes statuses to the STATUS stream, all in flight at once. The stream keeps
 * the latest few per subject, so a late subscriber still gets each resource's state.
 * A batch's acknowledgements are checked together (`StreamAcks`): it resolves once the stream
 * stored every status, and rejects (the reconciler publishes them again) if any was refused
 * or not acknowledged in time.
 */
export class StatusPublisher {
  private readonly acks: StreamAcks;

  constructor(
    nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly subjects: Subjects,
    readonly stream: string,
    inboxPrefix?: string,
  ) {
    this.acks = new StreamAcks(nc, stream, inboxPrefix);
  }

  publish(statuses: readonly ResourceStatus[]): Promise<void> {
    if (statuses.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      let awaited = statuses.length;
      let failure: unknown;
      const settled = () => {
        if (--awaited > 0) return;
        if (failure === undefined) resolve();
        else reject(failure instanceof StreamRefusal ? new Error(`${this.stream} refused a status: ${failure.reason}`) : failure);
      };
      this.acks.send(statuses.map((status) => ({ subject: this.subjects.status(status.scope, status.kind, status.id), data: wireText(status) })), {
        stored: settled,
        failed: (_, err) => {
          failure ??= err;
          settled();
        },
      });
    });
  }

  /**
   * The latest stored message of every status subject, as the stream holds them when
   * called: one ordered consumer delivering the last message per subject, so the read
   * costs O(resources), not O(history). Messages published meanwhile may be included.
   */
  async latest(signal?: AbortSignal): Promise<StoredStatus[]> {
    const { state } = await this.jsm.streams.info(this.stream);
    if (state.messages === 0) return [];
    signal?.throwIfAborted();
    const consumer = await this.js.consumers.get(this.stream, { deliver_policy: DeliverPolicy.LastPerSubject, filter_subjects: this.subjects.statusWildcard });
    const messages = await consumer.consume({ max_messages: READ_BATCH });
    // Ends a read that stopped delivering (NATS away, the stream purged under it), or that is no longer wanted.
    const end = () => { void messages.close(); };
    const stall = setTimeout(end, READ_STALL_MS);
    signal?.addEventListener('abort', end, { once: true });
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
      signal?.removeEventListener('abort', end);
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

/** A status as the wire has it (events/status.ts): its tenant as `org` and `project`, after its other fields. */
function wireText({ scope, ...status }: ResourceStatus): string {
  // The rest is a copy of its own: the tenant is written into it, not into a second copy.
  const wire: Record<string, unknown> = status;
  wire.org = scope.org;
  wire.project = scope.project;
  return JSON.stringify(wire);
}

/** The wire's status as the reconciler produces it: its tenant as a scope. */
function resourceStatus(message: StatusMessage | undefined): ResourceStatus | undefined {
  if (!message) return undefined;
  const { org, project, ...status } = message;
  return { ...status, scope: { org, project } };
}
