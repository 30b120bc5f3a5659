import { OvsdbError, OvsdbProtocolError } from './errors.js';
import type { Json } from './json-stream.js';
import { asObject, columnKind, decodeRow, defaultValue, setKey, tableSchema } from './schema.js';
import type { Atom, Cache, DatabaseSchema, Row, RowUpdate, SetChange, TableSchema, Uuid, Value } from './types.js';

interface Index {
  readonly key: (row: Row) => string | undefined;
  readonly rows: Map<string, Map<Uuid, Row>>;
}

/** Monitored columns per table: update2 leaves out columns at their default, the cache fills them in. */
export type MonitoredColumns = ReadonlyMap<string, readonly string[]>;

const EMPTY: ReadonlyMap<Uuid, Row> = new Map();

export class CacheImpl implements Cache {
  readonly #schema: DatabaseSchema;
  readonly #tables = new Map<string, Map<Uuid, Row>>();
  readonly #indexes = new Map<string, Map<string, Index>>();

  constructor(schema: DatabaseSchema) {
    this.#schema = schema;
  }

  table(name: string): ReadonlyMap<Uuid, Row> {
    return this.#tables.get(name) ?? EMPTY;
  }

  get(table: string, uuid: Uuid): Row | undefined {
    return this.#tables.get(table)?.get(uuid);
  }

