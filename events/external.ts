import { z } from 'zod';

/**
 * Events of the outside-world family. Provider events (external networks, pools)
 * are committed in the provider scope; the rest in the tenant's. Every address and
 * MAC chosen is recorded here.
 */

const Id = z.uuid();
const Ipv4 = z.ipv4();
const Mac = z.string().regex(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);

export const GatewayChassis = z.object({ name: z.string(), priority: z.number().int() });
export type GatewayChassis = z.infer<typeof GatewayChassis>;

export const AddressRange = z.object({ first: Ipv4, last: Ipv4 });
export type AddressRange = z.infer<typeof AddressRange>;

export const ExternalNetworkCreated = z.object({
  type: z.literal('ExternalNetworkCreated'),
  data: z.object({
    externalNetworkId: Id,
    name: z.string(),
    cidr: z.cidrv4(),
    gatewayIp: Ipv4,
    /** OVN localnet network_name: the chassis map it to a bridge (ovn-bridge-mappings). */
    physicalNetwork: z.string(),
    vlanId: z.number().int().optional(),
    gatewayChassis: z.array(GatewayChassis),
    /** The network tenants' VPCs use; a new default replaces the previous one. */
    isDefault: z.boolean(),
  }),
});
/** Operators move gateways and choose the default network; address space never changes. */
export const ExternalNetworkUpdated = z.object({
  type: z.literal('ExternalNetworkUpdated'),
  data: z.object({
    externalNetworkId: Id,
    /** true: this network becomes the default; false: it stops being the default (no default then). */
    isDefault: z.boolean().optional(),
    gatewayChassis: z.array(GatewayChassis).optional(),
  }),
});
export const ExternalNetworkDeleted = z.object({
  type: z.literal('ExternalNetworkDeleted'),
  data: z.object({ externalNetworkId: Id }),
});

export const ExternalIpPoolCreated = z.object({
  type: z.literal('ExternalIpPoolCreated'),
  data: z.object({ poolId: Id, externalNetworkId: Id, name: z.string(), ranges: z.array(AddressRange) }),
});
export const ExternalIpPoolDeleted = z.object({
  type: z.literal('ExternalIpPoolDeleted'),
  data: z.object({ poolId: Id }),
});

export const ExternalIpAllocated = z.object({
  type: z.literal('ExternalIpAllocated'),
  data: z.object({ externalIpId: Id, poolId: Id, address: Ipv4 }),
});
export const ExternalIpReleased = z.object({
  type: z.literal('ExternalIpReleased'),
  data: z.object({ externalIpId: Id }),
});

export const NatGatewayCreated = z.object({
  type: z.literal('NatGatewayCreated'),
  data: z.object({
    natGatewayId: Id,
    vpcId: Id,
    externalIpId: Id,
    /** MAC of the VPC router's port on the external network. */
    gatewayMac: Mac,
    /** The external IP was allocated for the gateway, so deleting the gateway releases it. */
    releaseIpOnDelete: z.boolean(),
  }),
});
export const NatGatewayDeleted = z.object({
  type: z.literal('NatGatewayDeleted'),
  data: z.object({ natGatewayId: Id }),
});

/**
 * What an external IP is attached to: a port, a device's primary port, a load balancer, or a
 * cluster's endpoint (the load balancer of that endpoint in the tenant, whenever there is one).
 */
export const AttachmentTarget = z.union([
  z.object({ portId: Id }).strict(),
  z.object({ deviceId: z.string() }).strict(),
  z.object({ loadBalancerId: Id }).strict(),
  z.object({ clusterId: z.string(), endpoint: z.enum(['api', 'ingress']) }).strict(),
]);
export type AttachmentTarget = z.infer<typeof AttachmentTarget>;

export const ExternalIpAttachmentCreated = z.object({
  type: z.literal('ExternalIpAttachmentCreated'),
  data: z.object({ attachmentId: Id, externalIpId: Id, target: AttachmentTarget }),
});
export const ExternalIpAttachmentDeleted = z.object({
  type: z.literal('ExternalIpAttachmentDeleted'),
  data: z.object({ attachmentId: Id }),
});

export const PortForwardCreated = z.object({
  type: z.literal('PortForwardCreated'),
  data: z.object({
    portForwardId: Id,
    externalIpId: Id,
    protocol: z.enum(['tcp', 'udp']),
    externalPort: z.number().int(),
    portId: Id,
    internalPort: z.number().int(),
  }),
});
export const PortForwardDeleted = z.object({
  type: z.literal('PortForwardDeleted'),
  data: z.object({ portForwardId: Id }),
});

export const ExternalEvent = z.discriminatedUnion('type', [
  ExternalNetworkCreated, ExternalNetworkUpdated, ExternalNetworkDeleted, ExternalIpPoolCreated, ExternalIpPoolDeleted,
  ExternalIpAllocated, ExternalIpReleased, NatGatewayCreated, NatGatewayDeleted,
  ExternalIpAttachmentCreated, ExternalIpAttachmentDeleted, PortForwardCreated, PortForwardDeleted,
]);
export type ExternalEvent = z.infer<typeof ExternalEvent>;
