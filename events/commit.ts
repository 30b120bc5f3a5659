import { z } from 'zod';
import { NetworkEvent } from './network.js';
import { ExternalEvent } from './external.js';
import { QuotaEvent } from './quota.js';
import { SecurityEvent } from './security.js';

/** Every domain event novanet records, across families. */
export const NovanetEvent = z.discriminatedUnion('type', [...NetworkEvent.options, ...SecurityEvent.options, ...ExternalEvent.options, ...QuotaEvent.options]);
export type NovanetEvent = z.infer<typeof NovanetEvent>;
export type EventType = NovanetEvent['type'];
export type EventOf<T extends EventType> = Extract<NovanetEvent, { type: T }>;

/** Where a commit belongs: a tenant, or the provider scope. */
export const Scope = z.object({ org: z.string(), project: z.string() });
export type Scope = z.infer<typeof Scope>;

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
 * Upcasting point: every stored commit passes through here on its way in.
 * Version 1 is the only version so far, so this validates and returns.
 */
export function readCommit(raw: unknown): Commit {
  return Commit.parse(raw);
}
