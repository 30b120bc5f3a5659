import { z } from 'zod';
import { sameScope } from '../../events/mod.js';
import type { AttachmentTarget, Scope } from '../../events/mod.js';
import type { ExternalIpAttachment, View } from '../../projections/mod.js';
import type { DecideContext } from './context.js';
import { CommandError, ErrorCode, notFound } from './errors.js';
import { findExternalIp, usersOf } from './external-ip.js';
import { command, commandPayload, DeviceId, findInScope, query, queryPayload, ResourceId } from './operation.js';
import { findPort } from './port.js';

/**
 * External IP attachment: a floating IP, 1:1 NAT between an external IP and one port, named by
 * the port or by its device (a device that has no port yet gets the address once it has one).
 * Needs a NAT gateway in the port's VPC to take effect; until then the reconciler reports Pending.
 */

export type AttachmentFields = Pick<ExternalIpAttachment, 'id' | 'scope' | 'externalIpId' | 'target' | 'createdAt'> & { readonly address: string };

export function presentAttachment(a: AttachmentFields) {
  return {
    id: a.id, org: a.scope.org, project: a.scope.project, externalIpId: a.externalIpId, address: a.address,
    target: 'portId' in a.target ? { portId: a.target.portId } : { deviceId: a.target.deviceId }, createdAt: a.createdAt,
  };
}

export function findAttachment(view: View, scope: Scope, attachmentId: string): ExternalIpAttachment {
  return findInScope(view.attachments, scope, attachmentId, () => notFound('externalipattachment', attachmentId));
}

/** The tenant's attachments aimed at a port, by its id or by its device. */
export function attachmentsTargeting(view: View, scope: Scope, target: { portId?: string; deviceId?: string }): ExternalIpAttachment[] {
  return [...view.attachments.values()].filter((a) => sameScope(a.scope, scope)
    && (('portId' in a.target && a.target.portId === target.portId) || ('deviceId' in a.target && a.target.deviceId === target.deviceId)));
}

const presentIn = (view: View) => (a: ExternalIpAttachment) =>
  presentAttachment({ ...a, address: view.externalIps.get(a.externalIpId)?.address ?? '' });

// --- externalipattachment.create ------------------------------------------------------

export const CreateAttachment = commandPayload({
  externalIpId: ResourceId,
  target: z.union([z.strictObject({ portId: ResourceId }), z.strictObject({ deviceId: DeviceId })]),
});

function createAttachment(view: View, input: z.infer<typeof CreateAttachment>, ctx: DecideContext) {
  const ip = findExternalIp(view, ctx.scope, input.externalIpId);
  const users = usersOf(ip);
  if (Object.keys(users).length > 0) {
    throw new CommandError(ErrorCode.CONFLICT, `external IP ${ip.id} (${ip.address}) is already in use`, { externalIpId: ip.id, ...users });
  }
  let target: AttachmentTarget;
  if ('portId' in input.target) {
    const port = findPort(view, ctx.scope, input.target.portId);
    target = { portId: port.id };
    // One external address per port: its device's attachment would reach the same port.
    const clash = attachmentsTargeting(view, ctx.scope, { portId: port.id, ...(port.deviceId !== undefined && { deviceId: port.deviceId }) })[0];
    if (clash) {
      throw new CommandError(ErrorCode.CONFLICT, `port ${port.id} already has external IP attachment ${clash.id}`, { attachmentId: clash.id, portId: port.id });
    }
  } else {
    const deviceId = input.target.deviceId;
    target = { deviceId };
    const devicePorts = [...view.ports.values()].filter((p) => sameScope(p.scope, ctx.scope) && p.deviceId === deviceId).map((p) => p.id);
    const clash = [...view.attachments.values()].find((a) => sameScope(a.scope, ctx.scope)
      && (('deviceId' in a.target && a.target.deviceId === deviceId) || ('portId' in a.target && devicePorts.includes(a.target.portId))));
    if (clash) {
      throw new CommandError(ErrorCode.CONFLICT, `device ${deviceId} already has external IP attachment ${clash.id}`, { attachmentId: clash.id, deviceId });
    }
  }
  const attachment: AttachmentFields = { id: ctx.newId(), scope: ctx.scope, externalIpId: ip.id, address: ip.address, target, createdAt: ctx.now };
  return {
    events: [{ type: 'ExternalIpAttachmentCreated' as const, data: { attachmentId: attachment.id, externalIpId: ip.id, target } }],
    // Always Pending here: Ready is the reconciler's to say, on the status stream.
    result: { externalIpAttachment: { ...presentAttachment(attachment), phase: 'Pending' } },
  };
}

// --- externalipattachment.delete ------------------------------------------------------

export const DeleteAttachment = commandPayload({ attachmentId: ResourceId });

function deleteAttachment(view: View, input: z.infer<typeof DeleteAttachment>, ctx: DecideContext) {
  const attachment = findAttachment(view, ctx.scope, input.attachmentId);
  return { events: [{ type: 'ExternalIpAttachmentDeleted' as const, data: { attachmentId: attachment.id } }], result: {} };
}

// --- queries ------------------------------------------------------------------

export const GetAttachment = queryPayload({ attachmentId: ResourceId });
export const ListAttachments = queryPayload({ externalIpId: ResourceId.optional(), portId: ResourceId.optional(), deviceId: z.string().optional() });

export const attachmentOperations = {
  'externalipattachment.create': command(CreateAttachment, createAttachment),
  'externalipattachment.delete': command(DeleteAttachment, deleteAttachment),
  'externalipattachment.get': query(GetAttachment, (view, input, scope) => ({
    externalIpAttachment: presentIn(view)(findAttachment(view, scope, input.attachmentId)),
  })),
  'externalipattachment.list': query(ListAttachments, (view, input, scope) => ({
    externalIpAttachments: [...view.attachments.values()]
      .filter((a) => sameScope(a.scope, scope)
        && (input.externalIpId === undefined || a.externalIpId === input.externalIpId)
        && (input.portId === undefined || ('portId' in a.target && a.target.portId === input.portId))
        && (input.deviceId === undefined || ('deviceId' in a.target && a.target.deviceId === input.deviceId)))
      .map(presentIn(view)),
  })),
} as const;
