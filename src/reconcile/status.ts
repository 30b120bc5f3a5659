import { hash } from 'node:crypto';
import { canonicalJson, Phase } from '../../events/mod.js';
import type { Scope } from '../../events/mod.js';
import type { View } from '../../projections/mod.js';
import type { DesiredResource } from './desired.js';
import { statusDetails } from './kinds.js';
import type { Present } from './kinds.js';
import type { DesiredRow, Reference } from './desired-row.js';
import type { RowOwner } from './names.js';

/** A status as the reconciler produces it: the wire's StatusMessage (events/status.ts) with its tenant as a scope. */
export interface ResourceStatus {
  readonly kind: string;
  readonly id: string;
  readonly scope: Scope;
  readonly phase: Phase;
  /** The event-log sequence the reconciler had folded when it produced this status. */
  readonly observedSeq: number;
  readonly message?: string;
  /** UUIDs of the Northbound rows that realise the resource, by role. */
  readonly ovn?: Readonly<Record<string, string>>;
  readonly [field: string]: unknown;
}

/** Whether the row `ref` names holds a UUID in its column now; `absent` if there is no such row. */
export type Membership = (ref: Reference, uuid: string) => 'in' | 'out' | 'absent';

/**
 * The status of a resource after a reconcile pass. `present` tells which desired
 * rows the Northbound now holds: Ready means all of them, not just "the transaction
 * committed" (a row whose parent is missing is garbage-collected silently), each in every
 * row its referencedBy names (`membership`): a port outside its drop group has no default deny.
 */
export function statusOf(
  view: View,
  ref: RowOwner,
  scope: Scope,
  observedSeq: number,
  desired: DesiredResource | undefined,
  present: Present,
  failure: string | undefined,
  membership: Membership,
): ResourceStatus {
  if (!desired) return { kind: ref.kind, id: ref.id, scope, observedSeq, phase: Phase.Deleted };
  const ovn: Record<string, string> = {};
  for (const d of desired.rows) if (d.role !== undefined) ovn[d.role] = d.uuid;
  const missing = desired.rows.filter((d) => !present(d));
  // A row whose group is missing is not inserted (diff.ts): the group is what it waits for.
  const waiting = membershipWait(desired.rows, membership, 'absent')
    ?? (missing.length > 0 ? `waiting for ${missing.map(rowWords).join(', ')} rows in the Northbound` : membershipWait(desired.rows, membership, 'out'));
  const phase = failure !== undefined ? Phase.Failed : desired.pending !== undefined || waiting !== undefined ? Phase.Pending : Phase.Ready;
  const message = failure ?? desired.pending ?? waiting;
  // Built field by field, in the wire's order: as one literal spreading the common fields and then
  // the kind's details, V8 copied them through its runtime, ~15 µs and ~5 KiB of garbage a status.
  const status: { -readonly [K in keyof ResourceStatus]: ResourceStatus[K] } = { kind: ref.kind, id: ref.id, scope, observedSeq, phase };
  if (message !== undefined) status.message = message;
  status.ovn = ovn;
  return Object.assign(status, statusDetails(view, ref, desired.rows, present));
}

function rowWords(row: DesiredRow): string {
  return row.role !== undefined ? `its ${row.role} (${row.table})` : row.table;
}

/** The first membership of the rows in that state, said: O(their referencedBy). */
function membershipWait(rows: readonly DesiredRow[], membership: Membership, state: 'absent' | 'out'): string | undefined {
  for (const row of rows) {
    for (const ref of row.referencedBy) {
      if (membership(ref, row.uuid) !== state) continue;
      return state === 'absent'
        ? `waiting for ${ref.table} ${ref.uuid}, which ${rowWords(row)} joins, in the Northbound`
        : `waiting for ${rowWords(row)} to be in ${ref.table} ${ref.uuid} (${ref.column})`;
    }
  }
  return undefined;
}

/**
 * What a status says but for the sequence it was observed at, whatever its fields' order (a
 * stored one was parsed): a pass compares digests instead of statuses, and the reconciler
 * keeps one digest per resource instead of its last status (~0.7 KiB a port). 48 bits of the
 * SHA-1, a number (16 bytes on the heap; the base64 string was 48): two different statuses of
 * one resource share a digest once in 2^48 changes, and then the stream keeps the older until
 * the resource's next change.
 */
export function statusDigest(status: ResourceStatus): number {
  const { observedSeq: _, ...said } = status;
  // One-shot: a Hash object a status was twice the time, for a digest taken of every status a pass renders.
  return hash('sha1', canonicalJson(said), 'buffer').readUIntBE(0, 6);
}

/**
 * The digest of the last status published per resource, by kind and then by id: the id key
 * is the view's own string, where one `kind/id` key a resource cost ~60 bytes more.
 */
export class PublishedDigests {
  readonly #byKind = new Map<string, Map<string, number>>();

  get(kind: string, id: string): number | undefined {
    return this.#byKind.get(kind)?.get(id);
  }

  set(kind: string, id: string, digest: number): void {
    let ofKind = this.#byKind.get(kind);
    if (!ofKind) this.#byKind.set(kind, (ofKind = new Map()));
    ofKind.set(id, digest);
  }

  delete(kind: string, id: string): void {
    this.#byKind.get(kind)?.delete(id);
  }
}
