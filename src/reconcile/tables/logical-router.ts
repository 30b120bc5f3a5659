import type { Vpc } from '../../../projections/mod.js';
import type { DesiredRow } from '../desired-row.js';
import { externalIds, rowName, rowUuid } from '../names.js';
import type { Ownership } from '../names.js';

/**
 * A VPC is one Logical_Router with its static routes; its `ports` are maintained by
 * the subnets' router ports. A route names no output port: OVN finds the next hop on
 * the connected subnet that holds it.
 */
export function vpcRouter(own: Ownership, vpc: Vpc): DesiredRow[] {
  const ids = externalIds(own, { kind: 'vpc', id: vpc.id }, vpc.scope, vpc.seq, vpc.name);
  const router = { table: 'Logical_Router', uuid: rowUuid.logicalRouter(vpc.id) };
  return [
    { ...router, columns: { name: rowName.logicalRouter(vpc.id), external_ids: ids }, referencedBy: [] },
    ...vpc.routes.map((route): DesiredRow => ({
      table: 'Logical_Router_Static_Route',
      uuid: rowUuid.vpcRoute(route.routeId),
      columns: { ip_prefix: route.destination, nexthop: route.nextHop, external_ids: { ...ids, 'novanet:route-id': route.routeId } },
      referencedBy: [{ ...router, column: 'static_routes' }],
    })),
  ];
}
