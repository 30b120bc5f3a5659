import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { deserialize, serialize } from 'node:v8';
import type { JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { QuarantinedRecord, Subjects } from '../../events/mod.js';
import type { CommandRetention, CommandView, View } from '../../projections/mod.js';
import { z } from 'zod';
import { isStreamNotFound } from './errors.js';

/**
 * The codec's version: a snapshot of another version is not loaded (the log is folded in
 * full), so a change of the views' shapes or of this encoding bumps it and needs no migration.
 * 2: a port's address and creation time as numbers (`ip`, `created`), no port set on subnets.
 */
export const SNAPSHOT_VERSION = 2;

/** What a snapshot holds: both views' state after the log's commits through `view.seq`. */
export interface SnapshotState {
  readonly view: View;
  readonly commands: CommandView;
  /** The log's messages through the snapshot's seq that are not commits: the reconciler reports them again. */
  readonly quarantined: readonly QuarantinedRecord[];
}

/** Where a snapshot was taken: the log's seq (every record through it is in the state) and which log. */
export interface SnapshotPoint {
  readonly seq: number;
  /** The log stream's creation time: a log deleted and made again is another log, whatever its seqs. */
  readonly log: string;
}

/** A snapshot as decoded. */
export interface Snapshot extends SnapshotState, SnapshotPoint {}

const MAGIC = 'novanet-snapshot';

/**
 * Which code folded the views: a digest of the built folds (projections/ and events/, whose
 * evolve functions decide every field a view holds). A snapshot folded by other code (another
 * release, a rolling upgrade's other engine) is not loaded: the views it holds are what that
 * code's fold produced, not necessarily this one's, and nothing else would say so.
 */
export const FOLD_DIGEST = foldDigest();

function foldDigest(): string {
  const hash = createHash('sha256');
  for (const dir of ['../../projections/', '../../events/']) {
    const url = new URL(dir, import.meta.url);
    for (const file of readdirSync(url).filter((f) => f.endsWith('.js')).sort()) hash.update(file).update(readFileSync(new URL(file, url)));
  }
  return hash.digest('hex').slice(0, 16);
}

/** What the body holds: the state, and which log it is a fold of. */
interface Body extends SnapshotState {
  readonly log: string;
}

/**
 * Encodes both views with V8's structured serialization (node:v8), behind one header line:
 * `novanet-snapshot <version> <fold digest> <seq> <sha256 of the body>`. Chosen over JSON, measured at 30k
 * ports (README "Restart"): it keeps Maps, Sets and their order, absent and undefined fields
 * and shared objects exactly as the fold left them, with no tagging of its own, and encodes
 * 5× and decodes 2× faster than JSON of the same data. Its format is backward compatible
 * across Node versions; one this Node cannot read fails to decode, and the log is folded.
 */
export function encodeSnapshot(state: SnapshotState, { seq, log }: SnapshotPoint): Uint8Array {
  const body = serialize({ log, view: state.view, commands: state.commands, quarantined: state.quarantined } satisfies Body);
  const header = Buffer.from(`${MAGIC} ${SNAPSHOT_VERSION} ${FOLD_DIGEST} ${seq} ${createHash('sha256').update(body).digest('hex')}\n`);
  const bytes = Buffer.concat([header, body]);
  releaseBytes(body);
  return bytes;
}

/**
 * Frees the memory of bytes nobody reads any more now, by detaching their buffer: otherwise a
 * buffer that outlived a few young-generation collections (a snapshot while it is stored) is
 * freed only at the next full collection. At 30k ports the engine's RSS held ~1.5 KiB a port
 * of snapshot buffers between full collections (README "Scale"). A buffer shared with others
 * (Node's pool for small ones) is left alone.
 */
export function releaseBytes(bytes: Uint8Array): void {
  if (bytes.byteOffset !== 0 || bytes.byteLength !== bytes.buffer.byteLength || !(bytes.buffer instanceof ArrayBuffer)) return;
  structuredClone(bytes.buffer, { transfer: [bytes.buffer] });
}

/**
 * The snapshot in `bytes`, or why it cannot be used (the caller folds the whole log instead).
 * `shareStrings`: equal strings made one, as the fold has them (shareStrings, below): a decoded
 * view ~0.5 KiB a port smaller, for ~2× the decode's CPU (~+0.8 s at 100k ports).
 */
export function decodeSnapshot(bytes: Uint8Array, { shareStrings: share = false }: { readonly shareStrings?: boolean } = {}): Snapshot | { readonly reason: string } {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = buffer.indexOf(0x0a);
  if (end < 0 || end > 200) return { reason: 'no snapshot header' };
  const [magic, version, fold, seqText, checksum] = buffer.toString('utf8', 0, end).split(' ');
  if (magic !== MAGIC || !/^\d+$/.test(seqText ?? '') || checksum === undefined) return { reason: 'no snapshot header' };
  if (version !== String(SNAPSHOT_VERSION)) return { reason: `codec version ${version}, this engine reads ${SNAPSHOT_VERSION}` };
  if (fold !== FOLD_DIGEST) return { reason: `folded by other code (fold ${fold}, this engine's ${FOLD_DIGEST})` };
  const body = buffer.subarray(end + 1);
  if (createHash('sha256').update(body).digest('hex') !== checksum) return { reason: 'checksum mismatch' };
  let parsed: Partial<Body>;
  try {
    parsed = deserialize(body) as Partial<Body>;
  } catch (err) {
    return { reason: `body does not decode: ${String(err)}` };
  }
  const seq = Number(seqText);
  if (share) shareStrings(parsed);
  const { log, view, commands, quarantined } = parsed;
  // The view's seq is its last commit's, at most the snapshot's (a quarantined message may follow it).
  if (typeof log !== 'string' || view === undefined || view.seq > seq || commands?.seq !== view.seq || !Array.isArray(quarantined)) {
    return { reason: 'body does not hold the views at the header\'s seq' };
  }
  return { seq, log, view, commands, quarantined };
}

/**
 * Makes every string of a decoded body that equals one met before that one. The fold keeps
 * one string for each id wherever it is used (a port's id is its map key, its subnet's, its
 * group's and its tenant's set entry, its address's holder), but V8's deserializer gives each
 * use a copy of its own: a decoded view was ~1.1 KiB a port instead of the fold's ~0.5
 * (heap snapshot at 30k ports, README "Scale"). Maps and sets are filled again in their
 * order with the shared keys; objects decoded as one stay one (the walk visits each once).
 */
function shareStrings(body: unknown): void {
  const strings = new Map<string, string>();
  const seen = new Set<object>();
  const share = (value: unknown): unknown => {
    if (typeof value === 'string') {
      const known = strings.get(value);
      if (known !== undefined) return known;
      strings.set(value, value);
      return value;
    }
    if (value === null || typeof value !== 'object' || seen.has(value)) return value;
    seen.add(value);
    if (value instanceof Map) {
      const entries = [...value];
      value.clear();
      for (const [k, v] of entries) value.set(share(k), share(v));
    } else if (value instanceof Set) {
      const members = [...value];
      value.clear();
      for (const member of members) value.add(share(member));
    } else if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) if (typeof value[i] === 'string' || typeof value[i] === 'object') value[i] = share(value[i]);
    } else {
      const record = value as Record<string, unknown>;
      for (const key of Object.keys(record)) if (typeof record[key] === 'string' || typeof record[key] === 'object') record[key] = share(record[key]);
    }
    return value;
  };
  share(body);
}

