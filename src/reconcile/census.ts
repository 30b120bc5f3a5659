import { allResources } from '../../projections/mod.js';
import type { View } from '../../projections/mod.js';
import type { Cache } from '../ovsdb/mod.js';
import { rowOwner } from './actual.js';
import { desiredRows } from './kinds.js';
import type { Ownership } from './names.js';
import { tableNames } from './tables/mod.js';

/**
 * How many owned Northbound rows a view implies (the reconciler's own render of every
 * resource), and how many owned rows the Northbound holds, by
 * table: `novanet verify`'s check of the Northbound against a fold of the log.
 */
export function northboundCensus(view: View, cache: Cache, own: Ownership): { implied: Record<string, number>; present: Record<string, number> } {
  const implied: Record<string, number> = {};
  const present: Record<string, number> = {};
  for (const { ref } of allResources(view)) {
    for (const row of desiredRows(view, ref, own)?.rows ?? []) implied[row.table] = (implied[row.table] ?? 0) + 1;
  }
  for (const table of tableNames) {
    for (const row of cache.table(table).values()) if (rowOwner(own, row)) present[table] = (present[table] ?? 0) + 1;
  }
  return { implied, present };
}
