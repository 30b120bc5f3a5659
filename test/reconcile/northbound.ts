import { allResources } from '../../projections/mod.js';
import type { View } from '../../projections/mod.js';
import type { Condition, Operation, Row, RowUpdate, Value } from '../../src/ovsdb/mod.js';
import { desiredRows } from '../../src/reconcile/kinds.js';
import { diff } from '../../src/reconcile/diff.js';
import type { ActualRow, ResourceDiffInput } from '../../src/reconcile/diff.js';
import { defaultDenyOwner, ExternalId, ownerKey } from '../../src/reconcile/names.js';
import type { Ownership, RowOwner } from '../../src/reconcile/names.js';
import { ReferenceIndex } from '../../src/reconcile/references.js';
import { isRootTable, Tables } from '../../src/reconcile/tables/mod.js';
import type { TableSpec } from '../../src/reconcile/tables/mod.js';

/**
 * A Northbound cache snapshot as plain rows, and what committing a transaction does to it,
 * for the pure diff: enough to apply a diff's operations and diff again. It follows
 * ovsdb-server where the diff relies on it: inserts at chosen UUIDs, set mutations,
 * strong references must point at rows that exist (or the transaction fails), non-root
 * rows no strong reference holds are collected, and weak references lose deleted rows.
 * The real server runs the same operations in test/engine/reconcile.test.ts.
 */

export const own: Ownership = { owner: 'novanet' };

/** Reference columns the Northbound schema declares weak (ovn-nb.ovsschema), with the table they point into. */
const weakReferences: Readonly<Record<string, string>> = {
  'Logical_Router.load_balancer': 'Load_Balancer',
  'Logical_Switch.load_balancer': 'Load_Balancer',
  'Port_Group.ports': 'Logical_Switch_Port',
  'Logical_Switch_Port.dhcpv4_options': 'DHCP_Options',
};

const referenceColumns = (table: string): readonly string[] => (Tables as Record<string, TableSpec>)[table]?.references ?? [];

export class Northbound {
  private readonly tables = new Map<string, Map<string, Row>>();

  /** Every row, in table order. */
  rows(): ActualRow[] {
    return [...this.tables].flatMap(([table, rows]) => [...rows.values()].map((row) => ({ table, row })));
  }

  get(table: string, uuid: string): Row | undefined {
    return this.tables.get(table)?.get(uuid);
  }

  /** Commits operations as one transaction; returns the row changes a monitor would report. Throws what the server would refuse. */
  apply(ops: readonly Operation[]): RowUpdate[] {
    const before = new Map(this.rows().map((a) => [a.row._uuid, a]));
    for (const op of ops) {
      switch (op.op) {
        case 'insert': {
          if (op.uuid === undefined) throw new Error(`insert into ${op.table} without a uuid`);
          if (this.find(op.uuid)) throw new Error(`duplicate uuid ${op.uuid}`);
          this.table(op.table).set(op.uuid, { ...op.row, _uuid: op.uuid });
          break;
        }
        case 'update':
          for (const row of this.matching(op.table, op.where)) this.table(op.table).set(row._uuid, { ...row, ...op.row });
          break;
        case 'mutate':
          for (const row of this.matching(op.table, op.where)) {
            const changed: Record<string, Value> = { ...row };
            for (const [column, mutator, value] of op.mutations) {
              const members = asSet(changed[column]);
              const given = asSet(value);
              if (mutator === 'insert') changed[column] = [...new Set([...members, ...given])].sort();
              else if (mutator === 'delete') changed[column] = members.filter((m) => !given.includes(m));
              else throw new Error(`the model does not apply mutator ${mutator}`);
            }
            this.table(op.table).set(row._uuid, changed as Row);
          }
          break;
        case 'delete':
          for (const row of this.matching(op.table, op.where)) this.table(op.table).delete(row._uuid);
          break;
        default:
          throw new Error(`the model does not apply ${op.op}`);
      }
    }
    this.commit();
    const after = new Map(this.rows().map((a) => [a.row._uuid, a]));
    const updates: RowUpdate[] = [];
    for (const [uuid, { table, row }] of before) {
      const now = after.get(uuid);
      if (!now) updates.push({ table, uuid, old: row });
      else if (now.row !== row) updates.push({ table, uuid, old: row, new: now.row });
    }
    for (const [uuid, { table, row }] of after) if (!before.has(uuid)) updates.push({ table, uuid, new: row });
    return updates;
  }

