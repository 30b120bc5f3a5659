import type { Operation, Row, Value } from '../ovsdb/mod.js';
import type { DesiredRow, Reference } from './desired-row.js';
import { isRootTable } from './tables/mod.js';

/** The rows novanet already has in the Northbound for one resource, with their tables. */
export interface ActualRow {
  readonly table: string;
  readonly row: Row;
}

export interface ResourceDiffInput {
  readonly desired: readonly DesiredRow[];
  /** Rows in the Northbound that belong to the resource: owned by it, or at one of its desired UUIDs. */
  readonly actual: readonly ActualRow[];
}

/** Owned rows whose reference columns hold a UUID now. */
export type ReferencesTo = (uuid: string) => readonly Reference[];

/** Whether the Northbound holds a row now. */
export type Exists = (table: string, uuid: string) => boolean;

/**
 * Operations that turn the actual rows into the desired ones, for many resources
 * in one transaction. Pure. Order: inserts (root tables first, so children can be
 * referenced from them), updates of changed managed columns, new references (one mutate a
 * parent's column), then dropped references and deletions. Re-running on the result yields no operations.
 *
 * Memberships fail closed, so a port is never out of every drop group (its default deny):
 * - a row is inserted only in a transaction where every row its referencedBy names is there
 *   (in the Northbound, or inserted by this transaction); until then it waits, and its
 *   resource is Pending (status.ts), rather than a port joining its switch but no drop group;
 * - a row leaves its old references only in a transaction where all its new ones are there
 *   (in the Northbound, or inserted by this transaction): a mutate of a missing row changes
 *   nothing, so otherwise it would leave its old groups and join none;
 * - a port group that is no longer wanted is removed, with all of its resource's other rows,
 *   only once no port is in it but those this transaction takes out.
 */
export function diff(resources: readonly ResourceDiffInput[], referencesTo: ReferencesTo, exists: Exists): Operation[] {
  const inserts: Operation[] = [];
  const childInserts: Operation[] = [];
  const updates: Operation[] = [];
  // One mutate a parent's column, all of the transaction's new members in it: a batch of ports joins a
  // few switches and groups, and a mutate a port was three quarters of a bulk transaction's operations.
  const links = new Map<string, { readonly op: Operation; readonly members: string[] }>();
  const link = (ref: Reference, uuid: string): void => {
    const key = `${ref.table}/${ref.uuid}/${ref.column}`;
    const known = links.get(key);
    if (known) known.members.push(uuid);
    else {
      const members = [uuid];
      links.set(key, { op: { op: 'mutate', table: ref.table, where: [['_uuid', '==', ref.uuid]], mutations: [[ref.column, 'insert', members]] }, members });
    }
  };
  // A resource's orphans wait in place until every membership the transaction drops is known.
  const removals: (Operation | Orphans)[] = [];
  const inserted = new Set<string>();
  const actualOf = resources.map(({ actual }) => new Map(actual.map((a) => [a.row._uuid, a])));
  const candidates: DesiredRow[] = [];
  resources.forEach(({ desired }, i) => {
    for (const want of desired) if (!actualOf[i]!.has(want.uuid)) candidates.push(want);
  });
  for (const want of candidates) inserted.add(want.uuid);
  // Rows whose holders are missing are left out, until none is (a row left out may be another's holder).
  const joinable = (want: DesiredRow) => want.referencedBy.every((ref) => inserted.has(ref.uuid) || exists(ref.table, ref.uuid));
  for (let waiting = candidates.filter((want) => !joinable(want)); waiting.length > 0; waiting = candidates.filter((want) => inserted.has(want.uuid) && !joinable(want))) {
    for (const want of waiting) inserted.delete(want.uuid);
  }
  /** Per port group, the ports this transaction takes out of it. */
  const leaving = new Map<string, Set<string>>();
  const leave = (ref: Reference, uuid: string): Operation => {
    if (ref.table === 'Port_Group' && ref.column === 'ports') {
      let members = leaving.get(ref.uuid);
      if (!members) leaving.set(ref.uuid, (members = new Set()));
      members.add(uuid);
    }
    return mutate(ref, 'delete', uuid);
  };
  resources.forEach(({ desired, actual }, i) => {
    const actualByUuid = actualOf[i]!;
    for (const want of desired) {
      const have = actualByUuid.get(want.uuid);
      if (!have && !inserted.has(want.uuid)) continue;
      if (!have) {
        (isRootTable(want.table) ? inserts : childInserts).push({ op: 'insert', table: want.table, uuid: want.uuid, row: { ...want.columns } });
      } else {
        const changed = changedColumns(want.columns, have.row);
        if (changed) updates.push({ op: 'update', table: want.table, where: [['_uuid', '==', want.uuid]], row: changed });
      }
      const now = have ? referencesTo(want.uuid) : [];
      for (const ref of want.referencedBy) if (!now.some((r) => sameRef(r, ref))) link(ref, want.uuid);
      const dropped = now.filter((ref) => !want.referencedBy.some((r) => sameRef(r, ref)));
      if (dropped.length > 0 && joinable(want)) for (const ref of dropped) removals.push(leave(ref, want.uuid));
    }
    const wanted = new Set(desired.map((d) => d.uuid));
    const gone = actual.filter(({ row }) => !wanted.has(row._uuid));
    if (gone.length === 0) return;
    const orphans: Orphans = { groups: gone.filter((a) => a.table === 'Port_Group').map((a) => a.row), operations: [] };
    // Rows that may be kept, with their group, leave nothing for certain.
    const unlink = orphans.groups.length > 0 ? (ref: Reference, uuid: string) => mutate(ref, 'delete', uuid) : leave;
    for (const { table, row } of gone) {
      // Dropping the references lets the server collect a non-root row; a root row is deleted.
      for (const ref of referencesTo(row._uuid)) orphans.operations.push(unlink(ref, row._uuid));
      if (isRootTable(table)) orphans.operations.push({ op: 'delete', table, where: [['_uuid', '==', row._uuid]] });
    }
    removals.push(orphans);
  });
  const removed = removals.flatMap((r) => {
    if (!('groups' in r)) return [r];
    return r.groups.every((group) => emptiedBy(group, leaving.get(group._uuid))) ? r.operations : [];
  });
  return [...inserts, ...childInserts, ...updates, ...[...links.values()].map((l) => l.op), ...removed];
}

