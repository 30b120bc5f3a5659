import { z } from 'zod';
import type { AttachmentTarget, Scope } from '../../events/mod.js';
import { deviceKey, endpointKey, resourcesIn, targetKey } from '../../projections/mod.js';
import type { ExternalIpAttachment, View, Vpc } from '../../projections/mod.js';
import type { DecideContext } from './context.js';
import { CommandError, ErrorCode, notFound } from './errors.js';
import { findExternalIp, usersOf } from './external-ip.js';
import { command, commandPayload, DeviceId, findInScope, query, queryPayload, ResourceId } from './operation.js';
import { findLoadBalancer } from './load-balancer.js';
import { findPort } from './port.js';
import { requireCapability } from './vpc.js';

/**
 * External IP attachment: a floating IP. To a port, 1:1 NAT between the external IP and the port,
 * named by the port or by its device (the device's primary port, once it has one). To a load
 * balancer, named by its id or by the cluster endpoint it serves (once there is one): the
 * outside reaches its listeners at the external IP. Needs a NAT gateway in the target's VPC
 * to take effect; until then the reconciler reports Pending.
 */

export type AttachmentFields = Pick<ExternalIpAttachment, 'id' | 'scope' | 'externalIpId' | 'target' | 'createdAt'> & { readonly address: string };

export function presentAttachment(a: AttachmentFields) {
  return {
    id: a.id, org: a.scope.org, project: a.scope.project, externalIpId: a.externalIpId, address: a.address,
    target: { ...a.target }, createdAt: a.createdAt,
  };
}

export function findAttachment(view: View, scope: Scope, attachmentId: string): ExternalIpAttachment {
  return findInScope(view.attachments, scope, attachmentId, () => notFound('externalipattachment', attachmentId));
}

const presentIn = (view: View) => (a: ExternalIpAttachment) =>
  presentAttachment({ ...a, address: view.externalIps.get(a.externalIpId)?.address ?? '' });

// --- externalipattachment.create ------------------------------------------------------

/** A cluster's id, as the provider's cluster service names it. */
const ClusterId = DeviceId;

export const CreateAttachment = commandPayload({
  externalIpId: ResourceId,
  // Strict objects: `endpoint` is required with `clusterId` and refused with any other target.
  target: z.union([
    z.strictObject({ portId: ResourceId }),
    z.strictObject({ deviceId: DeviceId }),
    z.strictObject({ loadBalancerId: ResourceId }),
    z.strictObject({ clusterId: ClusterId, endpoint: z.enum(['api', 'ingress']) }),
  ]),
});

function createAttachment(view: View, input: z.infer<typeof CreateAttachment>, ctx: DecideContext) {
  const ip = findExternalIp(view, ctx.scope, input.externalIpId);
  const users = usersOf(ip);
  if (Object.keys(users).length > 0) {
    throw new CommandError(ErrorCode.CONFLICT, `external IP ${ip.id} (${ip.address}) is already in use`, { externalIpId: ip.id, ...users });
  }
  const target = checkedTarget(view, ctx.scope, input.target);
  const vpc = vpcOfTarget(view, ctx.scope, target);
  if (vpc) requireCapability(view, vpc, 'externalIps');
  const attachment: AttachmentFields = { id: ctx.newId(), scope: ctx.scope, externalIpId: ip.id, address: ip.address, target, createdAt: ctx.now };
  return {
    events: [{ type: 'ExternalIpAttachmentCreated' as const, data: { attachmentId: attachment.id, externalIpId: ip.id, target } }],
    // Always Pending here: Ready is the reconciler's to say, on the status stream.
    result: { externalIpAttachment: { ...presentAttachment(attachment), phase: 'Pending' } },
  };
}

/**
 * The target, if nothing else already gets an external address through it: one attachment per
 * port (by its id or by its device), per device (by its id or on one of its ports), and per load
 * balancer (by its id or by its cluster endpoint). A device or cluster endpoint may have no port
 * or load balancer yet.
 */
