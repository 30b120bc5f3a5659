import type { ExternalIp, ExternalIpAttachment, ExternalNetwork, NatGateway, Port, PortForward, Subnet } from '../../../projections/mod.js';
import type { DesiredRow } from '../desired-row.js';
import { externalIds, rowName, rowUuid } from '../names.js';
import type { Ownership } from '../names.js';

/**
 * The VPC router's way out, as Neutron builds a router gateway: a distributed gateway
 * port on the provider network (scheduled on gateway chassis by priority), its peer on
 * the external switch announcing the router's NAT addresses, a default route to the
 * network's gateway, and one SNAT rule per subnet.
 */
export function natGatewayRows(own: Ownership, gateway: NatGateway, ip: ExternalIp, network: ExternalNetwork, subnets: readonly Subnet[]): DesiredRow[] {
  const ids = externalIds(own, { kind: 'natgateway', id: gateway.id }, gateway.scope, gateway.seq);
  const router = { table: 'Logical_Router', uuid: rowUuid.logicalRouter(gateway.vpcId) };
  const routerPort = rowUuid.gatewayRouterPort(gateway.id);
  const prefix = network.cidr.split('/')[1];
  return [
    {
      table: 'Logical_Router_Port',
      uuid: routerPort,
      columns: { name: rowName.gatewayRouterPort(gateway.id), mac: gateway.gatewayMac, networks: [`${ip.address}/${prefix}`], external_ids: ids },
      referencedBy: [{ ...router, column: 'ports' }],
    },
    ...network.gatewayChassis.map((c): DesiredRow => ({
      table: 'Gateway_Chassis',
      uuid: rowUuid.gatewayChassis(gateway.id, c.name),
      columns: { name: rowName.gatewayChassis(gateway.id, c.name), chassis_name: c.name, priority: c.priority, external_ids: ids },
      referencedBy: [{ table: 'Logical_Router_Port', uuid: routerPort, column: 'gateway_chassis' }],
    })),
    {
      table: 'Logical_Switch_Port',
      uuid: rowUuid.gatewaySwitchPort(gateway.id),
      columns: {
        name: rowName.gatewaySwitchPort(gateway.id),
        type: 'router',
        addresses: ['router'],
        // nat-addresses=router: the gateway chassis answers ARP and sends GARPs for the NAT IPs and VIPs.
        options: { 'router-port': rowName.gatewayRouterPort(gateway.id), 'nat-addresses': 'router' },
        external_ids: ids,
      },
      referencedBy: [{ table: 'Logical_Switch', uuid: rowUuid.externalSwitch(network.id), column: 'ports' }],
    },
    {
      table: 'Logical_Router_Static_Route',
      uuid: rowUuid.defaultRoute(gateway.id),
      columns: { ip_prefix: '0.0.0.0/0', nexthop: network.gatewayIp, output_port: [rowName.gatewayRouterPort(gateway.id)], external_ids: ids },
      referencedBy: [{ ...router, column: 'static_routes' }],
    },
    ...subnets.map((subnet): DesiredRow => ({
      table: 'NAT',
      uuid: rowUuid.snat(gateway.id, subnet.id),
      columns: { type: 'snat', external_ip: ip.address, logical_ip: subnet.cidr, external_ids: ids },
      referencedBy: [{ ...router, column: 'nat' }],
    })),
  ];
}

/** A floating IP: 1:1 NAT both ways between the external IP and the port's address. */
export function attachmentNat(own: Ownership, attachment: ExternalIpAttachment, ip: ExternalIp, port: Port): DesiredRow {
  return {
    table: 'NAT',
    uuid: rowUuid.attachmentNat(attachment.id),
    columns: {
      type: 'dnat_and_snat', external_ip: ip.address, logical_ip: port.ipAddress, logical_port: [port.id],
      external_ids: externalIds(own, { kind: 'externalipattachment', id: attachment.id }, attachment.scope, attachment.seq),
    },
    referencedBy: [{ table: 'Logical_Router', uuid: rowUuid.logicalRouter(port.vpcId), column: 'nat' }],
  };
}

/** A port forward: a load balancer on the VPC router with one VIP, externalIp:externalPort -> port:internalPort. */
export function portForwardLoadBalancer(own: Ownership, forward: PortForward, ip: ExternalIp, port: Port): DesiredRow {
  return {
    table: 'Load_Balancer',
    uuid: rowUuid.portForward(forward.id),
    columns: {
      name: rowName.portForward(forward.id),
      protocol: [forward.protocol],
      vips: { [`${ip.address}:${forward.externalPort}`]: `${port.ipAddress}:${forward.internalPort}` },
      external_ids: externalIds(own, { kind: 'portforward', id: forward.id }, forward.scope, forward.seq),
    },
    referencedBy: [{ table: 'Logical_Router', uuid: rowUuid.logicalRouter(port.vpcId), column: 'load_balancer' }],
  };
}
