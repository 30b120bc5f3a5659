import { CacheImpl } from './cache.js';
import type { MonitoredColumns } from './cache.js';
import { RpcConnection, openSocket } from './connection.js';
import { OvsdbDisconnectedError, OvsdbError } from './errors.js';
import type { Json, RowSink } from './json-stream.js';
import { decodeResults, encodeMonitorRequests, encodeOperation } from './operations.js';
import { asObject, parseSchema } from './schema.js';
import type {
  Cache,
  ConnectionState,
  DatabaseSchema,
  Logger,
  MonitorRequest,
  Operation,
  OperationResult,
  OvsdbClientOptions,
  OvsdbSslOptions,
  RowUpdate,
  Uuid,
} from './types.js';

/** The monitor id of the `_Server` database's row for our database (its raft role). */
const SERVER_MONITOR = '_server';

interface Settings {
  /** The remotes as given, for messages. */
  readonly remote: string;
  readonly remotes: readonly string[];
  readonly ssl: OvsdbSslOptions | undefined;
  readonly leaderOnly: boolean;
  readonly database: string;
  readonly reconnectDelayMs: { readonly min: number; readonly max: number };
  readonly requestTimeoutMs: number;
  readonly logger: Logger;
  readonly sharedUuid: ((uuid: Uuid) => Uuid) | undefined;
}

interface Monitor {
  readonly request: Json;
  readonly columns: MonitoredColumns;
}

const noop = (): void => {};
const silent: Logger = { debug: noop, info: noop, warn: noop, error: noop };

/**
 * OVSDB client for one database: transactions, monitor_cond into a cache, reconnect forever.
 * Messages are processed in the order the server sends them, so the cache (and onUpdate listeners)
 * have seen the effects of a transaction before its transact() resolves.
 */
export class OvsdbClient {
  readonly #settings: Settings;
  #schema: DatabaseSchema | undefined;
  #cache: CacheImpl | undefined;
  #conn: RpcConnection | undefined;
  /** The remote the connection is to, and the one the next attempt starts with. */
  #remoteIndex = 0;
  #connected = false;
  #closed = false;
  /** True while a reconnect attempt runs: its own failures must not start another one. */
  #reconnecting = false;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #nextMonitorId = 1;
  readonly #monitors = new Map<string, Monitor>();
  /** Monitor requests whose dump is not in the cache yet; while any is, notifications wait in #held, in arrival order. */
  #dumpsRead = 0;
  readonly #held: { conn: RpcConnection; method: string; params: Json }[] = [];
  readonly #updateListeners = new Set<(updates: readonly RowUpdate[]) => void>();
  readonly #connectionListeners = new Set<(state: ConnectionState) => void>();

  private constructor(settings: Settings) {
    this.#settings = settings;
  }

  /** Connects and reads the schema; rejects if this first attempt fails. Later drops reconnect forever. */
  static async connect(options: OvsdbClientOptions): Promise<OvsdbClient> {
    const remotes = options.remote.split(',').map((r) => r.trim()).filter((r) => r !== '');
    const client = new OvsdbClient({
      remote: options.remote,
      remotes,
      ssl: options.ssl,
      leaderOnly: options.leaderOnly ?? true,
      database: options.database ?? 'OVN_Northbound',
      reconnectDelayMs: options.reconnectDelayMs ?? { min: 100, max: 5000 },
      requestTimeoutMs: options.requestTimeoutMs ?? 60_000,
      logger: options.logger ?? silent,
      sharedUuid: options.sharedUuid,
    });
    await client.#start();
    return client;
  }

  get schema(): DatabaseSchema {
    return this.#schema!;
  }

  get cache(): Cache {
    return this.#cache!;
  }

  /** True once connected and every monitor is (re-)established; false while reconnecting. */
  get connected(): boolean {
    return this.#connected;
  }

