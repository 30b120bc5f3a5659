import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import type { KV } from '@nats-io/kv';
import type { Logger } from 'pino';
import { isWrongLastSequence } from './errors.js';

/** The lease's one key in its bucket. */
const KEY = 'reconciler';

export interface LeaseOptions {
  /** The bucket, e.g. `NOVANET_LEASE` (stream `KV_NOVANET_LEASE`). */
  readonly bucket: string;
  /** Who holds it when this engine does: its value in the bucket, for operators. */
  readonly holder: string;
  /** The bucket's max_age: an entry nobody renews is gone this long after its last renewal. */
  readonly ttlMs: number;
  readonly replicas: number;
  readonly logger: Logger;
  /**
   * Whether this engine may hold the lease now (its reconciler's loop turns): while false it
   * neither acquires nor renews, so a lease it holds runs out and a standby takes over.
   */
  eligible(): boolean;
  /**
   * This engine holds the lease from now on. `token` is the revision it was acquired at: it grows
   * with every acquisition by anyone, so a later holder's token is always greater (a fencing token).
   */
  onAcquired(token: number): void;
  /** This engine no longer holds it, or can no longer be sure it does: stop at once. */
  onLost(): void;
}

/**
 * A lease held in a JetStream KV bucket whose max_age is the TTL (per-key TTLs need
 * nats-server 2.11; a bucket's max_age works on 2.9). Acquiring is `create` (refused while
 * anyone's entry lives), renewing is `update` expecting the revision we last wrote (refused
 * once someone else acquired it). The holder counts its lease as valid until the TTL, minus a
 * margin, after it *sent* its last successful renewal: the server stored that renewal later, so
 * the holder always gives up before the entry can expire and another engine can acquire it.
 */
export class Lease {
  #kv: KV | undefined;
  #token: number | undefined;
  #revision = 0;
  #validUntil = 0;
  /** The holder's last renewal failed: try again soon, not a whole period later. */
  #renewalFailed = false;
  #expiry: NodeJS.Timeout | undefined;
  #tick: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;

  constructor(private readonly nc: NatsConnection, private readonly opts: LeaseOptions) {}

  /** Opens (or creates) the bucket and makes the first attempt: a lone engine holds the lease when this resolves. */
  async start(): Promise<void> {
    await new Kvm(jetstream(this.nc)).create(this.opts.bucket, { history: 1, ttl: this.opts.ttlMs, replicas: this.opts.replicas });
    // No lease request may outlast a renewal period: a slow server must not stall the loop past the TTL.
    this.#kv = await new Kvm(jetstream(this.nc, { timeout: Math.floor(this.opts.ttlMs / 3) })).open(this.opts.bucket);
    await this.#attempt();
    this.#schedule();
  }

  /** Stops renewing; a held lease is released at once (deleted if still ours), so a standby takes over without waiting for the TTL. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#tick);
    await this.#running;
    if (this.#token === undefined) return;
    const revision = this.#revision;
    this.#lose('stopping');
    await this.#kv?.delete(KEY, { previousSeq: revision }).catch((err: unknown) => this.opts.logger.warn({ err }, 'releasing the writer lease failed; it expires by itself'));
  }

  #schedule(): void {
    if (this.#stopped) return;
    // The holder renews three times per TTL, and TTL/12 after a failed renewal (a renewal that
    // timed out after TTL/3 would otherwise be retried only after the lease ran out); a standby
    // tries every TTL/12 (two cheap requests), so it takes over at most that long after the
    // entry expired.
    const period = this.#token === undefined || this.#renewalFailed ? this.opts.ttlMs / 12 : this.opts.ttlMs / 3;
    this.#tick = setTimeout(() => {
      this.#running = this.#attempt().finally(() => this.#schedule());
    }, Math.floor(period));
  }

  async #attempt(): Promise<void> {
    // A held lease is left to its expiry timer, which ends it as a failed renewal would.
    if (!this.opts.eligible()) return;
    const kv = this.#kv!;
    const sentAt = performance.now();
    try {
      if (this.#token === undefined) {
        const revision = await kv.create(KEY, this.opts.holder);
        this.#renewed(revision, sentAt);
        this.#token = revision;
        this.opts.logger.info({ token: revision, holder: this.opts.holder }, 'writer lease acquired');
        this.opts.onAcquired(revision);
      } else {
        this.#renewed(await kv.update(KEY, this.opts.holder, this.#revision), sentAt);
      }
    } catch (err) {
      if (this.#token === undefined) {
        if (!isWrongLastSequence(err)) this.opts.logger.debug({ err }, 'acquiring the writer lease failed');
      } else if (isWrongLastSequence(err)) {
        this.#lose('another engine holds the writer lease');
      } else {
        // NATS away or slow: the lease stays ours until #validUntil, when the expiry timer ends it.
        this.#renewalFailed = true;
        this.opts.logger.warn({ err }, 'renewing the writer lease failed; retrying');
      }
    }
  }

  #renewed(revision: number, sentAt: number): void {
    this.#renewalFailed = false;
    this.#revision = revision;
    // A sixth of the TTL covers timer lag and a moderate clock-rate difference with the server.
    this.#validUntil = sentAt + this.opts.ttlMs - this.opts.ttlMs / 6;
    clearTimeout(this.#expiry);
    this.#expiry = setTimeout(() => this.#lose('the writer lease could not be renewed in time'), this.#validUntil - performance.now());
  }

  #lose(why: string): void {
    if (this.#token === undefined) return;
    clearTimeout(this.#expiry);
    this.opts.logger.warn({ token: this.#token, why }, 'writer lease lost');
    this.#token = undefined;
    this.opts.onLost();
  }
}
