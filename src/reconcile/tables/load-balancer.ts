import type { LoadBalancer, Port, Subnet } from '../../../projections/mod.js';
import type { DesiredRow } from '../desired-row.js';
import { externalIds, rowName, rowUuid } from '../names.js';
import type { Ownership } from '../names.js';

/**
 * An internal load balancer: one Load_Balancer row, VIP:port -> member:targetPort for each
 * listener, on the VPC router and on every switch of the VPC. On the switches OVN balances
 * where the client's traffic enters (distributed); on the router it answers ARP for the VIP,
 * which has no port of its own. A listener without members rejects (TCP RST, ICMP
 * unreachable) instead of letting connections hang.
 */
export function loadBalancerRow(own: Ownership, lb: LoadBalancer, members: readonly Port[], subnets: readonly Subnet[]): DesiredRow {
  return {
    table: 'Load_Balancer',
    uuid: rowUuid.loadBalancer(lb.id),
    columns: {
      name: rowName.loadBalancer(lb.id),
      protocol: [lb.protocol],
      vips: Object.fromEntries(lb.listeners.map((l) => [`${lb.vipAddress}:${l.port}`, members.map((m) => `${m.ipAddress}:${l.targetPort}`).join(',')])),
      options: { reject: 'true' },
      external_ids: externalIds(own, { kind: 'loadbalancer', id: lb.id }, lb.scope, lb.seq, lb.name),
    },
    referencedBy: [
      { table: 'Logical_Router', uuid: rowUuid.logicalRouter(lb.vpcId), column: 'load_balancer' },
      ...subnets.map((s) => ({ table: 'Logical_Switch', uuid: rowUuid.logicalSwitch(s.id), column: 'load_balancer' })),
    ],
  };
}