  /** Throws OvsdbSchemaError before sending, OvsdbTransactionError if an operation or the commit failed. */
  async transact(ops: readonly Operation[]): Promise<OperationResult[]> {
    const schema = this.schema;
    const encoded = ops.map((op) => encodeOperation(schema, op));
    return this.#requireConnection().request('transact', [this.#settings.database, ...encoded], (result) =>
      decodeResults(schema, ops, result),
    );
  }

  /**
   * Starts a monitor_cond; resolves once its initial rows are in the cache (and listeners were told).
   * Re-established after every reconnect. A table can be in one monitor only.
   */
  async monitor(tables: Readonly<Record<string, MonitorRequest>>): Promise<void> {
    const { json, columns } = encodeMonitorRequests(this.schema, tables);
    for (const monitor of this.#monitors.values()) {
      for (const table of columns.keys()) {
        if (monitor.columns.has(table)) throw new OvsdbError(`table ${table} is already monitored`);
      }
    }
    const conn = this.#requireConnection();
    const id = `m${this.#nextMonitorId++}`;
    const monitor: Monitor = { request: json, columns };
    // Registered before the reply: notifications for it may follow the reply within the same chunk.
    this.#monitors.set(id, monitor);
    try {
      await this.#startMonitor(conn, id, monitor);
    } catch (err) {
      this.#monitors.delete(id);
      throw err;
    }
  }

  /** Called once per update notification, per initial dump and per resync, after the cache applied it. */
  onUpdate(listener: (updates: readonly RowUpdate[]) => void): () => void {
    this.#updateListeners.add(listener);
    return () => this.#updateListeners.delete(listener);
  }

  onConnection(listener: (state: ConnectionState) => void): () => void {
    this.#connectionListeners.add(listener);
    return () => this.#connectionListeners.delete(listener);
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#reconnectTimer);
    await this.#conn?.close();
  }

  async #start(): Promise<void> {
    const conn = await this.#open();
    try {
      this.#schema = parseSchema(await conn.request('get_schema', [this.#settings.database], (schema) => schema));
    } catch (err) {
      this.#closed = true;
      await conn.close();
      throw err;
    }
    this.#cache = new CacheImpl(this.#schema, this.#settings.sharedUuid);
    // Lost already? Then #onClose has scheduled a reconnect, which will set connected.
    if (this.#conn === conn) this.#setConnected(true);
  }

  /**
   * Connects to the first remote that serves the database (as its leader, if clustered and
   * leaderOnly), starting with the last one that did; rejects once each was tried.
   */
  async #open(): Promise<RpcConnection> {
    const { remotes } = this.#settings;
    let failure: unknown = new OvsdbDisconnectedError('no remote given');
    for (let tried = 0; tried < remotes.length; tried++) {
      const index = (this.#remoteIndex + tried) % remotes.length;
      try {
        const conn = await this.#openOne(remotes[index]!);
        this.#remoteIndex = index;
        return conn;
      } catch (err) {
        if (this.#closed) throw err;
        failure = err;
        this.#settings.logger.debug({ remote: remotes[index], err }, 'ovsdb: remote not usable; trying the next');
      }
    }
    throw failure;
  }

  async #openOne(remote: string): Promise<RpcConnection> {
    const { requestTimeoutMs, logger, ssl } = this.#settings;
    const socket = await openSocket(remote, requestTimeoutMs, ssl);
    if (this.#closed) {
      socket.destroy();
      throw new OvsdbDisconnectedError('client closed');
    }
    const role = new ServerRole();
    const conn: RpcConnection = new RpcConnection(socket, { timeoutMs: requestTimeoutMs, logger }, {
      onNotification: (method, params) => {
        if (method === 'update2' && Array.isArray(params) && params[0] === SERVER_MONITOR) {
          role.apply(params[1] ?? null);
          // Leadership moved (an election, a partition): find the new leader.
          if (!role.usable && conn === this.#conn) {
            logger.warn({ remote }, 'ovsdb: the member is no longer the cluster leader; reconnecting');
            void conn.close();
          }
          return;
        }
        this.#onNotification(conn, method, params);
      },
      onClose: (error) => this.#onClose(conn, error),
    });
    if (this.#settings.leaderOnly) {
      try {
        await conn.request('monitor_cond', ['_Server', SERVER_MONITOR, {
          Database: [{ columns: ['name', 'model', 'connected', 'leader'], where: [['name', '==', this.#settings.database]] }],
        }], (dump) => role.apply(dump));
      } catch (err) {
        await conn.close();
        throw err;
      }
      if (!role.usable) {
        await conn.close();
        throw new OvsdbDisconnectedError(`${remote} is not the leader of the ${this.#settings.database} cluster`);
      }
    }
    if (conn.closed) throw new OvsdbDisconnectedError(`connection to ${remote} lost`);
    this.#conn = conn;
    return conn;
  }

  /** The remote connected to now (one of a cluster's), or undefined while disconnected. */
  get remote(): string | undefined {
    return this.#conn ? this.#settings.remotes[this.#remoteIndex] : undefined;
  }

  /**
   * Reads a monitor's dump, each row decoded as its bytes are read (a 100k-port reply parsed
   * whole was a 60 MB tree promoted, then collected, before it was read), while the notifications
   * that follow it are held: the cache changes at once, to the dump and the notifications, in
   * server order, so no reader sees half a dump. A dump read on a connection lost meanwhile is
   * dropped with what it held: the reconnect's dump covers it. (One request a table would let
   * ovsdb-server compose a table while the last is read, but it would also split each
   * transaction's update2 into one a table, and a reader could see half a transaction.)
   */
  async #startMonitor(conn: RpcConnection, id: string, monitor: Monitor): Promise<void> {
    const reader = this.#cache!.readDump(monitor.columns);
    // A row that does not decode fails its request, not the connection (the parser would drop it).
    let failure: { readonly error: unknown } | undefined;
    const rows: RowSink = (table, uuid, change) => {
      if (failure) return;
      try {
        reader.row(table, uuid, change);
      } catch (error) {
        failure = { error };
      }
    };
    // The reply's rows came through `rows` as they were read; only another server's come here.
    const rest = (result: Json): void => {
      for (const [table, updates] of Object.entries(asObject(result, 'table-updates2'))) {
        for (const [uuid, change] of Object.entries(asObject(updates, `${table} updates`))) rows(table, uuid, change);
      }
      if (failure) throw failure.error;
    };
    this.#dumpsRead++;
    let updates: RowUpdate[] = [];
    try {
      try {
        await conn.request('monitor_cond', [this.#settings.database, id, monitor.request], rest, rows);
        const swap = await reader.done();
        if (conn !== this.#conn) throw new OvsdbDisconnectedError('connection lost while reading the dump');
        updates = swap();
      } finally {
        this.#dumpsRead--;
      }
    } finally {
      // Also when the request failed: what the other monitors were sent meanwhile is not lost.
      await this.#applyHeld(conn, updates);
    }
  }

  /**
   * Once no dump is being read, the notifications that followed are applied in the same step as
   * `updates` (a dump's), and listeners told of it all at once: of the cache as the server has it
   * now, never of a dump that is behind it. Those of a connection lost meanwhile are dropped.
   */
  async #applyHeld(conn: RpcConnection, updates: RowUpdate[]): Promise<void> {
    if (this.#dumpsRead > 0) {
      if (updates.length > 0) this.#emit(updates);
      return;
    }
    try {
      for (const held of this.#held.splice(0)) {
        if (held.conn === this.#conn) for (const update of this.#updatesOf(held.method, held.params)) updates.push(update);
      }
    } catch (err) {
      // As for a notification read off the socket: a malformed update drops the connection.
      this.#settings.logger.warn({ err }, 'ovsdb: bad update; reconnecting');
      await conn.close();
    } finally {
      this.#emit(updates);
    }
  }

  #onNotification(conn: RpcConnection, method: string, params: Json): void {
    if (this.#dumpsRead > 0) {
      this.#held.push({ conn, method, params });
      return;
    }
    // A throw here (a malformed update) drops the connection; the reconnect resyncs the cache.
    this.#emit(this.#updatesOf(method, params));
  }

  #updatesOf(method: string, params: Json): RowUpdate[] {
    if (method !== 'update2' || !Array.isArray(params)) {
      this.#settings.logger.debug({ method }, 'ovsdb: ignored notification');
      return [];
    }
    const monitor = this.#monitors.get(String(params[0]));
    return monitor ? this.#cache!.applyUpdate2(params[1] ?? null, monitor.columns) : [];
  }

  #onClose(conn: RpcConnection, error: Error | undefined): void {
    if (conn !== this.#conn) return;
    this.#conn = undefined;
    this.#setConnected(false);
    if (this.#closed) return;
    this.#settings.logger.warn({ remote: this.#settings.remote, err: error }, 'ovsdb: connection lost');
    if (!this.#reconnecting) this.#scheduleReconnect(this.#settings.reconnectDelayMs.min);
  }

  #scheduleReconnect(delayMs: number): void {
    this.#reconnectTimer = setTimeout(() => void this.#reconnect(delayMs), delayMs);
  }

  async #reconnect(delayMs: number): Promise<void> {
    this.#reconnecting = true;
    try {
      const conn = await this.#open();
      for (const [id, monitor] of this.#monitors) await this.#startMonitor(conn, id, monitor);
      if (this.#conn !== conn) throw new OvsdbDisconnectedError('connection lost while resynchronizing');
      this.#settings.logger.info({ remote: this.remote }, 'ovsdb: reconnected');
      this.#setConnected(true);
    } catch (err) {
      await this.#conn?.close();
      if (this.#closed) return;
      const next = Math.min(delayMs * 2, this.#settings.reconnectDelayMs.max);
      this.#settings.logger.debug({ remote: this.#settings.remote, err, retryInMs: next }, 'ovsdb: reconnect failed');
      this.#scheduleReconnect(next);
    } finally {
      this.#reconnecting = false;
    }
  }

  #requireConnection(): RpcConnection {
    if (!this.#connected || !this.#conn) throw new OvsdbDisconnectedError(`not connected to ${this.#settings.remote}`);
    return this.#conn;
  }

  #setConnected(connected: boolean): void {
    if (this.#connected === connected) return;
    this.#connected = connected;
    const state: ConnectionState = connected ? 'connected' : 'disconnected';
    for (const listener of this.#connectionListeners) this.#call(() => listener(state));
  }

  #emit(updates: readonly RowUpdate[]): void {
    if (updates.length === 0) return;
    for (const listener of this.#updateListeners) this.#call(() => listener(updates));
  }

  /** A throwing listener must not break message processing or the other listeners. */
  #call(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.#settings.logger.error({ err }, 'ovsdb: listener threw');
    }
  }
}

/**
 * What the `_Server` database says of our database on one member: a clustered database
 * is usable only where that member is connected to the cluster and its leader.
 */
class ServerRole {
  #row: Record<string, Json> = {};

  /** Applies a monitor reply or update2 of the one Database row monitored. */
  apply(updates: Json): void {
    const table = updates && typeof updates === 'object' && !Array.isArray(updates) ? (updates as Record<string, Json>)['Database'] : undefined;
    if (!table || typeof table !== 'object' || Array.isArray(table)) return;
    for (const change of Object.values(table)) {
      if (!change || typeof change !== 'object' || Array.isArray(change)) continue;
      const { initial, insert, modify, delete: deleted } = change as Record<string, Json>;
      if (deleted !== undefined) this.#row = {};
      for (const row of [initial, insert, modify]) {
        if (row && typeof row === 'object' && !Array.isArray(row)) Object.assign(this.#row, row);
      }
    }
  }

  get usable(): boolean {
    // A standalone (or older) server has no raft role; the row is missing only before the database is loaded.
    if (this.#row['model'] !== 'clustered') return this.#row['name'] !== undefined;
    return this.#row['leader'] === true && this.#row['connected'] === true;
  }
}
