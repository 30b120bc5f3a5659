import type { ExternalNetwork, NatGateway } from '../../../projections/mod.js';
import type { DesiredRow } from '../desired-row.js';
import { externalIds, rowName, rowUuid } from '../names.js';
import type { Ownership } from '../names.js';

/** Where a NAT gateway's port may be active: the external network's gateway chassis, by priority. */
export function gatewayChassis(own: Ownership, gateway: NatGateway, network: ExternalNetwork): DesiredRow[] {
  const ids = externalIds(own, { kind: 'natgateway', id: gateway.id }, gateway.scope, gateway.seq);
  return network.gatewayChassis.map((c): DesiredRow => ({
    table: 'Gateway_Chassis',
    uuid: rowUuid.gatewayChassis(gateway.id, c.name),
    columns: { name: rowName.gatewayChassis(gateway.id, c.name), chassis_name: c.name, priority: c.priority, external_ids: ids },
    referencedBy: [{ table: 'Logical_Router_Port', uuid: rowUuid.gatewayRouterPort(gateway.id), column: 'gateway_chassis' }],
  }));
}
