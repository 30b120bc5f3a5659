import { z } from 'zod';
import { Direction, Protocol, sameScope } from '../../events/mod.js';
import type { RuleTemplate, Scope, SecurityGroupRule } from '../../events/mod.js';
import { resourcesIn } from '../../projections/mod.js';
import type { View, SecurityGroup } from '../../projections/mod.js';
import type { DecideContext } from './context.js';
import { CommandError, ErrorCode } from './errors.js';
import { cidrOf, formatCidr } from './ipam.js';
import { command, commandPayload, findInScope, query, queryPayload, ResourceId, ResourceName } from './operation.js';
import { ALLOW_ALL_EGRESS, DEFAULT_SECURITY_GROUP_NAME, findVpc } from './vpc.js';

/**
 * Security group: a stateful allow-list for its member ports, one OVN Port_Group with an ACL per rule.
 * A rule's remote is the source for ingress and the destination for egress.
 */

/** Each rule is an ACL on every member's switch: bound the flows one group can cost. */
export const MAX_RULES_PER_DIRECTION = 200;
/** One Port_Group membership per group: bound what a single port fans out to. */
export const MAX_GROUPS_PER_PORT = 32;

export type SecurityGroupFields = Pick<SecurityGroup,
  'id' | 'scope' | 'vpcId' | 'name' | 'description' | 'isDefault' | 'ingressRules' | 'egressRules' | 'createdAt'>;

export function presentSecurityGroup(g: SecurityGroupFields) {
  return {
    id: g.id, org: g.scope.org, project: g.scope.project, vpcId: g.vpcId, name: g.name, description: g.description,
    isDefault: g.isDefault, ingressRules: g.ingressRules, egressRules: g.egressRules, createdAt: g.createdAt,
  };
}

export function findSecurityGroup(view: View, scope: Scope, securityGroupId: string): SecurityGroup {
  return findInScope(view.securityGroups, scope, securityGroupId, () => new CommandError(ErrorCode.SECURITY_GROUP_NOT_FOUND, `security group ${securityGroupId} not found`, { securityGroupId }));
}

/** The groups a port joins: each in the caller's tenant and in the port's VPC; repeats collapse. */
export function portSecurityGroups(view: View, scope: Scope, vpcId: string, securityGroupIds: readonly string[]): string[] {
  const unique = [...new Set(securityGroupIds)];
  for (const securityGroupId of unique) {
    if (findSecurityGroup(view, scope, securityGroupId).vpcId !== vpcId) {
      throw new CommandError(ErrorCode.SECURITY_GROUP_NOT_FOUND, `security group ${securityGroupId} is not in the port's VPC ${vpcId}`, { securityGroupId, vpcId });
    }
  }
  return unique;
}

/** A port's list of groups on the wire. */
export const SecurityGroupIds = z.array(ResourceId).max(MAX_GROUPS_PER_PORT);

/** A rule on the wire: shapes only here; the decider checks ranges and combinations to say which rule is wrong. */
const Rule = z.strictObject({
  protocol: Protocol,
  portRange: z.strictObject({ min: z.number(), max: z.number() }).optional(),
  icmpType: z.number().optional(),
  icmpCode: z.number().optional(),
  remote: z.union([z.strictObject({ cidr: z.string() }), z.strictObject({ securityGroupId: ResourceId })]),
});
type Rule = z.infer<typeof Rule>;
/** A rule of a network class's default group: no group exists yet to name as a remote, so remotes are CIDRs. */
export const RuleTemplateInput = Rule.extend({ remote: z.strictObject({ cidr: z.string() }) });
const Description = z.string().max(255);

export const CreateSecurityGroup = commandPayload({
  vpcId: ResourceId,
  name: ResourceName,
  description: Description.default(''),
  ingressRules: z.array(Rule).default([]),
  egressRules: z.array(Rule).optional(),
});

