import { z } from 'zod';
import type { Capability, ClassDefaults, EventOf, RuleTemplate, Scope, SecurityGroupRule } from '../../events/mod.js';
import { capabilitiesOf, resourcesIn } from '../../projections/mod.js';
import type { NetworkClass, View, Vpc } from '../../projections/mod.js';
import type { DecideContext } from './context.js';
import { CommandError, ErrorCode, notFound } from './errors.js';
import { cidrOf, contains, formatCidr, intToIp, ipToInt, isReserved, overlaps, parseCidr } from './ipam.js';
import { command, commandPayload, findInScope, query, queryPayload, ResourceId } from './operation.js';

/** VPC: a tenant's private network space, one OVN Logical_Router, born with its `default` security group. */

export const VPC_PREFIX_LIMITS = { minPrefix: 8, maxPrefix: 28 } as const;
/** Reserved for the group every VPC is created with; no other group may take it. */
export const DEFAULT_SECURITY_GROUP_NAME = 'default';
/** Everything may go out, as in Neutron's and AWS's defaults. */
export const ALLOW_ALL_EGRESS = { protocol: 'all', remote: { cidr: '0.0.0.0/0' } } as const satisfies Omit<SecurityGroupRule, 'ruleId'>;

export type VpcFields = Pick<Vpc, 'id' | 'scope' | 'name' | 'cidr' | 'createdAt' | 'defaultSecurityGroupId' | 'routes' | 'networkClassId' | 'vpcScope'>;

export function presentVpc(vpc: VpcFields) {
  return {
    id: vpc.id, org: vpc.scope.org, project: vpc.scope.project, name: vpc.name, cidr: vpc.cidr,
    networkClassId: vpc.networkClassId ?? null, scope: vpc.vpcScope ?? null,
    // VPCs from before security groups have none.
    defaultSecurityGroupId: vpc.defaultSecurityGroupId ?? null,
    routes: vpc.routes.map((r) => ({ id: r.routeId, destination: r.destination, nextHop: r.nextHop })),
    createdAt: vpc.createdAt,
  };
}

export function findVpc(view: View, scope: Scope, vpcId: string): Vpc {
  return findInScope(view.vpcs, scope, vpcId, () => notFound('vpc', vpcId));
}

export function tenantVpcs(view: View, scope: Scope): Vpc[] {
  return resourcesIn(view, scope, 'vpc');
}

/**
 * Neutron's default group: members reach each other, anything may go out, nothing else comes in;
 * a network class may set other rules. Created in the VPC's own commit, so no port can ever see
 * the VPC without it.
 */
export function defaultSecurityGroupCreated(vpcId: string, ctx: DecideContext, defaults?: Pick<ClassDefaults, 'ingressRules' | 'egressRules'>): EventOf<'SecurityGroupCreated'> {
  const securityGroupId = ctx.newId();
  const withIds = (rules: readonly RuleTemplate[]) => rules.map((rule) => ({ ruleId: ctx.newId(), ...rule }));
  return {
    type: 'SecurityGroupCreated',
    data: {
      securityGroupId, vpcId, name: DEFAULT_SECURITY_GROUP_NAME, description: 'default security group', isDefault: true,
      ingressRules: defaults?.ingressRules ? withIds(defaults.ingressRules) : [{ ruleId: ctx.newId(), protocol: 'all', remote: { securityGroupId } }],
      egressRules: defaults?.egressRules ? withIds(defaults.egressRules) : [{ ruleId: ctx.newId(), ...ALLOW_ALL_EGRESS }],
    },
  };
}

/** A VPC's network class; undefined for VPCs without one (installations that define none, VPCs from before classes). */
export function classOfVpc(view: View, vpc: Pick<Vpc, 'networkClassId'>): NetworkClass | undefined {
  return vpc.networkClassId !== undefined ? view.networkClasses.get(vpc.networkClassId) : undefined;
}

/** Refuses what the VPC's class does not offer. */
export function requireCapability(view: View, vpc: Pick<Vpc, 'id' | 'networkClassId'>, capability: Capability): void {
  if (!capabilitiesOf(view, classOfVpc(view, vpc))[capability]) {
    throw new CommandError(ErrorCode.CAPABILITY_UNAVAILABLE, `the network class of VPC ${vpc.id} does not offer ${capability}`, { capability, networkClassId: vpc.networkClassId ?? null });
  }
}

export const DeleteVpc = commandPayload({ vpcId: ResourceId });

