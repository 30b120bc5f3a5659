import { z } from 'zod';

/**
 * Events of the tenant network family: VPCs, subnets, ports.
 * Everything decided (ids, CIDRs, addresses, MACs) is recorded here: replay never allocates.
 */

const Id = z.uuid();
const Ipv4 = z.ipv4();
const Cidr4 = z.cidrv4();
const Mac = z.string().regex(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);

/** What a VPC is for (absent: anything): a `compute` VPC takes no bare-metal ports, a `baremetal` one no virtual ports. */
export const VpcScope = z.enum(['compute', 'cluster', 'baremetal']);
export type VpcScope = z.infer<typeof VpcScope>;

export const VpcCreated = z.object({
  type: z.literal('VpcCreated'),
  data: z.object({
    vpcId: Id,
    name: z.string(),
    cidr: Cidr4,
    /** Absent in VPCs from before network classes, and in installations without any. */
    networkClassId: Id.optional(),
    scope: VpcScope.optional(),
    /** The CIDR was drawn from the provider's VPC pool: no other pooled VPC, of any tenant, overlaps it. */
    cidrFromPool: z.literal(true).optional(),
  }),
});
export const VpcDeleted = z.object({
  type: z.literal('VpcDeleted'),
  data: z.object({ vpcId: Id }),
});

/** A static route on the VPC router (Neutron's extra route): traffic for `destination` goes to `nextHop`. */
export const VpcRoute = z.object({ routeId: Id, destination: Cidr4, nextHop: Ipv4 });
export type VpcRoute = z.infer<typeof VpcRoute>;
export const VpcRouteAdded = z.object({
  type: z.literal('VpcRouteAdded'),
  data: z.object({ vpcId: Id, route: VpcRoute }),
});
export const VpcRouteRemoved = z.object({
  type: z.literal('VpcRouteRemoved'),
  data: z.object({ vpcId: Id, routeId: Id }),
});

/** A route handed to DHCP clients (option 121), as Neutron's subnet host_routes. */
export const HostRoute = z.object({ destination: Cidr4, nextHop: Ipv4 });
export type HostRoute = z.infer<typeof HostRoute>;

export const DhcpSettings = z.object({
  enabled: z.boolean(),
  leaseTime: z.number().int(),
  dnsServers: z.array(Ipv4),
  ntpServers: z.array(Ipv4),
  mtu: z.number().int().optional(),
  domainName: z.string().optional(),
  /** Absent in commits from before host routes: none. */
  hostRoutes: z.array(HostRoute).optional(),
});
export type DhcpSettings = z.infer<typeof DhcpSettings>;

export const SubnetCreated = z.object({
  type: z.literal('SubnetCreated'),
  data: z.object({
    subnetId: Id,
    vpcId: Id,
    name: z.string(),
    cidr: Cidr4,
    gatewayIp: Ipv4,
    /** MAC of the VPC router's port on this subnet (also the DHCP server MAC). */
    gatewayMac: Mac,
    dhcp: DhcpSettings,
  }),
});
/** The subnet's settings after an update, in full: the fold replaces, never merges. */
export const SubnetUpdated = z.object({
  type: z.literal('SubnetUpdated'),
  data: z.object({ subnetId: Id, name: z.string(), dhcp: DhcpSettings }),
});
/** The subnet's VLAN on its class's bare-metal physical network, drawn with its first bare-metal port; freed with the subnet. */
export const SubnetVlanAllocated = z.object({
  type: z.literal('SubnetVlanAllocated'),
  data: z.object({ subnetId: Id, vlanId: z.number().int() }),
});
export const SubnetDeleted = z.object({
  type: z.literal('SubnetDeleted'),
  data: z.object({ subnetId: Id }),
});

/**
 * Traffic a port may send and receive besides its own address (Neutron's allowed address
 * pair): a VIP that moves between ports, or the networks behind an appliance.
 */
