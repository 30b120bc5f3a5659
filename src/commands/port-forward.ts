import { z } from 'zod';
import type { Scope } from '../../events/mod.js';
import { resourcesIn } from '../../projections/mod.js';
import type { View, PortForward } from '../../projections/mod.js';
import type { DecideContext } from './context.js';
import { CommandError, ErrorCode, notFound } from './errors.js';
import { findExternalIp } from './external-ip.js';
import { command, commandPayload, findInScope, query, queryPayload, ResourceId } from './operation.js';
import { findPort } from './port.js';

/**
 * Port forward: DNAT of one protocol/port of an external IP to a port's address and port
 * (Neutron's floating IP port forwarding). The IP may be a NAT gateway's or a standalone one,
 * but every forward of one IP reaches into one VPC: the VPC whose router holds the address.
 */

export type PortForwardFields = Pick<PortForward, 'id' | 'scope' | 'externalIpId' | 'protocol' | 'externalPort' | 'portId' | 'internalPort' | 'createdAt'>
  & { readonly address: string };

export function presentPortForward(f: PortForwardFields) {
  return {
    id: f.id, org: f.scope.org, project: f.scope.project, externalIpId: f.externalIpId, address: f.address, protocol: f.protocol,
    externalPort: f.externalPort, portId: f.portId, internalPort: f.internalPort, createdAt: f.createdAt,
  };
}

export function findPortForward(view: View, scope: Scope, portForwardId: string): PortForward {
  return findInScope(view.portForwards, scope, portForwardId, () => notFound('portforward', portForwardId));
}

const presentIn = (view: View) => (f: PortForward) =>
  presentPortForward({ ...f, address: view.externalIps.get(f.externalIpId)?.address ?? '' });

// --- portforward.create -------------------------------------------------------------

const PortNumber = z.number().int().min(1).max(65535);

export const CreatePortForward = commandPayload({
  externalIpId: ResourceId,
  protocol: z.enum(['tcp', 'udp']),
  externalPort: PortNumber,
  portId: ResourceId,
  internalPort: PortNumber,
});

function createPortForward(view: View, input: z.infer<typeof CreatePortForward>, ctx: DecideContext) {
  const ip = findExternalIp(view, ctx.scope, input.externalIpId);
  const port = findPort(view, ctx.scope, input.portId);
  if (ip.attachmentId !== undefined) {
    throw new CommandError(ErrorCode.CONFLICT, `external IP ${ip.id} (${ip.address}) is attached 1:1 by ${ip.attachmentId}: all its ports already go to one target`, { externalIpId: ip.id, attachmentId: ip.attachmentId });
  }
  const forwards = [...ip.portForwardIds].map((id) => view.portForwards.get(id)).filter((f): f is PortForward => f !== undefined);
  const same = forwards.find((f) => f.protocol === input.protocol && f.externalPort === input.externalPort);
  if (same) {
    throw new CommandError(ErrorCode.CONFLICT, `${input.protocol} ${ip.address}:${input.externalPort} is already forwarded by ${same.id}`, { portForwardId: same.id });
  }
  const gateway = ip.natGatewayId !== undefined ? view.natGateways.get(ip.natGatewayId) : undefined;
  if (gateway && gateway.vpcId !== port.vpcId) {
    throw new CommandError(ErrorCode.CONFLICT, `external IP ${ip.id} belongs to NAT gateway ${gateway.id} of VPC ${gateway.vpcId}; port ${port.id} is in VPC ${port.vpcId}`, { natGatewayId: gateway.id, vpcId: gateway.vpcId, portVpcId: port.vpcId });
  }
  const other = forwards.find((f) => { const vpcId = view.ports.get(f.portId)?.vpcId; return vpcId !== undefined && vpcId !== port.vpcId; });
  if (other) {
    const vpcId = view.ports.get(other.portId)!.vpcId;
    throw new CommandError(ErrorCode.CONFLICT, `external IP ${ip.id} already forwards into VPC ${vpcId} (${other.id}); port ${port.id} is in VPC ${port.vpcId}`, { portForwardId: other.id, vpcId, portVpcId: port.vpcId });
  }
  const forward: PortForwardFields = {
    id: ctx.newId(), scope: ctx.scope, externalIpId: ip.id, address: ip.address, protocol: input.protocol,
    externalPort: input.externalPort, portId: port.id, internalPort: input.internalPort, createdAt: ctx.now,
  };
  const { id: portForwardId, scope: _scope, address: _address, createdAt: _createdAt, ...data } = forward;
  return {
    events: [{ type: 'PortForwardCreated' as const, data: { portForwardId, ...data } }],
    result: { portForward: presentPortForward(forward) },
  };
}

// --- portforward.delete -------------------------------------------------------------

export const DeletePortForward = commandPayload({ portForwardId: ResourceId });

function deletePortForward(view: View, input: z.infer<typeof DeletePortForward>, ctx: DecideContext) {
  const forward = findPortForward(view, ctx.scope, input.portForwardId);
  return { events: [{ type: 'PortForwardDeleted' as const, data: { portForwardId: forward.id } }], result: {} };
}

// --- queries ------------------------------------------------------------------

export const GetPortForward = queryPayload({ portForwardId: ResourceId });
export const ListPortForwards = queryPayload({ externalIpId: ResourceId.optional(), portId: ResourceId.optional() });

export const portForwardOperations = {
  'portforward.create': command(CreatePortForward, createPortForward),
  'portforward.delete': command(DeletePortForward, deletePortForward),
  'portforward.get': query(GetPortForward, (view, input, scope) => ({ portForward: presentIn(view)(findPortForward(view, scope, input.portForwardId)) })),
  'portforward.list': query(ListPortForwards, (view, input, scope) => ({
    portForwards: resourcesIn(view, scope, 'portforward')
      .filter((f) => (input.externalIpId === undefined || f.externalIpId === input.externalIpId)
        && (input.portId === undefined || f.portId === input.portId))
      .map(presentIn(view)),
  })),
} as const;
