import { OvsdbEncodingError, OvsdbProtocolError, OvsdbSchemaError } from './errors.js';
import type { Json } from './json-stream.js';
import { AtomicTypes } from './types.js';
import type { Atom, AtomicType, BaseType, ColumnType, DatabaseSchema, Row, TableSchema, Uuid, Value } from './types.js';

const UUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const UUID_TYPE: ColumnType = { key: { type: 'uuid' }, min: 1, max: 1 };

export const isUuid = (s: string): boolean => UUID_RE.test(s);

// Parsing get_schema's reply.

export function parseSchema(json: Json): DatabaseSchema {
  const db = asObject(json, 'schema');
  const tables = new Map<string, TableSchema>();
  for (const [name, t] of Object.entries(asObject(db['tables'], 'schema tables'))) {
    const table = asObject(t, `table ${name}`);
    const columns = new Map<string, ColumnType>([
      ['_uuid', UUID_TYPE],
      ['_version', UUID_TYPE],
    ]);
    for (const [col, c] of Object.entries(asObject(table['columns'], `columns of ${name}`))) {
      columns.set(col, parseColumnType(asObject(c, `column ${name}.${col}`)['type'] ?? null, `${name}.${col}`));
    }
    const indexes = Array.isArray(table['indexes']) ? (table['indexes'] as string[][]) : [];
    tables.set(name, { name, columns, isRoot: table['isRoot'] === true, indexes });
  }
  return { name: String(db['name']), version: String(db['version']), tables };
}

function parseColumnType(json: Json, where: string): ColumnType {
  if (typeof json === 'string') return { key: parseBaseType(json, where), min: 1, max: 1 };
  const t = asObject(json, `type of ${where}`);
  const key = parseBaseType(t['key'] ?? null, where);
  const value = t['value'] === undefined ? undefined : parseBaseType(t['value'], where);
  const min = typeof t['min'] === 'number' ? t['min'] : 1;
  const max = t['max'] === 'unlimited' ? Infinity : typeof t['max'] === 'number' ? t['max'] : 1;
  return value ? { key, value, min, max } : { key, min, max };
}

function parseBaseType(json: Json, where: string): BaseType {
  const t = typeof json === 'string' ? json : asObject(json, `base type of ${where}`)['type'];
  if (!Object.values<Json | undefined>(AtomicTypes).includes(t)) throw new OvsdbProtocolError(`bad atomic type in ${where}`);
  const base = typeof json === 'object' && json !== null && !Array.isArray(json) ? json : {};
  return typeof base['refTable'] === 'string' ? { type: t as AtomicType, refTable: base['refTable'] } : { type: t as AtomicType };
}

export function asObject(json: Json | undefined, what: string): { [key: string]: Json } {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new OvsdbProtocolError(`${what} is not an object`);
  return json;
}

/** Map keys are arbitrary strings: plain assignment of "__proto__" would set the prototype instead. */
export function setKey(map: Record<string, Atom>, key: string, value: Atom): void {
  if (key === '__proto__') Object.defineProperty(map, key, { value, enumerable: true, writable: true, configurable: true });
  else map[key] = value;
}

// Column kinds and lookups.

export type ColumnKind = 'scalar' | 'set' | 'map';

/** min 1, max 1 -> scalar; any other set (also optional, min 0 max 1) -> set; with a value type -> map. */
export function columnKind(type: ColumnType): ColumnKind {
  if (type.value) return 'map';
  return type.min === 1 && type.max === 1 ? 'scalar' : 'set';
}

export function tableSchema(schema: DatabaseSchema, table: string): TableSchema {
  const t = schema.tables.get(table);
  if (!t) throw new OvsdbSchemaError(`unknown table "${table}" in database ${schema.name}`);
  return t;
}

export function columnType(table: TableSchema, column: string): ColumnType {
  const c = table.columns.get(column);
  if (!c) throw new OvsdbSchemaError(`unknown column "${column}" in table ${table.name}`);
  return c;
}

/** The value a column holds when the server leaves it out (update2 omits columns equal to their default). */
export function defaultValue(type: ColumnType): Value {
  switch (columnKind(type)) {
    case 'map':
      return {};
    case 'set':
      return [];
    case 'scalar':
      return defaultAtom(type.key.type);
  }
}

function defaultAtom(type: AtomicType): Atom {
  switch (type) {
    case 'integer':
    case 'real':
      return 0;
    case 'boolean':
      return false;
    case 'string':
      return '';
    case 'uuid':
      return '00000000-0000-0000-0000-000000000000';
  }
}

// Decoding wire values by column type.

export function decodeAtom(json: Json): Atom {
  if (Array.isArray(json) && (json[0] === 'uuid' || json[0] === 'named-uuid') && typeof json[1] === 'string') return json[1];
  if (typeof json === 'string' || typeof json === 'number' || typeof json === 'boolean' || typeof json === 'bigint') return json;
  throw new OvsdbProtocolError(`not an atom: ${JSON.stringify(json)}`);
}

