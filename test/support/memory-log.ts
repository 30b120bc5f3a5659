import type { Commit, LogRecord } from '../../events/mod.js';
import type { CommitLog } from '../../src/intake/intake.js';

/**
 * A CommitLog held in memory, with the same fencing rule as JetStream's expected last
 * sequence: an append whose expectation is stale is refused. What the intake's core does
 * with a log (pipelining, recovery, idempotency) is then testable without a server; the
 * JetStream implementation itself is tested against a real nats-server (test/engine).
 */
export class MemoryLog implements CommitLog {
  readonly commits: Commit[] = [];
  /** Acknowledgements are held back until `release()` while true: appends stay in flight. */
  holding = false;
  private held: (() => void)[] = [];
  /** Appends that were refused for a stale expectation. */
  refused = 0;

  async lastSeq(): Promise<number> {
    return this.commits.length;
  }

  async *read(fromSeq: number, toSeq: number): AsyncGenerator<LogRecord> {
    for (let seq = fromSeq; seq <= Math.min(toSeq, this.commits.length); seq++) yield { seq, commit: this.commits[seq - 1]! };
  }

  async readAt(seq: number): Promise<LogRecord | undefined> {
    const commit = this.commits[seq - 1];
    // A copy, as a real log's read is: a reply must not share the stored commit.
    return commit && { seq, commit: structuredClone(commit) };
  }

  append(commit: Commit, expectedLastSeq: number): Promise<number> {
    const settle = (resolve: (seq: number) => void, reject: (err: Error) => void) => {
      if (expectedLastSeq !== this.commits.length) {
        this.refused++;
        reject(new Error(`wrong last sequence: expected ${expectedLastSeq}, log at ${this.commits.length}`));
        return;
      }
      this.commits.push(structuredClone(commit));
      resolve(this.commits.length);
    };
    return new Promise((resolve, reject) => {
      if (this.holding) this.held.push(() => settle(resolve, reject));
      else settle(resolve, reject);
    });
  }

  /** Acknowledges the held appends, in order. */
  release(): void {
    this.holding = false;
    const held = this.held;
    this.held = [];
    for (const settle of held) settle();
  }

  get inFlight(): number {
    return this.held.length;
  }
}
