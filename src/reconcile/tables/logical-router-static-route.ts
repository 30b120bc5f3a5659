import type { ExternalNetwork, NatGateway, Vpc } from '../../../projections/mod.js';
import type { DesiredRow } from '../desired-row.js';
import { externalIds, rowName, rowUuid } from '../names.js';
import type { Ownership } from '../names.js';

/** A VPC's static routes. A route names no output port: OVN finds the next hop on the connected subnet that holds it. */
export function vpcRoutes(own: Ownership, vpc: Vpc): DesiredRow[] {
  const ids = externalIds(own, { kind: 'vpc', id: vpc.id }, vpc.scope, vpc.seq, vpc.name);
  return vpc.routes.map((route): DesiredRow => ({
    table: 'Logical_Router_Static_Route',
    uuid: rowUuid.vpcRoute(route.routeId),
    columns: { ip_prefix: route.destination, nexthop: route.nextHop, external_ids: { ...ids, 'novanet:route-id': route.routeId } },
    referencedBy: [{ table: 'Logical_Router', uuid: rowUuid.logicalRouter(vpc.id), column: 'static_routes' }],
  }));
}

/** A NAT gateway's default route, out through its gateway port to the external network's gateway. */
export function gatewayDefaultRoute(own: Ownership, gateway: NatGateway, network: ExternalNetwork): DesiredRow {
  return {
    table: 'Logical_Router_Static_Route',
    uuid: rowUuid.defaultRoute(gateway.id),
    role: 'defaultRoute',
    columns: {
      ip_prefix: '0.0.0.0/0', nexthop: network.gatewayIp, output_port: [rowName.gatewayRouterPort(gateway.id)],
      external_ids: externalIds(own, { kind: 'natgateway', id: gateway.id }, gateway.scope, gateway.seq),
    },
    referencedBy: [{ table: 'Logical_Router', uuid: rowUuid.logicalRouter(gateway.vpcId), column: 'static_routes' }],
  };
}
