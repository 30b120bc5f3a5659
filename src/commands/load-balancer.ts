import { z } from 'zod';
import type { LoadBalancerListener, Scope } from '../../events/mod.js';
import { endpointKey, resourcesIn, targetKey } from '../../projections/mod.js';
import type { LoadBalancer, View } from '../../projections/mod.js';
import type { DecideContext } from './context.js';
import { CommandError, ErrorCode, notFound } from './errors.js';
import { allocateIp, checkRequestedIp, ipToInt } from './ipam.js';
import { command, commandPayload, DeviceId, findInScope, query, queryPayload, ResourceId, ResourceName } from './operation.js';
import { findPort } from './port.js';
import { findSubnet } from './subnet.js';
import { requireCapability } from './vpc.js';

/**
 * Load balancer: a VIP taken from a subnet, spreading tcp or udp connections on its
 * listener ports over member ports anywhere in the VPC (OVN's native, distributed
 * Load_Balancer; Octavia's OVN provider does the same).
 */

export const MAX_LISTENERS = 16;
export const MAX_MEMBERS = 64;

export type LoadBalancerFields = Pick<LoadBalancer, 'id' | 'scope' | 'vpcId' | 'subnetId' | 'name' | 'vipAddress' | 'protocol' | 'listeners' | 'memberPortIds' | 'endpoint' | 'createdAt'>;

export function presentLoadBalancer(lb: LoadBalancerFields) {
  return {
    id: lb.id, org: lb.scope.org, project: lb.scope.project, vpcId: lb.vpcId, subnetId: lb.subnetId, name: lb.name,
    vipAddress: lb.vipAddress, protocol: lb.protocol, listeners: lb.listeners, memberPortIds: lb.memberPortIds, endpoint: lb.endpoint ?? null, createdAt: lb.createdAt,
  };
}

export function findLoadBalancer(view: View, scope: Scope, loadBalancerId: string): LoadBalancer {
  return findInScope(view.loadBalancers, scope, loadBalancerId, () => notFound('load balancer', loadBalancerId));
}

const Port = z.number().int().min(1).max(65535);
const MemberPortIds = z.array(ResourceId).max(MAX_MEMBERS);

export const CreateLoadBalancer = commandPayload({
  subnetId: ResourceId,
  name: ResourceName,
  vipAddress: z.ipv4().optional(),
  protocol: z.enum(['tcp', 'udp']).default('tcp'),
  /** targetPort defaults to port. */
  listeners: z.array(z.strictObject({ port: Port, targetPort: Port.optional() })).min(1).max(MAX_LISTENERS),
  memberPortIds: MemberPortIds.default([]),
  /** The cluster endpoint it serves (at most one load balancer per endpoint in the tenant); immutable. */
  endpoint: z.strictObject({ clusterId: DeviceId, role: z.enum(['api', 'ingress']) }).optional(),
});

function createLoadBalancer(view: View, input: z.infer<typeof CreateLoadBalancer>, ctx: DecideContext) {
  const subnet = findSubnet(view, ctx.scope, input.subnetId);
  requireCapability(view, view.vpcs.get(subnet.vpcId)!, 'loadBalancers');
  const clash = [...view.vpcs.get(subnet.vpcId)!.loadBalancerIds].some((id) => view.loadBalancers.get(id)?.name === input.name);
  if (clash) throw new CommandError(ErrorCode.ALREADY_EXISTS, `VPC ${subnet.vpcId} already has a load balancer named "${input.name}"`, { name: input.name });
  const serving = input.endpoint && view.endpointLoadBalancer.get(endpointKey(ctx.scope, input.endpoint));
  if (serving !== undefined) {
    throw new CommandError(ErrorCode.ALREADY_EXISTS, `load balancer ${serving} is already cluster ${input.endpoint!.clusterId}'s ${input.endpoint!.role} endpoint`, { loadBalancerId: serving });
  }
  const listeners: LoadBalancerListener[] = input.listeners.map((l) => ({ port: l.port, targetPort: l.targetPort ?? l.port }));
  const repeated = listeners.find((l, i) => listeners.findIndex((m) => m.port === l.port) !== i);
  if (repeated) throw new CommandError(ErrorCode.VALIDATION_FAILED, `listener port ${repeated.port} appears twice`, { port: repeated.port });
  const memberPortIds = members(view, ctx.scope, subnet.vpcId, input.memberPortIds);
  const vipAddress = input.vipAddress !== undefined ? checkRequestedIp(view, subnet, input.vipAddress) : allocateIp(subnet);
  // Ports announcing the address themselves would compete with OVN for its traffic.
  const pairHolders = [...subnet.pairHolders.get(ipToInt(vipAddress)) ?? []];
  if (pairHolders.length > 0) {
    throw new CommandError(ErrorCode.IP_ALREADY_ALLOCATED, `${vipAddress} is named in allowed address pairs of ports`, { ipAddress: vipAddress, portIds: pairHolders });
  }
  const lb: LoadBalancerFields = {
    id: ctx.newId(), scope: ctx.scope, vpcId: subnet.vpcId, subnetId: subnet.id, name: input.name, vipAddress,
    protocol: input.protocol, listeners, memberPortIds, ...(input.endpoint && { endpoint: input.endpoint }), createdAt: ctx.now,
  };
  return {
    events: [{
      type: 'LoadBalancerCreated' as const,
      data: { loadBalancerId: lb.id, subnetId: subnet.id, name: lb.name, vipAddress, protocol: lb.protocol, listeners, memberPortIds, ...(lb.endpoint && { endpoint: lb.endpoint }) },
    }],
    result: { loadBalancer: presentLoadBalancer(lb) },
  };
}

