import type { z } from 'zod';
import type { EventOf, Scope } from '../../events/mod.js';
import { nextPoolAddress, resourcesIn } from '../../projections/mod.js';
import type { ExternalIp, ExternalIpPool, ExternalNetwork, View } from '../../projections/mod.js';
import type { DecideContext } from './context.js';
import { CommandError, ErrorCode, notFound } from './errors.js';
import { command, commandPayload, findInScope, query, queryPayload, ResourceId } from './operation.js';

/**
 * External IP: a public address a tenant holds, drawn from a pool of the provider's default
 * external network. It is used by at most one of: a NAT gateway, a 1:1 attachment, or any
 * number of port forwards. Pools are shared by every tenant, so an address is never handed
 * out twice.
 */

export type ExternalIpFields = Pick<ExternalIp, 'id' | 'scope' | 'poolId' | 'externalNetworkId' | 'address' | 'createdAt' | 'natGatewayId' | 'attachmentId'>
  & { readonly portForwardIds: Iterable<string> };

export function presentExternalIp(ip: ExternalIpFields) {
  return {
    id: ip.id, org: ip.scope.org, project: ip.scope.project, address: ip.address, poolId: ip.poolId, externalNetworkId: ip.externalNetworkId,
    ...(ip.natGatewayId !== undefined && { natGatewayId: ip.natGatewayId }),
    ...(ip.attachmentId !== undefined && { attachmentId: ip.attachmentId }),
    portForwardIds: [...ip.portForwardIds], createdAt: ip.createdAt,
  };
}

export function findExternalIp(view: View, scope: Scope, externalIpId: string): ExternalIp {
  return findInScope(view.externalIps, scope, externalIpId, () => notFound('externalip', externalIpId));
}

/** What uses an external IP, as error details; empty when it is free. */
export function usersOf(ip: ExternalIp): { natGatewayId?: string; attachmentId?: string; portForwardIds?: string[] } {
  return {
    ...(ip.natGatewayId !== undefined && { natGatewayId: ip.natGatewayId }),
    ...(ip.attachmentId !== undefined && { attachmentId: ip.attachmentId }),
    ...(ip.portForwardIds.size > 0 && { portForwardIds: [...ip.portForwardIds] }),
  };
}

export function isInUse(ip: ExternalIp): boolean {
  return ip.natGatewayId !== undefined || ip.attachmentId !== undefined || ip.portForwardIds.size > 0;
}

/**
 * Tenants never name an external network: what they allocate comes from the default one, or
 * from the one their VPC's network class names.
 */
function allocationNetwork(view: View, externalNetworkId?: string): ExternalNetwork {
  const id = externalNetworkId ?? view.defaultExternalNetworkId;
  const network = id !== undefined ? view.externalNetworks.get(id) : undefined;
  if (!network) {
    if (externalNetworkId !== undefined) throw new CommandError(ErrorCode.NOT_FOUND, `external network ${externalNetworkId} not found`, { kind: 'externalnetwork', id: externalNetworkId });
    throw new CommandError(ErrorCode.NOT_FOUND, 'there is no default external network: the operator has not created one yet', { kind: 'externalnetwork' });
  }
  return network;
}

/**
 * Decides an allocation: the lowest free address of the given pool, or without one of the first pool of the
 * given (else the default) network (in creation order) that has a free address. Draws the external IP's id.
 */
export function allocateExternalIp(view: View, ctx: DecideContext, poolId?: string, externalNetworkId?: string): { event: EventOf<'ExternalIpAllocated'>; ip: ExternalIpFields } {
  const network = allocationNetwork(view, externalNetworkId);
  let pool: ExternalIpPool | undefined;
  let address: string | undefined;
  if (poolId !== undefined) {
    pool = view.externalIpPools.get(poolId);
    if (!pool || pool.externalNetworkId !== network.id) {
      throw new CommandError(ErrorCode.NOT_FOUND, `pool ${poolId} not found in the default external network`, { kind: 'externalippool', id: poolId });
    }
    address = nextPoolAddress(pool);
    if (address === undefined) {
      throw new CommandError(ErrorCode.POOL_EXHAUSTED, `pool ${pool.id} has no free address`, { poolId: pool.id });
    }
  } else {
    for (const id of network.poolIds) {
      const candidate = view.externalIpPools.get(id);
      address = candidate && nextPoolAddress(candidate);
      if (address !== undefined) {
        pool = candidate;
        break;
      }
    }
    if (!pool || address === undefined) {
      throw new CommandError(ErrorCode.POOL_EXHAUSTED, `no pool of the default external network ${network.id} has a free address`, { externalNetworkId: network.id });
    }
  }
  const ip: ExternalIpFields = {
    id: ctx.newId(), scope: ctx.scope, poolId: pool.id, externalNetworkId: network.id, address, createdAt: ctx.now, portForwardIds: [],
  };
  return { event: { type: 'ExternalIpAllocated', data: { externalIpId: ip.id, poolId: pool.id, address } }, ip };
}

// --- externalip.allocate ------------------------------------------------------------

export const AllocateExternalIp = commandPayload({ poolId: ResourceId.optional() });

function allocate(view: View, input: z.infer<typeof AllocateExternalIp>, ctx: DecideContext) {
  const { event, ip } = allocateExternalIp(view, ctx, input.poolId);
  return { events: [event], result: { externalIp: presentExternalIp(ip) } };
}

// --- externalip.release -------------------------------------------------------------

export const ReleaseExternalIp = commandPayload({ externalIpId: ResourceId });

function release(view: View, input: z.infer<typeof ReleaseExternalIp>, ctx: DecideContext) {
  const ip = findExternalIp(view, ctx.scope, input.externalIpId);
  if (isInUse(ip)) {
    throw new CommandError(ErrorCode.IN_USE, `external IP ${ip.id} (${ip.address}) is still in use`, usersOf(ip));
  }
  return { events: [{ type: 'ExternalIpReleased' as const, data: { externalIpId: ip.id } }], result: {} };
}

// --- queries ------------------------------------------------------------------

export const GetExternalIp = queryPayload({ externalIpId: ResourceId });
export const ListExternalIps = queryPayload({});

export const externalIpOperations = {
  'externalip.allocate': command(AllocateExternalIp, allocate),
  'externalip.release': command(ReleaseExternalIp, release),
  'externalip.get': query(GetExternalIp, (view, input, scope) => ({ externalIp: presentExternalIp(findExternalIp(view, scope, input.externalIpId)) })),
  'externalip.list': query(ListExternalIps, (view, _input, scope) => ({
    externalIps: resourcesIn(view, scope, 'externalip').map(presentExternalIp),
  })),
} as const;
