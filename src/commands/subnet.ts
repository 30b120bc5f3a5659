import { z } from 'zod';
import type { DhcpSettings, EventOf, HostRoute, Scope } from '../../events/mod.js';
import { resourcesIn, subnetPortIds } from '../../projections/mod.js';
import type { View, Subnet, Vpc } from '../../projections/mod.js';
import type { DecideContext } from './context.js';
import { CommandError, ErrorCode, notFound } from './errors.js';
import { cidrOf, contains, firstFreeBlock, firstUsable, formatCidr, intToIp, ipToInt, isReserved, overlaps, parseCidr, within } from './ipam.js';
import type { Cidr } from './ipam.js';
import { allocateMac } from './mac.js';
import { atLeastOne, command, commandPayload, findInScope, query, queryPayload, ResourceId, ResourceName } from './operation.js';
import { classOfVpc, findVpc } from './vpc.js';

/** Subnet: an L2 segment of a VPC with OVN native DHCP; the VPC router holds its gateway address. */

export const SUBNET_PREFIX_LIMITS = { minPrefix: 8, maxPrefix: 30 } as const;
const DEFAULT_SUBNET_PREFIX = 24;
const DEFAULT_LEASE_TIME = 43200;
/** Neutron's default limit. */
export const MAX_HOST_ROUTES = 20;

export type SubnetFields = Pick<Subnet, 'id' | 'scope' | 'vpcId' | 'name' | 'cidr' | 'gatewayIp' | 'gatewayMac' | 'dhcp' | 'createdAt' | 'vlanId'>;

export function presentSubnet(s: SubnetFields) {
  return {
    id: s.id, org: s.scope.org, project: s.scope.project, vpcId: s.vpcId, name: s.name, cidr: s.cidr,
    gatewayIp: s.gatewayIp, dhcpEnabled: s.dhcp.enabled, dnsServers: s.dhcp.dnsServers, ntpServers: s.dhcp.ntpServers,
    leaseTime: s.dhcp.leaseTime,
    ...(s.dhcp.mtu !== undefined && { mtu: s.dhcp.mtu }),
    ...(s.dhcp.domainName !== undefined && { domainName: s.dhcp.domainName }),
    hostRoutes: s.dhcp.hostRoutes ?? [],
    vlanId: s.vlanId ?? null,
    createdAt: s.createdAt,
  };
}

export function findSubnet(view: View, scope: Scope, subnetId: string): Subnet {
  return findInScope(view.subnets, scope, subnetId, () => notFound('subnet', subnetId));
}

