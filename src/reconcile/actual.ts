import type { Scope } from '../../events/mod.js';
import type { Cache, Row } from '../ovsdb/mod.js';
import type { DesiredRow } from './desired-row.js';
import type { ActualRow } from './diff.js';
import { ExternalId, isRowOwnerKind } from './names.js';
import type { Ownership, RowOwner } from './names.js';
import { tableNames } from './tables/mod.js';

/**
 * The rows a resource has in the Northbound now, found in the monitored cache: what the
 * diff compares its desired rows with. Only rows with this installation's owner mark are
 * found by mark; a row at one of the resource's chosen UUIDs is its row whatever its marks.
 */

const OWNER_INDEX = 'owner';

function marks(row: Row): Readonly<Record<string, string>> {
  return (row.external_ids as Record<string, string> | undefined) ?? {};
}

/** The resource an owned row belongs to, and its scope; undefined for rows of others. */
export function rowOwner(own: Ownership, row: Row): { owner: RowOwner; scope: Scope } | undefined {
  const ids = marks(row);
  if (ids[ExternalId.owner] !== own.owner) return undefined;
  const kind = ids[ExternalId.kind];
  const id = ids[ExternalId.id];
  if (!isRowOwnerKind(kind) || id === undefined) return undefined;
  return { owner: { kind, id }, scope: { org: ids[ExternalId.org] ?? '', project: ids[ExternalId.project] ?? '' } };
}

/** Indexes every table novanet writes by the id of the resource owning the row, so finding a resource's rows is O(its rows). */
export function indexOwnedRows(cache: Cache, own: Ownership): void {
  for (const table of tableNames) {
    cache.addIndex(table, OWNER_INDEX, (row) => (marks(row)[ExternalId.owner] === own.owner ? marks(row)[ExternalId.id] : undefined));
  }
}

/** A resource's rows: those marked as its own (`indexOwnedRows` first), and those at its desired UUIDs. */
export function actualRows(cache: Cache, owner: RowOwner, desired: readonly DesiredRow[]): ActualRow[] {
  const found = new Map<string, ActualRow>();
  for (const table of tableNames) {
    for (const row of cache.lookup(table, OWNER_INDEX, owner.id)) if (marks(row)[ExternalId.kind] === owner.kind) found.set(row._uuid, { table, row });
  }
  for (const d of desired) {
    const row = cache.get(d.table, d.uuid);
    if (row) found.set(row._uuid, { table: d.table, row });
  }
  return [...found.values()];
}