function deleteVpc(view: View, input: z.infer<typeof DeleteVpc>, ctx: DecideContext) {
  const vpc = findVpc(view, ctx.scope, input.vpcId);
  if (vpc.subnetIds.size > 0) {
    throw new CommandError(ErrorCode.IN_USE, `VPC ${vpc.id} still has subnets`, { subnetIds: [...vpc.subnetIds] });
  }
  const natGatewayId = view.natGatewayOfVpc.get(vpc.id);
  if (natGatewayId !== undefined) {
    throw new CommandError(ErrorCode.IN_USE, `VPC ${vpc.id} still has NAT gateway ${natGatewayId}`, { natGatewayId });
  }
  const groupIds = [...vpc.securityGroupIds].filter((id) => id !== vpc.defaultSecurityGroupId);
  if (groupIds.length > 0) {
    throw new CommandError(ErrorCode.IN_USE, `VPC ${vpc.id} still has security groups besides its default`, { securityGroupIds: groupIds });
  }
  // The default group lives and dies with its VPC.
  const defaultGroup = vpc.defaultSecurityGroupId !== undefined
    ? [{ type: 'SecurityGroupDeleted' as const, data: { securityGroupId: vpc.defaultSecurityGroupId } }]
    : [];
  return { events: [...defaultGroup, { type: 'VpcDeleted' as const, data: { vpcId: vpc.id } }], result: {} };
}

/** Neutron's limit on extra routes per router. */
export const MAX_ROUTES_PER_VPC = 100;

export const AddVpcRoute = commandPayload({ vpcId: ResourceId, destination: z.string(), nextHop: z.ipv4() });

/**
 * A static route to something behind an appliance port (a firewall, a VPN or another
 * router in the VPC). The destination lies outside the VPC's own range, so it can never
 * shadow a subnet; the next hop is a usable address of one of its subnets. The default
 * route belongs to the NAT gateway.
 */
function addVpcRoute(view: View, input: z.infer<typeof AddVpcRoute>, ctx: DecideContext) {
  const vpc = findVpc(view, ctx.scope, input.vpcId);
  const destination = parseCidr(input.destination, { minPrefix: 1, maxPrefix: 32 });
  if (overlaps(destination, cidrOf(vpc.cidr))) {
    throw new CommandError(ErrorCode.CIDR_OVERLAP, `${input.destination} overlaps the VPC's own ${vpc.cidr}`, { destination: input.destination, vpcCidr: vpc.cidr });
  }
  const canonical = formatCidr(destination);
  const clash = vpc.routes.find((r) => r.destination === canonical);
  if (clash) {
    throw new CommandError(ErrorCode.ALREADY_EXISTS, `VPC ${vpc.id} already routes ${canonical} (route ${clash.routeId})`, { routeId: clash.routeId });
  }
  if (vpc.routes.length >= MAX_ROUTES_PER_VPC) {
    throw new CommandError(ErrorCode.POOL_EXHAUSTED, `VPC ${vpc.id} already has ${MAX_ROUTES_PER_VPC} routes`, { limit: MAX_ROUTES_PER_VPC });
  }
  const nextHop = ipToInt(input.nextHop);
  const subnet = [...vpc.subnetIds].map((id) => view.subnets.get(id)).find((s) => s !== undefined && contains(cidrOf(s.cidr), nextHop));
  if (!subnet) {
    throw new CommandError(ErrorCode.IP_OUTSIDE_SUBNET, `next hop ${input.nextHop} is not inside any subnet of VPC ${vpc.id}`, { nextHop: input.nextHop });
  }
  if (isReserved(cidrOf(subnet.cidr), nextHop) || intToIp(nextHop) === subnet.gatewayIp) {
    throw new CommandError(ErrorCode.IP_RESERVED, `next hop ${input.nextHop} is the network, broadcast or gateway address of subnet ${subnet.id}`, { nextHop: input.nextHop, subnetId: subnet.id });
  }
  const route = { routeId: ctx.newId(), destination: canonical, nextHop: intToIp(nextHop) };
  return {
    events: [{ type: 'VpcRouteAdded' as const, data: { vpcId: vpc.id, route } }],
    result: { vpc: presentVpc({ ...vpc, routes: [...vpc.routes, route] }) },
  };
}

export const RemoveVpcRoute = commandPayload({ vpcId: ResourceId, routeId: ResourceId });

function removeVpcRoute(view: View, input: z.infer<typeof RemoveVpcRoute>, ctx: DecideContext) {
  const vpc = findVpc(view, ctx.scope, input.vpcId);
  if (!vpc.routes.some((r) => r.routeId === input.routeId)) throw notFound('route', input.routeId);
  return {
    events: [{ type: 'VpcRouteRemoved' as const, data: { vpcId: vpc.id, routeId: input.routeId } }],
    result: { vpc: presentVpc({ ...vpc, routes: vpc.routes.filter((r) => r.routeId !== input.routeId) }) },
  };
}

export const GetVpc = queryPayload({ vpcId: ResourceId });
export const ListVpcs = queryPayload({ name: z.string().optional() });

export const vpcOperations = {
  'vpc.delete': command(DeleteVpc, deleteVpc),
  'vpc.route.add': command(AddVpcRoute, addVpcRoute),
  'vpc.route.remove': command(RemoveVpcRoute, removeVpcRoute),
  'vpc.get': query(GetVpc, (view, input, scope) => ({ vpc: presentVpc(findVpc(view, scope, input.vpcId)) })),
  'vpc.list': query(ListVpcs, (view, input, scope) => ({
    vpcs: tenantVpcs(view, scope).filter((v) => input.name === undefined || v.name === input.name).map(presentVpc),
  })),
} as const;
