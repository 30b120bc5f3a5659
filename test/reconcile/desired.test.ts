import test from 'ava';
import type { NovanetEvent, Scope } from '../../events/mod.js';
import { desiredRows } from '../../src/reconcile/kinds.js';
import type { DesiredResource } from '../../src/reconcile/desired.js';
import type { DesiredRow } from '../../src/reconcile/desired-row.js';
import { derivedUuid, rowUuid } from '../../src/reconcile/names.js';
import type { Ownership, RowOwner } from '../../src/reconcile/names.js';
import { acme, DEFAULT_GROUP, externalIpAllocated, externalNetworkCreated, given, globex, groupCreated, id, mac, outside, portCreated, provider, vpc, vpcWithSubnet } from '../support/decider.js';
import type { Given } from '../support/decider.js';

/**
 * desiredRows as a table: a history folded through the projections, one resource, and
 * the Northbound rows (with their references and dependencies) it should have.
 */

const own: Ownership = { owner: 'novanet' };
const at = (scope: Scope, ...events: NovanetEvent[]): Given => ({ scope, events });

/** external_ids as the README lists them. */
function marks(kind: string, resourceId: string, seq: number, name?: string, scope: Scope = acme): Record<string, string> {
  return {
    'novanet:owner': own.owner, 'novanet:kind': kind, 'novanet:id': resourceId, 'novanet:org': scope.org, 'novanet:project': scope.project,
    'novanet:seq': String(seq), ...(name !== undefined && { 'novanet:name': name }),
  };
}

const dhcpOn = { enabled: true, leaseTime: 43200, dnsServers: [], ntpServers: [] };
const subnetCreated = (n: number, cidr: string, gatewayIp: string, vpcId = id(1), dhcp: object = dhcpOn): NovanetEvent =>
  ({ type: 'SubnetCreated', data: { subnetId: id(n), vpcId, name: `s${n}`, cidr, gatewayIp, gatewayMac: mac(n), dhcp } }) as NovanetEvent;
const port = (n: number, ip: string, fields: Record<string, unknown> = {}): NovanetEvent =>
  ({ type: 'PortCreated', data: { portId: id(n), subnetId: id(2), macAddress: mac(n), ipAddress: ip, ...fields } }) as NovanetEvent;
const natGatewayCreated: NovanetEvent = { type: 'NatGatewayCreated', data: { natGatewayId: id(61), vpcId: id(1), externalIpId: id(60), gatewayMac: mac(61), releaseIpOnDelete: true } };
const attached = (target: { portId: string } | { deviceId: string }): NovanetEvent =>
  ({ type: 'ExternalIpAttachmentCreated', data: { attachmentId: id(70), externalIpId: id(62), target } });
const forwarded = (portId: string): NovanetEvent =>
  ({ type: 'PortForwardCreated', data: { portForwardId: id(80), externalIpId: id(60), protocol: 'tcp', externalPort: 8080, portId, internalPort: 80 } });
const lbCreated = (memberPortIds: string[]): NovanetEvent => ({
  type: 'LoadBalancerCreated',
  data: { loadBalancerId: id(90), subnetId: id(2), name: 'web', vipAddress: '10.0.1.50', protocol: 'tcp', listeners: [{ port: 80, targetPort: 8080 }, { port: 443, targetPort: 8443 }], memberPortIds },
});
/** globex's own VPC id(101) and subnet id(102), holding port id(103) of device vm-1. */
const globexNetwork = at(globex,
  { type: 'VpcCreated', data: { vpcId: id(101), name: 'main', cidr: '10.0.0.0/16' } },
  subnetCreated(102, '10.0.1.0/24', '10.0.1.1', id(101)),
  { type: 'PortCreated', data: { portId: id(103), subnetId: id(102), deviceId: 'vm-1', macAddress: mac(103), ipAddress: '10.0.1.5' } });

/** outside() (commit 1), the common subnet plus 10.0.2.0/24 (2), external IP id(60) and NAT gateway id(61) on VPC id(1) (3). */
const withGateway: Given[] = [
  outside(),
  { scope: acme, events: [...vpcWithSubnet().events, subnetCreated(5, '10.0.2.0/24', '10.0.2.1')] },
  at(acme, externalIpAllocated(60, '203.0.113.10'), natGatewayCreated),
];

const LR = 'Logical_Router';
const LS = 'Logical_Switch';
const LSP = 'Logical_Switch_Port';
const PG = 'Port_Group';
const pgName = (groupId: string) => `pg_${groupId.replace(/-/g, '_')}`;