function checkedTarget(view: View, scope: Scope, input: z.infer<typeof CreateAttachment>['target']): AttachmentTarget {
  const taken = (target: AttachmentTarget) => view.attachmentOfTarget.get(targetKey(scope, target));
  const refuse = (what: string, attachmentId: string, details: Record<string, unknown>) =>
    new CommandError(ErrorCode.CONFLICT, `${what} already has external IP attachment ${attachmentId}`, { attachmentId, ...details });
  if ('portId' in input) {
    const port = findPort(view, scope, input.portId);
    const clash = taken({ portId: port.id }) ?? (port.deviceId !== undefined ? taken({ deviceId: port.deviceId }) : undefined);
    if (clash !== undefined) throw refuse(`port ${port.id}`, clash, { portId: port.id });
    return { portId: port.id };
  }
  if ('deviceId' in input) {
    const { deviceId } = input;
    const ports = view.devicePorts.get(deviceKey(scope, deviceId)) ?? [];
    const clash = taken({ deviceId }) ?? [...ports].map((portId) => taken({ portId })).find((a) => a !== undefined);
    if (clash !== undefined) throw refuse(`device ${deviceId}`, clash, { deviceId });
    return { deviceId };
  }
  if ('loadBalancerId' in input) {
    const lb = findLoadBalancer(view, scope, input.loadBalancerId);
    const clash = taken({ loadBalancerId: lb.id }) ?? (lb.endpoint ? taken({ clusterId: lb.endpoint.clusterId, endpoint: lb.endpoint.role }) : undefined);
    if (clash !== undefined) throw refuse(`load balancer ${lb.id}`, clash, { loadBalancerId: lb.id });
    return { loadBalancerId: lb.id };
  }
  const { clusterId, endpoint } = input;
  const lbId = view.endpointLoadBalancer.get(endpointKey(scope, { clusterId, role: endpoint }));
  const clash = taken({ clusterId, endpoint }) ?? (lbId !== undefined ? taken({ loadBalancerId: lbId }) : undefined);
  if (clash !== undefined) throw refuse(`cluster ${clusterId}'s ${endpoint} endpoint`, clash, { clusterId, endpoint });
  return { clusterId, endpoint };
}

/**
 * The VPC a target is in, where one is known yet (a device without ports and a cluster endpoint
 * without its load balancer have none): its class must offer external IPs.
 */
function vpcOfTarget(view: View, scope: Scope, target: AttachmentTarget): Vpc | undefined {
  let vpcId: string | undefined;
  if ('portId' in target) vpcId = view.ports.get(target.portId)?.vpcId;
  else if ('deviceId' in target) {
    const [first] = view.devicePorts.get(deviceKey(scope, target.deviceId)) ?? [];
    vpcId = first === undefined ? undefined : view.ports.get(first)?.vpcId;
  } else if ('loadBalancerId' in target) vpcId = view.loadBalancers.get(target.loadBalancerId)?.vpcId;
  else {
    const lbId = view.endpointLoadBalancer.get(endpointKey(scope, { clusterId: target.clusterId, role: target.endpoint }));
    vpcId = lbId === undefined ? undefined : view.loadBalancers.get(lbId)?.vpcId;
  }
  return vpcId === undefined ? undefined : view.vpcs.get(vpcId);
}

// --- externalipattachment.delete ------------------------------------------------------

export const DeleteAttachment = commandPayload({ attachmentId: ResourceId });

function deleteAttachment(view: View, input: z.infer<typeof DeleteAttachment>, ctx: DecideContext) {
  const attachment = findAttachment(view, ctx.scope, input.attachmentId);
  return { events: [{ type: 'ExternalIpAttachmentDeleted' as const, data: { attachmentId: attachment.id } }], result: {} };
}

// --- queries ------------------------------------------------------------------

export const GetAttachment = queryPayload({ attachmentId: ResourceId });
export const ListAttachments = queryPayload({
  externalIpId: ResourceId.optional(), portId: ResourceId.optional(), deviceId: z.string().optional(),
  loadBalancerId: ResourceId.optional(), clusterId: z.string().optional(),
});

export const attachmentOperations = {
  'externalipattachment.create': command(CreateAttachment, createAttachment),
  'externalipattachment.delete': command(DeleteAttachment, deleteAttachment),
  'externalipattachment.get': query(GetAttachment, (view, input, scope) => ({
    externalIpAttachment: presentIn(view)(findAttachment(view, scope, input.attachmentId)),
  })),
  'externalipattachment.list': query(ListAttachments, (view, input, scope) => ({
    externalIpAttachments: resourcesIn(view, scope, 'externalipattachment')
      .filter((a) => (input.externalIpId === undefined || a.externalIpId === input.externalIpId)
        && (input.portId === undefined || ('portId' in a.target && a.target.portId === input.portId))
        && (input.deviceId === undefined || ('deviceId' in a.target && a.target.deviceId === input.deviceId))
        && (input.loadBalancerId === undefined || ('loadBalancerId' in a.target && a.target.loadBalancerId === input.loadBalancerId))
        && (input.clusterId === undefined || ('clusterId' in a.target && a.target.clusterId === input.clusterId)))
      .map(presentIn(view)),
  })),
} as const;
