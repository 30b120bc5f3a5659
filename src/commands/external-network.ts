import { z } from 'zod';
import type { AddressRange } from '../../events/mod.js';
import type { ExternalIpPool, ExternalNetwork, View } from '../../projections/mod.js';
import type { DecideContext } from './context.js';
import { CommandError, ErrorCode, notFound } from './errors.js';
import type { Cidr } from './ipam.js';
import { cidrOf, contains, formatCidr, intToIp, ipToInt, isReserved, overlaps, parseCidr } from './ipam.js';
import { commandPayload, providerCommand, providerQuery, queryPayload, ResourceId, ResourceName } from './operation.js';

/**
 * Provider (operator) operations: external networks, the provider networks VPCs reach the
 * outside world through (an OVN localnet on `physicalNetwork`), and the pools of public
 * addresses tenants draw external IPs from. Decided in the provider scope only.
 */

export const EXTERNAL_NETWORK_PREFIX_LIMITS = { minPrefix: 8, maxPrefix: 30 } as const;
export const MAX_GATEWAY_CHASSIS = 8;
export const MAX_POOL_RANGES = 16;

// --- presentation and lookups -------------------------------------------------

export type ExternalNetworkFields = Pick<ExternalNetwork, 'id' | 'name' | 'cidr' | 'gatewayIp' | 'physicalNetwork' | 'vlanId' | 'gatewayChassis' | 'createdAt'>
  & { readonly poolIds: Iterable<string> };

export function presentExternalNetwork(n: ExternalNetworkFields, isDefault: boolean) {
  return {
    id: n.id, name: n.name, cidr: n.cidr, gatewayIp: n.gatewayIp, physicalNetwork: n.physicalNetwork,
    ...(n.vlanId !== undefined && { vlanId: n.vlanId }),
    gatewayChassis: n.gatewayChassis.map((c) => ({ name: c.name, priority: c.priority })),
    isDefault, poolIds: [...n.poolIds], createdAt: n.createdAt,
  };
}

export type ExternalIpPoolFields = Pick<ExternalIpPool, 'id' | 'externalNetworkId' | 'name' | 'ranges' | 'createdAt'>
  & { readonly allocated: { readonly size: number } };

export function presentExternalIpPool(p: ExternalIpPoolFields) {
  return {
    id: p.id, externalNetworkId: p.externalNetworkId, name: p.name,
    ranges: p.ranges.map((r) => ({ first: r.first, last: r.last })),
    size: poolSize(p.ranges), allocatedCount: p.allocated.size, createdAt: p.createdAt,
  };
}

export function poolSize(ranges: readonly AddressRange[]): number {
  return ranges.reduce((n, r) => n + ipToInt(r.last) - ipToInt(r.first) + 1, 0);
}

function findExternalNetwork(view: View, externalNetworkId: string): ExternalNetwork {
  const network = view.externalNetworks.get(externalNetworkId);
  if (!network) throw notFound('externalnetwork', externalNetworkId);
  return network;
}

function findPool(view: View, poolId: string): ExternalIpPool {
  const pool = view.externalIpPools.get(poolId);
  if (!pool) throw notFound('externalippool', poolId);
  return pool;
}


// --- externalnetwork.create ---------------------------------------------------------

const GatewayChassisList = z.array(z.strictObject({
  name: ResourceName,
  priority: z.number().int().min(0).max(32767),
})).min(1).max(MAX_GATEWAY_CHASSIS)
  .refine((list) => new Set(list.map((c) => c.name)).size === list.length, 'gateway chassis names must be unique');

export const CreateExternalNetwork = commandPayload({
  name: ResourceName,
  cidr: z.string(),
  gatewayIp: z.ipv4(),
  physicalNetwork: z.string().regex(/^[a-zA-Z0-9_.-]{1,64}$/, 'letters, digits, "_", "." and "-", 1-64 characters'),
  gatewayChassis: GatewayChassisList,
  vlanId: z.number().int().min(1).max(4094).optional(),
  /** Absent: the network becomes the default only if there is none yet. */
  default: z.boolean().optional(),
});