function createSecurityGroup(view: View, input: z.infer<typeof CreateSecurityGroup>, ctx: DecideContext) {
  const vpc = findVpc(view, ctx.scope, input.vpcId);
  if (input.name === DEFAULT_SECURITY_GROUP_NAME) {
    throw new CommandError(ErrorCode.ALREADY_EXISTS, `the name "${DEFAULT_SECURITY_GROUP_NAME}" is reserved for the VPC's default security group`, { name: input.name });
  }
  if ([...vpc.securityGroupIds].some((id) => view.securityGroups.get(id)?.name === input.name)) {
    throw new CommandError(ErrorCode.ALREADY_EXISTS, `VPC ${vpc.id} already has a security group named "${input.name}"`, { name: input.name });
  }
  const securityGroupId = ctx.newId();
  const data = {
    securityGroupId, vpcId: vpc.id, name: input.name, description: input.description, isDefault: false,
    ingressRules: decideRules(view, ctx, vpc.id, 'ingress', input.ingressRules),
    // Absent means the usual allow-all egress; an explicit [] means nothing goes out.
    egressRules: decideRules(view, ctx, vpc.id, 'egress', input.egressRules ?? [ALLOW_ALL_EGRESS]),
  };
  return {
    events: [{ type: 'SecurityGroupCreated' as const, data }],
    result: { securityGroup: presentSecurityGroup({ ...data, id: securityGroupId, scope: ctx.scope, createdAt: ctx.now }) },
  };
}

export const UpdateSecurityGroup = commandPayload({
  securityGroupId: ResourceId,
  description: Description.optional(),
  ingressRules: z.array(Rule).optional(),
  egressRules: z.array(Rule).optional(),
});

/** A rule list given replaces that whole list; its rules get new ids. */
function updateSecurityGroup(view: View, input: z.infer<typeof UpdateSecurityGroup>, ctx: DecideContext) {
  const group = findSecurityGroup(view, ctx.scope, input.securityGroupId);
  const changes = {
    ...(input.description !== undefined && { description: input.description }),
    ...(input.ingressRules !== undefined && { ingressRules: decideRules(view, ctx, group.vpcId, 'ingress', input.ingressRules) }),
    ...(input.egressRules !== undefined && { egressRules: decideRules(view, ctx, group.vpcId, 'egress', input.egressRules) }),
  };
  return {
    events: [{ type: 'SecurityGroupUpdated' as const, data: { securityGroupId: group.id, ...changes } }],
    result: { securityGroup: presentSecurityGroup({ ...group, ...changes }) },
  };
}

export const AddSecurityGroupRule = commandPayload({ securityGroupId: ResourceId, direction: Direction, rule: Rule });

function addSecurityGroupRule(view: View, input: z.infer<typeof AddSecurityGroupRule>, ctx: DecideContext) {
  const group = findSecurityGroup(view, ctx.scope, input.securityGroupId);
  const existing = rulesOf(group, input.direction);
  checkRuleCount(input.direction, existing.length + 1);
  const rule = decideRule(view, ctx, group.vpcId, 'rule', input.rule);
  const same = existing.find((r) => ruleKey(r) === ruleKey(rule));
  if (same) {
    throw new CommandError(ErrorCode.ALREADY_EXISTS, `security group ${group.id} already has this ${input.direction} rule (${same.ruleId})`, { ruleId: same.ruleId });
  }
  const field = input.direction === 'ingress' ? 'ingressRules' : 'egressRules';
  return {
    events: [{ type: 'SecurityGroupRuleAdded' as const, data: { securityGroupId: group.id, direction: input.direction, rule } }],
    result: { securityGroup: presentSecurityGroup({ ...group, [field]: [...existing, rule] }) },
  };
}

export const RemoveSecurityGroupRule = commandPayload({ securityGroupId: ResourceId, ruleId: ResourceId });

function removeSecurityGroupRule(view: View, input: z.infer<typeof RemoveSecurityGroupRule>, ctx: DecideContext) {
  const group = findSecurityGroup(view, ctx.scope, input.securityGroupId);
  const keep = (r: SecurityGroupRule) => r.ruleId !== input.ruleId;
  if (group.ingressRules.every(keep) && group.egressRules.every(keep)) {
    throw new CommandError(ErrorCode.NOT_FOUND, `security group ${group.id} has no rule ${input.ruleId}`, { securityGroupId: group.id, ruleId: input.ruleId });
  }
  return {
    events: [{ type: 'SecurityGroupRuleRemoved' as const, data: { securityGroupId: group.id, ruleId: input.ruleId } }],
    result: { securityGroup: presentSecurityGroup({ ...group, ingressRules: group.ingressRules.filter(keep), egressRules: group.egressRules.filter(keep) }) },
  };
}

export const DeleteSecurityGroup = commandPayload({ securityGroupId: ResourceId });

