import { z } from 'zod';
import type { NovanetEvent, Scope } from '../../events/mod.js';
import { resourcesIn } from '../../projections/mod.js';
import type { NatGateway, View, Vpc } from '../../projections/mod.js';
import type { DecideContext } from './context.js';
import { CommandError, ErrorCode, notFound } from './errors.js';
import { allocateExternalIp, findExternalIp, isInUse, usersOf } from './external-ip.js';
import type { ExternalIpFields } from './external-ip.js';
import { allocateMac } from './mac.js';
import { command, commandPayload, findInScope, query, queryPayload, ResourceId } from './operation.js';
import { classOfVpc, findVpc, requireCapability } from './vpc.js';

/**
 * NAT gateway: a VPC's way out. Its router gets a port on the external network holding the
 * gateway's external IP, and SNAT for the VPC's subnets. One per VPC; its IP never changes.
 */

export type NatGatewayFields = Pick<NatGateway, 'id' | 'scope' | 'vpcId' | 'externalIpId' | 'createdAt'> & { readonly address: string };

export function presentNatGateway(g: NatGatewayFields) {
  return { id: g.id, org: g.scope.org, project: g.scope.project, vpcId: g.vpcId, externalIpId: g.externalIpId, address: g.address, createdAt: g.createdAt };
}

export function findNatGateway(view: View, scope: Scope, natGatewayId: string): NatGateway {
  return findInScope(view.natGateways, scope, natGatewayId, () => notFound('natgateway', natGatewayId));
}

const presentIn = (view: View) => (g: NatGateway) =>
  presentNatGateway({ ...g, address: view.externalIps.get(g.externalIpId)?.address ?? '' });

// --- natgateway.create --------------------------------------------------------------

export const CreateNatGateway = commandPayload({
  vpcId: ResourceId,
  /** Absent: an address is allocated for the gateway in the same commit, and released with it. */
  externalIpId: ResourceId.optional(),
});

function createNatGateway(view: View, input: z.infer<typeof CreateNatGateway>, ctx: DecideContext) {
  const vpc = findVpc(view, ctx.scope, input.vpcId);
  const existing = view.natGatewayOfVpc.get(vpc.id);
  if (existing !== undefined) {
    throw new CommandError(ErrorCode.ALREADY_EXISTS, `VPC ${vpc.id} already has NAT gateway ${existing}`, { natGatewayId: existing });
  }
  const { events, gateway } = decideNatGateway(view, ctx, vpc, input.externalIpId);
  // After deciding: without an external network at all, NOT_FOUND says more than a missing capability.
  requireCapability(view, vpc, 'natGateway');
  return { events, result: { natGateway: presentNatGateway(gateway) } };
}

/**
 * A VPC's NAT gateway: also the one a network class gives a VPC in the VPC's own commit
 * (`taken`: MACs that commit chose already). Without `externalIpId` an address of the class's
 * external network (the default one if it names none) is allocated with it.
 */
export function decideNatGateway(
  view: View, ctx: DecideContext, vpc: Pick<Vpc, 'id' | 'networkClassId'>, externalIpId: string | undefined, taken: ReadonlySet<string> = new Set(),
): { events: NovanetEvent[]; gateway: NatGatewayFields } {
  const events: NovanetEvent[] = [];
  const classNetwork = classOfVpc(view, vpc)?.externalNetworkId;
  let ip: ExternalIpFields;
  if (externalIpId !== undefined) {
    const held = findExternalIp(view, ctx.scope, externalIpId);
    if (isInUse(held)) {
      throw new CommandError(ErrorCode.CONFLICT, `external IP ${held.id} (${held.address}) is already in use`, { externalIpId: held.id, ...usersOf(held) });
    }
    if (classNetwork !== undefined && held.externalNetworkId !== classNetwork) {
      throw new CommandError(ErrorCode.CONFLICT, `external IP ${held.id} is not on the VPC's class's external network ${classNetwork}`, { externalIpId: held.id, externalNetworkId: classNetwork });
    }
    ip = held;
  } else {
    const allocation = allocateExternalIp(view, ctx, undefined, classNetwork);
    events.push(allocation.event);
    ip = allocation.ip;
  }
  const gateway: NatGatewayFields = { id: ctx.newId(), scope: ctx.scope, vpcId: vpc.id, externalIpId: ip.id, address: ip.address, createdAt: ctx.now };
  events.push({
    type: 'NatGatewayCreated',
    data: {
      natGatewayId: gateway.id, vpcId: vpc.id, externalIpId: ip.id, gatewayMac: allocateMac(view, ctx, taken),
      releaseIpOnDelete: externalIpId === undefined,
    },
  });
  return { events, gateway };
}

// --- natgateway.delete --------------------------------------------------------------

export const DeleteNatGateway = commandPayload({ natGatewayId: ResourceId });

/**
 * An address allocated for the gateway goes with it, unless port forwards still use it: then the
 * tenant keeps it (and releases it when done). Attachments and forwards in the VPC stay.
 */
function deleteNatGateway(view: View, input: z.infer<typeof DeleteNatGateway>, ctx: DecideContext) {
  const gateway = findNatGateway(view, ctx.scope, input.natGatewayId);
  const events: NovanetEvent[] = [{ type: 'NatGatewayDeleted', data: { natGatewayId: gateway.id } }];
  const ip = view.externalIps.get(gateway.externalIpId);
  if (gateway.releaseIpOnDelete && ip && ip.attachmentId === undefined && ip.portForwardIds.size === 0) {
    events.push({ type: 'ExternalIpReleased', data: { externalIpId: ip.id } });
  }
  return { events, result: {} };
}

// --- queries ------------------------------------------------------------------

export const GetNatGateway = queryPayload({ natGatewayId: ResourceId });
export const ListNatGateways = queryPayload({ vpcId: ResourceId.optional() });

export const natGatewayOperations = {
  'natgateway.create': command(CreateNatGateway, createNatGateway),
  'natgateway.delete': command(DeleteNatGateway, deleteNatGateway),
  'natgateway.get': query(GetNatGateway, (view, input, scope) => ({ natGateway: presentIn(view)(findNatGateway(view, scope, input.natGatewayId)) })),
  'natgateway.list': query(ListNatGateways, (view, input, scope) => ({
    natGateways: resourcesIn(view, scope, 'natgateway')
      .filter((g) => input.vpcId === undefined || g.vpcId === input.vpcId)
      .map(presentIn(view)),
  })),
} as const;
