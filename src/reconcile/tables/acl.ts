import type { Scope, SecurityGroupRule } from '../../../events/mod.js';
import { intToIp } from '../../../projections/mod.js';
import type { Port, SecurityGroup, Subnet, Vpc } from '../../../projections/mod.js';
import type { DesiredRow, Reference } from '../desired-row.js';
import { externalIds, rowName, rowUuid } from '../names.js';
import type { Ownership, RowOwner } from '../names.js';

/**
 * ACLs, as Neutron ML2/OVN lays them out: one allow-related ACL per rule at 1002 on
 * the group's port group, drop ACLs at 1001 on a port group per VPC holding every port of the VPC.
 * Conntrack makes the allows stateful: replies of an allowed flow pass the drops.
 */
export const AclPriority = { allow: 1002, drop: 1001 } as const;

interface AclSpec {
  readonly uuid: string;
  readonly name: string;
  readonly priority: number;
  readonly direction: 'from-lport' | 'to-lport';
  readonly match: string;
  readonly action: 'allow' | 'allow-related' | 'drop';
  readonly owner: RowOwner;
  /** The owning resource's name, if it has one: every row of a named resource carries it. */
  readonly ownerName?: string;
  readonly scope: Scope;
  readonly seq: number;
  readonly attachedTo: Reference;
}

function acl(own: Ownership, spec: AclSpec): DesiredRow {
  return {
    table: 'ACL',
    uuid: spec.uuid,
    columns: {
      name: [spec.name],
      priority: spec.priority,
      direction: spec.direction,
      match: spec.match,
      action: spec.action,
      external_ids: externalIds(own, spec.owner, spec.scope, spec.seq, spec.ownerName),
    },
    referencedBy: [spec.attachedTo],
  };
}

/** One ACL per rule: ingress rules guard traffic to the group's ports, egress rules traffic from them. */
export function securityGroupAcls(own: Ownership, group: SecurityGroup): DesiredRow[] {
  const attachedTo: Reference = { table: 'Port_Group', uuid: rowUuid.portGroup(group.id), column: 'acls' };
  const pg = rowName.portGroup(group.id);
  const rules = [
    ...group.ingressRules.map((rule) => ({ rule, direction: 'to-lport' as const, match: ruleMatch(`outport == @${pg}`, 'src', rule) })),
    ...group.egressRules.map((rule) => ({ rule, direction: 'from-lport' as const, match: ruleMatch(`inport == @${pg}`, 'dst', rule) })),
  ];
  return rules.map(({ rule, direction, match }) => acl(own, {
    uuid: rowUuid.ruleAcl(rule.ruleId), name: rule.ruleId, priority: AclPriority.allow, direction, match,
    action: 'allow-related', owner: { kind: 'securitygroup', id: group.id }, ownerName: group.name, scope: group.scope, seq: group.seq, attachedTo,
  }));
}

/** The OVN match of a rule: `remoteField` is where the remote goes (src for ingress, dst for egress). */
export function ruleMatch(port: string, remoteField: 'src' | 'dst', rule: SecurityGroupRule): string {
  const terms = [port, 'ip4'];
  if ('cidr' in rule.remote) {
    if (rule.remote.cidr !== '0.0.0.0/0') terms.push(`ip4.${remoteField} == ${rule.remote.cidr}`);
  } else {
    terms.push(`ip4.${remoteField} == $${rowName.portGroup(rule.remote.securityGroupId)}_ip4`);
  }
  switch (rule.protocol) {
    case 'tcp':
    case 'udp': {
      terms.push(rule.protocol);
      const range = rule.portRange;
      if (range && range.min === range.max) terms.push(`${rule.protocol}.dst == ${range.min}`);
      else if (range) terms.push(`${rule.protocol}.dst >= ${range.min}`, `${rule.protocol}.dst <= ${range.max}`);
      break;
    }
    case 'icmp':
      terms.push('icmp4');
      if (rule.icmpType !== undefined) terms.push(`icmp4.type == ${rule.icmpType}`);
      if (rule.icmpCode !== undefined) terms.push(`icmp4.code == ${rule.icmpCode}`);
      break;
    case 'all':
      break;
    default: {
      const unhandled: never = rule.protocol;
      return unhandled;
    }
  }
  return terms.join(' && ');
}

/**
 * Default deny, both directions, for every port of a VPC (its drop group); DHCP requests are
 * let through (the replies come from ovn-controller and northd already lets them out to the port).
 */