  /** Which owned rows reference which, as the reconciler indexes them. */
  referenceIndex(): ReferenceIndex {
    const index = new ReferenceIndex(owned);
    index.apply(this.rows().map(({ table, row }) => ({ table, uuid: row._uuid, new: row })));
    return index;
  }

  /** The diff's `actual` for a resource: owned rows marked as its, and rows at its desired UUIDs. */
  actual(ref: RowOwner, desired: ResourceDiffInput['desired']): ActualRow[] {
    const found = new Map<string, ActualRow>();
    for (const a of this.rows()) {
      const ids = a.row.external_ids as Record<string, string> | undefined;
      if (owned(a.row) && ids?.[ExternalId.kind] === ref.kind && ids?.[ExternalId.id] === ref.id) found.set(a.row._uuid, a);
    }
    for (const d of desired) {
      const row = this.get(d.table, d.uuid);
      if (row) found.set(row._uuid, { table: d.table, row });
    }
    return [...found.values()];
  }

  /** Rows with this installation's owner mark. */
  ownedRows(): ActualRow[] {
    return this.rows().filter((a) => owned(a.row));
  }

  private commit(): void {
    for (const { table, row } of this.rows()) {
      for (const column of referenceColumns(table)) {
        if (`${table}.${column}` in weakReferences) continue;
        for (const target of asSet(row[column])) {
          if (!this.find(target)) throw new Error(`referential integrity: ${table} ${row._uuid} ${column} names missing row ${target}`);
        }
      }
    }
    // Collect non-root rows no strong reference holds, until none is left (a router port takes its gateway chassis along).
    for (let collected = true; collected;) {
      collected = false;
      const held = new Set<string>();
      for (const { table, row } of this.rows()) {
        for (const column of referenceColumns(table)) if (!(`${table}.${column}` in weakReferences)) for (const t of asSet(row[column])) held.add(t);
      }
      for (const { table, row } of this.rows()) {
        if (!isRootTable(table) && !held.has(row._uuid)) {
          this.table(table).delete(row._uuid);
          collected = true;
        }
      }
    }
    for (const [key, target] of Object.entries(weakReferences)) {
      const [table, column] = key.split('.') as [string, string];
      for (const row of this.tables.get(table)?.values() ?? []) {
        const members = asSet(row[column]);
        const kept = members.filter((m) => this.get(target, m) !== undefined);
        if (kept.length !== members.length) this.table(table).set(row._uuid, { ...row, [column]: kept });
      }
    }
  }

  private table(name: string): Map<string, Row> {
    let rows = this.tables.get(name);
    if (!rows) this.tables.set(name, (rows = new Map()));
    return rows;
  }

  private find(uuid: string): Row | undefined {
    for (const rows of this.tables.values()) {
      const row = rows.get(uuid);
      if (row) return row;
    }
    return undefined;
  }

  private matching(table: string, where: readonly Condition[]): Row[] {
    const [condition, ...rest] = where;
    if (!condition || rest.length > 0 || condition[0] !== '_uuid' || condition[1] !== '==') throw new Error(`the model matches by _uuid only: ${JSON.stringify(where)}`);
    const row = this.get(table, String(condition[2]));
    return row ? [row] : [];
  }
}

function owned(row: Row): boolean {
  return (row.external_ids as Record<string, string> | undefined)?.[ExternalId.owner] === own.owner;
}

function asSet(value: Value | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value.map(String) : [String(value)];
}

/** Every resource of a view (what a full resync walks), and the installation's default deny. */
export function resourcesOf(view: View): RowOwner[] {
  return [defaultDenyOwner(own), ...[...allResources(view)].map((r) => r.ref)];
}

/** Resources once each, in first-seen order. */
export function union(...lists: readonly (readonly RowOwner[])[]): RowOwner[] {
  const seen = new Map<string, RowOwner>();
  for (const ref of lists.flat()) if (!seen.has(ownerKey(ref))) seen.set(ownerKey(ref), ref);
  return [...seen.values()];
}

/** What one reconciler pass over `refs` sends, rendered from the view and diffed against the snapshot. */
export function reconcile(nb: Northbound, view: View, refs: readonly RowOwner[], index = nb.referenceIndex()): Operation[] {
  const work = refs.map((ref) => {
    const desired = desiredRows(view, ref, own)?.rows ?? [];
    return { desired, actual: nb.actual(ref, desired) };
  });
  return diff(work, (uuid) => index.referencesTo(uuid));
}

/** The snapshot one pass over every resource of the view leaves in an empty Northbound. */
export function converged(view: View): Northbound {
  const nb = new Northbound();
  nb.apply(reconcile(nb, view, resourcesOf(view)));
  return nb;
}