/** A VPC's drop group and its ACLs: drop both ways, DHCP requests let through. */
function dropRows(vpcId: string, seq: number, name: string): DesiredRow[] {
  const pg = `drop_${vpcId.replace(/-/g, '_')}`;
  const external_ids = marks('vpc', vpcId, seq, name);
  return [
    { table: PG, uuid: rowUuid.dropPortGroup(vpcId), role: 'dropPortGroup', columns: { name: pg, external_ids }, referencedBy: [] },
    ...([
      ['drop-from', `${pg}_from`, 1001, 'from-lport', `inport == @${pg} && ip`, 'drop'],
      ['drop-to', `${pg}_to`, 1001, 'to-lport', `outport == @${pg} && ip`, 'drop'],
      ['dhcp', `${pg}_dhcp`, 1002, 'from-lport', `inport == @${pg} && ip4 && udp && udp.src == 68 && udp.dst == 67`, 'allow'],
    ] as const).map(([role, aclName, priority, direction, match, action]) => ({
      table: 'ACL', uuid: rowUuid.dropAcl(vpcId, role),
      columns: { name: [aclName], priority, direction, match, action, external_ids },
      referencedBy: [{ table: PG, uuid: rowUuid.dropPortGroup(vpcId), column: 'acls' }],
    })),
  ];
}

interface Case {
  readonly name: string;
  readonly history: readonly Given[];
  readonly ref: RowOwner;
  /** Only the rows of this table are compared. */
  readonly table?: string;
  readonly expected: DesiredResource | undefined;
}

const subnetMarks = marks('subnet', id(2), 1, 'app');

