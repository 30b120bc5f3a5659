import type { Subnet } from '../../../projections/mod.js';
import type { DesiredRow } from '../desired-row.js';
import { externalIds, rowName, rowUuid } from '../names.js';
import type { Ownership } from '../names.js';

/** The VPC router's leg on a subnet: holds the gateway address and the gateway MAC. */
export function subnetRouterPort(own: Ownership, subnet: Subnet): DesiredRow {
  const prefix = subnet.cidr.split('/')[1];
  return {
    table: 'Logical_Router_Port',
    uuid: rowUuid.routerPort(subnet.id),
    columns: {
      name: rowName.routerPort(subnet.id),
      mac: subnet.gatewayMac,
      networks: [`${subnet.gatewayIp}/${prefix}`],
      external_ids: externalIds(own, { kind: 'subnet', id: subnet.id }, subnet.scope, subnet.seq, subnet.name),
    },
    referencedBy: [{ table: 'Logical_Router', uuid: rowUuid.logicalRouter(subnet.vpcId), column: 'ports' }],
  };
}
