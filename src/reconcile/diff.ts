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

/**
 * Operations that turn the actual rows into the desired ones, for many resources
 * in one transaction. Pure. Order: inserts (root tables first, so children can be
 * referenced from them), updates of changed managed columns, new references, then
 * dropped references and deletions. Re-running on the result yields no operations.
 */
export function diff(resources: readonly ResourceDiffInput[], referencesTo: ReferencesTo): Operation[] {
  const inserts: Operation[] = [];
  const childInserts: Operation[] = [];
  const updates: Operation[] = [];
  const links: Operation[] = [];
  const removals: Operation[] = [];
  for (const { desired, actual } of resources) {
    const actualByUuid = new Map(actual.map((a) => [a.row._uuid, a]));
    for (const want of desired) {
      const have = actualByUuid.get(want.uuid);
      if (!have) {
        (isRootTable(want.table) ? inserts : childInserts).push({ op: 'insert', table: want.table, uuid: want.uuid, row: { ...want.columns } });
      } else {
        const changed = changedColumns(want.columns, have.row);
        if (changed) updates.push({ op: 'update', table: want.table, where: [['_uuid', '==', want.uuid]], row: changed });
      }
      const now = have ? referencesTo(want.uuid) : [];
      for (const ref of want.referencedBy) if (!now.some((r) => sameRef(r, ref))) links.push(mutate(ref, 'insert', want.uuid));
      for (const ref of now) if (!want.referencedBy.some((r) => sameRef(r, ref))) removals.push(mutate(ref, 'delete', want.uuid));
    }
    const wanted = new Set(desired.map((d) => d.uuid));
    for (const { table, row } of actual) {
      if (wanted.has(row._uuid)) continue;
      // Dropping the references lets the server collect a non-root row; a root row is deleted.
      for (const ref of referencesTo(row._uuid)) removals.push(mutate(ref, 'delete', row._uuid));
      if (isRootTable(table)) removals.push({ op: 'delete', table, where: [['_uuid', '==', row._uuid]] });
    }
  }
  return [...inserts, ...childInserts, ...updates, ...links, ...removals];
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
