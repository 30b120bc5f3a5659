import { z } from 'zod';
import { decodeJson } from './json.js';
import { NetworkEvent } from './network.js';
import { NetworkClassEvent } from './network-class.js';
import { ExternalEvent } from './external.js';
import { QuotaEvent } from './quota.js';
import { SecurityEvent } from './security.js';
import { Scope } from './tenant.js';

/** Every domain event novanet records, across families. */
export const NovanetEvent = z.discriminatedUnion('type', [...NetworkEvent.options, ...SecurityEvent.options, ...ExternalEvent.options, ...QuotaEvent.options, ...NetworkClassEvent.options]);
export type NovanetEvent = z.infer<typeof NovanetEvent>;
export type EventType = NovanetEvent['type'];
export type EventOf<T extends EventType> = Extract<NovanetEvent, { type: T }>;


export const COMMIT_VERSION = 1 as const;

/**
 * One accepted command = one commit = one JetStream message on EVENTS.
 * A commit is atomic: its events apply together or not at all.
 * It keeps the request and the reply's result so that a repeated commandId
 * gets the first reply back, also after a restart (the log is the only state).
 */
export const Commit = z.object({
  v: z.literal(COMMIT_VERSION),
  commandId: z.string(),
  scope: Scope,
  operation: z.string(),
  /** When the intake accepted the command (ISO 8601), decided at the edge. */
  at: z.string(),
  request: z.record(z.string(), z.unknown()),
  result: z.record(z.string(), z.unknown()),
  events: z.array(NovanetEvent),
});
export type Commit = z.infer<typeof Commit>;

/** A commit as read back from the log, with the stream sequence it was stored at. */
export interface CommitRecord {
  readonly seq: number;
  readonly commit: Commit;
}

/**
 * A stored message on the log that is not a commit the log may hold (not UTF-8 JSON, not
 * a commit, an unknown version, not appended by a fenced writer). Every reader skips it
 * and the fold goes on; the reconciler reports it. The log cannot drop it (deny delete).
 */
export interface QuarantinedRecord {
  readonly seq: number;
  /** The subject it was published on: whose events subject was written to. */
  readonly subject: string;
  readonly reason: string;
}

/** What a reader of the log gets at each sequence. */
export type LogRecord = CommitRecord | QuarantinedRecord;

export function isQuarantined(record: LogRecord): record is QuarantinedRecord {
  return 'reason' in record;
}

/** Reasons name the problem, never echo the payload; a few zod issues are enough to tell. */
const MAX_ISSUES_IN_REASON = 3;

/**
 * Upcasting point: every stored commit passes through here on its way in. Never throws:
 * anyone allowed to publish on the events subjects can store anything there, so a
 * message that is not a commit is an answer (`reason`), not an error.
 * Version 1 is the only version so far, so this validates and returns.
 */
export function readCommit(data: Uint8Array): { readonly commit: Commit } | { readonly reason: string } {
  const decoded = decodeJson(data);
  if ('reason' in decoded) return decoded;
  const raw = decoded.value;
  const version = typeof raw === 'object' && raw !== null ? (raw as { v?: unknown }).v : undefined;
  if (typeof version === 'number' && version !== COMMIT_VERSION) return { reason: `unknown commit version ${version}` };
  const parsed = Commit.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, MAX_ISSUES_IN_REASON).map((i) => `${i.path.join('.') || '(message)'}: ${i.message}`);
    const more = parsed.error.issues.length - issues.length;
    return { reason: `not a commit: ${issues.join('; ')}${more > 0 ? ` (and ${more} more)` : ''}` };
  }
  return { commit: parsed.data };
}
