import { createHash } from 'node:crypto';
import { canonicalJson } from '../../events/mod.js';
import { viewEntries } from '../../projections/mod.js';
import type { View } from '../../projections/mod.js';

/**
 * Digests of a view, coarse to fine, so two views can be compared without shipping either
 * and the first difference found in a few steps (each answer bounded in size, whatever the
 * size of the cloud): the whole view; each part (a resource kind, an index); each of a
 * part's 256 buckets (by the hash of the entry's id); each entry of one bucket.
 *
 * `novanet verify` asks the engine for these (operator subject `<prefix>.admin.ops.digest`)
 * and compares them with its own fold of the log.
 */
export interface DigestQuery {
  readonly part?: string;
  readonly bucket?: string;
}

export interface DigestAnswer {
  readonly seq: number;
  /** The whole view's digest (for `{}`). */
  readonly view?: string;
  /** Digests by name: parts for `{}`, buckets for `{part}`, entry ids for `{part, bucket}`. */
  readonly digests: Readonly<Record<string, string>>;
}

const hash = (text: string): string => createHash('sha256').update(text).digest('hex');
const bucketOf = (id: string): string => hash(id).slice(0, 2);

export function viewDigest(view: View, query: DigestQuery = {}): DigestAnswer {
  const entries = new Map<string, Map<string, Map<string, string>>>();
  for (const { part, id, value } of viewEntries(view)) {
    if (query.part !== undefined && part !== query.part) continue;
    const bucket = bucketOf(id);
    if (query.bucket !== undefined && bucket !== query.bucket) continue;
    let buckets = entries.get(part);
    if (!buckets) entries.set(part, buckets = new Map());
    let ids = buckets.get(bucket);
    if (!ids) buckets.set(bucket, ids = new Map());
    ids.set(id, hash(canonicalJson(value)));
  }
  const digestOf = (digests: ReadonlyMap<string, string>): string =>
    hash([...digests].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${k}=${v}`).join('\n'));
  const bucketDigests = (buckets: ReadonlyMap<string, ReadonlyMap<string, string>>) => new Map([...buckets].map(([b, ids]) => [b, digestOf(ids)]));
  if (query.part !== undefined && query.bucket !== undefined) {
    return { seq: view.seq, digests: Object.fromEntries(entries.get(query.part)?.get(query.bucket) ?? []) };
  }
  if (query.part !== undefined) return { seq: view.seq, digests: Object.fromEntries(bucketDigests(entries.get(query.part) ?? new Map())) };
  const parts = new Map([...entries].map(([part, buckets]) => [part, digestOf(bucketDigests(buckets))]));
  return { seq: view.seq, view: digestOf(parts), digests: Object.fromEntries(parts) };
}
