import { kinds, resourceOf, scopeKey } from '../events/mod.js';
import type { NovanetEvent, QuotaEvent, QuotaKind, QuotaLimits, ResourceKind, ResourceRef, Scope } from '../events/mod.js';

/**
 * Tenant quotas: the limits the operator set, and what each tenant holds now. Usage is
 * counted by the fold as resources appear and disappear, so checking a quota costs O(1).
 */
export interface QuotaState {
  readonly quotas: Map<string, QuotaLimits>;
  readonly usage: Map<string, Partial<Record<QuotaKind, number>>>;
}

export function initialQuotaState(): QuotaState {
  return { quotas: new Map(), usage: new Map() };
}

export function evolveQuota(state: QuotaState, event: QuotaEvent): void {
  switch (event.type) {
    case 'QuotaSet': {
      const key = scopeKey(event.data.tenant);
      if (Object.keys(event.data.limits).length > 0) state.quotas.set(key, event.data.limits);
      else state.quotas.delete(key);
      return;
    }
    default: {
      const unhandled: never = event.type;
      return unhandled;
    }
  }
}

export function usageOf(view: QuotaState, scope: Scope, kind: QuotaKind): number {
  return view.usage.get(scopeKey(scope))?.[kind] ?? 0;
}

export function tally(view: QuotaState, scope: Scope, kind: QuotaKind, delta: number): void {
  const key = scopeKey(scope);
  const counts = view.usage.get(key) ?? {};
  counts[kind] = (counts[kind] ?? 0) + delta;
  view.usage.set(key, counts);
}

/** What quotas count a kind as (events/kinds.ts); undefined for kinds they do not count. */
export function quotaKindOf(kind: ResourceKind): QuotaKind | undefined {
  return (kinds[kind] as { quota?: QuotaKind }).quota;
}

/** The resource an event creates (+1) or deletes (-1), for the kinds quotas count (events/kinds.ts). */
export function countedResource(event: NovanetEvent): { kind: QuotaKind; resource: ResourceRef; change: 1 | -1 } | undefined {
  const resource = resourceOf(event);
  if (!resource || resource.change === 0) return undefined;
  const quota = quotaKindOf(resource.kind);
  return quota && { kind: quota, resource: { kind: resource.kind, id: resource.id }, change: resource.change };
}
