import type { NovanetEvent, QuotaKind, QuotaLimits, Scope } from '../events/mod.js';

/**
 * Tenant quotas: the limits the operator set, and what each tenant holds now. Usage is
 * counted by the fold as resources appear and disappear, so checking a quota costs O(1).
 */
export interface QuotaView {
  readonly quotas: Map<string, QuotaLimits>;
  readonly usage: Map<string, Partial<Record<QuotaKind, number>>>;
}

export function tenantKey(scope: Scope): string {
  return `${scope.org}/${scope.project}`;
}

export function usageOf(view: QuotaView, scope: Scope, kind: QuotaKind): number {
  return view.usage.get(tenantKey(scope))?.[kind] ?? 0;
}

export function tally(view: QuotaView, scope: Scope, kind: QuotaKind, delta: number): void {
  const key = tenantKey(scope);
  const counts = view.usage.get(key) ?? {};
  counts[kind] = (counts[kind] ?? 0) + delta;
  view.usage.set(key, counts);
}

/** The resource an event creates (+1) or deletes (-1), for the kinds quotas count. */
export function countedResource(event: NovanetEvent): { kind: QuotaKind; id: string; change: 1 | -1 } | undefined {
  switch (event.type) {
    case 'VpcCreated': return { kind: 'vpcs', id: event.data.vpcId, change: 1 };
    case 'VpcDeleted': return { kind: 'vpcs', id: event.data.vpcId, change: -1 };
    case 'SubnetCreated': return { kind: 'subnets', id: event.data.subnetId, change: 1 };
    case 'SubnetDeleted': return { kind: 'subnets', id: event.data.subnetId, change: -1 };
    case 'PortCreated': return { kind: 'ports', id: event.data.portId, change: 1 };
    case 'PortDeleted': return { kind: 'ports', id: event.data.portId, change: -1 };
    case 'SecurityGroupCreated': return { kind: 'securityGroups', id: event.data.securityGroupId, change: 1 };
    case 'SecurityGroupDeleted': return { kind: 'securityGroups', id: event.data.securityGroupId, change: -1 };
    case 'ExternalIpAllocated': return { kind: 'externalIps', id: event.data.externalIpId, change: 1 };
    case 'ExternalIpReleased': return { kind: 'externalIps', id: event.data.externalIpId, change: -1 };
    case 'LoadBalancerCreated': return { kind: 'loadBalancers', id: event.data.loadBalancerId, change: 1 };
    case 'LoadBalancerDeleted': return { kind: 'loadBalancers', id: event.data.loadBalancerId, change: -1 };
    default: return undefined;
  }
}
