import { PROVIDER_SCOPE } from '../../../events/mod.js';
import type { ExternalNetwork, Subnet } from '../../../projections/mod.js';
import type { DesiredRow } from '../desired-row.js';
import { externalIds, rowName, rowUuid } from '../names.js';
import type { Ownership } from '../names.js';

/** A subnet is one Logical_Switch; its `ports` are maintained by the ports themselves. */
export function subnetSwitch(own: Ownership, subnet: Subnet): DesiredRow {
  return {
    table: 'Logical_Switch',
    uuid: rowUuid.logicalSwitch(subnet.id),
    role: 'logicalSwitch',
    columns: {
      name: rowName.logicalSwitch(subnet.id),
      other_config: { subnet: subnet.cidr, exclude_ips: subnet.gatewayIp },
      external_ids: externalIds(own, { kind: 'subnet', id: subnet.id }, subnet.scope, subnet.seq, subnet.name),
    },
    referencedBy: [],
  };
}

/** A provider external network is one Logical_Switch, bridged to the physical network by its localnet port. */
export function externalSwitch(own: Ownership, network: ExternalNetwork): DesiredRow {
  return {
    table: 'Logical_Switch',
    uuid: rowUuid.externalSwitch(network.id),
    role: 'logicalSwitch',
    columns: {
      name: rowName.externalSwitch(network.id), other_config: { subnet: network.cidr },
      external_ids: externalIds(own, { kind: 'externalnetwork', id: network.id }, PROVIDER_SCOPE, network.seq, network.name),
    },
    referencedBy: [],
  };
}
