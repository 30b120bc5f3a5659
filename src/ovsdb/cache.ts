import { setImmediate } from 'node:timers/promises';
import { OvsdbError, OvsdbProtocolError } from './errors.js';
import type { Json } from './json-stream.js';
import { asObject, columnKind, decodeRow, defaultValue, setKey, tableSchema } from './schema.js';
import type { ColumnKind } from './schema.js';
import type { SavedRows, SavedValue } from './saved-cache.js';
import { SetPositions } from './set-positions.js';
import type { Atom, AtomicType, Cache, DatabaseSchema, Row, RowUpdate, SetChange, TableSchema, Uuid, Value } from './types.js';

/**
 * A key's rows: most keys (a resource's id) have one row in a table, held as it is; a second
 * one makes it a Map. A one-entry Map a key cost ~0.15 KiB a port. A row whose key is its own
 * UUID (a port's switch port: the port's id is the row's UUID) is not held at all: the table
 * finds it (a Map entry, ~30 B a port).
 */
interface Index {
  readonly key: (row: Row) => string | undefined;
  readonly rows: Map<string, Row | Map<Uuid, Row>>;
}

/** Monitored columns per table: update2 leaves out columns at their default, the cache fills them in. */
export type MonitoredColumns = ReadonlyMap<string, readonly string[]>;

/** A dump being read (CacheImpl.readDump): its row updates in server order, or rows saved before (`saved`), then `done`. */
export interface DumpReader {
  row(table: string, uuid: Uuid, change: Json): void;
  saved(rows: SavedRows): Promise<void>;
  done(): Promise<() => RowUpdate[]>;
}

const EMPTY: ReadonlyMap<Uuid, Row> = new Map();

export class CacheImpl implements Cache {
  readonly #schema: DatabaseSchema;
  readonly #tables = new Map<string, Map<Uuid, Row>>();
  readonly #indexes = new Map<string, Map<string, Index>>();
  readonly #strings = new Strings();
  readonly #maps = new MapLayouts();
  /** A row's UUID as the caller holds it (OvsdbClientOptions.sharedUuid). */
  readonly #sharedUuid: (uuid: Uuid) => Uuid;

  constructor(schema: DatabaseSchema, sharedUuid: (uuid: Uuid) => Uuid = (uuid) => uuid) {
    this.#schema = schema;
    this.#sharedUuid = sharedUuid;
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
    const rows = idx.rows.get(key);
    const row = this.get(table, key);
    const own = row !== undefined && idx.key(row) === key ? [row] : [];
    if (rows === undefined) return own;
    return own.concat(rows instanceof Map ? [...rows.values()] : rows);
  }

