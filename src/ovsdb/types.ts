// Decoded values, operations and schema shapes of the OVSDB client. Imports nothing internal.

export type Uuid = string;
/** uuid atoms decode to their string; integers beyond 2^53 decode to bigint. */
export type Atom = string | number | boolean | bigint;
/** Scalar column -> Atom; set column (min 0 or max > 1) -> Atom[]; map column -> Record (keys stringified). */
export type Value = Atom | readonly Atom[] | Readonly<Record<string, Atom>>;
export type Row = Readonly<Record<string, Value>> & { readonly _uuid: Uuid };

export type ConditionFunction = '==' | '!=' | 'includes' | 'excludes' | '<' | '<=' | '>' | '>=';
export type Condition = readonly [column: string, fn: ConditionFunction, value: Value];
export type Mutator = 'insert' | 'delete' | '+=' | '-=' | '*=' | '/=' | '%=';
export type Mutation = readonly [column: string, mutator: Mutator, value: Value];

export type Operation =
  | { op: 'insert'; table: string; row: Record<string, Value>; uuid?: Uuid; uuidName?: string }
  | { op: 'update'; table: string; where: readonly Condition[]; row: Record<string, Value> }
  | { op: 'mutate'; table: string; where: readonly Condition[]; mutations: readonly Mutation[] }
  | { op: 'delete'; table: string; where: readonly Condition[] }
  | { op: 'select'; table: string; where: readonly Condition[]; columns?: readonly string[] }
  | {
      op: 'wait';
      table: string;
      where: readonly Condition[];
      columns: readonly string[];
      until: '==' | '!=';
      rows: readonly Record<string, Value>[];
      timeout?: number;
    }
  | { op: 'comment'; comment: string };

export type OperationResult = { uuid?: Uuid; count?: number; rows?: Row[] };

/**
 * insert: `new` only; delete: `old` only; modify: both. A modify's `old` is the row as it was
 * (a large set column changed in place is rebuilt when read: O(the set), so read it only when
 * `setChanges` does not say enough).
 */
export interface RowUpdate {
  readonly table: string;
  readonly uuid: Uuid;
  /** The row as it was: a snapshot, whenever it is read. */
  readonly old?: Row;
  /** The row as the cache holds it: a large set in it is changed in place by later modifies, so read it when notified. */
  readonly new?: Row;
  /**
   * For an update2 modify: per set column it changed, the elements added and removed. A
   * column absent here did not change. Lets a reader of a port group of thousands of ports
   * follow the one that joined in O(it), not O(the group).
   */
  readonly setChanges?: Readonly<Record<string, SetChange>>;
}

export interface SetChange {
  readonly added: readonly Atom[];
  readonly removed: readonly Atom[];
}

export interface MonitorRequest {
  readonly columns?: readonly string[];
  readonly where?: readonly Condition[];
}

/**
 * The monitored rows. A row read from it is its state now, not a snapshot: a large set column
 * (a port group's ports) is one array changed in place by each modify; copy it to keep it.
 */
export interface Cache {
  table(name: string): ReadonlyMap<Uuid, Row>;
  get(table: string, uuid: Uuid): Row | undefined;
  /** Secondary index, maintained on every update and built at once for rows already present. */
  addIndex(table: string, index: string, key: (row: Row) => string | undefined): void;
  lookup(table: string, index: string, key: string): readonly Row[];
}

export interface Logger {
  debug(o: object, msg?: string): void;
  info(o: object, msg?: string): void;
  warn(o: object, msg?: string): void;
  error(o: object, msg?: string): void;
}

/** PEM files for `ssl:` remotes, as OVS tools take them (`-p`/`--private-key`, `-c`/`--certificate`, `-C`/`--ca-cert`). */
export interface OvsdbSslOptions {
  readonly privateKey: string;
  readonly certificate: string;
  readonly caCert: string;
}

export interface OvsdbClientOptions {
  /**
   * 'unix:/path/nb.sock', 'tcp:host:port' ('tcp:[::1]:6641' for IPv6) or 'ssl:host:port'; or
   * several, comma-separated, as OVS tools take them: the members of a clustered database.
   */
  remote: string;
  /** Needed by `ssl:` remotes. */
  ssl?: OvsdbSslOptions;
  /**
   * Talk only to the leader of a clustered database (as OVS tools do by default): a member
   * that is not (the `_Server` database says so) is left for the next remote, and a
   * connection whose member stops being leader is dropped and made again. Default true.
   */
  leaderOnly?: boolean;
  /** Default 'OVN_Northbound'. */
  database?: string;
  /** Default 100..5000 ms, doubled on each failed attempt, retried forever. */
  reconnectDelayMs?: { min: number; max: number };
  /** Default 60000. */
  requestTimeoutMs?: number;
  logger?: Logger;
  /**
   * A row's UUID as a string the caller already holds (e.g. the reconciler's view: a port's id
   * is its switch port's UUID), so the cache keeps that one instead of a copy of its own (56 B a
   * row); `uuid` itself when the caller holds none. Called for each row a notification inserts
   * and each row of a dump.
   */
  sharedUuid?: (uuid: Uuid) => Uuid;
}

export type ConnectionState = 'connected' | 'disconnected';

// Schema, as parsed from get_schema (RFC 7047 section 3.2).

export const AtomicTypes = {
  integer: 'integer',
  real: 'real',
  boolean: 'boolean',
  string: 'string',
  uuid: 'uuid',
} as const;
export type AtomicType = (typeof AtomicTypes)[keyof typeof AtomicTypes];

export interface BaseType {
  readonly type: AtomicType;
  readonly refTable?: string;
}

export interface ColumnType {
  readonly key: BaseType;
  readonly value?: BaseType;
  readonly min: number;
  /** Infinity for "unlimited". */
  readonly max: number;
}

export interface TableSchema {
  readonly name: string;
  /** Includes the implicit `_uuid` and `_version` columns. */
  readonly columns: ReadonlyMap<string, ColumnType>;
  readonly isRoot: boolean;
  readonly indexes: readonly (readonly string[])[];
}

export interface DatabaseSchema {
  readonly name: string;
  readonly version: string;
  readonly tables: ReadonlyMap<string, TableSchema>;
}
