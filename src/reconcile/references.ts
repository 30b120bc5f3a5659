import type { Row, RowUpdate } from '../ovsdb/mod.js';
import type { Reference } from './desired-row.js';
import { Tables } from './tables/mod.js';
import type { TableSpec } from './tables/mod.js';

/**
 * Which owned rows reference a row, through the reference columns of `Tables`.
 * Kept up to date from monitor updates, so finding a row's parents and groups
 * costs O(its references), not a scan of every switch and port group.
 *
 * Sized for a port referenced by its switch and two groups: a target holds a small array of
 * references (a row is referenced by a handful, never thousands, so a scan of it is cheap),
 * and every target of one referencing row's column shares one `Reference` object. One Map of
 * keyed strings and objects a target cost ~0.76 KiB a port; this ~0.1 KiB.
 */
export class ReferenceIndex {
  private readonly byTarget = new Map<string, readonly Reference[]>();
  /** The shared `Reference` of each referencing row's column of several targets, by row UUID; dropped with the row. */
  private readonly shared = new Map<string, Reference[]>();
  /** Every `Reference` `shared` has held: only lists of these are made one (`ReferenceLists`). */
  private readonly sharedRefs = new WeakSet<Reference>();
  private readonly lists = new ReferenceLists();

  constructor(private readonly owns: (row: Row) => boolean) {}

  referencesTo(uuid: string): readonly Reference[] {
    return this.byTarget.get(uuid) ?? [];
  }

  /** Whether the owned row `ref` names holds `uuid` in its column: O(its references), whatever the set's size. */
  holds(ref: Reference, uuid: string): boolean {
    return this.byTarget.get(uuid)?.some((r) => sameReference(r, ref)) ?? false;
  }

  apply(updates: readonly RowUpdate[]): void {
    for (const u of updates) {
      const columns = (Tables as Record<string, TableSpec>)[u.table]?.references;
      if (!columns || columns.length === 0) continue;
      const owned = u.old && this.owns(u.old);
      const stillOwned = u.setChanges && owned && this.owns(u.new!);
      for (const column of columns) {
        const ref = this.reference(u.table, u.uuid, column, (u.new?.[column] as readonly unknown[] | undefined)?.length ?? 0);
        const shared = this.sharedRefs.has(ref);
        if (stillOwned) {
          // A modify of a row that stays owned: only the elements it changed.
          const change = u.setChanges![column];
          for (const target of change?.removed ?? []) this.remove(String(target), ref);
          for (const target of change?.added ?? []) this.add(String(target), ref, shared);
          continue;
        }
        const before = new Set(owned ? targets(u.old!, column) : []);
        const after = new Set(u.new && this.owns(u.new) ? targets(u.new, column) : []);
        // An insert, a delete, a change of owner or a full dump: only the difference touches the index.
        for (const target of before) if (!after.has(target)) this.remove(target, ref);
        for (const target of after) if (!before.has(target)) this.add(target, ref, shared);
      }
      if (!u.new) this.shared.delete(u.uuid);
    }
  }

  /**
   * The row's column's `Reference`: shared once the column holds more than one target. A port's
   * one DHCP options reference needs no entry of its own (an entry, an array and a Map slot a
   * port were ~0.1 KiB); a column that grows from one target keeps that target's equal copy.
   */
  private reference(table: string, uuid: string, column: string, targets: number): Reference {
    let refs = this.shared.get(uuid);
    const ref = refs?.find((r) => r.table === table && r.column === column);
    if (ref) return ref;
    const fresh = { table, uuid, column };
    if (targets <= 1) return fresh;
    if (!refs) this.shared.set(uuid, (refs = []));
    refs.push(fresh);
    this.sharedRefs.add(fresh);
    return fresh;
  }

  // Arrays replaced, not grown, and by `concat` and `slice`, which allocate exactly what they
  // hold: a pushed array keeps room for 16 more, and so does one built by spread (`[...refs,
  // ref]`) or `filter` (a port's three references then took 20 slots: ~0.14 KiB a port).
  private add(target: string, ref: Reference, shared: boolean): void {
    const refs = this.byTarget.get(target) ?? NONE;
    if (refs.some((r) => sameReference(r, ref))) return;
    this.byTarget.set(target, shared ? this.lists.with(refs, ref) : refs.concat(ref));
  }

  private remove(target: string, ref: Reference): void {
    const refs = this.byTarget.get(target);
    const at = refs?.findIndex((r) => sameReference(r, ref)) ?? -1;
    if (at < 0) return;
    if (refs!.length === 1) this.byTarget.delete(target);
    else {
      const rest = refs!.slice(0, at).concat(refs!.slice(at + 1));
      this.byTarget.set(target, rest.every((r) => this.sharedRefs.has(r)) ? this.lists.of(rest) : rest);
    }
  }
}

const NONE: readonly Reference[] = Object.freeze([]);

interface ListNode {
  readonly list: readonly Reference[];
  readonly next: WeakMap<Reference, ListNode>;
}

/**
 * One frozen array for each list of shared references in the same order: every port of a
 * switch in the same groups is referenced by the same three (an array each was ~72 B a port).
 * A trie by the references themselves, weakly: a list goes with any row it names. A list one
 * reference longer than a list of the trie is one step from it, so a target joining a group is
 * two WeakMap reads.
 */
class ReferenceLists {
  private readonly root: ListNode = { list: NONE, next: new WeakMap() };
  private readonly nodes = new WeakMap<readonly Reference[], ListNode>([[NONE, this.root]]);

  /** `refs` and then the shared `ref`: the trie's list if `refs` is one, else a copy. */
  with(refs: readonly Reference[], ref: Reference): readonly Reference[] {
    const node = this.nodes.get(refs);
    return node ? this.step(node, ref, () => refs.concat(ref)).list : refs.concat(ref);
  }

  /** The trie's list equal to `refs`, all of them shared. */
  of(refs: readonly Reference[]): readonly Reference[] {
    let node = this.root;
    for (let i = 0; i < refs.length; i++) node = this.step(node, refs[i]!, () => refs.slice(0, i + 1));
    return node.list;
  }

  private step(node: ListNode, ref: Reference, list: () => Reference[]): ListNode {
    let next = node.next.get(ref);
    if (!next) {
      next = { list: Object.freeze(list()), next: new WeakMap() };
      node.next.set(ref, next);
      this.nodes.set(next.list, next);
    }
    return next;
  }
}

/** Two references to the same row's column: the shared object, or an equal one from before a delete. */
function sameReference(a: Reference, b: Reference): boolean {
  return a === b || (a.table === b.table && a.uuid === b.uuid && a.column === b.column);
}

function targets(row: Row, column: string): readonly string[] {
  const value = row[column];
  return Array.isArray(value) ? value.map(String) : [];
}
