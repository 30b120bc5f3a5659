import type { ExternalIp, ExternalNetwork, NatGateway, Subnet } from '../../../projections/mod.js';
import type { DesiredRow } from '../desired-row.js';
import { externalIds, rowName, rowUuid } from '../names.js';
import type { Ownership } from '../names.js';

/** The VPC router's leg on a subnet: holds the gateway address and the gateway MAC. */
export function subnetRouterPort(own: Ownership, subnet: Subnet): DesiredRow {
  const prefix = subnet.cidr.split('/')[1];
  return {
    table: 'Logical_Router_Port',
    uuid: rowUuid.routerPort(subnet.id),
    role: 'logicalRouterPort',
    columns: {
      name: rowName.routerPort(subnet.id),
      mac: subnet.gatewayMac,
      networks: [`${subnet.gatewayIp}/${prefix}`],
      external_ids: externalIds(own, { kind: 'subnet', id: subnet.id }, subnet.scope, subnet.seq, subnet.name),
    },
    referencedBy: [{ table: 'Logical_Router', uuid: rowUuid.logicalRouter(subnet.vpcId), column: 'ports' }],
  };
}

/**
 * A NAT gateway's distributed gateway port on the provider network, as Neutron builds a
 * router gateway: scheduled on the network's gateway chassis (Gateway_Chassis) by priority.
 */
export function gatewayRouterPort(own: Ownership, gateway: NatGateway, ip: ExternalIp, network: ExternalNetwork): DesiredRow {
  const prefix = network.cidr.split('/')[1];
  return {
    table: 'Logical_Router_Port',
    uuid: rowUuid.gatewayRouterPort(gateway.id),
    role: 'logicalRouterPort',
    columns: {
      name: rowName.gatewayRouterPort(gateway.id), mac: gateway.gatewayMac, networks: [`${ip.address}/${prefix}`],
      external_ids: externalIds(own, { kind: 'natgateway', id: gateway.id }, gateway.scope, gateway.seq),
    },
    referencedBy: [{ table: 'Logical_Router', uuid: rowUuid.logicalRouter(gateway.vpcId), column: 'ports' }],
  };
}
