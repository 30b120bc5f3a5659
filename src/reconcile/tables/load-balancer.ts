import { intToIp } from '../../../projections/mod.js';
import type { ExternalIp, ExternalIpAttachment, LoadBalancer, Port, PortForward, Subnet } from '../../../projections/mod.js';
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
    role: 'loadBalancer',
    columns: {
      name: rowName.loadBalancer(lb.id),
      protocol: [lb.protocol],
      vips: Object.fromEntries(lb.listeners.map((l) => [`${lb.vipAddress}:${l.port}`, members.map((m) => `${intToIp(m.ip)}:${l.targetPort}`).join(',')])),
      options: { reject: 'true' },
      external_ids: externalIds(own, { kind: 'loadbalancer', id: lb.id }, lb.scope, lb.seq, lb.name),
    },
    referencedBy: [
      { table: 'Logical_Router', uuid: rowUuid.logicalRouter(lb.vpcId), column: 'load_balancer' },
      ...subnets.map((s) => ({ table: 'Logical_Switch', uuid: rowUuid.logicalSwitch(s.id), column: 'load_balancer' })),
    ],
  };
}

/** A port forward: a load balancer on the VPC router with one VIP, externalIp:externalPort -> port:internalPort. */
export function portForwardLoadBalancer(own: Ownership, forward: PortForward, ip: ExternalIp, port: Port): DesiredRow {
  return {
    table: 'Load_Balancer',
    uuid: rowUuid.portForward(forward.id),
    role: 'loadBalancer',
    columns: {
      name: rowName.portForward(forward.id),
      protocol: [forward.protocol],
      vips: { [`${ip.address}:${forward.externalPort}`]: `${intToIp(port.ip)}:${forward.internalPort}` },
      external_ids: externalIds(own, { kind: 'portforward', id: forward.id }, forward.scope, forward.seq),
    },
    referencedBy: [{ table: 'Logical_Router', uuid: rowUuid.logicalRouter(port.vpcId), column: 'load_balancer' }],
  };
}

/**
 * An external IP attached to a load balancer (a cluster's API or ingress endpoint): the same
 * listeners and members at the external IP, on the VPC router only, where traffic from the
 * outside enters. Conntrack undoes the DNAT on the replies, so they leave under the external IP.
 */
export function attachmentLoadBalancer(own: Ownership, attachment: ExternalIpAttachment, ip: ExternalIp, lb: LoadBalancer, members: readonly Port[]): DesiredRow {
  return {
    table: 'Load_Balancer',
    uuid: rowUuid.attachmentLoadBalancer(attachment.id),
    role: 'loadBalancer',
    columns: {
      name: rowName.attachmentLoadBalancer(attachment.id),
      protocol: [lb.protocol],
      vips: Object.fromEntries(lb.listeners.map((l) => [`${ip.address}:${l.port}`, members.map((m) => `${intToIp(m.ip)}:${l.targetPort}`).join(',')])),
      options: { reject: 'true' },
      external_ids: externalIds(own, { kind: 'externalipattachment', id: attachment.id }, attachment.scope, attachment.seq),
    },
    referencedBy: [{ table: 'Logical_Router', uuid: rowUuid.logicalRouter(lb.vpcId), column: 'load_balancer' }],
  };
}