const cases: Case[] = [
  {
    name: 'vpc - a Logical_Router named after the VPC, marked as its, and its drop group (its ports\' default deny)',
    history: [vpc()],
    ref: { kind: 'vpc', id: id(1) },
    expected: { rows: [{ table: LR, uuid: id(1), role: 'logicalRouter', columns: { name: `novanet-${id(1)}`, external_ids: marks('vpc', id(1), 1, 'main') }, referencedBy: [] }, ...dropRows(id(1), 1, 'main')], dependsOn: [] },
  },
  {
    name: 'vpc - a route is a static route on the router, without an output port',
    history: [vpc(), at(acme, { type: 'VpcRouteAdded', data: { vpcId: id(1), route: { routeId: id(20), destination: '192.168.50.0/24', nextHop: '10.0.1.5' } } })],
    ref: { kind: 'vpc', id: id(1) },
    expected: {
      rows: [
        { table: LR, uuid: id(1), role: 'logicalRouter', columns: { name: `novanet-${id(1)}`, external_ids: marks('vpc', id(1), 2, 'main') }, referencedBy: [] },
        {
          table: 'Logical_Router_Static_Route', uuid: rowUuid.vpcRoute(id(20)),
          columns: { ip_prefix: '192.168.50.0/24', nexthop: '10.0.1.5', external_ids: { ...marks('vpc', id(1), 2, 'main'), 'novanet:route-id': id(20) } },
          referencedBy: [{ table: LR, uuid: id(1), column: 'static_routes' }],
        },
        ...dropRows(id(1), 2, 'main'),
      ],
      dependsOn: [],
    },
  },
  {
    name: 'vpc - gone from the view: nothing',
    history: [vpc(), at(acme, { type: 'VpcDeleted', data: { vpcId: id(1) } })],
    ref: { kind: 'vpc', id: id(1) },
    expected: undefined,
  },
  {
    name: 'subnet - switch, router port holding the gateway, its router-type peer, the gateway ACL and DHCP options',
    history: [vpcWithSubnet()],
    ref: { kind: 'subnet', id: id(2) },
    expected: {
      rows: [
        { table: LS, uuid: id(2), role: 'logicalSwitch', columns: { name: `novanet-${id(2)}`, other_config: { subnet: '10.0.1.0/24', exclude_ips: '10.0.1.1' }, external_ids: subnetMarks }, referencedBy: [] },
        {
          table: 'Logical_Router_Port', uuid: rowUuid.routerPort(id(2)), role: 'logicalRouterPort',
          columns: { name: `lrp-${id(2)}`, mac: mac(1), networks: ['10.0.1.1/24'], external_ids: subnetMarks },
          referencedBy: [{ table: LR, uuid: id(1), column: 'ports' }],
        },
        {
          table: LSP, uuid: rowUuid.switchRouterPort(id(2)), role: 'switchRouterPort',
          columns: { name: `rtr-${id(2)}`, type: 'router', addresses: ['router'], options: { 'router-port': `lrp-${id(2)}` }, external_ids: subnetMarks },
          referencedBy: [{ table: LS, uuid: id(2), column: 'ports' }],
        },
        {
          table: 'ACL', uuid: rowUuid.gatewayAcl(id(2)),
          columns: { name: [`gw_${id(2)}`], priority: 1002, direction: 'from-lport', match: 'ip4.dst == 10.0.1.1', action: 'allow-related', external_ids: marks('subnet', id(2), 1, 'app') },
          referencedBy: [{ table: LS, uuid: id(2), column: 'acls' }],
        },
        {
          table: 'DHCP_Options', uuid: rowUuid.dhcpOptions(id(2)), role: 'dhcpOptions',
          columns: { cidr: '10.0.1.0/24', options: { server_id: '10.0.1.1', server_mac: mac(1), router: '10.0.1.1', lease_time: '43200' }, external_ids: subnetMarks },
          referencedBy: [],
        },
      ],
      dependsOn: [{ kind: 'vpc', id: id(1) }],
    },
  },
  {
    name: 'subnet - DNS, NTP, MTU, domain and host routes are DHCP options; the default route joins option 121',
    history: [vpcWithSubnet(), at(acme, {
      type: 'SubnetUpdated',
      data: {
        subnetId: id(2), name: 'app',
        dhcp: { enabled: true, leaseTime: 3600, dnsServers: ['10.0.1.53', '10.0.1.54'], ntpServers: ['10.0.1.123'], mtu: 1400, domainName: 'example.test', hostRoutes: [{ destination: '192.168.70.0/24', nextHop: '10.0.1.254' }] },
      },
    })],
    ref: { kind: 'subnet', id: id(2) },
    table: 'DHCP_Options',
    expected: {
      rows: [{
        table: 'DHCP_Options', uuid: rowUuid.dhcpOptions(id(2)), role: 'dhcpOptions',
        columns: {
          cidr: '10.0.1.0/24',
          options: {
            server_id: '10.0.1.1', server_mac: mac(1), router: '10.0.1.1', lease_time: '3600', dns_server: '{10.0.1.53, 10.0.1.54}', ntp_server: '10.0.1.123',
            mtu: '1400', domain_name: '"example.test"', classless_static_route: '{192.168.70.0/24,10.0.1.254, 0.0.0.0/0,10.0.1.1}',
          },
          external_ids: marks('subnet', id(2), 2, 'app'),
        },
        referencedBy: [],
      }],
      dependsOn: [{ kind: 'vpc', id: id(1) }],
    },
  },
  {
    name: 'subnet - DHCP off: no DHCP_Options row',
    history: [vpc(), at(acme, subnetCreated(2, '10.0.1.0/24', '10.0.1.1', id(1), { ...dhcpOn, enabled: false }))],
    ref: { kind: 'subnet', id: id(2) },
    table: 'DHCP_Options',
    expected: { rows: [], dependsOn: [{ kind: 'vpc', id: id(1) }] },
  },
  {
    name: 'port - "MAC IP" addresses and port security, the subnet\'s DHCP options; in its switch, the drop group and its groups',
    history: [vpcWithSubnet(), at(acme, portCreated(3, '10.0.1.5', id(2), [DEFAULT_GROUP]))],
    ref: { kind: 'port', id: id(3) },
    expected: {
      rows: [{
        table: LSP, uuid: id(3), role: 'logicalSwitchPort',
        columns: {
          name: id(3), type: '', options: { 'iface-id-ver': 'novanet:unattached' }, addresses: [`${mac(3)} 10.0.1.5`], port_security: [`${mac(3)} 10.0.1.5`],
          dhcpv4_options: [rowUuid.dhcpOptions(id(2))], external_ids: marks('port', id(3), 2),
        },
        referencedBy: [
          { table: LS, uuid: id(2), column: 'ports' },
          { table: PG, uuid: rowUuid.dropPortGroup(id(1)), column: 'ports' },
          { table: PG, uuid: DEFAULT_GROUP, column: 'ports' },
        ],
      }],
      dependsOn: [{ kind: 'subnet', id: id(2) }, { kind: 'vpc', id: id(1) }, { kind: 'securitygroup', id: DEFAULT_GROUP }],
    },
  },
  {
    name: 'port - on a subnet without DHCP: no DHCP options',
    history: [vpc(), at(acme, subnetCreated(2, '10.0.1.0/24', '10.0.1.1', id(1), { ...dhcpOn, enabled: false }), portCreated(3, '10.0.1.5', id(2), []))],
    ref: { kind: 'port', id: id(3) },
    expected: {
      rows: [{
        table: LSP, uuid: id(3), role: 'logicalSwitchPort',
        columns: { name: id(3), type: '', options: { 'iface-id-ver': 'novanet:unattached' }, addresses: [`${mac(3)} 10.0.1.5`], port_security: [`${mac(3)} 10.0.1.5`], dhcpv4_options: [], external_ids: marks('port', id(3), 2) },
        referencedBy: [{ table: LS, uuid: id(2), column: 'ports' }, { table: PG, uuid: rowUuid.dropPortGroup(id(1)), column: 'ports' }],
      }],
      dependsOn: [{ kind: 'subnet', id: id(2) }, { kind: 'vpc', id: id(1) }],
    },
  },
  {
    name: 'port - allowed address pairs widen port security per MAC; a pair\'s other MAC is listed in addresses',
    history: [vpcWithSubnet(), at(acme, port(3, '10.0.1.5', {
      name: 'appliance', deviceId: 'vm-1', securityGroupIds: [],
      allowedAddressPairs: [{ ipAddress: '10.0.1.100', macAddress: mac(3) }, { ipAddress: '192.168.50.0/24', macAddress: mac(3) }, { ipAddress: '10.0.1.101', macAddress: mac(0x77) }],
    }))],
    ref: { kind: 'port', id: id(3) },
    expected: {
      rows: [{
        table: LSP, uuid: id(3), role: 'logicalSwitchPort',
        columns: {
          name: id(3), type: '', options: { 'iface-id-ver': 'vm-1' }, addresses: [`${mac(3)} 10.0.1.5`, mac(0x77)],
          port_security: [`${mac(3)} 10.0.1.5 10.0.1.100 192.168.50.0/24`, `${mac(0x77)} 10.0.1.101`],
          dhcpv4_options: [rowUuid.dhcpOptions(id(2))], external_ids: { ...marks('port', id(3), 2, 'appliance'), 'novanet:device-id': 'vm-1' },
        },
        referencedBy: [{ table: LS, uuid: id(2), column: 'ports' }, { table: PG, uuid: rowUuid.dropPortGroup(id(1)), column: 'ports' }],
      }],
      dependsOn: [{ kind: 'subnet', id: id(2) }, { kind: 'vpc', id: id(1) }],
    },
  },
  {
    name: 'port - without a device, whose address other ports hold as a pair: virtual, its parents sorted',
    history: [vpcWithSubnet(), at(acme,
      port(3, '10.0.1.10', { securityGroupIds: [] }),
      port(5, '10.0.1.7', { deviceId: 'vm-5', securityGroupIds: [], allowedAddressPairs: [{ ipAddress: '10.0.1.10', macAddress: mac(5) }] }),
      port(4, '10.0.1.6', { deviceId: 'vm-4', securityGroupIds: [], allowedAddressPairs: [{ ipAddress: '10.0.1.10', macAddress: mac(4) }] }))],
    ref: { kind: 'port', id: id(3) },
    expected: {
      rows: [{
        table: LSP, uuid: id(3), role: 'logicalSwitchPort',
        columns: {
          name: id(3), type: 'virtual', options: { 'virtual-ip': '10.0.1.10', 'virtual-parents': `${id(4)},${id(5)}` },
          addresses: [`${mac(3)} 10.0.1.10`], port_security: [`${mac(3)} 10.0.1.10`], dhcpv4_options: [rowUuid.dhcpOptions(id(2))], external_ids: marks('port', id(3), 2),
        },
        referencedBy: [{ table: LS, uuid: id(2), column: 'ports' }, { table: PG, uuid: rowUuid.dropPortGroup(id(1)), column: 'ports' }],
      }],
      dependsOn: [{ kind: 'subnet', id: id(2) }, { kind: 'vpc', id: id(1) }],
    },
  },
  {
    name: 'port - a port with a device never turns virtual, whoever holds its address',
    history: [vpcWithSubnet(), at(acme,
      port(3, '10.0.1.10', { deviceId: 'vm-3', securityGroupIds: [] }),
      port(4, '10.0.1.6', { deviceId: 'vm-4', securityGroupIds: [], allowedAddressPairs: [{ ipAddress: '10.0.1.10', macAddress: mac(4) }] }))],
    ref: { kind: 'port', id: id(3) },
    expected: {
      rows: [{
        table: LSP, uuid: id(3), role: 'logicalSwitchPort',
        columns: {
          name: id(3), type: '', options: { 'iface-id-ver': 'vm-3' }, addresses: [`${mac(3)} 10.0.1.10`], port_security: [`${mac(3)} 10.0.1.10`], dhcpv4_options: [rowUuid.dhcpOptions(id(2))],
          external_ids: { ...marks('port', id(3), 2), 'novanet:device-id': 'vm-3' },
        },
        referencedBy: [{ table: LS, uuid: id(2), column: 'ports' }, { table: PG, uuid: rowUuid.dropPortGroup(id(1)), column: 'ports' }],
      }],
      dependsOn: [{ kind: 'subnet', id: id(2) }, { kind: 'vpc', id: id(1) }],
    },
  },
  {
    name: 'port - deleted: nothing',
    history: [vpcWithSubnet(), at(acme, portCreated(3, '10.0.1.5', id(2), [])), at(acme, { type: 'PortDeleted', data: { portId: id(3) } })],
    ref: { kind: 'port', id: id(3) },
    expected: undefined,
  },
  {
    name: 'securitygroup - a port group and one ACL per rule, ingress then egress; remote groups other than itself are dependencies',
    history: [vpc(), at(acme, groupCreated(30, 'web', {
      ingressRules: [
        { ruleId: id(31), protocol: 'tcp', portRange: { min: 8000, max: 8100 }, remote: { cidr: '0.0.0.0/0' } },
        { ruleId: id(32), protocol: 'icmp', icmpType: 8, remote: { securityGroupId: DEFAULT_GROUP } },
        { ruleId: id(34), protocol: 'all', remote: { securityGroupId: id(30) } },
      ],
      egressRules: [{ ruleId: id(33), protocol: 'udp', portRange: { min: 53, max: 53 }, remote: { cidr: '10.0.0.0/8' } }],
    }))],
    ref: { kind: 'securitygroup', id: id(30) },
    expected: {
      rows: [
        { table: PG, uuid: id(30), role: 'portGroup', columns: { name: pgName(id(30)), external_ids: marks('securitygroup', id(30), 2, 'web') }, referencedBy: [] },
        ...([
          [31, 'to-lport', `outport == @${pgName(id(30))} && ip4 && tcp && tcp.dst >= 8000 && tcp.dst <= 8100`],
          [32, 'to-lport', `outport == @${pgName(id(30))} && ip4 && ip4.src == $${pgName(DEFAULT_GROUP)}_ip4 && icmp4 && icmp4.type == 8`],
          [34, 'to-lport', `outport == @${pgName(id(30))} && ip4 && ip4.src == $${pgName(id(30))}_ip4`],
          [33, 'from-lport', `inport == @${pgName(id(30))} && ip4 && ip4.dst == 10.0.0.0/8 && udp && udp.dst == 53`],
        ] as const).map(([rule, direction, match]) => ({
          table: 'ACL', uuid: rowUuid.ruleAcl(id(rule)),
          columns: { name: [id(rule)], priority: 1002, direction, match, action: 'allow-related', external_ids: marks('securitygroup', id(30), 2, 'web') },
          referencedBy: [{ table: PG, uuid: id(30), column: 'acls' }],
        })),
      ],
      dependsOn: [{ kind: 'securitygroup', id: DEFAULT_GROUP }],
    },
  },
  {
    name: 'default-deny - retired (one drop group for the installation, before each VPC had its own): its rows are orphans',
    history: [vpc()],
    ref: { kind: 'default-deny', id: own.owner },
    expected: undefined,
  },
  {
    name: 'externalnetwork - a switch with a localnet port, tagged with the VLAN',
    history: [at(provider, externalNetworkCreated(50, { vlanId: 100 }))],
    ref: { kind: 'externalnetwork', id: id(50) },
    expected: {
      rows: [
        { table: LS, uuid: id(50), role: 'logicalSwitch', columns: { name: `novanet-ext-${id(50)}`, other_config: { subnet: '203.0.113.0/24' }, external_ids: marks('externalnetwork', id(50), 1, 'ext50', provider) }, referencedBy: [] },
        {
          table: LSP, uuid: rowUuid.localnetPort(id(50)), role: 'localnetPort',
          columns: { name: `ln-${id(50)}`, type: 'localnet', addresses: ['unknown'], options: { network_name: 'physnet' }, tag: [100], external_ids: marks('externalnetwork', id(50), 1, 'ext50', provider) },
          referencedBy: [{ table: LS, uuid: id(50), column: 'ports' }],
        },
      ],
      dependsOn: [],
    },
  },
  {
    name: 'externalip - no rows of its own while it exists',
    history: [outside(), at(acme, externalIpAllocated(60, '203.0.113.10'))],
    ref: { kind: 'externalip', id: id(60) },
    expected: { rows: [], dependsOn: [] },
  },
  {
    name: 'externalippool - no rows of its own',
    history: [outside()],
    ref: { kind: 'externalippool', id: id(51) },
    expected: { rows: [], dependsOn: [] },
  },
  {
    name: 'externalip - released: nothing',
    history: [outside(), at(acme, externalIpAllocated(60, '203.0.113.10')), at(acme, { type: 'ExternalIpReleased', data: { externalIpId: id(60) } })],
    ref: { kind: 'externalip', id: id(60) },
    expected: undefined,
  },
  {
    name: 'natgateway - a gateway router port on its chassis, its peer on the external switch, the default route, SNAT for every subnet',
    history: withGateway,
    ref: { kind: 'natgateway', id: id(61) },
    expected: {
      rows: [
        {
          table: 'Logical_Router_Port', uuid: rowUuid.gatewayRouterPort(id(61)), role: 'logicalRouterPort',
          columns: { name: `lrp-gw-${id(61)}`, mac: mac(61), networks: ['203.0.113.10/24'], external_ids: marks('natgateway', id(61), 3) },
          referencedBy: [{ table: LR, uuid: id(1), column: 'ports' }],
        },
        {
          table: 'Gateway_Chassis', uuid: rowUuid.gatewayChassis(id(61), 'gw-1'),
          columns: { name: `lrp-gw-${id(61)}_gw-1`, chassis_name: 'gw-1', priority: 10, external_ids: marks('natgateway', id(61), 3) },
          referencedBy: [{ table: 'Logical_Router_Port', uuid: rowUuid.gatewayRouterPort(id(61)), column: 'gateway_chassis' }],
        },
        {
          table: LSP, uuid: rowUuid.gatewaySwitchPort(id(61)), role: 'gatewaySwitchPort',
          columns: {
            name: `gw-${id(61)}`, type: 'router', addresses: ['router'], options: { 'router-port': `lrp-gw-${id(61)}`, 'nat-addresses': 'router' },
            external_ids: marks('natgateway', id(61), 3),
          },
          referencedBy: [{ table: LS, uuid: id(50), column: 'ports' }],
        },
        {
          table: 'Logical_Router_Static_Route', uuid: rowUuid.defaultRoute(id(61)), role: 'defaultRoute',
          columns: { ip_prefix: '0.0.0.0/0', nexthop: '203.0.113.1', output_port: [`lrp-gw-${id(61)}`], external_ids: marks('natgateway', id(61), 3) },
          referencedBy: [{ table: LR, uuid: id(1), column: 'static_routes' }],
        },
        ...([[2, '10.0.1.0/24'], [5, '10.0.2.0/24']] as const).map(([subnet, cidr]) => ({
          table: 'NAT', uuid: rowUuid.snat(id(61), id(subnet)),
          columns: { type: 'snat', external_ip: '203.0.113.10', logical_ip: cidr, external_ids: marks('natgateway', id(61), 3) },
          referencedBy: [{ table: LR, uuid: id(1), column: 'nat' }],
        })),
      ],
      dependsOn: [{ kind: 'vpc', id: id(1) }, { kind: 'externalnetwork', id: id(50) }],
    },
  },
  {
    name: 'natgateway - its external network gone: pending, no rows',
    history: [...withGateway, at(provider, { type: 'ExternalNetworkDeleted', data: { externalNetworkId: id(50) } })],
    ref: { kind: 'natgateway', id: id(61) },
    expected: { rows: [], dependsOn: [], pending: `external network ${id(50)} is gone` },
  },
  {
    name: 'externalipattachment - 1:1 NAT between the external IP and the port, on the VPC router',
    history: [...withGateway, at(acme, portCreated(3, '10.0.1.5', id(2), []), externalIpAllocated(62, '203.0.113.11'), attached({ portId: id(3) }))],
    ref: { kind: 'externalipattachment', id: id(70) },
    expected: {
      rows: [{
        table: 'NAT', uuid: rowUuid.attachmentNat(id(70)), role: 'nat',
        columns: { type: 'dnat_and_snat', external_ip: '203.0.113.11', logical_ip: '10.0.1.5', logical_port: [id(3)], external_ids: marks('externalipattachment', id(70), 4) },
        referencedBy: [{ table: LR, uuid: id(1), column: 'nat' }],
      }],
      dependsOn: [{ kind: 'port', id: id(3) }, { kind: 'natgateway', id: id(61) }],
    },
  },
  {
    name: 'externalipattachment - to a device: the device\'s primary port (from before multi-NIC: its first) in the attachment\'s tenant',
    history: [
      ...withGateway, globexNetwork,
      at(acme, port(4, '10.0.1.6', { deviceId: 'vm-1' })), at(acme, port(3, '10.0.1.5', { deviceId: 'vm-1' })),
      at(acme, externalIpAllocated(62, '203.0.113.11'), attached({ deviceId: 'vm-1' })),
    ],
    ref: { kind: 'externalipattachment', id: id(70) },
    expected: {
      rows: [{
        table: 'NAT', uuid: rowUuid.attachmentNat(id(70)), role: 'nat',
        columns: { type: 'dnat_and_snat', external_ip: '203.0.113.11', logical_ip: '10.0.1.6', logical_port: [id(4)], external_ids: marks('externalipattachment', id(70), 7) },
        referencedBy: [{ table: LR, uuid: id(1), column: 'nat' }],
      }],
      dependsOn: [{ kind: 'port', id: id(4) }, { kind: 'natgateway', id: id(61) }],
    },
  },
  {
    name: 'externalipattachment - to a device with no port in the tenant yet: pending (another tenant\'s port of that name does not count)',
    history: [...withGateway, globexNetwork, at(acme, externalIpAllocated(62, '203.0.113.11'), attached({ deviceId: 'vm-1' }))],
    ref: { kind: 'externalipattachment', id: id(70) },
    expected: { rows: [], dependsOn: [], pending: 'no port of device "vm-1" in this tenant yet' },
  },
  {
    name: 'externalipattachment - the port gone: pending',
    history: [...withGateway, at(acme, portCreated(3, '10.0.1.5', id(2), []), externalIpAllocated(62, '203.0.113.11'), attached({ portId: id(3) })), at(acme, { type: 'PortDeleted', data: { portId: id(3) } })],
    ref: { kind: 'externalipattachment', id: id(70) },
    expected: { rows: [], dependsOn: [], pending: `port ${id(3)} does not exist` },
  },
  {
    name: 'externalipattachment - the VPC without a NAT gateway: pending',
    history: [outside(), vpcWithSubnet(), at(acme, portCreated(3, '10.0.1.5', id(2), []), externalIpAllocated(62, '203.0.113.11'), attached({ portId: id(3) }))],
    ref: { kind: 'externalipattachment', id: id(70) },
    expected: { rows: [], dependsOn: [], pending: `VPC ${id(1)} has no NAT gateway to the external network` },
  },
  {
    name: 'portforward - a load balancer on the VPC router, externalIp:externalPort to port:internalPort',
    history: [...withGateway, at(acme, portCreated(3, '10.0.1.5', id(2), []), forwarded(id(3)))],
    ref: { kind: 'portforward', id: id(80) },
    expected: {
      rows: [{
        table: 'Load_Balancer', uuid: id(80), role: 'loadBalancer',
        columns: { name: `pf-${id(80)}`, protocol: ['tcp'], vips: { '203.0.113.10:8080': '10.0.1.5:80' }, external_ids: marks('portforward', id(80), 4) },
        referencedBy: [{ table: LR, uuid: id(1), column: 'load_balancer' }],
      }],
      dependsOn: [{ kind: 'port', id: id(3) }, { kind: 'natgateway', id: id(61) }],
    },
  },
  {
    name: 'portforward - to another tenant\'s port: pending',
    history: [...withGateway, globexNetwork, at(acme, forwarded(id(103)))],
    ref: { kind: 'portforward', id: id(80) },
    expected: { rows: [], dependsOn: [], pending: `port ${id(103)} does not exist` },
  },
  {
    name: 'loadbalancer - a VIP per listener over the members that exist, on the router and every switch of the VPC',
    history: [
      { scope: acme, events: [...vpcWithSubnet().events, subnetCreated(5, '10.0.2.0/24', '10.0.2.1')] },
      at(acme, portCreated(3, '10.0.1.5', id(2), []), portCreated(4, '10.0.2.5', id(5), [])),
      at(acme, lbCreated([id(3), id(4), id(99)])),
    ],
    ref: { kind: 'loadbalancer', id: id(90) },
    expected: {
      rows: [{
        table: 'Load_Balancer', uuid: id(90), role: 'loadBalancer',
        columns: {
          name: `lb-${id(90)}`, protocol: ['tcp'], vips: { '10.0.1.50:80': '10.0.1.5:8080,10.0.2.5:8080', '10.0.1.50:443': '10.0.1.5:8443,10.0.2.5:8443' },
          options: { reject: 'true' }, external_ids: marks('loadbalancer', id(90), 3, 'web'),
        },
        referencedBy: [{ table: LR, uuid: id(1), column: 'load_balancer' }, { table: LS, uuid: id(2), column: 'load_balancer' }, { table: LS, uuid: id(5), column: 'load_balancer' }],
      }],
      dependsOn: [{ kind: 'vpc', id: id(1) }, { kind: 'subnet', id: id(2) }, { kind: 'subnet', id: id(5) }],
    },
  },
  {
    name: 'loadbalancer - without members every VIP is there, with no backends (it rejects)',
    history: [vpcWithSubnet(), at(acme, lbCreated([]))],
    ref: { kind: 'loadbalancer', id: id(90) },
    expected: {
      rows: [{
        table: 'Load_Balancer', uuid: id(90), role: 'loadBalancer',
        columns: { name: `lb-${id(90)}`, protocol: ['tcp'], vips: { '10.0.1.50:80': '', '10.0.1.50:443': '' }, options: { reject: 'true' }, external_ids: marks('loadbalancer', id(90), 2, 'web') },
        referencedBy: [{ table: LR, uuid: id(1), column: 'load_balancer' }, { table: LS, uuid: id(2), column: 'load_balancer' }],
      }],
      dependsOn: [{ kind: 'vpc', id: id(1) }, { kind: 'subnet', id: id(2) }],
    },
  },
];

