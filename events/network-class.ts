import { z } from 'zod';
import { SecurityGroupRule } from './security.js';

/**
 * Events of the provider's network classes: what a tenant network gets by default and what
 * it may do (OSAC's NetworkClass). Committed in the provider scope. A class's capabilities are
 * computed from these facts and the external network it names (projections/network-class.ts).
 */

const Id = z.uuid();

/** Every capability a class can have; a provider may take any of them away. */
export const Capability = z.enum(['ipv4', 'ipv6', 'externalIps', 'natGateway', 'baremetal', 'loadBalancers']);
export type Capability = z.infer<typeof Capability>;

export const VlanRange = z.object({ first: z.number().int(), last: z.number().int() });
export type VlanRange = z.infer<typeof VlanRange>;

/** Where bare-metal hosts meet OVN: a physical network, the VLANs subnets draw from, and the chassis that serve them. */
export const BaremetalNetwork = z.object({
  /** OVN localnet network_name: the chassis map it to a bridge (ovn-bridge-mappings). */
  physicalNetwork: z.string(),
  vlanRange: VlanRange,
  /** The chassis answering the hosts' DHCP and ARP (an HA_Chassis_Group), highest priority first to act. */
  chassis: z.array(z.object({ name: z.string(), priority: z.number().int() })),
});
export type BaremetalNetwork = z.infer<typeof BaremetalNetwork>;

/** A rule of a class's default security group: a group rule without its id (every VPC gives each its own). */
export const RuleTemplate = SecurityGroupRule.omit({ ruleId: true });
export type RuleTemplate = z.infer<typeof RuleTemplate>;

/** What every VPC of the class gets in its first commit. Rule lists absent: Neutron's default group. */
export const ClassDefaults = z.object({
  vpcPrefixLength: z.number().int(),
  subnetPrefixLength: z.number().int(),
  defaultSubnet: z.boolean(),
  ingressRules: z.array(RuleTemplate).optional(),
  egressRules: z.array(RuleTemplate).optional(),
  natGateway: z.boolean(),
});
export type ClassDefaults = z.infer<typeof ClassDefaults>;

export const NetworkClassCreated = z.object({
  type: z.literal('NetworkClassCreated'),
  data: z.object({
    networkClassId: Id,
    name: z.string(),
    description: z.string(),
    externalNetworkId: Id.optional(),
    baremetal: BaremetalNetwork.optional(),
    defaults: ClassDefaults,
    disableCapabilities: z.array(Capability),
    /** The class of VPCs that name none; a new default replaces the previous one. */
    isDefault: z.boolean(),
  }),
});
/** What changed, in full for each field named; the rest stays. */
export const NetworkClassUpdated = z.object({
  type: z.literal('NetworkClassUpdated'),
  data: z.object({
    networkClassId: Id,
    description: z.string().optional(),
    externalNetworkId: Id.nullable().optional(),
    baremetal: BaremetalNetwork.nullable().optional(),
    defaults: ClassDefaults.optional(),
    disableCapabilities: z.array(Capability).optional(),
    /** true: this class becomes the default; false: it stops being it (no default then). */
    isDefault: z.boolean().optional(),
  }),
});
export const NetworkClassDeleted = z.object({
  type: z.literal('NetworkClassDeleted'),
  data: z.object({ networkClassId: Id }),
});

export const NetworkClassEvent = z.discriminatedUnion('type', [NetworkClassCreated, NetworkClassUpdated, NetworkClassDeleted]);
export type NetworkClassEvent = z.infer<typeof NetworkClassEvent>;
