import { PROVIDER_SCOPE } from '../../../events/mod.js';
import type { SecurityGroup } from '../../../projections/mod.js';
import type { DesiredRow } from '../desired-row.js';
import { defaultDenyOwner, externalIds, rowName, rowUuid } from '../names.js';
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

/** The installation's default-deny group: every port is a member. */
export function dropPortGroup(own: Ownership): DesiredRow {
  return {
    table: 'Port_Group',
    uuid: rowUuid.dropPortGroup(own.owner),
    role: 'portGroup',
    columns: {
      name: rowName.dropPortGroup(own.owner),
      external_ids: externalIds(own, defaultDenyOwner(own), PROVIDER_SCOPE, 0),
    },
    referencedBy: [],
  };
}
