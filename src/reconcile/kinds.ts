import { sameScope } from '../../events/mod.js';
import { capabilitiesOf, intToIp, subnetPortIds } from '../../projections/mod.js';
import type { NetworkClass, Port, Subnet, View } from '../../projections/mod.js';
import type { Row } from '../ovsdb/mod.js';
import { attachmentBinding, pending, realisable, resource, vipHolders } from './desired.js';
import type { DesiredResource } from './desired.js';
import type { DesiredRow } from './desired-row.js';
import type { Ownership, RowOwner, RowOwnerKind } from './names.js';
import { baremetalPortAcls, gatewayAcl, localnetDhcpReplyAcl, securityGroupAcls, vpcDropAcls } from './tables/acl.js';
import { secondaryDhcpOptions, subnetDhcpOptions } from './tables/dhcp-options.js';
import { gatewayChassis } from './tables/gateway-chassis.js';
import { baremetalChassisGroup } from './tables/ha-chassis-group.js';
import { attachmentLoadBalancer, loadBalancerRow, portForwardLoadBalancer } from './tables/load-balancer.js';
import { vpcRouter } from './tables/logical-router.js';
import { gatewayRouterPort, subnetRouterPort } from './tables/logical-router-port.js';
import { gatewayDefaultRoute, vpcRoutes } from './tables/logical-router-static-route.js';
import { externalSwitch, subnetSwitch } from './tables/logical-switch.js';
import { baremetalSwitchPort, gatewaySwitchPort, localnetPort, portSwitchPort, subnetLocalnetPort, subnetSwitchRouterPort } from './tables/logical-switch-port.js';
import { attachmentNat, gatewaySnat } from './tables/nat.js';
import { securityGroupPortGroup, vpcDropPortGroup } from './tables/port-group.js';

/** Which of a resource's desired rows the Northbound holds now. */
export type Present = (row: DesiredRow) => Row | undefined;

/**
 * What the reconciler knows of each kind: the Northbound rows a resource should have
 * (undefined once it is gone from the view), and what its status says beyond phase and
 * row UUIDs. Pure. One entry per kind; the compiler names a kind that has none.
 */
interface KindRows {
  desired(view: View, id: string, own: Ownership): DesiredResource | undefined;
  details(view: View, id: string, rows: readonly DesiredRow[], present: Present): Record<string, unknown>;
  /**
   * The resources whose rows join one of its rows by their own `referencedBy` (a group's
   * members): when the reconciler (re)inserts that row, they are marked to join it again.
   */
  members?(view: View, id: string, row: DesiredRow): RowOwner[];
}

const none = () => ({});

/** The network class of a subnet's or port's VPC, if it has one. */
function classOf(view: View, vpcId: string): NetworkClass | undefined {
  const classId = view.vpcs.get(vpcId)?.networkClassId;
  return classId !== undefined ? view.networkClasses.get(classId) : undefined;
}

/** A subnet with bare-metal hosts is bridged to them on its VLAN, and lets its DHCP replies out to them. */
function subnetBridge(own: Ownership, view: View, subnet: Subnet): DesiredRow[] {
  const baremetal = subnet.vlanId !== undefined ? classOf(view, subnet.vpcId)?.baremetal : undefined;
  return baremetal && subnet.vlanId !== undefined ? [subnetLocalnetPort(own, subnet, baremetal.physicalNetwork, subnet.vlanId), localnetDhcpReplyAcl(own, subnet)] : [];
}

/** A bare-metal host's port, claimed by its class's chassis group, with its groups' rules on its switch. */
function baremetalPort(own: Ownership, view: View, port: Port, subnet: Subnet): DesiredResource {
  const cls = classOf(view, port.vpcId);
  if (!cls?.baremetal) return pending(`the network class of VPC ${port.vpcId} has no bare-metal network`);
  const groups = port.securityGroupIds.flatMap((sg) => view.securityGroups.get(sg) ?? []);
  return resource([baremetalSwitchPort(own, port, subnet, cls.id), ...baremetalPortAcls(own, port, subnet, groups)], [
    { kind: 'subnet', id: subnet.id }, { kind: 'vpc', id: port.vpcId }, { kind: 'networkclass', id: cls.id },
    ...port.securityGroupIds.map((sg) => ({ kind: 'securitygroup' as const, id: sg })),
  ]);
}