function createExternalNetwork(view: View, input: z.infer<typeof CreateExternalNetwork>, ctx: DecideContext) {
  if ([...view.externalNetworks.values()].some((n) => n.name === input.name)) {
    throw new CommandError(ErrorCode.ALREADY_EXISTS, `an external network named "${input.name}" already exists`, { name: input.name });
  }
  const cidr = parseCidr(input.cidr, EXTERNAL_NETWORK_PREFIX_LIMITS);
  // Two external networks with overlapping addresses would make NAT ambiguous on any router that sees both.
  const clash = [...view.externalNetworks.values()].find((n) => overlaps(cidrOf(n.cidr), cidr));
  if (clash) {
    throw new CommandError(ErrorCode.CIDR_OVERLAP, `${input.cidr} overlaps external network ${clash.id} (${clash.cidr})`, { cidr: input.cidr, externalNetworkId: clash.id, externalNetworkCidr: clash.cidr });
  }
  const gateway = ipToInt(input.gatewayIp);
  if (!contains(cidr, gateway)) {
    throw new CommandError(ErrorCode.IP_OUTSIDE_SUBNET, `gateway ${input.gatewayIp} is not inside ${input.cidr}`, { ipAddress: input.gatewayIp, cidr: input.cidr });
  }
  if (isReserved(cidr, gateway)) {
    throw new CommandError(ErrorCode.IP_RESERVED, `gateway ${input.gatewayIp} is the network or broadcast address of ${input.cidr}`, { ipAddress: input.gatewayIp });
  }
  // The other half of network-class.ts's checkBaremetal: a class's VLANs are its own on the physical network.
  const vlanClass = input.vlanId === undefined ? undefined : [...view.networkClasses.values()].find(({ baremetal }) =>
    baremetal?.physicalNetwork === input.physicalNetwork && baremetal.vlanRange.first <= input.vlanId! && input.vlanId! <= baremetal.vlanRange.last);
  if (vlanClass) {
    throw new CommandError(ErrorCode.CONFLICT, `VLAN ${input.vlanId} on ${input.physicalNetwork} is in the bare-metal range of network class ${vlanClass.id}`, { networkClassId: vlanClass.id });
  }
  const isDefault = input.default ?? view.defaultExternalNetworkId === undefined;
  const network = {
    id: ctx.newId(), name: input.name, cidr: formatCidr(cidr), gatewayIp: intToIp(gateway), physicalNetwork: input.physicalNetwork,
    ...(input.vlanId !== undefined && { vlanId: input.vlanId }),
    gatewayChassis: input.gatewayChassis.map((c) => ({ name: c.name, priority: c.priority })),
    createdAt: ctx.now, poolIds: [],
  };
  const { id: externalNetworkId, createdAt: _createdAt, poolIds: _poolIds, ...data } = network;
  return {
    events: [{ type: 'ExternalNetworkCreated' as const, data: { externalNetworkId, ...data, isDefault } }],
    result: { externalNetwork: presentExternalNetwork(network, isDefault) },
  };
}

// --- externalnetwork.update ---------------------------------------------------------

export const UpdateExternalNetwork = commandPayload({
  externalNetworkId: ResourceId,
  default: z.boolean().optional(),
  gatewayChassis: GatewayChassisList.optional(),
});

/** Moves a network's gateways or makes it (or stops it being) the default; existing gateways follow. */
function updateExternalNetwork(view: View, input: z.infer<typeof UpdateExternalNetwork>) {
  const network = findExternalNetwork(view, input.externalNetworkId);
  const gatewayChassis = input.gatewayChassis?.map((c) => ({ name: c.name, priority: c.priority }));
  const wasDefault = view.defaultExternalNetworkId === network.id;
  const isDefault = input.default ?? wasDefault;
  return {
    events: [{
      type: 'ExternalNetworkUpdated' as const,
      data: {
        externalNetworkId: network.id,
        ...(input.default !== undefined && { isDefault: input.default }),
        ...(gatewayChassis && { gatewayChassis }),
      },
    }],
    result: { externalNetwork: presentExternalNetwork({ ...network, ...(gatewayChassis && { gatewayChassis }) }, isDefault) },
  };
}

