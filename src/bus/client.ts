import { randomUUID } from 'node:crypto';
import { DeliverPolicy, jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { subjects } from '../../events/mod.js';
import type { Scope, Subjects } from '../../events/mod.js';
import type { Reply } from './intake.js';
import { streamNames } from './streams.js';

export type { Reply };

/** A resource status as published on the STATUS stream. */
export interface StatusMessage {
  readonly kind: string;
  readonly id: string;
  readonly org: string;
  readonly project: string;
  readonly phase: 'Pending' | 'Ready' | 'Failed' | 'Deleted';
  readonly observedSeq: number;
  readonly message?: string;
  readonly [field: string]: unknown;
}

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

  /** Delivers the latest status of a resource, then every new one, until the returned stop is called. */
  async watch(scope: Scope, kind: string, id: string, onStatus: (s: StatusMessage) => void): Promise<() => Promise<void>> {
    const js = jetstream(this.nc);
    const consumer = await js.consumers.get(streamNames(this.prefix).status, {
      // A single filter subject: nats-server 2.9 has no multi-filter consumers.
      filter_subjects: this.subjects.status(scope, kind, id),
      deliver_policy: DeliverPolicy.LastPerSubject,
    });
    const messages = await consumer.consume();
    void (async () => {
      for await (const m of messages) onStatus(m.json<StatusMessage>());
    })();
    return async () => { await messages.close(); };
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
