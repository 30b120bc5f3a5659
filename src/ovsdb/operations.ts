import type { MonitoredColumns } from './cache.js';
import { OvsdbProtocolError, OvsdbSchemaError, OvsdbTransactionError } from './errors.js';
import type { Json } from './json-stream.js';
import { asObject, columnType, decodeAtom, decodeRow, encodeMutationValue, encodeValue, isUuid, tableSchema } from './schema.js';
import type { Condition, DatabaseSchema, MonitorRequest, Operation, OperationResult, TableSchema, Value } from './types.js';

const UUID_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Encodes one operation for `transact`, checking tables, columns and value types against the schema. */
export function encodeOperation(schema: DatabaseSchema, op: Operation): Json {
  if (op.op === 'comment') return { op: 'comment', comment: op.comment };
  const ts = tableSchema(schema, op.table);
  switch (op.op) {
    case 'insert': {
      const json: Json = { op: 'insert', table: op.table, row: encodeRow(ts, op.row) };
      if (op.uuid !== undefined) {
        if (!isUuid(op.uuid)) throw new OvsdbSchemaError(`insert into ${ts.name}: uuid "${op.uuid}" is not a UUID`);
        json['uuid'] = op.uuid;
      }
      if (op.uuidName !== undefined) {
        if (!UUID_NAME_RE.test(op.uuidName)) throw new OvsdbSchemaError(`insert into ${ts.name}: uuidName "${op.uuidName}" must match ${UUID_NAME_RE.source}`);
        json['uuid-name'] = op.uuidName;
      }
      return json;
    }
    case 'update':
      return { op: 'update', table: op.table, where: encodeWhere(ts, op.where), row: encodeRow(ts, op.row) };
    case 'mutate':
      return {
        op: 'mutate',
        table: op.table,
        where: encodeWhere(ts, op.where),
        mutations: op.mutations.map(([column, mutator, value]) => [
          column,
          mutator,
          encodeMutationValue(mutator, value, columnType(ts, column), `${ts.name}.${column}`),
        ]),
      };
    case 'delete':
      return { op: 'delete', table: op.table, where: encodeWhere(ts, op.where) };
    case 'select': {
      const json: Json = { op: 'select', table: op.table, where: encodeWhere(ts, op.where) };
      // Rows always carry _uuid, so ask for it when the caller picks columns.
      if (op.columns) json['columns'] = checkColumns(ts, op.columns.includes('_uuid') ? op.columns : ['_uuid', ...op.columns]);
      return json;
    }
    case 'wait': {
      const json: Json = {
        op: 'wait',
        table: op.table,
        where: encodeWhere(ts, op.where),
        columns: checkColumns(ts, op.columns),
        until: op.until,
        rows: op.rows.map((row) => encodeRow(ts, row)),
      };
      if (op.timeout !== undefined) json['timeout'] = op.timeout;
      return json;
    }
    default:
      return unreachable(op);
  }
}

export function encodeRow(ts: TableSchema, row: Readonly<Record<string, Value>>): { [key: string]: Json } {
  const json: { [key: string]: Json } = {};
  for (const [column, value] of Object.entries(row)) json[column] = encodeValue(value, columnType(ts, column), `${ts.name}.${column}`);
  return json;
}

export function encodeWhere(ts: TableSchema, where: readonly Condition[]): Json[] {
  return where.map(([column, fn, value]) => [column, fn, encodeValue(value, columnType(ts, column), `${ts.name}.${column}`)]);
}

function checkColumns(ts: TableSchema, columns: readonly string[]): string[] {
  for (const column of columns) columnType(ts, column);
  return [...columns];
}

/**
 * Turns transact's result array into results, or throws for the first error. A commit error (the
 * entry after the last operation) is blamed on the operation that inserted, or selected by _uuid,
 * a row its details name; otherwise on the commit itself.
 */
export function decodeResults(schema: DatabaseSchema, ops: readonly Operation[], json: Json): OperationResult[] {
  if (!Array.isArray(json)) throw new OvsdbProtocolError('transact result is not an array');
  const failed = json.findIndex((r) => typeof r === 'object' && r !== null && !Array.isArray(r) && typeof r['error'] === 'string');
  if (failed >= 0) {
    const r = asObject(json[failed], 'transact error');
    const details = typeof r['details'] === 'string' ? r['details'] : undefined;
    const blamed = failed >= ops.length && details !== undefined ? ops.findIndex((op, i) => namesRow(op, json[i], details)) : -1;
    const opIndex = blamed >= 0 ? blamed : failed;
    throw new OvsdbTransactionError({ opIndex, error: String(r['error']), details, operation: ops[opIndex] });
  }
  if (json.length < ops.length) throw new OvsdbProtocolError(`transact returned ${json.length} results for ${ops.length} operations`);
  return ops.map((op, i) => decodeResult(schema, op, asObject(json[i], `result of op ${i}`)));
}

function namesRow(op: Operation, result: Json | undefined, details: string): boolean {
  const inserted = op.op === 'insert' && result ? decodeResultUuid(result) : undefined;
  if (inserted !== undefined && details.includes(inserted)) return true;
  if (op.op === 'insert' || op.op === 'comment') return false;
  return op.where.some(([column, fn, value]) => column === '_uuid' && fn === '==' && typeof value === 'string' && details.includes(value));
}

function decodeResultUuid(result: Json): string | undefined {
  const r = asObject(result, 'insert result');
  return r['uuid'] === undefined ? undefined : String(decodeAtom(r['uuid']));
}

function decodeResult(schema: DatabaseSchema, op: Operation, r: { [key: string]: Json }): OperationResult {
  const result: OperationResult = {};
  const uuid = op.op === 'insert' ? decodeResultUuid(r) : undefined;
  if (uuid !== undefined) result.uuid = uuid;
  if (typeof r['count'] === 'number') result.count = r['count'];
  if (Array.isArray(r['rows']) && op.op !== 'comment') {
    const ts = tableSchema(schema, op.table);
    result.rows = r['rows'].map((row) => decodeRow(ts, row));
  }
  return result;
}

/** The monitor_cond request for `tables`, and the columns it monitors (all but _uuid and _version by default). */
export function encodeMonitorRequests(
  schema: DatabaseSchema,
  tables: Readonly<Record<string, MonitorRequest>>,
): { json: Json; columns: MonitoredColumns } {
  const json: { [table: string]: Json } = {};
  const columns = new Map<string, readonly string[]>();
  for (const [table, request] of Object.entries(tables)) {
    const ts = tableSchema(schema, table);
    const cols = request.columns ? checkColumns(ts, request.columns) : [...ts.columns.keys()].filter((c) => !c.startsWith('_'));
    const entry: Json = { columns: cols };
    if (request.where) entry['where'] = encodeWhere(ts, request.where);
    json[table] = [entry];
    columns.set(table, cols);
  }
  return { json, columns };
}

function unreachable(x: never): never {
  throw new Error(`unhandled operation ${JSON.stringify(x)}`);
}
