/**
 * What is queued within one turn of the event loop, handed to `send` together at its end
 * (`setImmediate`), in the order it was queued. The NATS client flushes its outbound buffer to
 * the socket in a microtask queued by the first publish into an empty buffer, so publishes made
 * one microtask apart (the intake's appends, one a decided command) were one socket write each,
 * ~20 % of the engine's CPU over the scale bench's fill. Sent together they are one write (or
 * one a 32 KiB).
 */
export class TurnSends<T> {
  private queued: T[] = [];

  /** `send` must not throw. */
  constructor(private readonly send: (items: readonly T[]) => void) {}

  push(item: T): void {
    if (this.queued.push(item) === 1) setImmediate(() => this.run());
  }

  private run(): void {
    const queued = this.queued;
    this.queued = [];
    this.send(queued);
  }
}