/** Whether a snapshot's idempotency view was folded with `retention`: another one would keep other records. */
export function sameRetention(commands: CommandView, retention: CommandRetention): boolean {
  return commands.retention.ms === retention.ms && commands.retention.perScope === retention.perScope;
}

/** Why `load` found nothing: none was ever stored, or it was purged (an ordinary start). */
export const NO_SNAPSHOT = 'no snapshot stored';

/** The manifest on the head subject: which chunks make the newest snapshot. */
const Manifest = z.object({ seq: z.number().int().min(0), chunks: z.number().int().min(1), bytes: z.number().int().min(0) });
type Manifest = z.infer<typeof Manifest>;

/**
 * The newest snapshot on JetStream (the stream `<PREFIX>_SNAPSHOT`, src/bus/streams.ts): its
 * bytes in chunks under NATS's max payload, each on a subject of its own, then a manifest on
 * the head subject naming them. The manifest is written last, so a snapshot cut off half-way
 * is never named; a manifest naming chunks that are gone or wrong fails the checksum. Read by
 * direct gets, raw bytes (a message get's are base64 in JSON: 0.3 s of CPU at 30k ports); a
 * replica behind the leader answers an older manifest or no chunk, so at worst an older
 * snapshot or none is loaded. A cache only: nothing reads it but an engine's start, which
 * folds the whole log without it.
 */
