import type { Logger } from 'pino';
import type { CommandRetention } from '../../projections/mod.js';
import { decodeSnapshot, encodeSnapshot, NO_SNAPSHOT, releaseBytes, sameRetention } from '../bus/snapshot.js';
import type { Snapshot, SnapshotStore } from '../bus/snapshot.js';
import type { IntakeSnapshots, IntakeState } from '../intake/intake.js';

/**
 * Takes the intake's snapshots (src/intake: when its state is exactly the log's fold through
 * its head) and stores them. Encoding holds the event loop (the views must not move while
 * they are read; README "Restart" has its cost); storing does not. One snapshot waits at most
 * while another is stored (the one at a graceful stop, say): a third is not taken then (the
 * intake asks again later).
 */
export class Snapshots implements IntakeSnapshots {
  private saving: Promise<void> | undefined;
  private waiting = false;

  constructor(
    private readonly store: SnapshotStore,
    /** The log's identity (its stream's creation time), stored with each snapshot. */
    private readonly log: string,
    readonly every: number,
    private readonly logger: Logger,
  ) {}

  take(state: IntakeState): boolean {
    if (this.waiting) return false;
    const started = performance.now();
    const bytes = encodeSnapshot(state, { seq: state.seq, log: this.log });
    const encodeMs = Math.round(performance.now() - started);
    const save = async () => {
      this.waiting = false;
      const saveStarted = performance.now();
      await this.store.save(state.seq, bytes).then(
        () => {
          this.logger.info({ seq: state.seq, bytes: bytes.byteLength, encodeMs, saveMs: Math.round(performance.now() - saveStarted) }, 'snapshot of the views stored');
          // Only once every chunk is acknowledged: until then the NATS client may still hold some of it to write.
          releaseBytes(bytes);
        },
        (err: unknown) => this.logger.warn({ err, seq: state.seq }, 'storing a snapshot of the views failed; the next start folds more of the log'),
      );
    };
    this.waiting = this.saving !== undefined;
    const saving: Promise<void> = (this.saving ?? Promise.resolve()).then(save).finally(() => { if (this.saving === saving) this.saving = undefined; });
    this.saving = saving;
    return true;
  }

  /** Resolves once the snapshots taken are stored or failed. */
  async flush(): Promise<void> {
    while (this.saving) await this.saving;
  }
}

/**
 * The newest stored snapshot, if it is one of this log (`log`, at most `head`) and of this
 * codec and idempotency retention; anything else is logged with why and gives undefined (the
 * caller folds the whole log: a snapshot is only a cache). The intake's view is decoded here;
 * `bytes` are what the reconciler's thread decodes its own copy from.
 */
export async function loadSnapshot(
  store: SnapshotStore, expected: { readonly head: number; readonly log: string; readonly retention: CommandRetention }, logger: Logger,
): Promise<{ readonly intake: Snapshot; readonly bytes: Uint8Array } | undefined> {
  const started = performance.now();
  // A snapshot that is there and refused is worth a warning; none at all is an ordinary first start.
  const fullFold = (reason: string, extra: Record<string, unknown> = {}, level: 'info' | 'warn' = 'warn') => {
    logger[level]({ reason, ...extra }, 'no snapshot loaded; folding the whole log');
    return undefined;
  };
  let stored;
  try {
    stored = await store.load();
  } catch (err) {
    return fullFold('reading the snapshot failed', { err });
  }
  if ('reason' in stored) return fullFold(stored.reason, {}, stored.reason === NO_SNAPSHOT ? 'info' : 'warn');
  const loadedMs = Math.round(performance.now() - started);
  const decoded = decodeSnapshot(stored.bytes);
  if ('reason' in decoded) return fullFold(decoded.reason, { seq: stored.seq });
  if (decoded.seq !== stored.seq) return fullFold(`the snapshot named for seq ${stored.seq} holds seq ${decoded.seq}`);
  if (decoded.log !== expected.log) return fullFold('the snapshot is of another log (its stream was made again)', { seq: decoded.seq });
  if (decoded.seq > expected.head) return fullFold(`the snapshot is at seq ${decoded.seq}, past the log's last ${expected.head}`);
  if (!sameRetention(decoded.commands, expected.retention)) return fullFold('the snapshot was taken with another idempotency retention', { seq: decoded.seq });
  logger.info({ seq: decoded.seq, head: expected.head, bytes: stored.bytes.byteLength, loadedMs, decodedMs: Math.round(performance.now() - started) - loadedMs }, 'snapshot of the views loaded; folding the log after it');
  return { intake: decoded, bytes: stored.bytes };
}
