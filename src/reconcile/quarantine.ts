import type { Logger } from 'pino';
import { canonicalJson, Phase, PROVIDER_SCOPE } from '../../events/mod.js';
import type { QuarantinedRecord } from '../../events/mod.js';
import type { ResourceStatus } from './status.js';

/** The status kind of a quarantined message, on `<prefix>.status._provider.quarantine.events-<seq>`. */
export const QUARANTINE_KIND = 'quarantine' as const;

/** How long a quarantine status that did not reach NATS waits before it is published again. */
const RETRY_MS = 1000;

/**
 * The operator's view of a quarantined message: a Failed status of the provider whose
 * id and observedSeq name the message's sequence and whose message says why.
 */
export function quarantineStatus(record: QuarantinedRecord): ResourceStatus {
  return {
    kind: QUARANTINE_KIND, id: `events-${record.seq}`, scope: PROVIDER_SCOPE,
    phase: Phase.Failed, observedSeq: record.seq, message: record.reason, subject: record.subject,
  };
}

/**
 * Reports what the fold skipped. The log can never drop a message (deny delete), so a
 * message that is not a commit stays; every reader steps over it, and the reconciler
 * (which owns the statuses) says so: a warning with its sequence and reason, a count, and
 * a status on the provider's status subjects, published until it reaches NATS. Level-based
 * like every status: what the fold of the log found at start is published only where the
 * stored one is missing or differs (`repair`, at every resync), so a restart republishes none.
 */
export class QuarantineReport {
  private reported = 0;
  /** Every quarantined message's status, by id: what the stream should hold. */
  private readonly statuses = new Map<string, ResourceStatus>();
  /** Until the first comparison with the stored statuses, reports are only remembered. */
  private compared = false;
  private readonly unpublished: ResourceStatus[] = [];
  private readonly publishing = new Set<Promise<void>>();
  private retry: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly publish: (statuses: readonly ResourceStatus[]) => Promise<void>, private readonly logger: Logger) {}

  /** How many quarantined messages this reconciler has folded past since it started. */
  get count(): number {
    return this.reported;
  }

  report(record: QuarantinedRecord): void {
    this.reported++;
    this.logger.warn({ seq: record.seq, subject: record.subject, reason: record.reason, quarantined: this.reported }, 'a message on the log is not a commit; quarantined, the fold goes on');
    const status = quarantineStatus(record);
    this.statuses.set(status.id, status);
    if (this.compared) this.send([status]);
  }

  /** Publishes each quarantine status the stream lacks or holds otherwise (`stored`: the latest per id). */
  repair(stored: ReadonlyMap<string, ResourceStatus | undefined>): void {
    this.compared = true;
    const wrong = [...this.statuses.values()].filter((s) => {
      const held = stored.get(s.id);
      return !held || canonicalJson(held) !== canonicalJson(s);
    });
    if (wrong.length > 0) this.send(wrong);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    await Promise.allSettled([...this.publishing]);
  }

  private send(statuses: readonly ResourceStatus[]): void {
    if (this.stopped) return;
    const sent = this.publish(statuses).catch((err: unknown) => {
      if (this.stopped) return;
      this.logger.warn({ err, count: statuses.length }, 'publishing quarantine statuses failed; retrying in 1 s');
      this.unpublished.push(...statuses);
      this.retry ??= setTimeout(() => {
        this.retry = undefined;
        this.send(this.unpublished.splice(0));
      }, RETRY_MS).unref();
    }).finally(() => this.publishing.delete(sent));
    this.publishing.add(sent);
  }
}