export const rowKinds = {
  vpc: {
    desired: (view, id, own) => {
      const vpc = view.vpcs.get(id);
      // Its drop group is its ports' default deny (tables/acl.ts): the VPC's, as its ports are.
      return vpc && resource([vpcRouter(own, vpc), ...vpcRoutes(own, vpc), vpcDropPortGroup(own, vpc), ...vpcDropAcls(own, vpc)]);
    },
    details: (view, id) => {
      const vpc = view.vpcs.get(id);
      return vpc ? {
        cidr: vpc.cidr, routes: vpc.routes.length, networkClassId: vpc.networkClassId ?? null, vpcScope: vpc.vpcScope ?? null,
        capabilities: capabilitiesOf(view, classOf(view, vpc.id)),
      } : {};
    },
    // Its drop group's members: its ports, and its bare-metal subnets' localnet ports.
    members: (view, id, row) => {
      if (row.role !== 'dropPortGroup') return [];
      const subnets = [...view.vpcs.get(id)?.subnetIds ?? []].flatMap((s) => view.subnets.get(s) ?? []);
      return subnets.flatMap((subnet) => [
        ...(subnet.vlanId !== undefined ? [{ kind: 'subnet' as const, id: subnet.id }] : []),
        ...subnetPortIds(view, subnet).map((p) => ({ kind: 'port' as const, id: p })),
      ]);
    },
  },
  subnet: {
    desired: (view, id, own) => {
      const subnet = view.subnets.get(id);
      if (!subnet) return undefined;
      const dhcp = subnetDhcpOptions(own, subnet);
      const bridge = subnetBridge(own, view, subnet);
      // Ports that are not their device's primary get DHCP options without a router (no default route).
      const secondary = subnet.secondaryPorts > 0 ? secondaryDhcpOptions(own, subnet) : undefined;
      return resource(
        [
          subnetSwitch(own, subnet), subnetRouterPort(own, subnet), subnetSwitchRouterPort(own, subnet), gatewayAcl(own, subnet),
          ...(dhcp ? [dhcp] : []), ...(secondary ? [secondary] : []), ...bridge,
        ],
        [{ kind: 'vpc', id: subnet.vpcId }],
      );
    },
    details: (view, id) => {
      const subnet = view.subnets.get(id);
      return subnet ? { vpcId: subnet.vpcId, cidr: subnet.cidr, gatewayIp: subnet.gatewayIp, vlanId: subnet.vlanId ?? null } : {};
    },
  },
  port: {
    desired: (view, id, own) => {
      const port = view.ports.get(id);
      const subnet = port && view.subnets.get(port.subnetId);
      if (!port || !subnet) return undefined;
      if (port.vnicType === 'baremetal') return baremetalPort(own, view, port, subnet);
      return resource([portSwitchPort(own, port, subnet, vipHolders(subnet, port))], [
        { kind: 'subnet', id: subnet.id }, { kind: 'vpc', id: port.vpcId },
        ...port.securityGroupIds.map((sg) => ({ kind: 'securitygroup' as const, id: sg })),
      ]);
    },
    details: (view, id, rows, present) => {
      const port = view.ports.get(id);
      if (!port) return {};
      const lsp = rows[0] && present(rows[0]);
      // `up` is optional in the schema, so it decodes as a set: [] or [true].
      const up = lsp?.up;
      const bound = up === true || (Array.isArray(up) && up[0] === true);
      return {
        subnetId: port.subnetId, vpcId: port.vpcId, ipAddress: intToIp(port.ip), macAddress: port.macAddress, securityGroupIds: port.securityGroupIds,
        deviceId: port.deviceId ?? null, primary: port.primary, bound,
        vnicType: port.vnicType ?? 'normal', ...(port.vnicType === 'baremetal' && { vlanId: view.subnets.get(port.subnetId)?.vlanId ?? null }),
      };
    },
  },
  securitygroup: {
    desired: (view, id, own) => {
      const group = view.securityGroups.get(id);
      if (!group) return undefined;
      const remotes = new Set([...group.ingressRules, ...group.egressRules]
        .flatMap((r) => ('securityGroupId' in r.remote && r.remote.securityGroupId !== group.id ? [r.remote.securityGroupId] : [])));
      // A remote group's address set is named in the match: its port group must exist.
      return resource([securityGroupPortGroup(own, group), ...securityGroupAcls(own, group)], [...remotes].map((sg) => ({ kind: 'securitygroup' as const, id: sg })));
    },
    details: (view, id, rows) => {
      const group = view.securityGroups.get(id);
      return group ? { vpcId: group.vpcId, aclCount: rows.filter((d) => d.table === 'ACL').length } : {};
    },
    members: (view, id, row) => (row.role === 'portGroup' ? [...view.securityGroups.get(id)?.portIds ?? []].map((p) => ({ kind: 'port' as const, id: p })) : []),
  },
  externalnetwork: {
    desired: (view, id, own) => {
      const network = view.externalNetworks.get(id);
      return network && resource([externalSwitch(own, network), localnetPort(own, network)]);
    },
    details: (view, id) => {
      const network = view.externalNetworks.get(id);
      return network ? { cidr: network.cidr, physicalNetwork: network.physicalNetwork, isDefault: view.defaultExternalNetworkId === network.id } : {};
    },
  },
  externalippool: {
    desired: (view, id) => view.externalIpPools.has(id) ? resource([]) : undefined,
    details: none,
  },
  externalip: {
    desired: (view, id) => view.externalIps.has(id) ? resource([]) : undefined,
    details: (view, id) => {
      const ip = view.externalIps.get(id);
      return ip ? { address: ip.address, natGatewayId: ip.natGatewayId ?? null, attachmentId: ip.attachmentId ?? null, portForwardIds: [...ip.portForwardIds] } : {};
    },
  },
  natgateway: {
    desired: (view, id, own) => {
      const gateway = view.natGateways.get(id);
      const ip = gateway && view.externalIps.get(gateway.externalIpId);
      const network = ip && view.externalNetworks.get(ip.externalNetworkId);
      const vpc = gateway && view.vpcs.get(gateway.vpcId);
      if (!gateway || !ip || !vpc) return undefined;
      if (!network) return pending(`external network ${ip.externalNetworkId} is gone`);
      const subnets = [...vpc.subnetIds].flatMap((s) => view.subnets.get(s) ?? []);
      // The VPC router's way out, as Neutron builds a router gateway.
      return resource([
        gatewayRouterPort(own, gateway, ip, network), ...gatewayChassis(own, gateway, network), gatewaySwitchPort(own, gateway, network),
        gatewayDefaultRoute(own, gateway, network), ...gatewaySnat(own, gateway, ip, subnets),
      ], [{ kind: 'vpc', id: vpc.id }, { kind: 'externalnetwork', id: network.id }]);
    },
    details: (view, id, rows) => {
      const gateway = view.natGateways.get(id);
      const ip = gateway && view.externalIps.get(gateway.externalIpId);
      return gateway ? { vpcId: gateway.vpcId, externalIpId: gateway.externalIpId, address: ip?.address, snatCount: rows.filter((d) => d.table === 'NAT').length } : {};
    },
  },
  externalipattachment: {
    desired: (view, id, own) => {
      const attachment = view.attachments.get(id);
      const ip = attachment && view.externalIps.get(attachment.externalIpId);
      if (!attachment || !ip) return undefined;
      const binding = attachmentBinding(view, attachment);
      if ('missing' in binding) return pending(binding.missing);
      if ('port' in binding) {
        const bound = realisable(view, 'port', binding.port);
        return 'target' in bound ? resource([attachmentNat(own, attachment, ip, bound.target)], bound.dependsOn) : bound;
      }
      const bound = realisable(view, 'loadbalancer', binding.loadBalancer);
      if (!('target' in bound)) return bound;
      const members = bound.target.memberPortIds.flatMap((p) => view.ports.get(p) ?? []);
      return resource([attachmentLoadBalancer(own, attachment, ip, bound.target, members)], bound.dependsOn);
    },
    details: (view, id) => {
      const attachment = view.attachments.get(id);
      if (!attachment) return {};
      const binding = attachmentBinding(view, attachment);
      return {
        externalIpId: attachment.externalIpId, address: view.externalIps.get(attachment.externalIpId)?.address, target: attachment.target,
        portId: 'port' in binding ? binding.port.id : null, loadBalancerId: 'loadBalancer' in binding ? binding.loadBalancer.id : null,
      };
    },
  },
  portforward: {
    desired: (view, id, own) => {
      const forward = view.portForwards.get(id);
      const ip = forward && view.externalIps.get(forward.externalIpId);
      if (!forward || !ip) return undefined;
      const port = view.ports.get(forward.portId);
      if (!port || !sameScope(port.scope, forward.scope)) return pending(`port ${forward.portId} does not exist`);
      const bound = realisable(view, 'port', port);
      return 'target' in bound ? resource([portForwardLoadBalancer(own, forward, ip, bound.target)], bound.dependsOn) : bound;
    },
    details: (view, id) => {
      const forward = view.portForwards.get(id);
      return forward ? { externalIpId: forward.externalIpId, protocol: forward.protocol, externalPort: forward.externalPort, portId: forward.portId, internalPort: forward.internalPort } : {};
    },
  },
  loadbalancer: {
    desired: (view, id, own) => {
      const lb = view.loadBalancers.get(id);
      const vpc = lb && view.vpcs.get(lb.vpcId);
      if (!lb || !vpc) return undefined;
      const subnets = [...vpc.subnetIds].flatMap((s) => view.subnets.get(s) ?? []);
      const members = lb.memberPortIds.flatMap((p) => view.ports.get(p) ?? []);
      return resource([loadBalancerRow(own, lb, members, subnets)], [{ kind: 'vpc', id: vpc.id }, ...subnets.map((s) => ({ kind: 'subnet' as const, id: s.id }))]);
    },
    details: (view, id) => {
      const lb = view.loadBalancers.get(id);
      return lb ? {
        vpcId: lb.vpcId, subnetId: lb.subnetId, vipAddress: lb.vipAddress, protocol: lb.protocol, listeners: lb.listeners, memberPortIds: lb.memberPortIds,
        endpoint: lb.endpoint ?? null,
      } : {};
    },
  },
  networkclass: {
    desired: (view, id, own) => {
      const cls = view.networkClasses.get(id);
      return cls && resource(baremetalChassisGroup(own, cls));
    },
    details: (view, id) => {
      const cls = view.networkClasses.get(id);
      return cls ? { name: cls.name, isDefault: view.defaultNetworkClassId === cls.id, capabilities: capabilitiesOf(view, cls), vpcCount: cls.vpcIds.size } : {};
    },
  },
  // Rows of a retired kind are orphans: the diff keeps a group of them while ports are in it (diff.ts).
  'default-deny': { desired: () => undefined, details: none },
} as const satisfies Record<RowOwnerKind, KindRows>;

/** The Northbound rows one owner should have; undefined once it is gone from the view. Pure. */
export function desiredRows(view: View, owner: RowOwner, own: Ownership): DesiredResource | undefined {
  return rowKinds[owner.kind].desired(view, owner.id, own);
}

/** The resources that join `row`, one of the owner's rows: O(them). */
export function membersOf(view: View, owner: RowOwner, row: DesiredRow): RowOwner[] {
  const kind: KindRows = rowKinds[owner.kind];
  return kind.members?.(view, owner.id, row) ?? [];
}

export function statusDetails(view: View, owner: RowOwner, rows: readonly DesiredRow[], present: Present): Record<string, unknown> {
  return rowKinds[owner.kind].details(view, owner.id, rows, present);
}