function deleteSecurityGroup(view: View, input: z.infer<typeof DeleteSecurityGroup>, ctx: DecideContext) {
  const group = findSecurityGroup(view, ctx.scope, input.securityGroupId);
  if (group.isDefault) {
    throw new CommandError(ErrorCode.IN_USE, `security group ${group.id} is the default group of VPC ${group.vpcId}: it is deleted with the VPC`, { vpcId: group.vpcId });
  }
  if (group.portIds.size > 0) {
    throw new CommandError(ErrorCode.IN_USE, `security group ${group.id} still has ports`, { portIds: [...group.portIds] });
  }
  // Deleting a group named as a remote would silently change what the other group allows. Remotes are in the group's VPC.
  const referrers = [...view.vpcs.get(group.vpcId)?.securityGroupIds ?? []].flatMap((id) => view.securityGroups.get(id) ?? [])
    .filter((g) => g.id !== group.id && [...g.ingressRules, ...g.egressRules].some((r) => 'securityGroupId' in r.remote && r.remote.securityGroupId === group.id))
    .map((g) => g.id);
  if (referrers.length > 0) {
    throw new CommandError(ErrorCode.IN_USE, `security group ${group.id} is the remote of rules in other groups`, { securityGroupIds: referrers });
  }
  return { events: [{ type: 'SecurityGroupDeleted' as const, data: { securityGroupId: group.id } }], result: {} };
}

// --- rules ------------------------------------------------------------------

function rulesOf(group: SecurityGroup, direction: Direction): readonly SecurityGroupRule[] {
  return direction === 'ingress' ? group.ingressRules : group.egressRules;
}

/** Checks a whole list of one direction and gives each rule its id. */
function decideRules(view: View, ctx: DecideContext, vpcId: string, direction: Direction, rules: readonly Rule[]): SecurityGroupRule[] {
  checkRuleCount(direction, rules.length);
  const field = `${direction}Rules`;
  const decided = rules.map((r, i) => decideRule(view, ctx, vpcId, `${field}[${i}]`, r));
  const seen = new Map<string, number>();
  decided.forEach((r, i) => {
    const first = seen.get(ruleKey(r));
    if (first !== undefined) throw invalidRule(`${field}[${i}]`, `repeats ${field}[${first}]`, { repeats: `${field}[${first}]` });
    seen.set(ruleKey(r), i);
  });
  return decided;
}

/** A class's default rules, checked as a group's are (`field` names the list in the payload). */
export function decideRuleTemplates(field: string, direction: Direction, rules: readonly z.infer<typeof RuleTemplateInput>[]): RuleTemplate[] {
  checkRuleCount(direction, rules.length);
  const seen = new Map<string, number>();
  return rules.map((rule, i) => {
    const where = `${field}[${i}]`;
    checkPorts(where, rule);
    checkIcmp(where, rule);
    const template: RuleTemplate = {
      protocol: rule.protocol,
      ...(rule.portRange !== undefined && { portRange: { min: rule.portRange.min, max: rule.portRange.max } }),
      ...(rule.icmpType !== undefined && { icmpType: rule.icmpType }),
      ...(rule.icmpCode !== undefined && { icmpCode: rule.icmpCode }),
      remote: { cidr: canonicalCidr(where, rule.remote.cidr) },
    };
    const key = ruleKey({ ruleId: '', ...template });
    const first = seen.get(key);
    if (first !== undefined) throw invalidRule(where, `repeats ${field}[${first}]`, { repeats: `${field}[${first}]` });
    seen.set(key, i);
    return template;
  });
}

function checkRuleCount(direction: Direction, count: number): void {
  if (count > MAX_RULES_PER_DIRECTION) {
    throw new CommandError(ErrorCode.VALIDATION_FAILED, `a security group holds at most ${MAX_RULES_PER_DIRECTION} ${direction} rules`, { direction, limit: MAX_RULES_PER_DIRECTION });
  }
}

/** `where` names the rule in the payload (`ingressRules[2]`, `rule`) for the error message. */
function decideRule(view: View, ctx: DecideContext, vpcId: string, where: string, rule: Rule): SecurityGroupRule {
  checkPorts(where, rule);
  checkIcmp(where, rule);
  const remote = 'cidr' in rule.remote
    ? { cidr: canonicalCidr(where, rule.remote.cidr) }
    : { securityGroupId: remoteGroup(view, ctx.scope, vpcId, where, rule.remote.securityGroupId) };
  return {
    ruleId: ctx.newId(), protocol: rule.protocol,
    ...(rule.portRange !== undefined && { portRange: { min: rule.portRange.min, max: rule.portRange.max } }),
    ...(rule.icmpType !== undefined && { icmpType: rule.icmpType }),
    ...(rule.icmpCode !== undefined && { icmpCode: rule.icmpCode }),
    remote,
  };
}

