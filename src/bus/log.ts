import { DeliverPolicy } from '@nats-io/jetstream';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { readCommit } from '../../events/mod.js';
import type { Commit, CommitRecord } from '../../events/mod.js';

/** How often a follower that got nothing new checks whether the log moved on without it. */
const FOLLOW_WATCHDOG_MS = 5000;

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
  follow(fromSeq: number, onCommit: (record: CommitRecord) => Promise<void> | void, onError: (err: unknown) => void = () => undefined): { stop(): Promise<void>; done: Promise<void> } {
    let close: (() => Promise<void>) | undefined;
    let stopped = false;
    let next = fromSeq;
    const done = (async () => {
      // An ordered consumer can stall for good when a cluster loses a node: it stops
      // delivering (with or without missed heartbeats) and is never recreated. A watchdog
      // that sees the log ahead of what was delivered, without progress, starts it again
      // from the next commit; so does a consumer that ends or fails.
      for (let attempt = 0; !stopped; attempt++) {
        let watchdog: NodeJS.Timeout | undefined;
        try {
          const consumer = await this.js.consumers.get(this.stream, { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: next });
          if (stopped) return;
          const messages = await consumer.consume();
          close = async () => { await messages.close(); };
          let seen = next;
          watchdog = setInterval(() => {
            if (next !== seen) {
              seen = next;
              return;
            }
            this.lastSeq().then(async (last) => {
              if (last < next || next !== seen) return;
              onError(new Error(`the log is at ${last} but its consumer stalled before ${next}`));
              await messages.close();
            }, () => undefined);
          }, FOLLOW_WATCHDOG_MS);
          for await (const m of messages) {
            if (stopped) return;
            await onCommit({ seq: m.seq, commit: readCommit(m.json()) });
            next = m.seq + 1;
            attempt = 0;
          }
        } catch (err) {
          if (stopped) return;
          onError(err);
        } finally {
          clearInterval(watchdog);
        }
        if (!stopped) await new Promise((r) => setTimeout(r, Math.min(5000, 250 * 2 ** attempt)));
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
