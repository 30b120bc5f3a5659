// Public surface of the OVSDB client. Internals (parser, connection, cache implementation) stay private.
export { OvsdbClient } from './client.js';
export {
  OvsdbDisconnectedError,
  OvsdbEncodingError,
  OvsdbError,
  OvsdbProtocolError,
  OvsdbRpcError,
  OvsdbSchemaError,
  OvsdbTimeoutError,
  OvsdbTransactionError,
  isOvsdbDisconnectedError,
  isOvsdbEncodingError,
  isOvsdbError,
  isOvsdbProtocolError,
  isOvsdbRpcError,
  isOvsdbSchemaError,
  isOvsdbTimeoutError,
  isOvsdbTransactionError,
} from './errors.js';
export { JsonStreamParser, stringifyJson } from './json-stream.js';
export type { Json } from './json-stream.js';
export { columnKind, decodeValue, encodeValue, isUuid, parseSchema } from './schema.js';
export type { ColumnKind } from './schema.js';
export { AtomicTypes } from './types.js';
export type {
  Atom,
  AtomicType,
  BaseType,
  Cache,
  ColumnType,
  Condition,
  ConditionFunction,
  ConnectionState,
  DatabaseSchema,
  Logger,
  MonitorRequest,
  Mutation,
  Mutator,
  Operation,
  OperationResult,
  OvsdbClientOptions,
  OvsdbSslOptions,
  Row,
  RowUpdate,
  TableSchema,
  Uuid,
  Value,
} from './types.js';