  addIndex(table: string, index: string, key: (row: Row) => string | undefined): void {
    tableSchema(this.#schema, table);
    const byName = this.#indexes.get(table) ?? new Map<string, Index>();
    if (byName.has(index)) throw new OvsdbError(`index "${index}" on ${table} already exists`);
    const idx: Index = { key, rows: new Map() };
    for (const row of this.table(table).values()) addToIndex(idx, row);
    byName.set(index, idx);
    this.#indexes.set(table, byName);
  }

  lookup(table: string, index: string, key: string): readonly Row[] {
    const idx = this.#indexes.get(table)?.get(index);
    if (!idx) throw new OvsdbError(`no index "${index}" on ${table}`);
    return [...(idx.rows.get(key)?.values() ?? [])];
  }

  /** Applies an update2 notification's table-updates2, in server order; returns what changed. */
  applyUpdate2(json: Json, columns: MonitoredColumns): RowUpdate[] {
    const updates: RowUpdate[] = [];
    for (const [table, rows] of entries(json, 'table-updates2')) {
      const ts = tableSchema(this.#schema, table);
      for (const [uuid, change] of entries(rows, `${table} updates`)) {
        const update = this.#decodeChange(ts, uuid, change, columns.get(table));
        if (!update) continue;
        this.#apply(update);
        updates.push(update);
      }
    }
    return updates;
  }

  /**
   * Replaces the content of the given tables with a monitor reply's full dump and returns the
   * difference (inserts, modifications, deletions), so derived state can follow a resync.
   */
  replace(json: Json, columns: MonitoredColumns): RowUpdate[] {
    const dump = new Map(entries(json, 'table-updates2'));
    const updates: RowUpdate[] = [];
    for (const [table, cols] of columns) {
      const ts = tableSchema(this.#schema, table);
      const fresh = new Map<Uuid, Row>();
      for (const [uuid, change] of entries(dump.get(table) ?? {}, `${table} updates`)) {
        const row = asObject(change, `${table} row ${uuid}`)['initial'];
        if (row !== undefined) fresh.set(uuid, withDefaults(decodeRow(ts, row, uuid), ts, cols));
      }
      const current = this.table(table);
      for (const [uuid, row] of fresh) {
        const old = current.get(uuid);
        if (!old) updates.push({ table, uuid, new: row });
        else if (!sameRow(old, row)) updates.push({ table, uuid, old, new: row });
      }
      for (const [uuid, old] of current) if (!fresh.has(uuid)) updates.push({ table, uuid, old });
    }
    for (const update of updates) this.#apply(update);
    return updates;
  }

  #decodeChange(ts: TableSchema, uuid: Uuid, change: Json, cols: readonly string[] | undefined): RowUpdate | undefined {
    const c = asObject(change, `${ts.name} row ${uuid}`);
    const old = this.get(ts.name, uuid);
    const table = ts.name;
    const inserted = c['initial'] ?? c['insert'];
    if (inserted !== undefined) {
      const row = withDefaults(decodeRow(ts, inserted, uuid), ts, cols ?? []);
      return old ? { table, uuid, old, new: row } : { table, uuid, new: row };
    }
    if (c['modify'] !== undefined) {
      // A modify for a row we do not hold means the cache lost track: reconnecting resyncs it.
      if (!old) throw new OvsdbProtocolError(`modify of unknown ${table} row ${uuid}`);
      return applyModify(ts, old, decodeRow(ts, c['modify']));
    }
    if ('delete' in c) return old ? { table, uuid, old } : undefined;
    throw new OvsdbProtocolError(`bad row update for ${table} row ${uuid}`);
  }

  #apply(update: RowUpdate): void {
    let rows = this.#tables.get(update.table);
    if (!rows) this.#tables.set(update.table, (rows = new Map()));
    const indexes = this.#indexes.get(update.table)?.values() ?? [];
    for (const idx of indexes) {
      if (update.old) removeFromIndex(idx, update.old);
      if (update.new) addToIndex(idx, update.new);
    }
    if (update.new) rows.set(update.uuid, update.new);
    else rows.delete(update.uuid);
  }
}

/**
 * A set this large is changed in place by a modify, in O(the change): a port group of thousands
 * of ports gains one. A smaller one is copied, which costs less than the position index.
 */
const IN_PLACE_AT = 64;

/** One modify of a set changed in place: what it added and removed, and the next one's. */
interface SetStep {
  readonly added: readonly Atom[];
  readonly removed: readonly Atom[];
  next?: SetStep;
}

/** A set changed in place: where each element is (removal swaps the last one in), and its latest step. */
interface InPlaceSet {
  readonly positions: Map<Atom, number>;
  latest?: SetStep;
}

/** Keyed by the column's array itself, so a row replaced by an insert or a dump starts afresh. */
const inPlace = new WeakMap<readonly Atom[], InPlaceSet>();

/**
 * update2 "modify": a scalar takes the new value; a set's listed elements toggle (symmetric
 * difference); a map key that is absent is added, with the same value removed, else replaced.
 * The update's `old` shares the row's columns but those it changed; a large set changed in place
 * (by this modify or a later one) appears in it as it was, rebuilt from the set as it is now and
 * the steps since, when read.
 */
function applyModify(ts: TableSchema, prev: Row, diff: Row): RowUpdate {
  const row: Record<string, Value> = { ...prev };
  const old: Record<string, Value> = { ...prev };
  const setChanges: Record<string, SetChange> = {};
  for (const [column, change] of Object.entries(diff)) {
    const type = ts.columns.get(column)!;
    switch (columnKind(type)) {
      case 'scalar':
        row[column] = change;
        break;
      case 'set': {
        // An optional column (max 1) carries its new value, not a diff: ovsdb-server sends
        // {"up": true} for [false] -> [true] and ["set", []] when it is cleared.
        if (type.max === 1) {
          row[column] = change;
          break;
        }
        const current = (prev[column] as readonly Atom[] | undefined) ?? [];
        const state = inPlace.get(current) ?? (current.length >= IN_PLACE_AT ? track(current) : undefined);
        if (state) {
          const step = toggleInPlace(current as Atom[], state, change as readonly Atom[]);
          defineOld(old, column, current, step);
          setChanges[column] = { added: step.added, removed: step.removed };
        } else {
          const { set, ...step } = copyToggled(current, change as readonly Atom[]);
          row[column] = set;
          setChanges[column] = step;
        }
        break;
      }
      case 'map': {
        const map: Record<string, Atom> = { ...(prev[column] as Readonly<Record<string, Atom>> | undefined) };
        for (const [key, value] of Object.entries(change as Readonly<Record<string, Atom>>)) {
          if (!Object.hasOwn(map, key)) setKey(map, key, value);
          else if (map[key] === value) delete map[key];
          else setKey(map, key, value);
        }
        row[column] = map;
        break;
      }
    }
  }
  // A large set this modify left alone is still changed in place by later ones: `old` keeps it as it is now.
  for (const [column, value] of Object.entries(prev)) {
    const state = !(column in diff) && Array.isArray(value) ? inPlace.get(value) : undefined;
    if (state) defineOld(old, column, value as readonly Atom[], toggleInPlace(value as Atom[], state, []));
  }
  return { table: ts.name, uuid: prev._uuid, old: old as Row, new: row as Row, setChanges };
}

function track(set: readonly Atom[]): InPlaceSet {
  const state: InPlaceSet = { positions: new Map(set.map((atom, i) => [atom, i])) };
  inPlace.set(set, state);
  return state;
}

function toggleInPlace(set: Atom[], state: InPlaceSet, change: readonly Atom[]): SetStep {
  const added: Atom[] = [];
  const removed: Atom[] = [];
  for (const atom of change) {
    const at = state.positions.get(atom);
    if (at === undefined) {
      state.positions.set(atom, set.length);
      set.push(atom);
      added.push(atom);
      continue;
    }
    const last = set.pop()!;
    if (at < set.length) {
      set[at] = last;
      state.positions.set(last, at);
    }
    state.positions.delete(atom);
    removed.push(atom);
  }
  const step: SetStep = { added, removed };
  if (state.latest) state.latest.next = step;
  state.latest = step;
  return step;
}

function copyToggled(current: readonly Atom[], change: readonly Atom[]): SetStep & { set: Atom[] } {
  const set = new Set(current);
  const added: Atom[] = [];
  const removed: Atom[] = [];
  for (const atom of change) {
    if (set.delete(atom)) removed.push(atom);
    else {
      set.add(atom);
      added.push(atom);
    }
  }
  return { added, removed, set: [...set] };
}

/**
 * The set as it was before `step`, read once: the live set with `step` and every later step
 * undone, O(the set + the steps since). An old nobody reads costs nothing but its steps.
 */
function defineOld(old: Record<string, Value>, column: string, live: readonly Atom[], step: SetStep): void {
  let value: readonly Atom[] | undefined;
  Object.defineProperty(old, column, {
    enumerable: true,
    get: () => {
      if (value) return value;
      const steps: SetStep[] = [];
      for (let s: SetStep | undefined = step; s; s = s.next) steps.push(s);
      const set = new Set(live);
      for (const s of steps.reverse()) {
        for (const atom of s.added) set.delete(atom);
        for (const atom of s.removed) set.add(atom);
      }
      return (value = [...set]);
    },
  });
}

function withDefaults(row: Row, ts: TableSchema, columns: readonly string[]): Row {
  const missing = columns.filter((c) => !(c in row));
  if (missing.length === 0) return row;
  const full: Record<string, Value> = { ...row };
  for (const column of missing) full[column] = defaultValue(ts.columns.get(column)!);
  return full as Row;
}

function sameRow(a: Row, b: Row): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => k in b && sameValue(a[k]!, b[k]!));
}

function sameValue(a: Value, b: Value): boolean {
  if (Array.isArray(a) && Array.isArray(b)) {
    const set = new Set<Atom>(a);
    return a.length === b.length && b.every((x: Atom) => set.has(x));
  }
  if (typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const ka = Object.keys(a);
    const rb = b as Readonly<Record<string, Atom>>;
    return ka.length === Object.keys(rb).length && ka.every((k) => Object.hasOwn(rb, k) && (a as Readonly<Record<string, Atom>>)[k] === rb[k]);
  }
  return a === b;
}

function addToIndex(idx: Index, row: Row): void {
  const key = idx.key(row);
  if (key === undefined) return;
  let rows = idx.rows.get(key);
  if (!rows) idx.rows.set(key, (rows = new Map()));
  rows.set(row._uuid, row);
}

function removeFromIndex(idx: Index, row: Row): void {
  const key = idx.key(row);
  if (key === undefined) return;
  const rows = idx.rows.get(key);
  rows?.delete(row._uuid);
  if (rows?.size === 0) idx.rows.delete(key);
}

function entries(json: Json | undefined, what: string): [string, Json][] {
  return Object.entries(asObject(json, what));
}
