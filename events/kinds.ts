import type { EventType, NovanetEvent } from './commit.js';
import type { QuotaKind } from './quota.js';

/**
 * What the contract knows of each resource kind: its wire name (the key: subjects, statuses,
 * `novanet:kind`), whose it is, the events that create, change and delete it and the id they
 * carry, and what quotas count it as. Everything else in novanet that depends on the kind
 * (the view's collection, the Northbound rows, the status details, the CLI) is a lookup in a
 * table keyed by this one, so the compiler names every piece a new kind still lacks.
 */
interface KindContract {
  /** Tenant resources live in a tenant's scope; provider resources in the provider's. */
  readonly owner: 'tenant' | 'provider';
  readonly created: readonly EventType[];
  readonly changed: readonly EventType[];
  readonly deleted: readonly EventType[];
  /** The field of those events' data that holds the resource's id. */
  readonly idField: string;
  readonly quota?: QuotaKind;
}

export const kinds = {
  vpc: { owner: 'tenant', idField: 'vpcId', quota: 'vpcs', created: ['VpcCreated'], changed: ['VpcRouteAdded', 'VpcRouteRemoved'], deleted: ['VpcDeleted'] },
  subnet: { owner: 'tenant', idField: 'subnetId', quota: 'subnets', created: ['SubnetCreated'], changed: ['SubnetUpdated', 'SubnetVlanAllocated'], deleted: ['SubnetDeleted'] },
  port: { owner: 'tenant', idField: 'portId', quota: 'ports', created: ['PortCreated'], changed: ['PortSecurityGroupsChanged', 'PortAllowedAddressPairsChanged', 'PortAttached', 'PortDetached'], deleted: ['PortDeleted'] },
  securitygroup: {
    owner: 'tenant', idField: 'securityGroupId', quota: 'securityGroups', created: ['SecurityGroupCreated'],
    changed: ['SecurityGroupUpdated', 'SecurityGroupRuleAdded', 'SecurityGroupRuleRemoved'], deleted: ['SecurityGroupDeleted'],
  },
  externalnetwork: { owner: 'provider', idField: 'externalNetworkId', created: ['ExternalNetworkCreated'], changed: ['ExternalNetworkUpdated'], deleted: ['ExternalNetworkDeleted'] },
  externalippool: { owner: 'provider', idField: 'poolId', created: ['ExternalIpPoolCreated'], changed: [], deleted: ['ExternalIpPoolDeleted'] },
  externalip: { owner: 'tenant', idField: 'externalIpId', quota: 'externalIps', created: ['ExternalIpAllocated'], changed: [], deleted: ['ExternalIpReleased'] },
  natgateway: { owner: 'tenant', idField: 'natGatewayId', created: ['NatGatewayCreated'], changed: [], deleted: ['NatGatewayDeleted'] },
  externalipattachment: { owner: 'tenant', idField: 'attachmentId', created: ['ExternalIpAttachmentCreated'], changed: [], deleted: ['ExternalIpAttachmentDeleted'] },
  portforward: { owner: 'tenant', idField: 'portForwardId', created: ['PortForwardCreated'], changed: [], deleted: ['PortForwardDeleted'] },
  loadbalancer: { owner: 'tenant', idField: 'loadBalancerId', quota: 'loadBalancers', created: ['LoadBalancerCreated'], changed: ['LoadBalancerMembersChanged'], deleted: ['LoadBalancerDeleted'] },
  networkclass: { owner: 'provider', idField: 'networkClassId', created: ['NetworkClassCreated'], changed: ['NetworkClassUpdated'], deleted: ['NetworkClassDeleted'] },
} as const satisfies Record<string, KindContract>;

export type ResourceKind = keyof typeof kinds;
export const resourceKinds = Object.keys(kinds) as ResourceKind[];

/** Events that are about no resource: they set policy, not rows. */
type Unowned = 'QuotaSet';
type Listed = { [K in ResourceKind]: (typeof kinds)[K]['created' | 'changed' | 'deleted'][number] }[ResourceKind];
/** Compile-time check: every event type belongs to a kind (or is declared unowned). */
export type EveryEventHasAKind = [Exclude<EventType, Listed | Unowned>] extends [never] ? true : Exclude<EventType, Listed | Unowned>;
true satisfies EveryEventHasAKind;

export interface ResourceRef {
  readonly kind: ResourceKind;
  readonly id: string;
}

const byEvent = new Map<string, { kind: ResourceKind; change: 1 | 0 | -1 }>(resourceKinds.flatMap((kind) => {
  const k: KindContract = kinds[kind];
  return [
    ...k.created.map((type) => [type, { kind, change: 1 as const }] as const),
    ...k.changed.map((type) => [type, { kind, change: 0 as const }] as const),
    ...k.deleted.map((type) => [type, { kind, change: -1 as const }] as const),
  ];
}));

/** The resource an event is about, and whether it creates (1), changes (0) or deletes (-1) it. */
export function resourceOf(event: NovanetEvent): (ResourceRef & { change: 1 | 0 | -1 }) | undefined {
  const entry = byEvent.get(event.type);
  if (!entry) return undefined;
  const id = (event.data as Record<string, unknown>)[kinds[entry.kind].idField];
  return typeof id === 'string' ? { kind: entry.kind, id, change: entry.change } : undefined;
}

export function isResourceKind(kind: string | undefined): kind is ResourceKind {
  return kind !== undefined && Object.hasOwn(kinds, kind);
}

