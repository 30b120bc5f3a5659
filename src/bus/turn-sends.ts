/**
 * Sends of one turn of the event loop, made together at its end (`setImmediate`), in the order
 * they were queued. The NATS client flushes its outbound buffer to the socket in a microtask
 * queued by the first publish into an empty buffer, so publishes made one microtask apart (the
 * intake's appends, one a decided command) were one socket write each, ~20 % of the engine's
 * CPU over the scale bench's fill. Made together they are one write (or one a 32 KiB).
 */
export class TurnSends {
  private queued: (() => void)[] = [];

  /** `send` runs at the end of this turn, after the sends queued before it; it must not throw. */
  push(send: () => void): void {
    if (this.queued.push(send) === 1) setImmediate(() => this.run());
  }

  private run(): void {
    const queued = this.queued;
    this.queued = [];
    for (const send of queued) send();
  }
}