// --- externalnetwork.delete ---------------------------------------------------------

export const DeleteExternalNetwork = commandPayload({ externalNetworkId: ResourceId });

/** Pools go first, and a pool goes only once no tenant holds one of its addresses, so nothing refers to a deleted network. */
function deleteExternalNetwork(view: View, input: z.infer<typeof DeleteExternalNetwork>) {
  const network = findExternalNetwork(view, input.externalNetworkId);
  if (network.poolIds.size > 0) {
    throw new CommandError(ErrorCode.IN_USE, `external network ${network.id} still has address pools`, { poolIds: [...network.poolIds] });
  }
  const networkClassIds = [...view.networkClasses.values()].filter((c) => c.externalNetworkId === network.id).map((c) => c.id);
  if (networkClassIds.length > 0) {
    throw new CommandError(ErrorCode.IN_USE, `network classes still name external network ${network.id}`, { networkClassIds });
  }
  return { events: [{ type: 'ExternalNetworkDeleted' as const, data: { externalNetworkId: network.id } }], result: {} };
}

// --- externalippool.create ----------------------------------------------------------

export const CreateExternalIpPool = commandPayload({
  externalNetworkId: ResourceId,
  name: ResourceName,
  ranges: z.array(z.strictObject({ first: z.ipv4(), last: z.ipv4() })).min(1).max(MAX_POOL_RANGES),
});

interface Range { readonly first: number; readonly last: number; readonly where: string }

function createExternalIpPool(view: View, input: z.infer<typeof CreateExternalIpPool>, ctx: DecideContext) {
  const network = findExternalNetwork(view, input.externalNetworkId);
  const siblings = [...network.poolIds].map((id) => view.externalIpPools.get(id)).filter((p): p is ExternalIpPool => p !== undefined);
  if (siblings.some((p) => p.name === input.name)) {
    throw new CommandError(ErrorCode.ALREADY_EXISTS, `external network ${network.id} already has a pool named "${input.name}"`, { name: input.name });
  }
  const ranges = input.ranges.map((r, i) => checkRange(network, { first: ipToInt(r.first), last: ipToInt(r.last), where: `ranges[${i}]` }));
  ranges.forEach((r, i) => {
    const other = ranges.slice(0, i).find((o) => rangesOverlap(o, r));
    if (other) {
      throw new CommandError(ErrorCode.CIDR_OVERLAP, `${r.where} ${show(r)} overlaps ${other.where} ${show(other)}`, { range: r.where, overlaps: other.where });
    }
    for (const pool of siblings) {
      const taken = pool.ranges.find((o) => rangesOverlap({ first: ipToInt(o.first), last: ipToInt(o.last) }, r));
      if (taken) {
        throw new CommandError(ErrorCode.CIDR_OVERLAP, `${r.where} ${show(r)} overlaps pool ${pool.id} (${taken.first}-${taken.last})`, { range: r.where, poolId: pool.id, poolRange: taken });
      }
    }
  });
  const pool = {
    id: ctx.newId(), externalNetworkId: network.id, name: input.name, createdAt: ctx.now, allocated: new Map(),
    ranges: ranges.map((r) => ({ first: intToIp(r.first), last: intToIp(r.last) })),
  };
  return {
    events: [{ type: 'ExternalIpPoolCreated' as const, data: { poolId: pool.id, externalNetworkId: network.id, name: pool.name, ranges: pool.ranges } }],
    result: { externalIpPool: presentExternalIpPool(pool) },
  };
}

