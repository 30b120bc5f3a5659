import { z } from 'zod';

/**
 * Events of the security-group family. A rule is recorded with the id the decider
 * gave it; its remote is the source for ingress and the destination for egress.
 */

const Id = z.uuid();

export const Protocol = z.enum(['tcp', 'udp', 'icmp', 'all']);
export type Protocol = z.infer<typeof Protocol>;

export const Direction = z.enum(['ingress', 'egress']);
export type Direction = z.infer<typeof Direction>;

export const RuleRemote = z.union([
  z.object({ cidr: z.cidrv4() }).strict(),
  z.object({ securityGroupId: Id }).strict(),
]);
export type RuleRemote = z.infer<typeof RuleRemote>;

export const SecurityGroupRule = z.object({
  ruleId: Id,
  protocol: Protocol,
  portRange: z.object({ min: z.number().int(), max: z.number().int() }).optional(),
  icmpType: z.number().int().optional(),
  icmpCode: z.number().int().optional(),
  remote: RuleRemote,
});
export type SecurityGroupRule = z.infer<typeof SecurityGroupRule>;

export const SecurityGroupCreated = z.object({
  type: z.literal('SecurityGroupCreated'),
  data: z.object({
    securityGroupId: Id,
    vpcId: Id,
    name: z.string(),
    description: z.string(),
    /** The VPC's default group: created with the VPC, deleted with it. */
    isDefault: z.boolean(),
    ingressRules: z.array(SecurityGroupRule),
    egressRules: z.array(SecurityGroupRule),
  }),
});

/** Replaces what it names: a rule list given here replaces the whole list of that direction. */
export const SecurityGroupUpdated = z.object({
  type: z.literal('SecurityGroupUpdated'),
  data: z.object({
    securityGroupId: Id,
    description: z.string().optional(),
    ingressRules: z.array(SecurityGroupRule).optional(),
    egressRules: z.array(SecurityGroupRule).optional(),
  }),
});

export const SecurityGroupRuleAdded = z.object({
  type: z.literal('SecurityGroupRuleAdded'),
  data: z.object({ securityGroupId: Id, direction: Direction, rule: SecurityGroupRule }),
});

export const SecurityGroupRuleRemoved = z.object({
  type: z.literal('SecurityGroupRuleRemoved'),
  data: z.object({ securityGroupId: Id, ruleId: Id }),
});

export const SecurityGroupDeleted = z.object({
  type: z.literal('SecurityGroupDeleted'),
  data: z.object({ securityGroupId: Id }),
});

/** A port's complete list of groups after the change. */
export const PortSecurityGroupsChanged = z.object({
  type: z.literal('PortSecurityGroupsChanged'),
  data: z.object({ portId: Id, securityGroupIds: z.array(Id) }),
});

export const SecurityEvent = z.discriminatedUnion('type', [
  SecurityGroupCreated, SecurityGroupUpdated, SecurityGroupRuleAdded, SecurityGroupRuleRemoved,
  SecurityGroupDeleted, PortSecurityGroupsChanged,
]);
export type SecurityEvent = z.infer<typeof SecurityEvent>;