const DomainName = z.string().max(253).regex(/^(?=.{1,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)*[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/, 'a DNS domain name');

export const CreateSubnet = commandPayload({
  vpcId: ResourceId,
  name: ResourceName,
  cidr: z.string().optional(),
  gatewayIp: z.ipv4().optional(),
  dhcpEnabled: z.boolean().default(true),
  dnsServers: z.array(z.ipv4()).max(8).default([]),
  ntpServers: z.array(z.ipv4()).max(8).default([]),
  leaseTime: z.number().int().min(60).max(2 ** 31 - 1).default(DEFAULT_LEASE_TIME),
  mtu: z.number().int().min(576).max(9216).optional(),
  domainName: DomainName.optional(),
  /** Routes DHCP hands to the subnet's clients (option 121); the default route via the gateway is added. */
  hostRoutes: z.array(z.strictObject({ destination: z.string(), nextHop: z.ipv4() })).max(MAX_HOST_ROUTES).default([]),
});

function createSubnet(view: View, input: z.infer<typeof CreateSubnet>, ctx: DecideContext) {
  const vpc = findVpc(view, ctx.scope, input.vpcId);
  const siblings = [...vpc.subnetIds].map((id) => view.subnets.get(id)).filter((s): s is Subnet => s !== undefined);
  const prefix = classOfVpc(view, vpc)?.defaults.subnetPrefixLength ?? DEFAULT_SUBNET_PREFIX;
  const subnet = decideSubnet(view, ctx, vpc, siblings, input, prefix);
  return { events: [subnetCreated(subnet)], result: { subnet: presentSubnet(subnet) } };
}

/**
 * A new subnet of the VPC (`siblings` are its subnets): also the default subnet a network class
 * gives a VPC in the VPC's own commit, before the VPC is in the view. Without a CIDR it takes
 * the first free /`prefix` of the VPC (the whole VPC if that is smaller).
 */
export function decideSubnet(
  view: View, ctx: DecideContext, vpc: Pick<Vpc, 'id' | 'cidr'>, siblings: readonly Subnet[],
  input: Omit<z.infer<typeof CreateSubnet>, 'vpcId' | 'commandId'>, prefix: number,
): SubnetFields {
  if (siblings.some((s) => s.name === input.name)) {
    throw new CommandError(ErrorCode.ALREADY_EXISTS, `VPC ${vpc.id} already has a subnet named "${input.name}"`, { name: input.name });
  }
  const vpcCidr = cidrOf(vpc.cidr);
  let cidr;
  if (input.cidr !== undefined) {
    cidr = parseCidr(input.cidr, SUBNET_PREFIX_LIMITS);
    if (!within(cidr, vpcCidr)) {
      throw new CommandError(ErrorCode.SUBNET_OUTSIDE_VPC, `${input.cidr} is not inside the VPC's ${vpc.cidr}`, { cidr: input.cidr, vpcCidr: vpc.cidr });
    }
    const clash = siblings.find((s) => overlaps(cidrOf(s.cidr), cidr!));
    if (clash) {
      throw new CommandError(ErrorCode.CIDR_OVERLAP, `${input.cidr} overlaps subnet ${clash.id} (${clash.cidr})`, { cidr: input.cidr, subnetId: clash.id, subnetCidr: clash.cidr });
    }
  } else {
    const wanted = Math.max(prefix, vpcCidr.prefix);
    cidr = firstFreeBlock(vpcCidr, wanted, siblings.map((s) => cidrOf(s.cidr)));
    if (!cidr) throw new CommandError(ErrorCode.POOL_EXHAUSTED, `no free /${wanted} left in the VPC's ${vpc.cidr}`, { vpcCidr: vpc.cidr });
  }
  let gateway = firstUsable(cidr);
  if (input.gatewayIp !== undefined) {
    gateway = ipToInt(input.gatewayIp);
    if (!contains(cidr, gateway)) {
      throw new CommandError(ErrorCode.IP_OUTSIDE_SUBNET, `gateway ${input.gatewayIp} is not inside ${formatCidr(cidr)}`, { ipAddress: input.gatewayIp, cidr: formatCidr(cidr) });
    }
    if (isReserved(cidr, gateway)) {
      throw new CommandError(ErrorCode.IP_RESERVED, `gateway ${input.gatewayIp} is the network or broadcast address of ${formatCidr(cidr)}`, { ipAddress: input.gatewayIp });
    }
  }
  return {
    id: ctx.newId(), scope: ctx.scope, vpcId: vpc.id, name: input.name, cidr: formatCidr(cidr),
    gatewayIp: intToIp(gateway), gatewayMac: allocateMac(view, ctx), createdAt: ctx.now,
    dhcp: {
      enabled: input.dhcpEnabled, leaseTime: input.leaseTime, dnsServers: input.dnsServers, ntpServers: input.ntpServers,
      ...(input.mtu !== undefined && { mtu: input.mtu }),
      ...(input.domainName !== undefined && { domainName: input.domainName }),
      ...(input.hostRoutes.length > 0 && { hostRoutes: hostRoutes(input.hostRoutes, cidr, intToIp(gateway)) }),
    },
  };
}

export function subnetCreated(subnet: SubnetFields): EventOf<'SubnetCreated'> {
  const { id: subnetId, scope: _scope, createdAt: _createdAt, vlanId: _vlanId, ...data } = subnet;
  return { type: 'SubnetCreated', data: { subnetId, ...data } };
}

/** The subnet a network class gives every VPC (`defaultSubnet`), as the overlay spec names it. */
const DEFAULT_SUBNET_NAME = 'default';
export const defaultSubnetInput = () => CreateSubnet.omit({ vpcId: true, commandId: true }).parse({ name: DEFAULT_SUBNET_NAME });

/**
 * Host routes in canonical form. The next hop is on the subnet (a client can only reach
 * routers there) and not its network or broadcast address; one route per destination.
 */
function hostRoutes(routes: readonly { destination: string; nextHop: string }[], cidr: Cidr, gatewayIp: string): HostRoute[] {
  const seen = new Set<string>();
  return routes.map((route, index) => {
    const parsed = parseCidr(route.destination, { minPrefix: 0, maxPrefix: 32 });
    const destination = formatCidr(parsed);
    // Inside the subnet a route would take over part of the on-link route on the client.
    if (within(parsed, cidr)) {
      throw new CommandError(ErrorCode.CIDR_OVERLAP, `hostRoutes[${index}]: ${destination} is inside the subnet ${formatCidr(cidr)}`, { index, destination });
    }
    const nextHop = ipToInt(route.nextHop);
    if (!contains(cidr, nextHop) || isReserved(cidr, nextHop)) {
      throw new CommandError(ErrorCode.IP_OUTSIDE_SUBNET, `hostRoutes[${index}]: next hop ${route.nextHop} is not a usable address of ${formatCidr(cidr)}`, { index, nextHop: route.nextHop });
    }
    if (seen.has(destination)) throw new CommandError(ErrorCode.VALIDATION_FAILED, `hostRoutes[${index}]: ${destination} appears twice`, { index });
    seen.add(destination);
    return { destination, nextHop: intToIp(nextHop) };
  }).filter((r) => !(r.destination === '0.0.0.0/0' && r.nextHop === gatewayIp));
}

/**
 * Name and DHCP settings; a field left out keeps its value, `null` clears mtu or domainName.
 * CIDR and gateway are fixed for the subnet's life: ports hold addresses inside them.
 */
export const UpdateSubnet = atLeastOne(commandPayload({
  subnetId: ResourceId,
  name: ResourceName.optional(),
  dhcpEnabled: z.boolean().optional(),
  dnsServers: CreateSubnet.shape.dnsServers.unwrap().optional(),
  ntpServers: CreateSubnet.shape.ntpServers.unwrap().optional(),
  leaseTime: CreateSubnet.shape.leaseTime.unwrap().optional(),
  mtu: CreateSubnet.shape.mtu.unwrap().nullable().optional(),
  domainName: DomainName.nullable().optional(),
  hostRoutes: CreateSubnet.shape.hostRoutes.unwrap().optional(),
}), ['name', 'dhcpEnabled', 'dnsServers', 'ntpServers', 'leaseTime', 'mtu', 'domainName', 'hostRoutes'], 'name at least one field to change');

function updateSubnet(view: View, input: z.infer<typeof UpdateSubnet>, ctx: DecideContext) {
  const subnet = findSubnet(view, ctx.scope, input.subnetId);
  const name = input.name ?? subnet.name;
  if (name !== subnet.name && [...view.vpcs.get(subnet.vpcId)?.subnetIds ?? []].some((id) => view.subnets.get(id)?.name === name)) {
    throw new CommandError(ErrorCode.ALREADY_EXISTS, `VPC ${subnet.vpcId} already has a subnet named "${name}"`, { name });
  }
  const dhcp: DhcpSettings = { ...subnet.dhcp };
  if (input.dhcpEnabled !== undefined) dhcp.enabled = input.dhcpEnabled;
  if (input.dnsServers !== undefined) dhcp.dnsServers = input.dnsServers;
  if (input.ntpServers !== undefined) dhcp.ntpServers = input.ntpServers;
  if (input.leaseTime !== undefined) dhcp.leaseTime = input.leaseTime;
  if (input.mtu === null) delete dhcp.mtu;
  else if (input.mtu !== undefined) dhcp.mtu = input.mtu;
  if (input.domainName === null) delete dhcp.domainName;
  else if (input.domainName !== undefined) dhcp.domainName = input.domainName;
  if (input.hostRoutes !== undefined) {
    const routes = hostRoutes(input.hostRoutes, cidrOf(subnet.cidr), subnet.gatewayIp);
    if (routes.length > 0) dhcp.hostRoutes = routes;
    else delete dhcp.hostRoutes;
  }
  return {
    events: [{ type: 'SubnetUpdated' as const, data: { subnetId: subnet.id, name, dhcp } }],
    result: { subnet: presentSubnet({ ...subnet, name, dhcp }) },
  };
}

export const DeleteSubnet = commandPayload({ subnetId: ResourceId });

function deleteSubnet(view: View, input: z.infer<typeof DeleteSubnet>, ctx: DecideContext) {
  const subnet = findSubnet(view, ctx.scope, input.subnetId);
  const portIds = subnetPortIds(view, subnet);
  if (portIds.length > 0) {
    throw new CommandError(ErrorCode.IN_USE, `subnet ${subnet.id} still has ports`, { portIds });
  }
  const loadBalancerIds = [...view.vpcs.get(subnet.vpcId)?.loadBalancerIds ?? []].filter((id) => view.loadBalancers.get(id)?.subnetId === subnet.id);
  if (loadBalancerIds.length > 0) {
    throw new CommandError(ErrorCode.IN_USE, `subnet ${subnet.id} holds the VIPs of load balancers`, { loadBalancerIds });
  }
  const routeIds = (view.vpcs.get(subnet.vpcId)?.routes ?? []).filter((r) => contains(cidrOf(subnet.cidr), ipToInt(r.nextHop))).map((r) => r.routeId);
  if (routeIds.length > 0) {
    throw new CommandError(ErrorCode.IN_USE, `subnet ${subnet.id} holds the next hop of VPC routes`, { routeIds });
  }
  return { events: [{ type: 'SubnetDeleted' as const, data: { subnetId: subnet.id } }], result: {} };
}

export const GetSubnet = queryPayload({ subnetId: ResourceId });
export const ListSubnets = queryPayload({ vpcId: ResourceId.optional(), name: z.string().optional() });

export const subnetOperations = {
  'subnet.create': command(CreateSubnet, createSubnet),
  'subnet.update': command(UpdateSubnet, updateSubnet),
  'subnet.delete': command(DeleteSubnet, deleteSubnet),
  'subnet.get': query(GetSubnet, (view, input, scope) => ({ subnet: presentSubnet(findSubnet(view, scope, input.subnetId)) })),
  'subnet.list': query(ListSubnets, (view, input, scope) => ({
    subnets: resourcesIn(view, scope, 'subnet')
      .filter((s) => (input.vpcId === undefined || s.vpcId === input.vpcId)
        && (input.name === undefined || s.name === input.name))
      .map(presentSubnet),
  })),
} as const;
