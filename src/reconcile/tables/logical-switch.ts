import type { Subnet } from '../../../projections/mod.js';
import type { DesiredRow } from '../desired-row.js';
import { externalIds, rowName, rowUuid } from '../names.js';
import type { Ownership } from '../names.js';

/** A subnet is one Logical_Switch; its `ports` are maintained by the ports themselves. */
export function subnetSwitch(own: Ownership, subnet: Subnet): DesiredRow {
  return {
    table: 'Logical_Switch',
    uuid: rowUuid.logicalSwitch(subnet.id),
    columns: {
      name: rowName.logicalSwitch(subnet.id),
      other_config: { subnet: subnet.cidr, exclude_ips: subnet.gatewayIp },
      external_ids: externalIds(own, { kind: 'subnet', id: subnet.id }, subnet.scope, subnet.seq, subnet.name),
    },
    referencedBy: [],
  };
}