export class SnapshotStore {
  constructor(
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
    private readonly stream: string,
    /** Subjects' own: the views' snapshot's, or the reconciler's saved Northbound cache's (`northboundCache`). */
    private readonly subjects: Pick<Subjects, 'snapshotChunk' | 'snapshotChunks'> & { readonly snapshotHead: string },
  ) {}

  /** Stores `bytes` as the newest snapshot, taken at `seq`, and drops the one it replaces. */
  async save(seq: number, bytes: Uint8Array): Promise<void> {
    const before = await this.manifest();
    // Headroom under max_payload for the message's headers.
    const size = Math.max(1024, (this.nc.info?.max_payload ?? 1024 * 1024) - 4096);
    const js = this.jsm.jetstream();
    const chunks = Math.max(1, Math.ceil(bytes.byteLength / size));
    const acks = [];
    for (let n = 0; n < chunks; n++) acks.push(js.publish(this.subjects.snapshotChunk(seq, n), bytes.subarray(n * size, (n + 1) * size)));
    await Promise.all(acks);
    const manifest: Manifest = { seq, chunks, bytes: bytes.byteLength };
    await js.publish(this.subjects.snapshotHead, JSON.stringify(manifest));
    if (before && before.seq !== seq) await this.jsm.streams.purge(this.stream, { filter: this.subjects.snapshotChunks(before.seq) });
  }

  /** The newest snapshot's bytes, or why there is none to load. */
  async load(): Promise<{ readonly seq: number; readonly bytes: Uint8Array } | { readonly reason: string }> {
    const manifest = await this.manifest();
    if (!manifest) return { reason: NO_SNAPSHOT };
    const bytes = new Uint8Array(manifest.bytes);
    let at = 0;
    for (let n = 0; n < manifest.chunks; n++) {
      const m = await this.jsm.direct.getMessage(this.stream, { last_by_subj: this.subjects.snapshotChunk(manifest.seq, n) });
      if (m === null || at + m.data.byteLength > bytes.byteLength) return { reason: `chunk ${n} of the snapshot at seq ${manifest.seq} is missing or too long` };
      bytes.set(m.data, at);
      at += m.data.byteLength;
    }
    if (at !== bytes.byteLength) return { reason: `the snapshot at seq ${manifest.seq} is ${at} bytes, its manifest says ${manifest.bytes}` };
    return { seq: manifest.seq, bytes };
  }

  /** Deletes every stored snapshot (operators, and tests showing a snapshot is only a cache). */
  async clear(): Promise<void> {
    await this.jsm.streams.purge(this.stream);
  }

  private async manifest(): Promise<Manifest | undefined> {
    let m;
    try {
      m = await this.jsm.direct.getMessage(this.stream, { last_by_subj: this.subjects.snapshotHead });
    } catch (err) {
      if (isStreamNotFound(err)) return undefined;
      throw err;
    }
    if (m === null) return undefined;
    try {
      return Manifest.parse(m.json());
    } catch {
      return undefined;
    }
  }
}