/** A gone resource's rows: removed together, or (a port group still holding ports) kept together. */
interface Orphans {
  readonly groups: Row[];
  readonly operations: Operation[];
}

/** Whether a port group holds no port but those leaving it: O(1) while it holds more. */
function emptiedBy(group: Row, leaving: ReadonlySet<string> | undefined): boolean {
  const ports = Array.isArray(group.ports) ? (group.ports as readonly unknown[]) : [];
  if (ports.length > (leaving?.size ?? 0)) return false;
  return ports.every((p) => leaving!.has(String(p)));
}

function mutate(ref: Reference, mutator: 'insert' | 'delete', uuid: string): Operation {
  return { op: 'mutate', table: ref.table, where: [['_uuid', '==', ref.uuid]], mutations: [[ref.column, mutator, [uuid]]] };
}

function sameRef(a: Reference, b: Reference): boolean {
  return a.table === b.table && a.uuid === b.uuid && a.column === b.column;
}

function changedColumns(want: Readonly<Record<string, Value>>, have: Row): Record<string, Value> | undefined {
  let changed: Record<string, Value> | undefined;
  for (const [column, value] of Object.entries(want)) {
    if (!sameValue(value, have[column])) (changed ??= {})[column] = value;
  }
  return changed;
}

/** Equality of decoded OVSDB values: sets ignore order, maps compare entries. */
export function sameValue(a: Value | undefined, b: Value | undefined): boolean {
  return normalize(a) === normalize(b);
}

function normalize(v: Value | undefined): string {
  if (v === undefined) return '[]';
  if (Array.isArray(v)) return JSON.stringify(v.map(String).sort());
  if (typeof v === 'object') {
    return JSON.stringify(Object.entries(v).map(([k, x]) => [k, String(x)]).sort(([a], [b]) => (a! < b! ? -1 : a! > b! ? 1 : 0)));
  }
  // A scalar equals a one-element set holding it: optional columns decode as sets.
  return JSON.stringify([String(v)]);
}