export function vpcDropAcls(own: Ownership, vpc: Vpc): DesiredRow[] {
  const pg = rowName.dropPortGroup(vpc.id);
  const attachedTo: Reference = { table: 'Port_Group', uuid: rowUuid.dropPortGroup(vpc.id), column: 'acls' };
  const common = { owner: { kind: 'vpc' as const, id: vpc.id }, ownerName: vpc.name, scope: vpc.scope, seq: vpc.seq, attachedTo };
  return [
    acl(own, { ...common, uuid: rowUuid.dropAcl(vpc.id, 'drop-from'), name: `${pg}_from`, priority: AclPriority.drop, direction: 'from-lport', match: `inport == @${pg} && ip`, action: 'drop' }),
    acl(own, { ...common, uuid: rowUuid.dropAcl(vpc.id, 'drop-to'), name: `${pg}_to`, priority: AclPriority.drop, direction: 'to-lport', match: `outport == @${pg} && ip`, action: 'drop' }),
    acl(own, { ...common, uuid: rowUuid.dropAcl(vpc.id, 'dhcp'), name: `${pg}_dhcp`, priority: AclPriority.allow, direction: 'from-lport', match: `inport == @${pg} && ip4 && udp && udp.src == 68 && udp.dst == 67`, action: 'allow' }),
  ];
}

/** A port may always reach its own gateway (the VPC router's address on its subnet), whatever its groups say. */
export function gatewayAcl(own: Ownership, subnet: Subnet): DesiredRow {
  return acl(own, {
    uuid: rowUuid.gatewayAcl(subnet.id), name: `gw_${subnet.id}`, priority: AclPriority.allow, direction: 'from-lport',
    match: `ip4.dst == ${subnet.gatewayIp}`, action: 'allow-related', owner: { kind: 'subnet', id: subnet.id },
    ownerName: subnet.name, scope: subnet.scope, seq: subnet.seq,
    attachedTo: { table: 'Logical_Switch', uuid: rowUuid.logicalSwitch(subnet.id), column: 'acls' },
  });
}

/**
 * A bare-metal host's security groups. Its traffic enters and leaves the switch through the
 * subnet's localnet port (OVN sets inport to the localnet port for external ports), so
 * `inport == @pg` never matches it: each rule of each of its groups becomes an ACL on the
 * subnet's switch matching the localnet port and the host's own MAC (and, outbound, its own
 * address, which is the host's anti-spoofing). O(rules of its groups) rows per host.
 */
export function baremetalPortAcls(own: Ownership, port: Port, subnet: Subnet, groups: readonly SecurityGroup[]): DesiredRow[] {
  const ln = rowName.subnetLocalnetPort(subnet.id);
  const toHost = `outport == {"${ln}", "${rowName.switchPort(port.id)}"} && eth.dst == ${port.macAddress}`;
  const fromHost = `inport == "${ln}" && eth.src == ${port.macAddress} && ip4.src == ${intToIp(port.ip)}`;
  const attachedTo: Reference = { table: 'Logical_Switch', uuid: rowUuid.logicalSwitch(subnet.id), column: 'acls' };
  return groups.flatMap((group) => [
    ...group.ingressRules.map((rule) => ({ rule, direction: 'to-lport' as const, match: ruleMatch(toHost, 'src', rule) })),
    ...group.egressRules.map((rule) => ({ rule, direction: 'from-lport' as const, match: ruleMatch(fromHost, 'dst', rule) })),
  ]).map(({ rule, direction, match }) => acl(own, {
    uuid: rowUuid.baremetalAcl(port.id, rule.ruleId), name: rule.ruleId, priority: AclPriority.allow, direction, match,
    action: 'allow-related', owner: { kind: 'port', id: port.id }, ...(port.name !== undefined && { ownerName: port.name }),
    scope: port.scope, seq: port.seq, attachedTo,
  }));
}

/**
 * OVN's DHCP replies to bare-metal hosts leave through the localnet port, which is in its
 * VPC's drop group: unlike replies to a VIF, northd does not let them out, so the subnet lets
 * out exactly its own DHCP server's (the router port's MAC, udp 67 to 68).
 */
export function localnetDhcpReplyAcl(own: Ownership, subnet: Subnet): DesiredRow {
  return acl(own, {
    uuid: rowUuid.localnetDhcpAcl(subnet.id), name: `dhcp_${subnet.id}`, priority: AclPriority.allow, direction: 'to-lport',
    match: `outport == "${rowName.subnetLocalnetPort(subnet.id)}" && eth.src == ${subnet.gatewayMac} && ip4 && udp && udp.src == 67 && udp.dst == 68`,
    action: 'allow', owner: { kind: 'subnet', id: subnet.id }, ownerName: subnet.name, scope: subnet.scope, seq: subnet.seq,
    attachedTo: { table: 'Logical_Switch', uuid: rowUuid.logicalSwitch(subnet.id), column: 'acls' },
  });
}
