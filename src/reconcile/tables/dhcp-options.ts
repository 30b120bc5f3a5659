import type { Subnet } from '../../../projections/mod.js';
import type { DesiredRow } from '../desired-row.js';
import { externalIds, rowUuid } from '../names.js';
import type { Ownership } from '../names.js';

/** OVN native DHCP for a subnet (ovn-nb(5) DHCP_Options; values as Neutron writes them): what primary ports get. */
export function subnetDhcpOptions(own: Ownership, subnet: Subnet): DesiredRow | undefined {
  return dhcpOptions(own, subnet, true);
}

/**
 * The subnet's DHCP for ports that are not their device's primary: the same without the router
 * option and without a default route in option 121, so a host with several NICs has exactly one
 * default route, its primary's. Neutron leaves the router out the same way for a subnet without
 * a gateway.
 */
export function secondaryDhcpOptions(own: Ownership, subnet: Subnet): DesiredRow | undefined {
  return dhcpOptions(own, subnet, false);
}

function dhcpOptions(own: Ownership, subnet: Subnet, primary: boolean): DesiredRow | undefined {
  const { dhcp } = subnet;
  if (!dhcp.enabled) return undefined;
  const options: Record<string, string> = {
    server_id: subnet.gatewayIp,
    server_mac: subnet.gatewayMac,
    ...(primary && { router: subnet.gatewayIp }),
    lease_time: String(dhcp.leaseTime),
  };
  if (dhcp.dnsServers.length > 0) options.dns_server = ipList(dhcp.dnsServers);
  if (dhcp.ntpServers.length > 0) options.ntp_server = ipList(dhcp.ntpServers);
  if (dhcp.mtu !== undefined) options.mtu = String(dhcp.mtu);
  // domain_name is a string-typed DHCP option: OVN wants it quoted.
  if (dhcp.domainName !== undefined) options.domain_name = `"${dhcp.domainName}"`;
  const routes = (dhcp.hostRoutes ?? []).filter((r) => primary || r.destination !== '0.0.0.0/0');
  if (routes.length > 0) {
    // Clients that get option 121 ignore the router option (RFC 3442): the default route goes in too.
    const withDefault = !primary || routes.some((r) => r.destination === '0.0.0.0/0') ? routes : [...routes, { destination: '0.0.0.0/0', nextHop: subnet.gatewayIp }];
    options.classless_static_route = `{${withDefault.map((r) => `${r.destination},${r.nextHop}`).join(', ')}}`;
  }
  return {
    table: 'DHCP_Options',
    uuid: primary ? rowUuid.dhcpOptions(subnet.id) : rowUuid.secondaryDhcpOptions(subnet.id),
    role: primary ? 'dhcpOptions' : 'secondaryDhcpOptions',
    columns: {
      cidr: subnet.cidr,
      options,
      external_ids: externalIds(own, { kind: 'subnet', id: subnet.id }, subnet.scope, subnet.seq, subnet.name),
    },
    referencedBy: [],
  };
}

function ipList(ips: readonly string[]): string {
  return ips.length === 1 ? ips[0]! : `{${ips.join(', ')}}`;
}
