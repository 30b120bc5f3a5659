import type { Row, RowUpdate } from '../ovsdb/mod.js';
import type { Reference } from './desired-row.js';
import { Tables } from './tables/mod.js';
import type { TableSpec } from './tables/mod.js';

/**
 * Which owned rows reference a row, through the reference columns of `Tables`.
 * Kept up to date from monitor updates, so finding a row's parents and groups
 * costs O(its references), not a scan of every switch and port group.
 */
export class ReferenceIndex {
  private readonly byTarget = new Map<string, Map<string, Reference>>();

  constructor(private readonly owns: (row: Row) => boolean) {}

  referencesTo(uuid: string): readonly Reference[] {
    return [...(this.byTarget.get(uuid)?.values() ?? [])];
  }

  /** Whether the owned row `ref` names holds `uuid` in its column: O(1), whatever the set's size. */
  holds(ref: Reference, uuid: string): boolean {
    return this.byTarget.get(uuid)?.has(`${ref.table}/${ref.uuid}/${ref.column}`) ?? false;
  }

  apply(updates: readonly RowUpdate[]): void {
    for (const u of updates) {
      const columns = (Tables as Record<string, TableSpec>)[u.table]?.references;
      if (!columns || columns.length === 0) continue;
      const owned = u.old && this.owns(u.old);
      const stillOwned = u.setChanges && owned && this.owns(u.new!);
      for (const column of columns) {
        if (stillOwned) {
          // A modify of a row that stays owned: only the elements it changed.
          const change = u.setChanges![column];
          for (const target of change?.removed ?? []) this.remove(String(target), u.table, u.uuid, column);
          for (const target of change?.added ?? []) this.add(String(target), { table: u.table, uuid: u.uuid, column });
          continue;
        }
        const before = new Set(owned ? targets(u.old!, column) : []);
        const after = new Set(u.new && this.owns(u.new) ? targets(u.new, column) : []);
        // An insert, a delete, a change of owner or a full dump: only the difference touches the index.
        for (const target of before) if (!after.has(target)) this.remove(target, u.table, u.uuid, column);
        for (const target of after) if (!before.has(target)) this.add(target, { table: u.table, uuid: u.uuid, column });
      }
    }
  }

  private add(target: string, ref: Reference): void {
    let refs = this.byTarget.get(target);
    if (!refs) this.byTarget.set(target, (refs = new Map()));
    refs.set(`${ref.table}/${ref.uuid}/${ref.column}`, ref);
  }

  private remove(target: string, table: string, uuid: string, column: string): void {
    const refs = this.byTarget.get(target);
    refs?.delete(`${table}/${uuid}/${column}`);
    if (refs?.size === 0) this.byTarget.delete(target);
  }
}

function targets(row: Row, column: string): readonly string[] {
  const value = row[column];
  return Array.isArray(value) ? value.map(String) : [];
}