export const AllowedAddressPair = z.object({ ipAddress: z.union([Ipv4, Cidr4]), macAddress: Mac });
export type AllowedAddressPair = z.infer<typeof AllowedAddressPair>;

export const PortCreated = z.object({
  type: z.literal('PortCreated'),
  data: z.object({
    portId: Id,
    subnetId: Id,
    name: z.string().optional(),
    deviceId: z.string().optional(),
    macAddress: Mac,
    ipAddress: Ipv4,
    /** Absent in commits from before security groups: such ports are in no group. */
    securityGroupIds: z.array(Id).optional(),
    allowedAddressPairs: z.array(AllowedAddressPair).optional(),
    /**
     * The device's primary port gets the default route by DHCP, and its `{deviceId}` external IP.
     * Absent in commits from before multi-NIC devices: the device's first port is its primary.
     */
    primary: z.boolean().optional(),
    /** A bare-metal host's NIC (its MAC is the port's): an OVN external port. Absent: a virtual NIC. */
    vnicType: z.literal('baremetal').optional(),
  }),
});
/** The port now belongs to the device (the overlay spec's AttachPort): only that device's plug binds it. */
export const PortAttached = z.object({
  type: z.literal('PortAttached'),
  data: z.object({ portId: Id, deviceId: z.string() }),
});
/** The port keeps its address, MAC and external IPs, but no plug binds it until it is attached again. */
export const PortDetached = z.object({
  type: z.literal('PortDetached'),
  data: z.object({ portId: Id }),
});
/** The port's complete new list of pairs. */
export const PortAllowedAddressPairsChanged = z.object({
  type: z.literal('PortAllowedAddressPairsChanged'),
  data: z.object({ portId: Id, allowedAddressPairs: z.array(AllowedAddressPair) }),
});
export const PortDeleted = z.object({
  type: z.literal('PortDeleted'),
  data: z.object({ portId: Id }),
});

/** An internal load balancer: a VIP of a subnet spreading connections over member ports of the VPC. */
export const LoadBalancerListener = z.object({ port: z.number().int(), targetPort: z.number().int() });
export type LoadBalancerListener = z.infer<typeof LoadBalancerListener>;
/** A load balancer that is a cluster's API or ingress endpoint: external IP attachments can name it by cluster. */
export const LoadBalancerEndpoint = z.object({ clusterId: z.string(), role: z.enum(['api', 'ingress']) });
export type LoadBalancerEndpoint = z.infer<typeof LoadBalancerEndpoint>;
export const LoadBalancerCreated = z.object({
  type: z.literal('LoadBalancerCreated'),
  data: z.object({
    loadBalancerId: Id,
    subnetId: Id,
    name: z.string(),
    vipAddress: Ipv4,
    protocol: z.enum(['tcp', 'udp']),
    listeners: z.array(LoadBalancerListener),
    memberPortIds: z.array(Id),
    endpoint: LoadBalancerEndpoint.optional(),
  }),
});
/** The complete new member list. */
export const LoadBalancerMembersChanged = z.object({
  type: z.literal('LoadBalancerMembersChanged'),
  data: z.object({ loadBalancerId: Id, memberPortIds: z.array(Id) }),
});
export const LoadBalancerDeleted = z.object({
  type: z.literal('LoadBalancerDeleted'),
  data: z.object({ loadBalancerId: Id }),
});

export const NetworkEvent = z.discriminatedUnion('type', [
  VpcCreated, VpcDeleted, VpcRouteAdded, VpcRouteRemoved, SubnetCreated, SubnetUpdated, SubnetVlanAllocated, SubnetDeleted, PortCreated, PortAllowedAddressPairsChanged, PortDeleted, PortAttached, PortDetached,
  LoadBalancerCreated, LoadBalancerMembersChanged, LoadBalancerDeleted,
]);
export type NetworkEvent = z.infer<typeof NetworkEvent>;
