import type { Operation } from './types.js';

export class OvsdbError extends Error {
  override name = 'OvsdbError';
}

/** An operation, or the commit, of a transaction failed: nothing was committed. */
export class OvsdbTransactionError extends OvsdbError {
  override name = 'OvsdbTransactionError';
  /** Index of the failing operation; equals the number of operations when the commit as a whole failed. */
  readonly opIndex: number;
  /** RFC 7047 error string, e.g. "constraint violation", "referential integrity violation". */
  readonly error: string;
  readonly details: string | undefined;
  /** The failing operation; undefined when the error is the commit's and no operation can be blamed. */
  readonly operation: Operation | undefined;

  constructor(fields: { opIndex: number; error: string; details?: string; operation?: Operation }) {
    const op = fields.operation;
    const where = op ? `op ${fields.opIndex} (${describe(op)})` : 'commit';
    super(`transaction failed at ${where}: ${fields.error}${fields.details ? `: ${fields.details}` : ''}`);
    this.opIndex = fields.opIndex;
    this.error = fields.error;
    this.details = fields.details;
    this.operation = op;
  }
}

/** The server answered a request with a JSON-RPC error. */
export class OvsdbRpcError extends OvsdbError {
  override name = 'OvsdbRpcError';
  readonly method: string;
  readonly error: unknown;

  constructor(method: string, error: unknown) {
    super(`${method} failed: ${typeof error === 'string' ? error : JSON.stringify(error)}`);
    this.method = method;
    this.error = error;
  }
}

/** Not connected, or the connection dropped before the reply: the request's outcome is unknown. */
export class OvsdbDisconnectedError extends OvsdbError {
  override name = 'OvsdbDisconnectedError';
}

/** No reply within requestTimeoutMs: the request's outcome is unknown. */
export class OvsdbTimeoutError extends OvsdbError {
  override name = 'OvsdbTimeoutError';
}

/** An operation or monitor request does not fit the schema (unknown table or column, wrong value type); nothing was sent. */
export class OvsdbSchemaError extends OvsdbError {
  override name = 'OvsdbSchemaError';
}

/**
 * A value is not valid JSON text for the server: a string with a lone surrogate (JSON.stringify
 * escapes it, ovsdb-server then drops the whole session). Nothing was sent.
 */
export class OvsdbEncodingError extends OvsdbError {
  override name = 'OvsdbEncodingError';
}

/** The peer sent bytes that are not JSON-RPC. */
export class OvsdbProtocolError extends OvsdbError {
  override name = 'OvsdbProtocolError';
}

function describe(op: Operation): string {
  return op.op === 'comment' ? 'comment' : `${op.op} ${op.table}`;
}

export const isOvsdbError = (e: unknown): e is OvsdbError => e instanceof OvsdbError;
export const isOvsdbTransactionError = (e: unknown): e is OvsdbTransactionError => e instanceof OvsdbTransactionError;
export const isOvsdbRpcError = (e: unknown): e is OvsdbRpcError => e instanceof OvsdbRpcError;
export const isOvsdbDisconnectedError = (e: unknown): e is OvsdbDisconnectedError => e instanceof OvsdbDisconnectedError;
export const isOvsdbTimeoutError = (e: unknown): e is OvsdbTimeoutError => e instanceof OvsdbTimeoutError;
export const isOvsdbSchemaError = (e: unknown): e is OvsdbSchemaError => e instanceof OvsdbSchemaError;
export const isOvsdbEncodingError = (e: unknown): e is OvsdbEncodingError => e instanceof OvsdbEncodingError;
export const isOvsdbProtocolError = (e: unknown): e is OvsdbProtocolError => e instanceof OvsdbProtocolError;
