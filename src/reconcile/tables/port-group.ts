import type { SecurityGroup, Vpc } from '../../../projections/mod.js';
import type { DesiredRow } from '../desired-row.js';
import { externalIds, rowName, rowUuid } from '../names.js';
import type { Ownership } from '../names.js';

/**
 * A security group is one Port_Group. Its `ports` are maintained by the ports and
 * its `acls` by the rules, so neither is a managed column here. northd keeps the
 * address set `$<name>_ip4` of its ports' addresses, which remote-group rules match.
 */
export function securityGroupPortGroup(own: Ownership, group: SecurityGroup): DesiredRow {
  return {
    table: 'Port_Group',
    uuid: rowUuid.portGroup(group.id),
    role: 'portGroup',
    columns: {
      name: rowName.portGroup(group.id),
      external_ids: externalIds(own, { kind: 'securitygroup', id: group.id }, group.scope, group.seq, group.name),
    },
    referencedBy: [],
  };
}

/**
 * A VPC's drop group: every port of the VPC is a member (and each bare-metal subnet's localnet
 * port), like its security groups' `ports` maintained by the members. One per VPC rather than
 * one for the installation, so a port joining costs the Northbound and the cache O(its VPC).
 */
export function vpcDropPortGroup(own: Ownership, vpc: Vpc): DesiredRow {
  return {
    table: 'Port_Group',
    uuid: rowUuid.dropPortGroup(vpc.id),
    role: 'dropPortGroup',
    columns: {
      name: rowName.dropPortGroup(vpc.id),
      external_ids: externalIds(own, { kind: 'vpc', id: vpc.id }, vpc.scope, vpc.seq, vpc.name),
    },
    referencedBy: [],
  };
}
