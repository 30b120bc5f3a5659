import { PROVIDER_SCOPE } from '../../../events/mod.js';
import { intToIp } from '../../../projections/mod.js';
import type { ExternalNetwork, NatGateway, Port, Subnet } from '../../../projections/mod.js';
import type { Value } from '../../ovsdb/mod.js';
import type { DesiredRow } from '../desired-row.js';
import { externalIds, rowName, rowUuid } from '../names.js';
import type { Ownership } from '../names.js';

/**
 * The switch-port columns novanet writes (every builder below checks its columns against them)
 * or reads (`up`, a port's `bound`): the reconciler monitors only these. A cached row holds a
 * slot for each monitored column, and 6 of the table's 16 are never written nor read here
 * (`enabled`, `dynamic_addresses`, `parent_name`, `tag_request`, `dhcpv6_options`,
 * `mirror_rules`): 48 B a port, and no notification when ovn-northd or an operator sets them.
 */
export const SWITCH_PORT_COLUMNS = ['name', 'type', 'addresses', 'port_security', 'options', 'external_ids', 'dhcpv4_options', 'tag', 'ha_chassis_group', 'up'] as const;
type SwitchPortColumns = Readonly<Partial<Record<(typeof SWITCH_PORT_COLUMNS)[number], Value>>>;

/** The LSP option (and OVS Interface external id) that pins a VIF to one plug. */
const IFACE_ID_VER = 'iface-id-ver';
/**
 * The iface-id-ver of a port without a device. Plugs set the device id, and device ids are
 * tenants' names of their machines; a plug that wanted this port would have to set this on purpose.
 */
const UNATTACHED = 'novanet:unattached';

/** The switch side of the router port (Neutron's router-type LSP). */
export function subnetSwitchRouterPort(own: Ownership, subnet: Subnet): DesiredRow {
  return {
    table: 'Logical_Switch_Port',
    uuid: rowUuid.switchRouterPort(subnet.id),
    role: 'switchRouterPort',
    columns: {
      name: rowName.switchRouterPort(subnet.id),
      type: 'router',
      addresses: ['router'],
      options: { 'router-port': rowName.routerPort(subnet.id) },
      external_ids: externalIds(own, { kind: 'subnet', id: subnet.id }, subnet.scope, subnet.seq, subnet.name),
    } satisfies SwitchPortColumns,
    referencedBy: [{ table: 'Logical_Switch', uuid: rowUuid.logicalSwitch(subnet.id), column: 'ports' }],
  };
}

/**
 * A port: addresses and port_security both "MAC IP", so OVN answers ARP and DHCP
 * for it and drops anything it sends from another MAC or IP (anti-spoofing).
 * Allowed address pairs widen port_security only: OVN neither answers ARP for
 * them nor puts them in the port groups' address sets, so a VIP is announced by
 * whichever port holds it, as on a physical LAN. A pair's MAC other than the port's
 * is also listed (without addresses) so the switch delivers frames sent to it.
 * A port whose address other ports hold as a pair is a VIP: OVN type `virtual`, for
 * which OVN does not answer ARP, bound to whichever holder announces the address.
 * It is a member of its VPC's drop group and of each of its security groups.
 * A VIF binds only an OVS interface whose external_ids:iface-id-ver is the port's device id
 * (ovn-nb(5) options:iface-id-ver, as ovn-kubernetes pins a port to its pod): a port without a
 * device is bound by no plug, and a stale plug of the device it had cannot take it back.
 * Its DHCP options are the subnet's, without a router unless it is its device's primary.
 */
export function portSwitchPort(own: Ownership, port: Port, subnet: Subnet, vipHolders: readonly string[]): DesiredRow {
  const ipAddress = intToIp(port.ip);
  const address = `${port.macAddress} ${ipAddress}`;
  const allowed = new Map<string, string[]>([[port.macAddress, [ipAddress]]]);
  for (const pair of port.allowedAddressPairs) allowed.set(pair.macAddress, [...allowed.get(pair.macAddress) ?? [], pair.ipAddress]);
  const otherMacs = [...allowed.keys()].filter((mac) => mac !== port.macAddress);
  return {
    table: 'Logical_Switch_Port',
    uuid: rowUuid.switchPort(port.id),
    role: 'logicalSwitchPort',
    columns: {
      name: rowName.switchPort(port.id),
      type: vipHolders.length > 0 ? 'virtual' : '',
      options: vipHolders.length > 0
        ? { 'virtual-ip': ipAddress, 'virtual-parents': vipHolders.map(rowName.switchPort).join(',') }
        : { [IFACE_ID_VER]: port.deviceId ?? UNATTACHED },
      addresses: [address, ...otherMacs],
      port_security: [...allowed].map(([mac, ips]) => [mac, ...ips].join(' ')),
      dhcpv4_options: subnet.dhcp.enabled ? [port.primary ? rowUuid.dhcpOptions(subnet.id) : rowUuid.secondaryDhcpOptions(subnet.id)] : [],
      external_ids: {
        ...externalIds(own, { kind: 'port', id: port.id }, port.scope, port.seq, port.name),
        ...(port.deviceId !== undefined && { 'novanet:device-id': port.deviceId }),
      },
    } satisfies SwitchPortColumns,
    referencedBy: [
      { table: 'Logical_Switch', uuid: rowUuid.logicalSwitch(subnet.id), column: 'ports' },
      { table: 'Port_Group', uuid: rowUuid.dropPortGroup(port.vpcId), column: 'ports' },
      ...port.securityGroupIds.map((sg) => ({ table: 'Port_Group', uuid: rowUuid.portGroup(sg), column: 'ports' })),
    ],
  };
}

