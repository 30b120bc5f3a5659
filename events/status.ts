import { z } from 'zod';
import { decodeJson } from './json.js';

export const Phase = { Pending: 'Pending', Ready: 'Ready', Failed: 'Failed', Deleted: 'Deleted' } as const;
export type Phase = (typeof Phase)[keyof typeof Phase];

/**
 * What a client reads on `<prefix>.status.<org>.<project>.<kind>.<id>`. Kind-specific
 * fields (addresses, `ovn` row uuids, counts …) ride along; the schema names only what
 * every status has, so a reader can tell a status from anything else on the stream.
 */
export const StatusMessage = z.looseObject({
  kind: z.string().min(1),
  id: z.string().min(1),
  org: z.string(),
  project: z.string(),
  phase: z.enum([Phase.Pending, Phase.Ready, Phase.Failed, Phase.Deleted]),
  observedSeq: z.number().int().nonnegative(),
  message: z.string().optional(),
});
export type StatusMessage = z.infer<typeof StatusMessage>;

/** A stored or delivered status message, or undefined when it is not one (garbage on the stream is normal input). */
export function readStatus(data: Uint8Array): StatusMessage | undefined {
  const decoded = decodeJson(data);
  if ('reason' in decoded) return undefined;
  const parsed = StatusMessage.safeParse(decoded.value);
  return parsed.success ? parsed.data : undefined;
}
