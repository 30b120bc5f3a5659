import { createHash } from 'node:crypto';
import { deserialize, serialize } from 'node:v8';
import type { Atom, Uuid } from './types.js';

/**
 * What a saved cache depends on; a cache saved under any other value is not used. The txn ids
 * `monitor_cond_since` resumes from are a raft cluster's (ovsdb-server keeps a transaction
 * history only for clustered databases), so the cluster's id is the database's identity: a
 * database made again, or another cluster, has another one.
 */
export interface CacheIdentity {
  readonly database: string;
  /** `_Server`'s Database row's `cid`. */
  readonly cluster: Uuid;
  /** A sha256 of the schema as get_schema sent it. */
  readonly schema: string;
}

/** One monitor's rows as of `lastTxnId`, and the request they answer. */
export interface SavedMonitor extends SavedRows {
  /** A sha256 of the monitor request (its tables, columns and conditions). */
  readonly request: string;
  readonly lastTxnId: Uuid;
}

/**
 * Rows as CacheImpl.saved writes them: every distinct string once, in `strings`, and each
 * string atom of a row its index there, so the decode gives every use of a string (an owner
 * mark, a referenced row's UUID) one string, as the cache shares them.
 */
export interface SavedRows {
  readonly strings: readonly string[];
  readonly tables: readonly SavedTable[];
}

/**
 * A table's rows as value lists in the order of `columns` (`_uuid` first): no column name a
 * row. A scalar is its atom, a set an array of atoms, a map a flat array of keys and values;
 * a value the cache shares between rows is one array (V8's serialization keeps it one).
 */
export interface SavedTable {
  readonly table: string;
  readonly columns: readonly string[];
  readonly rows: readonly (readonly SavedValue[])[];
}

export type SavedValue = Atom | readonly Atom[];

const MAGIC = 'novanet-ovsdb-cache';
/** A change of this encoding bumps it: a cache of another version is not used (a full dump instead). */
const VERSION = 1;

/** `novanet-ovsdb-cache <version> <database> <cluster> <schema digest> <sha256 of the body>`, then the monitors in V8's serialization. */
export function encodeSavedCache(identity: CacheIdentity, monitors: readonly SavedMonitor[]): Uint8Array {
  const body = serialize(monitors);
  const checksum = createHash('sha256').update(body).digest('hex');
  return Buffer.concat([Buffer.from(`${MAGIC} ${VERSION} ${identity.database} ${identity.cluster} ${identity.schema} ${checksum}\n`), body]);
}

/** The monitors saved in `bytes` if they were saved under `identity`, or why they cannot be used. */
export function decodeSavedCache(bytes: Uint8Array, identity: CacheIdentity): readonly SavedMonitor[] | { readonly reason: string } {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = buffer.indexOf(0x0a);
  if (end < 0 || end > 400) return { reason: 'no cache header' };
  const [magic, version, database, cluster, schema, checksum] = buffer.toString('utf8', 0, end).split(' ');
  if (magic !== MAGIC || checksum === undefined) return { reason: 'no cache header' };
  if (version !== String(VERSION)) return { reason: `cache version ${version}, this client reads ${VERSION}` };
  if (database !== identity.database || cluster !== identity.cluster) return { reason: `saved from database ${database} of cluster ${cluster}, connected to ${identity.database} of cluster ${identity.cluster}` };
  if (schema !== identity.schema) return { reason: 'saved under another schema' };
  const body = buffer.subarray(end + 1);
  if (createHash('sha256').update(body).digest('hex') !== checksum) return { reason: 'checksum mismatch' };
  try {
    const monitors = deserialize(body) as readonly SavedMonitor[];
    if (!Array.isArray(monitors) || !monitors.every((m) => Array.isArray(m?.strings) && Array.isArray(m.tables))) return { reason: 'body does not hold monitors' };
    return monitors;
  } catch (err) {
    return { reason: `body does not decode: ${String(err)}` };
  }
}