/** A set may arrive as ["set", [...]] or, with one element, as the bare atom. */
export function decodeValue(json: Json, type: ColumnType): Value {
  switch (columnKind(type)) {
    case 'scalar':
      return decodeAtom(json);
    case 'set':
      return Array.isArray(json) && json[0] === 'set' ? elements(json).map(decodeAtom) : [decodeAtom(json)];
    case 'map': {
      if (!Array.isArray(json) || json[0] !== 'map') throw new OvsdbProtocolError(`not a map: ${JSON.stringify(json)}`);
      const map: Record<string, Atom> = {};
      for (const pair of elements(json)) {
        if (!Array.isArray(pair) || pair.length !== 2) throw new OvsdbProtocolError(`bad map pair: ${JSON.stringify(pair)}`);
        setKey(map, String(decodeAtom(pair[0]!)), decodeAtom(pair[1]!));
      }
      return map;
    }
  }
}

function elements(json: Json[]): Json[] {
  if (!Array.isArray(json[1])) throw new OvsdbProtocolError(`bad ${String(json[0])}: ${JSON.stringify(json)}`);
  return json[1];
}

/** Decodes the columns present in a wire row; the uuid is passed apart (it is the key in updates). */
export function decodeRow(table: TableSchema, json: Json, uuid?: Uuid): Row {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new OvsdbProtocolError(`row of ${table.name} is not an object`);
  const row: Record<string, Value> = {};
  for (const [column, value] of Object.entries(json)) {
    const type = table.columns.get(column);
    // Only a server upgraded since we read its schema sends columns we do not know: skip them.
    if (type) row[column] = decodeValue(value, type);
  }
  if (uuid !== undefined) row['_uuid'] = uuid;
  return row as Row;
}

// Encoding values for operations by column type.

export function encodeAtom(value: Atom, type: BaseType, where: string): Json {
  const ok =
    type.type === 'integer' ? typeof value === 'bigint' || Number.isInteger(value)
    : type.type === 'real' ? typeof value === 'number' || typeof value === 'bigint'
    : type.type === 'boolean' ? typeof value === 'boolean'
    : typeof value === 'string';
  if (!ok) throw new OvsdbSchemaError(`${where}: ${typeof value} ${String(value)} is not a valid ${type.type}`);
  if (typeof value === 'string' && !value.isWellFormed()) throw new OvsdbEncodingError(`${where}: ${JSON.stringify(value)} is not well-formed Unicode (a lone surrogate)`);
  if (type.type === 'uuid') return [isUuid(value as string) ? 'uuid' : 'named-uuid', value as string];
  return value;
}

/** A scalar given for a set column is a one-element set; a map's keys are converted back from strings. */
export function encodeValue(value: Value, type: ColumnType, where: string): Json {
  switch (columnKind(type)) {
    case 'scalar':
      if (typeof value === 'object') throw new OvsdbSchemaError(`${where}: expected a single ${type.key.type}, got ${JSON.stringify(value, jsonSafe)}`);
      return encodeAtom(value, type.key, where);
    case 'set':
      return ['set', encodeSet(value, type.key, where)];
    case 'map':
      return ['map', encodePairs(value, type, where)];
  }
}

function encodeSet(value: Value, key: BaseType, where: string): Json[] {
  if (Array.isArray(value)) return (value as readonly Atom[]).map((a) => encodeAtom(a, key, where));
  if (typeof value === 'object') throw new OvsdbSchemaError(`${where}: expected a set of ${key.type}, got an object`);
  return [encodeAtom(value as Atom, key, where)];
}

function encodePairs(value: Value, type: ColumnType, where: string): Json[] {
  if (typeof value !== 'object' || Array.isArray(value)) throw new OvsdbSchemaError(`${where}: expected a map (object), got ${JSON.stringify(value, jsonSafe)}`);
  const valueType = type.value!;
  return Object.entries(value as Readonly<Record<string, Atom>>).map(([k, v]) => [
    encodeAtom(mapKey(k, type.key, where), type.key, where),
    encodeAtom(v, valueType, where),
  ]);
}

/** Object keys are strings: turn them back into the key type. */
function mapKey(key: string, type: BaseType, where: string): Atom {
  if (type.type === 'string' || type.type === 'uuid') return key;
  if (type.type === 'boolean' && (key === 'true' || key === 'false')) return key === 'true';
  if (type.type === 'integer' && /^-?[0-9]+$/.test(key)) {
    const n = BigInt(key);
    return n > MAX_SAFE || n < -MAX_SAFE ? n : Number(n);
  }
  if (type.type === 'real' && key.trim() !== '' && Number.isFinite(Number(key))) return Number(key);
  throw new OvsdbSchemaError(`${where}: map key "${key}" is not a valid ${type.type}`);
}

/** A mutation's value: arithmetic takes one atom; insert/delete take a set, a map, or (map delete) a set of keys. */
export function encodeMutationValue(mutator: string, value: Value, type: ColumnType, where: string): Json {
  if (mutator !== 'insert' && mutator !== 'delete') {
    if (typeof value === 'object') throw new OvsdbSchemaError(`${where}: ${mutator} takes a single ${type.key.type}`);
    return encodeAtom(value, type.key, where);
  }
  if (type.value && mutator === 'delete' && (Array.isArray(value) || typeof value !== 'object')) {
    return ['set', encodeSet(value, type.key, where)];
  }
  return encodeValue(value, { ...type, min: 0, max: Infinity }, where);
}

const jsonSafe = (_k: string, v: unknown): unknown => (typeof v === 'bigint' ? v.toString() : v);
