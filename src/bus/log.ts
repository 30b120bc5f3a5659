import { DeliverPolicy } from '@nats-io/jetstream';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { readCommit } from '../../events/mod.js';
import type { Commit, CommitRecord } from '../../events/mod.js';

/**
 * The event log on JetStream: fenced appends of commits, bounded catch-up reads
 * and an open-ended follow. Knows nothing of views or decisions.
 */
export class EventLog {
  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    readonly stream: string,
  ) {}

  async lastSeq(): Promise<number> {
    const info = await this.jsm.streams.info(this.stream);
    return info.state.last_seq;
  }

  /**
   * Appends one commit if and only if the stream's last sequence is `expectedLastSeq`
   * (write fencing, DESIGN §2). Resolves with the commit's sequence.
   */
  async append(subject: string, commit: Commit, expectedLastSeq: number): Promise<number> {
    const ack = await this.js.publish(subject, JSON.stringify(commit), { expect: { lastSequence: expectedLastSeq } });
    return ack.seq;
  }

  /** Reads commits from `fromSeq` through `toSeq` (inclusive), then stops. */
  async *read(fromSeq: number, toSeq: number): AsyncGenerator<CommitRecord> {
    if (fromSeq > toSeq) return;
    const consumer = await this.js.consumers.get(this.stream, { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: fromSeq });
    const messages = await consumer.consume();
    try {
      for await (const m of messages) {
        yield { seq: m.seq, commit: readCommit(m.json()) };
        if (m.seq >= toSeq) break;
      }
    } finally {
      await messages.close();
    }
  }

  /**
   * Delivers every commit from `fromSeq` on, as it is appended, until `stop()`.
   * `onCommit` is awaited before the next commit: the caller sees commits in order.
   */
  follow(fromSeq: number, onCommit: (record: CommitRecord) => Promise<void> | void): { stop(): Promise<void>; done: Promise<void> } {
    let close: (() => Promise<void>) | undefined;
    let stopped = false;
    const done = (async () => {
      const consumer = await this.js.consumers.get(this.stream, { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: fromSeq });
      if (stopped) return;
      const messages = await consumer.consume();
      close = async () => { await messages.close(); };
      for await (const m of messages) {
        if (stopped) break;
        await onCommit({ seq: m.seq, commit: readCommit(m.json()) });
      }
    })();
    return {
      done,
      stop: async () => {
        stopped = true;
        await close?.();
        await done.catch(() => undefined);
      },
    };
  }
}
