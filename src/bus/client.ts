import { randomUUID } from 'node:crypto';
import type { NatsConnection } from '@nats-io/transport-node';
import { readStatus, subjects } from '../../events/mod.js';
import type { Reply, Scope, StatusMessage, Subjects } from '../../events/mod.js';

export type { Reply, StatusMessage };

/**
 * A thin client of the wire contract: request/reply commands and status watches.
 * The CLI and the tests use it; it is an example for clients in other languages too.
 */
export class NovanetClient {
  private readonly subjects: Subjects;

  constructor(readonly nc: NatsConnection, readonly prefix = 'novanet', private readonly timeoutMs = 10_000) {
    this.subjects = subjects(prefix);
  }

  /** Sends a tenant command or query. Mutating commands get a fresh commandId unless the payload has one. */
  async request(scope: Scope, operation: string, payload: Record<string, unknown> = {}): Promise<Reply> {
    const body = isQuery(operation) || payload.commandId !== undefined ? payload : { commandId: randomUUID(), ...payload };
    const msg = await this.nc.request(this.subjects.command(scope, operation), JSON.stringify(body), { timeout: this.timeoutMs });
    return msg.json<Reply>();
  }

  /** Like request, but returns the result or throws the structured error. */
  async call(scope: Scope, operation: string, payload: Record<string, unknown> = {}): Promise<{ seq: number; result: Record<string, unknown> }> {
    const reply = await this.request(scope, operation, payload);
    if (!reply.ok) throw Object.assign(new Error(`${reply.error.code}: ${reply.error.message}`), { code: reply.error.code, details: reply.error.details });
    return { seq: reply.seq, result: reply.result };
  }

  /**
   * Delivers the latest status of a resource, then every new one, until the returned stop
   * is called. Needs only permissions on the resource's own subjects (subscribe to its
   * status subject, publish to its direct-get subject), so NATS can confine a tenant to
   * its own statuses.
   */
  async watch(scope: Scope, kind: string, id: string, onStatus: (s: StatusMessage) => void): Promise<() => Promise<void>> {
    const subject = this.subjects.status(scope, kind, id);
    let live = false;
    const sub = this.nc.subscribe(subject, {
      callback: (err, msg) => {
        if (err) return;
        // Anything on the subject that is not a status (garbage written by someone else) is skipped.
        const status = readStatus(msg.data);
        if (!status) return;
        live = true;
        onStatus(status);
      },
    });
    await this.nc.flush();
    const last = await this.nc.request(this.subjects.statusDirectGet(subject), '', { timeout: this.timeoutMs });
    // 404: no status yet. A live message that beat the lookup is at least as new as the stored one.
    const stored = last.data.length > 0 && (last.headers?.code ?? 0) < 300 ? readStatus(last.data) : undefined;
    if (!live && stored) onStatus(stored);
    return async () => { sub.unsubscribe(); };
  }

  /** Resolves with the first status that satisfies `until` (e.g. phase Ready at or after a command's seq). */
  async waitFor(scope: Scope, kind: string, id: string, until: (s: StatusMessage) => boolean, timeoutMs = 30_000): Promise<StatusMessage> {
    let stop: (() => Promise<void>) | undefined;
    try {
      return await new Promise<StatusMessage>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${kind}/${id}`)), timeoutMs);
        void this.watch(scope, kind, id, (s) => {
          if (until(s)) {
            clearTimeout(timer);
            resolve(s);
          }
        }).then((s) => { stop = s; }, reject);
      });
    } finally {
      await stop?.();
    }
  }
}

function isQuery(operation: string): boolean {
  return /\.(get|list)$/.test(operation);
}
