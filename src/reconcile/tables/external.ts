import type { ExternalNetwork } from '../../../projections/mod.js';
import type { DesiredRow } from '../desired-row.js';
import { externalIds, rowName, rowUuid } from '../names.js';
import type { Ownership } from '../names.js';
import { PROVIDER_SCOPE } from './port-group.js';

/**
 * A provider external network: a Logical_Switch with a localnet port, which each
 * chassis bridges to the physical network named in its ovn-bridge-mappings.
 */
export function externalNetworkRows(own: Ownership, network: ExternalNetwork): DesiredRow[] {
  const ref = { kind: 'externalnetwork' as const, id: network.id };
  const ids = externalIds(own, ref, PROVIDER_SCOPE, network.seq, network.name);
  return [
    {
      table: 'Logical_Switch',
      uuid: rowUuid.externalSwitch(network.id),
      columns: { name: rowName.externalSwitch(network.id), other_config: { subnet: network.cidr }, external_ids: ids },
      referencedBy: [],
    },
    {
      table: 'Logical_Switch_Port',
      uuid: rowUuid.localnetPort(network.id),
      columns: {
        name: rowName.localnetPort(network.id),
        type: 'localnet',
        addresses: ['unknown'],
        options: { network_name: network.physicalNetwork },
        tag: network.vlanId !== undefined ? [network.vlanId] : [],
        external_ids: ids,
      },
      referencedBy: [{ table: 'Logical_Switch', uuid: rowUuid.externalSwitch(network.id), column: 'ports' }],
    },
  ];
}