/** A range lies inside the network and never holds its network, broadcast or gateway address. */
function checkRange(network: ExternalNetwork, range: Range): Range {
  const { first, last, where } = range;
  if (first > last) {
    throw new CommandError(ErrorCode.VALIDATION_FAILED, `${where}: first ${intToIp(first)} is above last ${intToIp(last)}`, { range: where });
  }
  const cidr = cidrOf(network.cidr);
  if (!contains(cidr, first) || !contains(cidr, last)) {
    throw new CommandError(ErrorCode.IP_OUTSIDE_SUBNET, `${where} ${show(range)} is not inside the external network's ${network.cidr}`, { range: where, cidr: network.cidr });
  }
  for (const [role, address] of reservedAddresses(cidr, network.gatewayIp)) {
    if (first <= address && address <= last) {
      throw new CommandError(ErrorCode.IP_RESERVED, `${where} ${show(range)} holds the ${role} address ${intToIp(address)} of the external network`, { range: where, reserved: role, ipAddress: intToIp(address) });
    }
  }
  return range;
}

export function reservedAddresses(cidr: Cidr, gatewayIp: string): [role: 'network' | 'broadcast' | 'gateway', address: number][] {
  return [['network', cidr.network], ['broadcast', cidr.network + cidr.size - 1], ['gateway', ipToInt(gatewayIp)]];
}

function rangesOverlap(a: { first: number; last: number }, b: { first: number; last: number }): boolean {
  return a.first <= b.last && b.first <= a.last;
}

function show(r: { first: number; last: number }): string {
  return `(${intToIp(r.first)}-${intToIp(r.last)})`;
}

// --- externalippool.delete ----------------------------------------------------------

export const DeleteExternalIpPool = commandPayload({ poolId: ResourceId });

function deleteExternalIpPool(view: View, input: z.infer<typeof DeleteExternalIpPool>) {
  const pool = findPool(view, input.poolId);
  if (pool.allocated.size > 0) {
    throw new CommandError(ErrorCode.IN_USE, `pool ${pool.id} still has ${pool.allocated.size} allocated address(es)`, { externalIpIds: [...pool.allocated.values()] });
  }
  return { events: [{ type: 'ExternalIpPoolDeleted' as const, data: { poolId: pool.id } }], result: {} };
}

// --- queries ------------------------------------------------------------------

export const GetExternalNetwork = queryPayload({ externalNetworkId: ResourceId });
export const ListExternalNetworks = queryPayload({ name: z.string().optional() });
export const GetExternalIpPool = queryPayload({ poolId: ResourceId });
export const ListExternalIpPools = queryPayload({ externalNetworkId: ResourceId.optional() });

const presentNetworkIn = (view: View) => (n: ExternalNetwork) => presentExternalNetwork(n, view.defaultExternalNetworkId === n.id);

export const externalNetworkOperations = {
  'externalnetwork.create': providerCommand(CreateExternalNetwork, createExternalNetwork),
  'externalnetwork.update': providerCommand(UpdateExternalNetwork, updateExternalNetwork),
  'externalnetwork.delete': providerCommand(DeleteExternalNetwork, deleteExternalNetwork),
  'externalnetwork.get': providerQuery(GetExternalNetwork, (view, input) => ({
    externalNetwork: presentNetworkIn(view)(findExternalNetwork(view, input.externalNetworkId)),
  })),
  'externalnetwork.list': providerQuery(ListExternalNetworks, (view, input) => ({
    externalNetworks: [...view.externalNetworks.values()].filter((n) => input.name === undefined || n.name === input.name).map(presentNetworkIn(view)),
  })),
  'externalippool.create': providerCommand(CreateExternalIpPool, createExternalIpPool),
  'externalippool.delete': providerCommand(DeleteExternalIpPool, deleteExternalIpPool),
  'externalippool.get': providerQuery(GetExternalIpPool, (view, input) => ({ externalIpPool: presentExternalIpPool(findPool(view, input.poolId)) })),
  'externalippool.list': providerQuery(ListExternalIpPools, (view, input) => ({
    externalIpPools: [...view.externalIpPools.values()]
      .filter((p) => input.externalNetworkId === undefined || p.externalNetworkId === input.externalNetworkId)
      .map(presentExternalIpPool),
  })),
} as const;
