import { ExternalEvent, NetworkClassEvent, NetworkEvent, NovanetEvent, PROVIDER_SCOPE, QuotaEvent, SecurityEvent, kinds, resourceOf, sameScope, scopeKey } from '../events/mod.js';
import type { CommitRecord, ResourceKind, ResourceRef, Scope } from '../events/mod.js';
import { childrenOf, indexChild } from './children.js';
import type { Children } from './children.js';
import { evolveExternal, externalCollections, initialExternalState } from './external.js';
import type { ExternalState } from './external.js';
import type { MacUse } from './macs.js';
import { evolveNetwork, initialNetworkState, networkCollections } from './network.js';
import { evolveNetworkClass, initialNetworkClassState, networkClassCollections } from './network-class.js';
import type { NetworkClassState } from './network-class.js';
import type { NetworkState } from './network.js';
import { evolveQuota, initialQuotaState, quotaKindOf, tally } from './quota.js';
import type { QuotaState } from './quota.js';

/**
 * The view: every family's state, folded from commits. Each family's fold takes only its
 * own slice (and reads what it must check); this module dispatches to them and keeps what
 * spans families: the sequence, and quota usage.
 *
 * Folds mutate the view they are given: copying maps on every event would make each change
 * cost O(size of the view). Purity still holds where it matters: no clocks, randomness or
 * I/O, so replaying the same log into `initialView()` always gives a deep-equal view.
 */
export interface View extends NetworkState, ExternalState, NetworkClassState, QuotaState, MacUse {
  /** Sequence of the last commit folded in; 0 for an empty log. */
  seq: number;
  /** Every resource's id by its scope and kind (scopeKindKey): a tenant's lists and walks cost O(what it holds). */
  readonly scopeResources: Children;
}

export function initialView(): View {
  return {
    seq: 0, ...initialNetworkState(), ...initialExternalState(), ...initialNetworkClassState(), ...initialQuotaState(), macs: new Map(),
    scopeResources: new Map(),
  };
}

/** The key of a scope's resources of one kind in `scopeResources`. */
export function scopeKindKey(scope: Scope, kind: ResourceKind): string {
  return `${scopeKey(scope)}/${kind}`;
}

type Fold = (view: View, event: NovanetEvent, record: CommitRecord) => void;
const family = <E extends NovanetEvent>(union: { options: readonly { shape: { type: { value: string } } }[] }, fold: (view: View, event: E, record: CommitRecord) => void) =>
  union.options.map((o) => [o.shape.type.value, fold as Fold] as const);

/** Each event type's family fold. */
const folds = new Map<string, Fold>([
  ...family(NetworkEvent, evolveNetwork),
  ...family(SecurityEvent, evolveNetwork),
  ...family(ExternalEvent, evolveExternal),
  ...family(NetworkClassEvent, (view, event: NetworkClassEvent, record) => evolveNetworkClass(view, event, record)),
  ...family(QuotaEvent, (view, event: QuotaEvent) => evolveQuota(view, event)),
]);
// A programming error, not data: an event family nobody folds would be ignored silently.
const unfolded = NovanetEvent.options.map((o) => o.shape.type.value).filter((type) => !folds.has(type));
if (unfolded.length > 0) throw new Error(`no fold for event types ${unfolded.join(', ')} (projections/view.ts)`);

export function evolve(view: View, record: CommitRecord): View {
  for (const event of record.commit.events) {
    // The scope index and quota usage follow what the event really did to the view, so an ignored event counts for nothing.
    const changed = resourceOf(event);
    const ref = changed && changed.change !== 0 ? { kind: changed.kind, id: changed.id } : undefined;
    const before = ref && scopeOf(view, ref);
    folds.get(event.type)?.(view, event, record);
    if (!ref) continue;
    const after = scopeOf(view, ref);
    const quota = quotaKindOf(ref.kind);
    if (before && !(after && sameScope(before, after))) {
      indexChild(view.scopeResources, scopeKindKey(before, ref.kind), ref.id, false);
      if (quota && !after) tally(view, before, quota, -1);
    }
    if (after && !(before && sameScope(before, after))) {
      indexChild(view.scopeResources, scopeKindKey(after, ref.kind), ref.id, true);
      if (quota && !before) tally(view, after, quota, 1);
    }
  }
  view.seq = record.seq;
  return view;
}

