import { createHash } from 'node:crypto';
import { CacheImpl } from './cache.js';
import type { MonitoredColumns } from './cache.js';
import { RpcConnection, openSocket } from './connection.js';
import { OvsdbDisconnectedError, OvsdbError, OvsdbProtocolError } from './errors.js';
import { stringifyJson } from './json-stream.js';
import type { Json, RowSink } from './json-stream.js';
import { decodeResults, encodeMonitorRequests, encodeOperation } from './operations.js';
import { decodeSavedCache, encodeSavedCache } from './saved-cache.js';
import type { CacheIdentity, SavedMonitor } from './saved-cache.js';
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
  /** A sha256 of `request`: a saved cache answers only the same request. */
  readonly digest: string;
  /** The transaction the cache's rows of this monitor are as of (a clustered database's): monitor_cond_since resumes from it. */
  lastTxnId?: Uuid;
  /** Rows saved as of `lastTxnId` (restoreCache), not yet in the cache: the base a found=true reply's changes apply to. */
  restored?: SavedMonitor;
}

/** monitor_cond_since from no transaction: a full dump. */
const NO_TXN = '00000000-0000-0000-0000-000000000000';

/** A monitor_cond_since reply's result: found, the last transaction's id, then table updates. */
function sinceReply(result: Json): { readonly found: boolean; readonly lastTxnId: Uuid; readonly updates: Json } {
  if (!Array.isArray(result) || typeof result[0] !== 'boolean' || typeof result[1] !== 'string') throw new OvsdbProtocolError('malformed monitor_cond_since reply');
  return { found: result[0], lastTxnId: result[1], updates: result[2] ?? null };
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
  /** A sha256 of the schema as the server sent it: a cache saved under another one is not used. */
  #schemaDigest = '';
  /** The raft cluster's id of the database, if it is clustered (and `_Server` is read: leaderOnly). */
  #cluster: Uuid | undefined;
  /** Monitors of a saved cache (restoreCache), each taken by the first monitor() of the same request. */
  #restored: readonly SavedMonitor[] = [];
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
    const digest = createHash('sha256').update(stringifyJson(json)).digest('hex');
    const restored = this.#restored.find((saved) => saved.request === digest);
    this.#restored = this.#restored.filter((saved) => saved !== restored);
    const monitor: Monitor = { request: json, columns, digest, ...(restored && { lastTxnId: restored.lastTxnId, restored }) };
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

  /**
   * The monitored rows with the transaction each monitor's are as of, as bytes `restoreCache`
   * takes back; undefined for a standalone database (its server keeps no transaction history:
   * monitor_cond_since always answers with the full dump) or a monitor not yet resumable.
   */
  saveCache(): Uint8Array | undefined {
    const identity = this.#identity();
    const monitors = [...this.#monitors.values()];
    if (!identity || monitors.length === 0 || monitors.some((m) => m.lastTxnId === undefined || m.restored)) return undefined;
    return encodeSavedCache(identity, monitors.map((m) => ({ request: m.digest, lastTxnId: m.lastTxnId!, ...this.#cache!.saved(m.columns) })));
  }

  /**
   * Takes a cache `saveCache` made, for the monitors asked for next with the same requests:
   * each asks the server for what changed since its transaction, and a found=true reply's
   * changes apply to these rows; found=false (the transaction left the server's history) is
   * a full dump, as without them. Before monitor(). Returns the rows taken, or why none is
   * (another database or cluster, schema or encoding, a standalone database, a bad checksum).
   */
  restoreCache(bytes: Uint8Array): { readonly rows: number } | { readonly reason: string } {
    if (this.#monitors.size > 0) return { reason: 'monitors are already established' };
    const identity = this.#identity();
    if (!identity) return { reason: 'the database is not clustered (or its cluster is not known: leaderOnly is off)' };
    const monitors = decodeSavedCache(bytes, identity);
    if ('reason' in monitors) return monitors;
    this.#restored = monitors;
    return { rows: monitors.reduce((n, m) => n + m.tables.reduce((t, table) => t + table.rows.length, 0), 0) };
  }

  #identity(): CacheIdentity | undefined {
    return this.#cluster === undefined ? undefined : { database: this.#settings.database, cluster: this.#cluster, schema: this.#schemaDigest };
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#reconnectTimer);
    await this.#conn?.close();
  }

  async #start(): Promise<void> {
    const conn = await this.#open();
    try {
      const schema = await conn.request('get_schema', [this.#settings.database], (json) => json);
      this.#schema = parseSchema(schema);
      this.#schemaDigest = createHash('sha256').update(stringifyJson(schema)).digest('hex');
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
          Database: [{ columns: ['name', 'model', 'connected', 'leader', 'cid'], where: [['name', '==', this.#settings.database]] }],
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
    // Another cluster (the database made again) knows none of the transactions the cache is as of.
    if (role.cluster !== this.#cluster) for (const monitor of this.#monitors.values()) monitor.lastTxnId = undefined;
    this.#cluster = role.cluster;
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
   *
   * A clustered database is asked with monitor_cond_since from the transaction the monitor's rows
   * are as of (none: a full dump). found=true answers with what changed since: applied to the
   * cache (a reconnect) or to the restored rows, which the same swap as a dump's puts in first.
   */
  async #startMonitor(conn: RpcConnection, id: string, monitor: Monitor): Promise<void> {
    this.#dumpsRead++;
    let updates: RowUpdate[] = [];
    try {
      try {
        updates = await this.#readMonitor(conn, id, monitor);
      } finally {
        this.#dumpsRead--;
      }
    } finally {
      // Also when the request failed: what the other monitors were sent meanwhile is not lost.
      await this.#applyHeld(conn, updates);
    }
  }

  /** Asks for the monitor's rows and swaps them in; returns what changed. */
  async #readMonitor(conn: RpcConnection, id: string, monitor: Monitor): Promise<RowUpdate[]> {
    const restored = monitor.restored;
    monitor.restored = undefined;
    const { reply, reader, changes } = await this.#askMonitor(conn, id, monitor);
    const base = reply.found ? restored : undefined;
    if (reply.found && !this.#cache!.holdsModified(changes, base)) {
      // Changes of rows neither the cache nor the restored rows hold: not a history of these rows.
      this.#settings.logger.warn({ monitor: id }, 'ovsdb: the changes since the cache\'s transaction modify rows it does not hold; asking for the full dump');
      monitor.lastTxnId = undefined;
      await conn.request('monitor_cancel', [id], () => undefined);
      // What the cancelled monitor was sent after its reply is in the dump asked for next.
      this.#held.splice(0, this.#held.length, ...this.#held.filter((held) => !(Array.isArray(held.params) && held.params[0] === id)));
      return this.#readMonitor(conn, id, monitor);
    }
    if (base) await reader.saved(base);
    // A reconnect's found=true keeps the cache as it is: only the changes apply.
    const swap = reply.found && !base ? undefined : await reader.done();
    if (conn !== this.#conn) throw new OvsdbDisconnectedError('connection lost while reading the dump');
    const updates = swap?.() ?? [];
    for (const update of this.#cache!.applyUpdate2(changes, monitor.columns)) updates.push(update);
    monitor.lastTxnId = reply.lastTxnId;
    if (restored) {
      this.#settings.logger.info({ monitor: id, found: reply.found }, reply.found
        ? 'ovsdb: the restored cache resumed from its transaction'
        : 'ovsdb: the restored cache\'s transaction is not in the server\'s history; read the full dump instead');
    }
    return updates;
  }

  /**
   * Sends the monitor request: monitor_cond_since from the monitor's transaction to a clustered
   * database (no transaction: the full dump), monitor_cond to a standalone one, whose server
   * keeps no history. A dump's rows go to the reader as they are read; a found=true reply's
   * (insert, modify, delete of what the monitor holds) are returned as table updates.
   */
  async #askMonitor(conn: RpcConnection, id: string, monitor: Monitor) {
    const resuming = this.#cluster !== undefined;
    const reader = this.#cache!.readDump(monitor.columns);
    const changes: { [table: string]: { [uuid: string]: Json } } = {};
    // A row that does not decode fails its request, not the connection (the parser would drop it).
    let failure: { readonly error: unknown } | undefined;
    const rows: RowSink = (table, uuid, change) => {
      if (failure) return;
      try {
        if (isInitial(change)) reader.row(table, uuid, change);
        else (changes[table] ??= {})[uuid] = change;
      } catch (error) {
        failure = { error };
      }
    };
    // The reply's rows came through `rows` as they were read; only another server's come here.
    const rest = (result: Json) => {
      const reply = resuming ? sinceReply(result) : { found: false, lastTxnId: undefined, updates: result };
      for (const [table, updates] of Object.entries(asObject(reply.updates, 'table-updates2'))) {
        for (const [uuid, change] of Object.entries(asObject(updates, `${table} updates`))) rows(table, uuid, change);
      }
      if (failure) throw failure.error;
      return reply;
    };
    const params = [this.#settings.database, id, monitor.request, ...(resuming ? [monitor.lastTxnId ?? NO_TXN] : [])];
    const reply = await conn.request(resuming ? 'monitor_cond_since' : 'monitor_cond', params, rest, rows);
    return { reply, reader, changes };
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

  /** update2 (monitor_cond), or update3 (monitor_cond_since), which names the transaction the cache is then as of. */
  #updatesOf(method: string, params: Json): RowUpdate[] {
    if ((method !== 'update2' && method !== 'update3') || !Array.isArray(params)) {
      this.#settings.logger.debug({ method }, 'ovsdb: ignored notification');
      return [];
    }
    const monitor = this.#monitors.get(String(params[0]));
    if (!monitor) return [];
    const updates = this.#cache!.applyUpdate2((method === 'update3' ? params[2] : params[1]) ?? null, monitor.columns);
    if (method === 'update3' && typeof params[1] === 'string') monitor.lastTxnId = params[1];
    return updates;
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

  /** The database's raft cluster id; undefined for a standalone one. */
  get cluster(): Uuid | undefined {
    const cid = this.#row['cid'];
    return this.#row['model'] === 'clustered' && Array.isArray(cid) && cid[0] === 'uuid' && typeof cid[1] === 'string' ? cid[1] : undefined;
  }

  get usable(): boolean {
    // A standalone (or older) server has no raft role; the row is missing only before the database is loaded.
    if (this.#row['model'] !== 'clustered') return this.#row['name'] !== undefined;
    return this.#row['leader'] === true && this.#row['connected'] === true;
  }
}

function isInitial(change: Json): boolean {
  return typeof change === 'object' && change !== null && !Array.isArray(change) && change['initial'] !== undefined;
}