  /** Applies an update2 notification's table-updates2, in server order; returns what changed. */
  applyUpdate2(json: Json, columns: MonitoredColumns): RowUpdate[] {
    const updates: RowUpdate[] = [];
    const tables = entries(json, 'table-updates2').map(([table, rows]) => [tableSchema(this.#schema, table), entries(rows, `${table} updates`)] as const);
    // Inserts first (a notification names each row once, so the order between rows is free): a
    // port's switch and groups gaining it in the same notification then share its UUID string.
    for (const inserts of [true, false]) {
      for (const [ts, rows] of tables) {
        for (const [uuid, change] of rows) {
          if (isInsert(change) !== inserts) continue;
          const update = this.#decodeChange(ts, uuid, change, columns.get(ts.name));
          if (!update) continue;
          this.#apply(update);
          updates.push(update);
        }
      }
    }
    return updates;
  }

  /**
   * Reads a monitor reply's full dump of the given tables a row at a time, as OvsdbClient hands
   * each over while the reply streams in (a row is decoded and compacted at once; only a row that
   * refers to rows not read yet, a switch before its ports, is kept decoded until the end). `done` compares what was read with the cache, handing the event
   * loop back every DUMP_SLICE rows, and resolves to the step that swaps it in: synchronous,
   * O(the difference), returning the difference (inserts, modifications, deletions) so derived
   * state can follow a resync. Until the swap the cache is as it was, never half of a dump; the
   * caller must apply no update to these tables meanwhile (OvsdbClient holds the notifications
   * that follow the dump until then).
   */
  readDump(columns: MonitoredColumns): DumpReader {
    const dumped = new Map<string, Map<Uuid, Row>>([...columns.keys()].map((table) => [tableSchema(this.#schema, table).name, new Map()]));
    // A reference takes the referenced row's own UUID string. A row that refers to rows not read
    // yet (a switch before its ports: ovsdb-server sends the tables in alphabetical order) waits
    // for the end of the dump; those are few.
    let missed = false;
    const canonical = (table: string, uuid: Atom): Atom => {
      const rows = dumped.get(table);
      if (typeof uuid !== 'string' || !rows) return uuid;
      const referenced = rows.get(uuid);
      if (!referenced) missed = true;
      return referenced?._uuid ?? uuid;
    };
    const waiting: [TableSchema, Row][] = [];
    const row = (table: string, parsed: Uuid, change: Json): void => {
      const fresh = dumped.get(table);
      if (!fresh) return;
      const initial = asObject(change, `${table} row ${parsed}`)['initial'];
      if (initial === undefined) return;
      const uuid = this.#sharedUuid(parsed);
      const ts = tableSchema(this.#schema, table);
      const decoded = decodeRow(ts, initial, uuid);
      missed = false;
      shareReferences(ts, decoded, canonical);
      if (missed) waiting.push([ts, decoded]);
      else fresh.set(uuid, this.#compact(ts, decoded, columns.get(table)!));
    };
    // Rows `saved` (below) wrote, rebuilt as #compact lays a dump's out, handing the event loop
    // back every DUMP_SLICE rows: their strings come shared already (one a distinct value, a
    // reference the referenced row's own UUID), so no interning or UUID lookup a value.
    const saved = async (rows: SavedRows): Promise<void> => {
      // A UUID the caller holds is its string, here too: the row's and every reference to it.
      const strings = rows.strings.map((s) => this.#sharedUuid(s));
      const shared = new Map<readonly Atom[], Value>();
      let read = 0;
      for (const { table, columns: names, rows: saved } of rows.tables) {
        const fresh = dumped.get(table);
        if (!fresh) continue;
        const ts = tableSchema(this.#schema, table);
        const layout = this.#layout(ts, columns.get(table)!);
        const codecs = names.map((c) => savedCodec(ts, c));
        const record: Record<string, Value> = {};
        for (const values of saved) {
          if (++read % DUMP_SLICE === 0) await setImmediate();
          for (let i = 0; i < names.length; i++) record[names[i]!] = this.#fromSaved(ts.name, names[i]!, codecs[i]!, values[i]!, strings, shared);
          const row = layout.copy(record) as Row;
          fresh.set(row._uuid, row);
        }
      }
    };
    const done = async (): Promise<() => RowUpdate[]> => {
      // A row each turn of the event loop: a switch's thousand references are a few ms.
      for (const [ts, decoded] of waiting.splice(0)) {
        shareReferences(ts, decoded, canonical);
        dumped.get(ts.name)!.set(decoded._uuid, this.#compact(ts, decoded, columns.get(ts.name)!));
        await setImmediate();
      }
      return this.#compare(dumped);
    };
    return { row, saved, done };
  }

  /** The monitored tables' rows as `readDump`'s `saved` takes them back (SavedRows). */
  saved(columns: MonitoredColumns): SavedRows {
    const strings: string[] = [];
    const indexes = new Map<string, number>();
    const str = (atom: Atom): Atom => {
      if (typeof atom !== 'string') return atom;
      let at = indexes.get(atom);
      if (at === undefined) indexes.set(atom, (at = strings.push(atom) - 1));
      return at;
    };
    // A value the cache shares between rows (a recurring set or map) is saved once.
    const saved = new Map<object, SavedValue>();
    const tables = [...columns].map(([table, cols]) => {
      const ts = tableSchema(this.#schema, table);
      const names = ['_uuid', ...cols];
      const codecs = names.map((c) => savedCodec(ts, c));
      const toSaved = (value: Value, codec: SavedCodec): SavedValue => {
        if (codec.kind === 'scalar') return codec.strings ? str(value as Atom) : value as Atom;
        const known = saved.get(value as object);
        if (known !== undefined) return known;
        const out = codec.kind === 'set'
          ? (value as readonly Atom[]).map(codec.strings ? str : (atom) => atom)
          : Object.entries(value as Readonly<Record<string, Atom>>).flatMap(([key, atom]) => [str(key), codec.values ? str(atom) : atom]);
        saved.set(value as object, out);
        return out;
      };
      return { table, columns: names, rows: [...this.table(table).values()].map((row) => names.map((c, i) => toSaved(row[c]!, codecs[i]!))) };
    });
    return { strings, tables };
  }

  /** A saved value as the cache holds it: strings from the table; a set or map saved once for many rows one value again, frozen. */
  #fromSaved(table: string, column: string, codec: SavedCodec, value: SavedValue, strings: readonly string[], shared: Map<readonly Atom[], Value>): Value {
    const atom = (a: Atom, isString: boolean): Atom => (isString ? strings[a as number]! : a);
    if (codec.kind === 'scalar') return atom(value as Atom, codec.strings);
    const list = value as readonly Atom[];
    if (list.length === 0) return codec.kind === 'set' ? EMPTY_SET : EMPTY_MAP;
    const known = shared.get(list);
    if (known !== undefined) return Object.freeze(known);
    let out: Value;
    if (codec.kind === 'set') out = list.map((a) => atom(a, codec.strings));
    else {
      const map: Record<string, Atom> = {};
      for (let i = 0; i < list.length; i += 2) setKey(map, strings[list[i] as number]!, atom(list[i + 1]!, codec.values));
      out = this.#maps.laidOut(table, column, map);
    }
    shared.set(list, out);
    return out;
  }

  /** Whether every row a since-reply's updates modify is in the cache (or in `base`, the rows about to replace it): else they are not changes of what it holds. */
  holdsModified(json: Json, base?: SavedRows): boolean {
    const baseRows = new Map<string, Set<string>>();
    const held = (table: string, uuid: Uuid): boolean => {
      if (!base) return this.get(table, uuid) !== undefined;
      let uuids = baseRows.get(table);
      if (!uuids) baseRows.set(table, (uuids = new Set(base.tables.find((t) => t.table === table)?.rows.map((values) => base.strings[values[0] as number]!))));
      return uuids.has(uuid);
    };
    for (const [table, rows] of entries(json, 'table-updates2')) {
      for (const [uuid, change] of entries(rows, `${table} updates`)) {
        if (asObject(change, `${table} row ${uuid}`)['modify'] !== undefined && !held(table, uuid)) return false;
      }
    }
    return true;
  }

  async #compare(dumped: ReadonlyMap<string, ReadonlyMap<Uuid, Row>>): Promise<() => RowUpdate[]> {
    let rows = 0;
    const updates: RowUpdate[] = [];
    for (const [table, fresh] of dumped) {
      const current = this.table(table);
      for (const [uuid, row] of fresh) {
        const old = current.get(uuid);
        if (!old) updates.push({ table, uuid, new: row });
        else if (!sameRow(old, row)) updates.push({ table, uuid, old, new: row });
        if (++rows % DUMP_SLICE === 0) await setImmediate();
      }
      for (const [uuid, old] of current) if (!fresh.has(uuid)) updates.push({ table, uuid, old });
    }
    return () => {
      for (const update of updates) this.#apply(update);
      return updates;
    };
  }

  #decodeChange(ts: TableSchema, uuid: Uuid, change: Json, cols: readonly string[] | undefined): RowUpdate | undefined {
    const c = asObject(change, `${ts.name} row ${uuid}`);
    const old = this.get(ts.name, uuid);
    const table = ts.name;
    const inserted = c['initial'] ?? c['insert'];
    if (inserted !== undefined) {
      const own = old?._uuid ?? this.#sharedUuid(uuid);
      const decoded = decodeRow(ts, inserted, own);
      shareReferences(ts, decoded, this.#canonical);
      const row = this.#compact(ts, decoded, cols ?? []);
      return old ? { table, uuid: own, old, new: row } : { table, uuid: own, new: row };
    }
    if (c['modify'] !== undefined) {
      // A modify for a row we do not hold means the cache lost track: reconnecting resyncs it.
      if (!old) throw new OvsdbProtocolError(`modify of unknown ${table} row ${uuid}`);
      const diff = decodeRow(ts, c['modify']);
      shareReferences(ts, diff, this.#canonical);
      return applyModify(ts, old, diff, this.#layout(ts, cols ?? []));
    }
    if ('delete' in c) return old ? { table, uuid, old } : undefined;
    throw new OvsdbProtocolError(`bad row update for ${table} row ${uuid}`);
  }

  /** A referenced row's own UUID string, where the cache holds it. */
  readonly #canonical = (table: string, uuid: Atom): Atom => (typeof uuid === 'string' ? this.get(table, uuid)?._uuid ?? uuid : uuid);

  /**
   * A decoded row as the cache keeps it: every monitored column present (update2 leaves out
   * those at their default), empty sets and maps one shared frozen value, and strings that
   * recur across rows (owner marks, kinds, tenants, types, option values) one string each.
   */
  #compact(ts: TableSchema, row: Row, columns: readonly string[]): Row {
    // A copy of the table's template, every monitored column at its default, then the row's
    // values: every row of a table shares one hidden class with its properties in the object.
    // Adding the defaults to a copy of the row gave each row a class of its own (~0.8 KiB a
    // port), and adding every column to an empty object a dictionary (~0.9 KiB).
    // Only the row's own columns are compacted: the template's defaults are shared already
    // (every monitored column walked as entries pairs: 0.33 s of a 30k dump's 2.4 s, profiled).
    const layout = this.#layout(ts, columns);
    const out = layout.copy(layout.row);
    // The row's own UUID is often also its name and its owner's id: one string for all three.
    const own = (s: string): string => (s === row._uuid ? row._uuid : s);
    const singles: (readonly string[])[] = [];
    for (const column in row) {
      const value = row[column]!;
      out[column] = value;
      if (column === '_uuid') continue;
      if (typeof value === 'string') out[column] = this.#strings.intern(ts.name, column, '', own(value));
      else if (Array.isArray(value)) {
        if (value.length === 0) out[column] = EMPTY_SET;
        else if (value.length === 1 && typeof value[0] === 'string') {
          // A port's addresses and port_security are the same "MAC IP": one array for both
          // (a one-element set is never changed in place, IN_PLACE_AT).
          const twin = singles.find((s) => s[0] === value[0]);
          if (twin === undefined) singles.push((out[column] = this.#strings.single(ts.name, column, value as readonly string[])) as readonly string[]);
          else out[column] = twin;
        }
      } else if (typeof value === 'object') {
        const map = value as Record<string, Atom>;
        let empty = true;
        for (const key in map) {
          empty = false;
          const atom = map[key];
          if (typeof atom === 'string') setKey(map, key, this.#strings.intern(ts.name, column, key, own(atom)));
        }
        out[column] = empty ? EMPTY_MAP : this.#strings.map(ts.name, column, this.#maps.laidOut(ts.name, column, map));
      }
    }
    return out as Row;
  }

  /** Per table: its monitored columns, an object with each at its default, and the copier of such rows (`copier`). */
  readonly #layouts = new Map<string, Layout>();

  #layout(ts: TableSchema, columns: readonly string[]): Layout {
    const known = this.#layouts.get(ts.name);
    if (known?.columns === columns) return known;
    const shared = (value: Value): Value => (Array.isArray(value) && value.length === 0 ? EMPTY_SET : typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 0 ? EMPTY_MAP : value);
    const copy = copier<Value>(['_uuid', ...columns])!;
    // Column names never begin with "_" but the system's (RFC 7047 3.2): plain assignment is safe.
    const row: Record<string, Value> = { _uuid: '' };
    for (const c of columns) row[c] = shared(defaultValue(ts.columns.get(c)!));
    const layout: Layout = { columns, row: copy(row), copy };
    this.#layouts.set(ts.name, layout);
    return layout;
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

/** A table's rows as the cache builds them: every monitored column, at its default in `row`. */
interface Layout {
  readonly columns: readonly string[];
  readonly row: Readonly<Record<string, Value>>;
  /** A copy of a row of exactly these columns, each in the object itself. */
  readonly copy: (row: Readonly<Record<string, Value>>) => Record<string, Value>;
}

/**
 * A function copying an object of these keys into an object literal of them, so every key is
 * in the object itself, in this order; undefined for `__proto__`, which a literal would take
 * as the prototype. Spread (`{ ...template }`) kept the template's layout only while its call
 * site had seen four kinds of row or fewer: past that, in every cache, it built each copy key by
 * key, four keys in the object and the rest in a property array of its own, at ~1.4 µs a row.
 * A literal: a switch-port row (17 columns) 192 → 160 B, a port's six `external_ids` 96 → 72 B, ~10 ns.
 * The keys are JSON string literals in the generated code, so no key can be anything but a key.
 */
function copier<V>(keys: readonly string[]): ((from: Readonly<Record<string, V>>) => Record<string, V>) | undefined {
  if (keys.includes('__proto__')) return undefined;
  const fields = keys.map((k) => `${JSON.stringify(k)}: from[${JSON.stringify(k)}]`);
  return new Function('from', `return { ${fields.join(', ')} };`) as (from: Readonly<Record<string, V>>) => Record<string, V>;
}

/** How a column's values are saved: which of its atoms are strings (string and uuid atoms; a map's keys always are). */
interface SavedCodec {
  readonly kind: ColumnKind;
  readonly strings: boolean;
  readonly values: boolean;
}

function savedCodec(ts: TableSchema, column: string): SavedCodec {
  if (column === '_uuid') return { kind: 'scalar', strings: true, values: false };
  const type = ts.columns.get(column)!;
  const isString = (t: AtomicType | undefined) => t === 'string' || t === 'uuid';
  return { kind: columnKind(type), strings: isString(type.key.type), values: isString(type.value?.type) };
}

/** Rows of a dump compared between two hand-backs of the event loop. */
const DUMP_SLICE = 256;

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
  readonly positions: SetPositions;
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
function applyModify(ts: TableSchema, prev: Row, diff: Row, layout: Layout): RowUpdate {
  // A cached row holds every monitored column (#compact): one with no other is copied into the
  // table's layout, one with more (a column the server sent unasked) by spread.
  const row: Record<string, Value> = Object.keys(prev).length === layout.columns.length + 1 ? layout.copy(prev) : { ...prev };
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
          const step = toggleInPlace(state, change as readonly Atom[]);
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
    if (state) defineOld(old, column, value as readonly Atom[], toggleInPlace(state, []));
  }
  return { table: ts.name, uuid: prev._uuid, old: old as Row, new: row as Row, setChanges };
}

function track(set: readonly Atom[]): InPlaceSet {
  const state: InPlaceSet = { positions: new SetPositions(set as Atom[]) };
  inPlace.set(set, state);
  return state;
}

function toggleInPlace(state: InPlaceSet, change: readonly Atom[]): SetStep {
  const added: Atom[] = [];
  const removed: Atom[] = [];
  for (const atom of change) (state.positions.toggle(atom) ? added : removed).push(atom);
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

const EMPTY_SET: readonly Atom[] = Object.freeze([]);
const EMPTY_MAP: Readonly<Record<string, Atom>> = Object.freeze({});

/** A slot's strings are shared until it has seen this many distinct ones: then they are ids, names, addresses. */
const SHARED_STRINGS = 256;

/**
 * One string per distinct value of a column (a map column: of one of its keys), while the
 * column's values recur: an owner mark or a kind is the same in 100k rows, a parsed copy each
 * (~30 B) otherwise. A slot whose values turn out to be unique is given up, so the table stays small.
 */
class Strings {
  readonly #slots = new Map<string, Map<string, Map<string, Map<string, string> | null>>>();
  /** One-element sets that recur (a port's DHCP options): one frozen array each, as long as they recur. */
  readonly #singles = new Map<string, Map<string, readonly string[]> | null>();
  readonly #maps = new Map<string, Map<string, Readonly<Record<string, Atom>>> | null>();

  /** Never changed in place: only sets of IN_PLACE_AT elements are. */
  single(table: string, column: string, set: readonly string[]): readonly string[] {
    const slot = `${table}.${column}`;
    let sets = this.#singles.get(slot);
    if (sets === null) return set;
    if (!sets) this.#singles.set(slot, (sets = new Map()));
    const shared = sets.get(set[0]!);
    if (shared) return shared;
    if (sets.size >= SHARED_STRINGS) this.#singles.set(slot, null);
    else sets.set(set[0]!, Object.freeze(set));
    return set;
  }

  /**
   * Maps that recur whole (a port's `options` while it is unattached): one frozen object each,
   * as long as they recur; a modify builds a new map, never changes this one.
   */
  map(table: string, column: string, map: Readonly<Record<string, Atom>>): Readonly<Record<string, Atom>> {
    const slot = `${table}.${column}`;
    let maps = this.#maps.get(slot);
    if (maps === null) return map;
    if (!maps) this.#maps.set(slot, (maps = new Map()));
    const key = JSON.stringify(map);
    const shared = maps.get(key);
    if (shared) return shared;
    if (maps.size >= SHARED_STRINGS) this.#maps.set(slot, null);
    else maps.set(key, Object.freeze(map));
    return map;
  }

  intern(table: string, column: string, key: string, value: string): string {
    let columns = this.#slots.get(table);
    if (!columns) this.#slots.set(table, (columns = new Map()));
    let keys = columns.get(column);
    if (!keys) columns.set(column, (keys = new Map()));
    let values = keys.get(key);
    if (values === null) return value;
    if (!values) keys.set(key, (values = new Map()));
    const shared = values.get(value);
    if (shared !== undefined) return shared;
    if (values.size >= SHARED_STRINGS) {
      keys.set(key, null);
      return value;
    }
    values.set(value, value);
    return value;
  }
}

/**
 * Maps of more than four keys copied so each key is in the object itself (`copier`), one copier
 * a key list of a column, as long as key lists recur (a port's `external_ids` has the same six
 * keys in every port); a column whose key lists do not recur is given up.
 */
class MapLayouts {
  /** By table, then column: the key lists seen with their copiers, or null once given up. */
  readonly #slots = new Map<string, Map<string, MapLayout[] | null>>();

  laidOut(table: string, column: string, map: Readonly<Record<string, Atom>>): Readonly<Record<string, Atom>> {
    const keys = Object.keys(map);
    // An object built key by key (the decoded map) has room for four in itself already.
    if (keys.length <= 4) return map;
    let columns = this.#slots.get(table);
    if (!columns) this.#slots.set(table, (columns = new Map()));
    let layouts = columns.get(column);
    if (layouts === null) return map;
    if (!layouts) columns.set(column, (layouts = []));
    // Keys from the JSON parser are internalised strings: comparing them is comparing pointers.
    let layout = layouts.find((l) => l.keys.length === keys.length && l.keys.every((k, i) => k === keys[i]));
    if (!layout) {
      if (layouts.length >= MAP_LAYOUTS) {
        columns.set(column, null);
        return map;
      }
      layouts.push((layout = { keys, copy: copier<Atom>(keys) }));
    }
    return layout.copy?.(map) ?? map;
  }
}

interface MapLayout {
  readonly keys: readonly string[];
  readonly copy: ((map: Readonly<Record<string, Atom>>) => Record<string, Atom>) | undefined;
}

/** Key lists of one map column laid out before it is given up: each is a compiled function. */
const MAP_LAYOUTS = 16;

function isInsert(change: Json): boolean {
  return typeof change === 'object' && change !== null && !Array.isArray(change) && (change['initial'] !== undefined || change['insert'] !== undefined);
}

/** Each UUID in a reference set column (a switch's ports, a group's ports) becomes the referenced row's own string: one copy a UUID, not one a reference. */
function shareReferences(ts: TableSchema, row: Row, canonical: (table: string, uuid: Atom) => Atom): void {
  for (const [column, value] of Object.entries(row)) {
    const refTable = ts.columns.get(column)?.key.refTable;
    if (refTable === undefined || !Array.isArray(value) || value.length === 0) continue;
    const atoms = value as Atom[];
    for (let i = 0; i < atoms.length; i++) atoms[i] = canonical(refTable, atoms[i]!);
  }
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
  if (key === undefined || key === row._uuid) return;
  const rows = idx.rows.get(key);
  if (rows === undefined || (!(rows instanceof Map) && rows._uuid === row._uuid)) idx.rows.set(key, row);
  else if (rows instanceof Map) rows.set(row._uuid, row);
  else idx.rows.set(key, new Map([[rows._uuid, rows], [row._uuid, row]]));
}

function removeFromIndex(idx: Index, row: Row): void {
  const key = idx.key(row);
  if (key === undefined || key === row._uuid) return;
  const rows = idx.rows.get(key);
  if (rows === undefined) return;
  if (!(rows instanceof Map)) {
    if (rows._uuid === row._uuid) idx.rows.delete(key);
    return;
  }
  rows.delete(row._uuid);
  if (rows.size === 1) idx.rows.set(key, rows.values().next().value!);
}

function entries(json: Json | undefined, what: string): [string, Json][] {
  return Object.entries(asObject(json, what));
}