/** Each kind's collection in the view, from its family; the compiler names a kind without one. */
export const collections = {
  ...networkCollections,
  ...externalCollections,
  ...networkClassCollections,
} as const satisfies Record<ResourceKind, (view: View) => ReadonlyMap<string, Resource>>;

/** What every resource in the view has: its id, its tenant (provider resources have none) and the sequence of its last commit. */
interface Resource {
  readonly id: string;
  readonly scope?: Scope;
  readonly seq: number;
}

type ResourceOf<K extends ResourceKind> = ReturnType<(typeof collections)[K]> extends ReadonlyMap<string, infer R> ? R : never;
/** The same collections, typed so that a generic kind's collection has the kind's resources. */
const collectionOf: { readonly [K in ResourceKind]: (view: View) => ReadonlyMap<string, ResourceOf<K>> } = collections;

/** The resources of one kind in a scope, oldest first: O(what the scope holds of the kind), whatever the cloud holds. */
export function resourcesIn<K extends ResourceKind>(view: View, scope: Scope, kind: K): ResourceOf<K>[] {
  const collection = collectionOf[kind](view);
  return [...childrenOf(view.scopeResources, scopeKindKey(scope, kind))].flatMap((id) => collection.get(id) ?? []);
}

/** The scope of a resource in the view; undefined when it is not there. */
export function scopeOf(view: View, ref: ResourceRef): Scope | undefined {
  const found = (collections[ref.kind](view) as ReadonlyMap<string, Resource>).get(ref.id);
  if (!found) return undefined;
  return kinds[ref.kind].owner === 'provider' ? PROVIDER_SCOPE : found.scope;
}

/** Every resource of the view with its scope and the sequence of its last commit: what a full resync walks. */
export function* allResources(view: View): Generator<{ ref: ResourceRef; scope: Scope; seq: number }> {
  for (const kind of Object.keys(collections) as ResourceKind[]) {
    for (const resource of (collections[kind](view) as ReadonlyMap<string, Resource>).values()) {
      yield { ref: { kind, id: resource.id }, scope: kinds[kind].owner === 'provider' ? PROVIDER_SCOPE : resource.scope!, seq: resource.seq };
    }
  }
}

/** One piece of the view in canonical form: a resource (`part` its kind), or an entry of another part (an index, quotas). */
export interface ViewEntry {
  readonly part: string;
  readonly id: string;
  /** Plain JSON: maps as objects, sets as sorted arrays. */
  readonly value: unknown;
}

/**
 * The whole view as entries, every resource by kind and id and every other part of the
 * view (indexes such as the MACs in use, quotas) by key: what `novanet verify` digests and
 * `novanet diff` compares. Two views are deep-equal exactly when their entries are.
 */
export function* viewEntries(view: View): Generator<ViewEntry> {
  const collectionMaps = new Set<unknown>();
  for (const kind of Object.keys(collections) as ResourceKind[]) {
    const map = collections[kind](view) as ReadonlyMap<string, Resource>;
    collectionMaps.add(map);
    for (const resource of map.values()) yield { part: kind, id: resource.id, value: plain(resource) };
  }
  for (const [part, value] of Object.entries(view)) {
    if (part === 'seq' || collectionMaps.has(value)) continue;
    if (value instanceof Map) for (const [id, entry] of value) yield { part, id: String(id), value: plain(entry) };
    else yield { part, id: '', value: plain(value) };
  }
}

/** A value of the view as plain JSON: a map becomes an object, a set a sorted array. */
export function plain(value: unknown): unknown {
  if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [String(k), plain(v)]));
  if (value instanceof Set) return [...value].map(plain).sort();
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value;
}
