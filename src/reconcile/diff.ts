import type { Operation, Row, Value } from '../ovsdb/mod.js';
import type { DesiredRow } from './desired-row.js';
import { Tables } from './tables/mod.js';
import type { TableName } from './tables/mod.js';

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

/**
 * Operations that turn the actual rows into the desired ones, for many resources
 * in one transaction. Pure. Order: inserts (root tables first, so children can
 * reference them), updates of changed managed columns, references from parents,
 * then removals. Re-running on the result yields no operations.
 */
export function diff(resources: readonly ResourceDiffInput[]): Operation[] {
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
        (want.parent ? childInserts : inserts).push({ op: 'insert', table: want.table, uuid: want.uuid, row: { ...want.columns } });
        if (want.parent) {
          links.push({
            op: 'mutate', table: want.parent.table, where: [['_uuid', '==', want.parent.uuid]],
            mutations: [[want.parent.column, 'insert', [want.uuid]]],
          });
        }
        continue;
      }
      const changed = changedColumns(want.columns, have.row);
      if (changed) updates.push({ op: 'update', table: want.table, where: [['_uuid', '==', want.uuid]], row: changed });
    }
    const wanted = new Set(desired.map((d) => d.uuid));
    for (const { table, row } of actual) {
      if (!wanted.has(row._uuid)) removals.push(...removeOps(table, row._uuid));
    }
  }
  return [...inserts, ...childInserts, ...updates, ...links, ...removals];
}

function removeOps(table: string, uuid: string): Operation[] {
  const spec = Tables[table as TableName];
  if (!spec || spec.root) return [{ op: 'delete', table, where: [['_uuid', '==', uuid]] }];
  return spec.parents.map((p) => ({
    op: 'mutate' as const, table: p.table, where: [[p.column, 'includes', [uuid]] as const],
    mutations: [[p.column, 'delete', [uuid]] as const],
  }));
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
  const x = normalize(a);
  const y = normalize(b);
  return x === y;
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