/** An external network's localnet port: each chassis bridges it to the physical network named in its ovn-bridge-mappings. */
export function localnetPort(own: Ownership, network: ExternalNetwork): DesiredRow {
  return {
    table: 'Logical_Switch_Port',
    uuid: rowUuid.localnetPort(network.id),
    role: 'localnetPort',
    columns: {
      name: rowName.localnetPort(network.id),
      type: 'localnet',
      addresses: ['unknown'],
      options: { network_name: network.physicalNetwork },
      tag: network.vlanId !== undefined ? [network.vlanId] : [],
      external_ids: externalIds(own, { kind: 'externalnetwork', id: network.id }, PROVIDER_SCOPE, network.seq, network.name),
    } satisfies SwitchPortColumns,
    referencedBy: [{ table: 'Logical_Switch', uuid: rowUuid.externalSwitch(network.id), column: 'ports' }],
  };
}

/** The external switch's side of a NAT gateway's router port. */
export function gatewaySwitchPort(own: Ownership, gateway: NatGateway, network: ExternalNetwork): DesiredRow {
  return {
    table: 'Logical_Switch_Port',
    uuid: rowUuid.gatewaySwitchPort(gateway.id),
    role: 'gatewaySwitchPort',
    columns: {
      name: rowName.gatewaySwitchPort(gateway.id),
      type: 'router',
      addresses: ['router'],
      // nat-addresses=router: the gateway chassis answers ARP and sends GARPs for the NAT IPs and VIPs.
      options: { 'router-port': rowName.gatewayRouterPort(gateway.id), 'nat-addresses': 'router' },
      external_ids: externalIds(own, { kind: 'natgateway', id: gateway.id }, gateway.scope, gateway.seq),
    } satisfies SwitchPortColumns,
    referencedBy: [{ table: 'Logical_Switch', uuid: rowUuid.externalSwitch(network.id), column: 'ports' }],
  };
}

/**
 * A bare-metal host's port: an OVN `external` port, claimed by the class's chassis group, which
 * answers the host's DHCP and ARP arriving over the subnet's localnet port. Addresses, port
 * security, DHCP options and groups are a virtual port's.
 */
export function baremetalSwitchPort(own: Ownership, port: Port, subnet: Subnet, networkClassId: string): DesiredRow {
  const row = portSwitchPort(own, port, subnet, []);
  return { ...row, columns: { ...row.columns, type: 'external', options: {}, ha_chassis_group: [rowUuid.haChassisGroup(networkClassId)] } satisfies SwitchPortColumns };
}

/**
 * The subnet's bridge to its bare-metal hosts: a localnet port on the class's physical network,
 * tagged with the subnet's VLAN. It is in its VPC's drop group, so traffic of the hosts behind
 * it passes only where their own ports' groups allow (tables/acl.ts, baremetalPortAcls).
 */
export function subnetLocalnetPort(own: Ownership, subnet: Subnet, physicalNetwork: string, vlanId: number): DesiredRow {
  return {
    table: 'Logical_Switch_Port',
    uuid: rowUuid.subnetLocalnetPort(subnet.id),
    role: 'localnetPort',
    columns: {
      name: rowName.subnetLocalnetPort(subnet.id),
      type: 'localnet',
      addresses: ['unknown'],
      options: { network_name: physicalNetwork },
      tag: [vlanId],
      external_ids: externalIds(own, { kind: 'subnet', id: subnet.id }, subnet.scope, subnet.seq, subnet.name),
    } satisfies SwitchPortColumns,
    referencedBy: [
      { table: 'Logical_Switch', uuid: rowUuid.logicalSwitch(subnet.id), column: 'ports' },
      { table: 'Port_Group', uuid: rowUuid.dropPortGroup(subnet.vpcId), column: 'ports' },
    ],
  };
}