for (const c of cases) {
  test(`desired - ${c.name}`, (t) => {
    const { view } = given(...c.history);
    const actual = desiredRows(view, c.ref, own);
    const table = c.table;
    const shown = actual && table !== undefined ? { ...actual, rows: actual.rows.filter((r) => r.table === table) } : actual;
    t.deepEqual(shown, c.expected);
  });
}

test('desired - pure: the same view gives the same rows, and rendering leaves the view as it was', (t) => {
  const { view } = given(...withGateway, at(acme, portCreated(3, '10.0.1.5', id(2), [DEFAULT_GROUP]), externalIpAllocated(62, '203.0.113.11'), attached({ deviceId: 'vm-1' })));
  const before = structuredClone(view);
  const refs: RowOwner[] = [
    { kind: 'vpc', id: id(1) }, { kind: 'subnet', id: id(2) }, { kind: 'port', id: id(3) }, { kind: 'securitygroup', id: DEFAULT_GROUP },
    { kind: 'natgateway', id: id(61) }, { kind: 'externalipattachment', id: id(70) }, { kind: 'vpc', id: id(1) },
  ];
  t.deepEqual(refs.map((ref) => desiredRows(view, ref, own)), refs.map((ref) => desiredRows(view, ref, own)));
  t.deepEqual(view, before);
});

test('derived UUIDs - the same UUID for the same resource and role, computed or remembered, also past the memo\'s size', (t) => {
  // As every release before the memo computed them: rows already in the Northbound keep their UUIDs.
  t.is(derivedUuid('novanet', 'drop-port-group'), '0343133b-c303-50dc-a9dd-4aec916dcf2b');
  t.is(derivedUuid('f1bbcd88-0000-4000-8000-000000000008', 'dhcp-options'), '5ae2cbad-51e5-5491-9768-0dfefe60f9b9');
  const first = Array.from({ length: 10_000 }, (_, i) => derivedUuid(`subnet-${i}`, 'dhcp-options'));
  t.is(new Set(first).size, first.length);
  t.deepEqual(Array.from({ length: 10_000 }, (_, i) => derivedUuid(`subnet-${i}`, 'dhcp-options')), first);
  t.is(derivedUuid('f1bbcd88-0000-4000-8000-000000000008', 'dhcp-options'), '5ae2cbad-51e5-5491-9768-0dfefe60f9b9');
  t.regex(first[0]!, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
});
