import type { Operation } from '../../src/ovsdb/mod.js';
import { derivedUuid } from '../../src/reconcile/names.js';

/**
 * The Northbound as versions before per-VPC drop groups left it, for upgrade tests: one drop
 * group for the installation (owner mark `novanet`) holding every port, with its three ACLs.
 */
export const LEGACY_DROP_GROUP = derivedUuid('novanet', 'drop-port-group');
export const LEGACY_DROP_ACLS = ['drop-from', 'drop-to', 'dhcp'].map((role) => derivedUuid('novanet', `default-deny/${role}`));

const marks = { 'novanet:owner': 'novanet', 'novanet:kind': 'default-deny', 'novanet:id': 'novanet', 'novanet:org': '_provider', 'novanet:project': '_provider', 'novanet:seq': '0' };

export function legacyDropGroup(ports: readonly string[]): Operation[] {
  const acl = (i: number, role: string, direction: string, match: string, action: string, priority: number): Operation => ({
    op: 'insert', table: 'ACL', uuid: LEGACY_DROP_ACLS[i]!, row: { name: [`novanet_drop_${role}`], priority, direction, match, action, external_ids: marks },
  });
  return [
    { op: 'insert', table: 'Port_Group', uuid: LEGACY_DROP_GROUP, row: { name: 'novanet_drop', ports: [...ports], acls: LEGACY_DROP_ACLS, external_ids: marks } },
    acl(0, 'from', 'from-lport', 'inport == @novanet_drop && ip', 'drop', 1001),
    acl(1, 'to', 'to-lport', 'outport == @novanet_drop && ip', 'drop', 1001),
    acl(2, 'dhcp', 'from-lport', 'inport == @novanet_drop && ip4 && udp && udp.src == 68 && udp.dst == 67', 'allow', 1002),
  ];
}