function checkPorts(where: string, { protocol, portRange }: Rule): void {
  if (portRange === undefined) return;
  if (protocol !== 'tcp' && protocol !== 'udp') {
    throw invalidRule(where, `portRange applies to tcp and udp only, not to ${protocol}`, { field: 'portRange' });
  }
  for (const bound of ['min', 'max'] as const) {
    if (!isIntegerIn(portRange[bound], 1, 65535)) {
      throw invalidRule(where, `portRange.${bound} must be an integer from 1 to 65535, not ${portRange[bound]}`, { field: `portRange.${bound}` });
    }
  }
  if (portRange.min > portRange.max) {
    throw invalidRule(where, `portRange.min ${portRange.min} is above portRange.max ${portRange.max}`, { field: 'portRange' });
  }
}

function checkIcmp(where: string, { protocol, icmpType, icmpCode }: Rule): void {
  for (const [field, value] of [['icmpType', icmpType], ['icmpCode', icmpCode]] as const) {
    if (value === undefined) continue;
    if (protocol !== 'icmp') throw invalidRule(where, `${field} applies to icmp only, not to ${protocol}`, { field });
    if (!isIntegerIn(value, 0, 255)) throw invalidRule(where, `${field} must be an integer from 0 to 255, not ${value}`, { field });
  }
  if (icmpCode !== undefined && icmpType === undefined) {
    throw invalidRule(where, 'icmpCode needs an icmpType', { field: 'icmpCode' });
  }
}

/** Rules take the same CIDR rules as the rest of the contract, but a bad one is a bad rule. */
function canonicalCidr(where: string, text: string): string {
  try {
    return formatCidr(cidrOf(text));
  } catch (err) {
    if (!(err instanceof CommandError)) throw err;
    throw invalidRule(where, `remote ${err.message}`, { field: 'remote.cidr', ...err.details });
  }
}

/** A remote group must be in the same tenant and VPC: its members' addresses are only meaningful there. */
function remoteGroup(view: View, scope: Scope, vpcId: string, where: string, securityGroupId: string): string {
  const group = view.securityGroups.get(securityGroupId);
  const details = { kind: 'security group', id: securityGroupId, rule: where };
  // Another tenant's group is indistinguishable from a missing one.
  if (!group || !sameScope(group.scope, scope)) {
    throw new CommandError(ErrorCode.NOT_FOUND, `${where}: remote security group ${securityGroupId} not found`, details);
  }
  if (group.vpcId !== vpcId) {
    throw new CommandError(ErrorCode.NOT_FOUND, `${where}: remote security group ${securityGroupId} is not in VPC ${vpcId}`, { ...details, vpcId });
  }
  return group.id;
}

/** Two rules are the same if they match the same traffic; their ids do not count. */
function ruleKey({ protocol, portRange, icmpType, icmpCode, remote }: SecurityGroupRule): string {
  return JSON.stringify([protocol, portRange?.min, portRange?.max, icmpType, icmpCode, 'cidr' in remote ? remote.cidr : null, 'securityGroupId' in remote ? remote.securityGroupId : null]);
}

function isIntegerIn(n: number, min: number, max: number): boolean {
  return Number.isInteger(n) && n >= min && n <= max;
}

function invalidRule(where: string, problem: string, details: Record<string, unknown>): CommandError {
  return new CommandError(ErrorCode.VALIDATION_FAILED, `${where}: ${problem}`, { rule: where, ...details });
}

// --- queries ----------------------------------------------------------------

export const GetSecurityGroup = queryPayload({ securityGroupId: ResourceId });
export const ListSecurityGroups = queryPayload({ vpcId: ResourceId.optional(), name: z.string().optional() });

export const securityGroupOperations = {
  'securitygroup.create': command(CreateSecurityGroup, createSecurityGroup),
  'securitygroup.update': command(UpdateSecurityGroup, updateSecurityGroup),
  'securitygroup.rule.add': command(AddSecurityGroupRule, addSecurityGroupRule),
  'securitygroup.rule.remove': command(RemoveSecurityGroupRule, removeSecurityGroupRule),
  'securitygroup.delete': command(DeleteSecurityGroup, deleteSecurityGroup),
  'securitygroup.get': query(GetSecurityGroup, (view, input, scope) => ({
    securityGroup: presentSecurityGroup(findSecurityGroup(view, scope, input.securityGroupId)),
  })),
  'securitygroup.list': query(ListSecurityGroups, (view, input, scope) => ({
    securityGroups: resourcesIn(view, scope, 'securitygroup')
      .filter((g) => (input.vpcId === undefined || g.vpcId === input.vpcId)
        && (input.name === undefined || g.name === input.name))
      .map(presentSecurityGroup),
  })),
} as const;