/** Members are the tenant's ports in the load balancer's VPC; repeats collapse. */
function members(view: View, scope: Scope, vpcId: string, portIds: readonly string[]): string[] {
  const unique = [...new Set(portIds)];
  for (const portId of unique) {
    const port = findPort(view, scope, portId);
    if (port.vpcId !== vpcId) {
      throw new CommandError(ErrorCode.VALIDATION_FAILED, `port ${portId} is in another VPC than the load balancer`, { portId, vpcId: port.vpcId });
    }
  }
  return unique;
}

export const UpdateLoadBalancer = commandPayload({ loadBalancerId: ResourceId, memberPortIds: MemberPortIds });

function updateLoadBalancer(view: View, input: z.infer<typeof UpdateLoadBalancer>, ctx: DecideContext) {
  const lb = findLoadBalancer(view, ctx.scope, input.loadBalancerId);
  const memberPortIds = members(view, ctx.scope, lb.vpcId, input.memberPortIds);
  return {
    events: [{ type: 'LoadBalancerMembersChanged' as const, data: { loadBalancerId: lb.id, memberPortIds } }],
    result: { loadBalancer: presentLoadBalancer({ ...lb, memberPortIds }) },
  };
}

export const DeleteLoadBalancer = commandPayload({ loadBalancerId: ResourceId });

function deleteLoadBalancer(view: View, input: z.infer<typeof DeleteLoadBalancer>, ctx: DecideContext) {
  const lb = findLoadBalancer(view, ctx.scope, input.loadBalancerId);
  // An attachment by cluster endpoint stays (Pending until the endpoint has a load balancer again).
  const attachmentId = view.attachmentOfTarget.get(targetKey(lb.scope, { loadBalancerId: lb.id }));
  if (attachmentId !== undefined) throw new CommandError(ErrorCode.IN_USE, `load balancer ${lb.id} is the target of external IP attachment ${attachmentId}`, { attachmentId });
  return { events: [{ type: 'LoadBalancerDeleted' as const, data: { loadBalancerId: lb.id } }], result: {} };
}

export const GetLoadBalancer = queryPayload({ loadBalancerId: ResourceId });
export const ListLoadBalancers = queryPayload({ vpcId: ResourceId.optional(), subnetId: ResourceId.optional(), clusterId: z.string().optional() });

export const loadBalancerOperations = {
  'loadbalancer.create': command(CreateLoadBalancer, createLoadBalancer),
  'loadbalancer.update': command(UpdateLoadBalancer, updateLoadBalancer),
  'loadbalancer.delete': command(DeleteLoadBalancer, deleteLoadBalancer),
  'loadbalancer.get': query(GetLoadBalancer, (view, input, scope) => ({ loadBalancer: presentLoadBalancer(findLoadBalancer(view, scope, input.loadBalancerId)) })),
  'loadbalancer.list': query(ListLoadBalancers, (view, input, scope) => ({
    loadBalancers: resourcesIn(view, scope, 'loadbalancer')
      .filter((lb) => (input.vpcId === undefined || lb.vpcId === input.vpcId)
        && (input.subnetId === undefined || lb.subnetId === input.subnetId)
        && (input.clusterId === undefined || lb.endpoint?.clusterId === input.clusterId))
      .map(presentLoadBalancer),
  })),
} as const;
