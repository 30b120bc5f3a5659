import { ipToInt } from '../../projections/mod.js';
import type { ExternalIpAttachment, View, Port, Subnet } from '../../projections/mod.js';
import type { DesiredRow } from './desired-row.js';
import { defaultDenyRef } from './names.js';
import type { Ownership, ResourceRef } from './names.js';
import { defaultDenyAcls, gatewayAcl, securityGroupAcls } from './tables/acl.js';
import { subnetDhcpOptions } from './tables/dhcp-options.js';
import { externalNetworkRows } from './tables/external.js';
import { attachmentNat, natGatewayRows, portForwardLoadBalancer } from './tables/gateway.js';
import { loadBalancerRow } from './tables/load-balancer.js';
import { vpcRouter } from './tables/logical-router.js';
import { subnetRouterPort } from './tables/logical-router-port.js';
import { subnetSwitch } from './tables/logical-switch.js';
import { portSwitchPort, subnetSwitchRouterPort } from './tables/logical-switch-port.js';
import { dropPortGroup, securityGroupPortGroup } from './tables/port-group.js';

export interface DesiredResource {
  readonly rows: readonly DesiredRow[];
  /** Resources whose rows these rows reference: they must be in the Northbound first. */
  readonly dependsOn: readonly ResourceRef[];
  /** Why the resource cannot be realised yet (its rows are left out until it can). */
  readonly pending?: string;
}

const resource = (rows: readonly DesiredRow[], dependsOn: readonly ResourceRef[] = []): DesiredResource => ({ rows, dependsOn });
const pending = (reason: string): DesiredResource => ({ rows: [], dependsOn: [], pending: reason });

/** The Northbound rows one resource should have; undefined once it is gone from the view. Pure. */
export function desiredRows(view: View, ref: ResourceRef, own: Ownership): DesiredResource | undefined {
  switch (ref.kind) {
    case 'vpc': {
      const vpc = view.vpcs.get(ref.id);
      return vpc && resource(vpcRouter(own, vpc));
    }
    case 'subnet': {
      const subnet = view.subnets.get(ref.id);
      if (!subnet) return undefined;
      const dhcp = subnetDhcpOptions(own, subnet);
      return resource(
        [subnetSwitch(own, subnet), subnetRouterPort(own, subnet), subnetSwitchRouterPort(own, subnet), gatewayAcl(own, subnet), ...(dhcp ? [dhcp] : [])],
        [{ kind: 'vpc', id: subnet.vpcId }],
      );
    }
    case 'port': {
      const port = view.ports.get(ref.id);
      const subnet = port && view.subnets.get(port.subnetId);
      if (!port || !subnet) return undefined;
      return resource([portSwitchPort(own, port, subnet, vipHolders(subnet, port))], [
        { kind: 'subnet', id: subnet.id }, defaultDenyRef(own),
        ...port.securityGroupIds.map((id) => ({ kind: 'securitygroup' as const, id })),
      ]);
    }
    case 'securitygroup': {
      const group = view.securityGroups.get(ref.id);
      if (!group) return undefined;
      const remotes = new Set([...group.ingressRules, ...group.egressRules]
        .flatMap((r) => ('securityGroupId' in r.remote && r.remote.securityGroupId !== group.id ? [r.remote.securityGroupId] : [])));
      // A remote group's address set is named in the match: its port group must exist.
      return resource([securityGroupPortGroup(own, group), ...securityGroupAcls(own, group)], [...remotes].map((id) => ({ kind: 'securitygroup' as const, id })));
    }
    case 'default-deny':
      return ref.id === own.owner ? resource([dropPortGroup(own), ...defaultDenyAcls(own)]) : undefined;
    case 'externalnetwork': {
      const network = view.externalNetworks.get(ref.id);
      return network && resource(externalNetworkRows(own, network));
    }
    case 'externalippool':
      return view.externalIpPools.has(ref.id) ? resource([]) : undefined;
    case 'externalip':
      return view.externalIps.has(ref.id) ? resource([]) : undefined;
    case 'natgateway': {
      const gateway = view.natGateways.get(ref.id);
      const ip = gateway && view.externalIps.get(gateway.externalIpId);
      const network = ip && view.externalNetworks.get(ip.externalNetworkId);
      const vpc = gateway && view.vpcs.get(gateway.vpcId);
      if (!gateway || !ip || !vpc) return undefined;
      if (!network) return pending(`external network ${ip.externalNetworkId} is gone`);
      const subnets = [...vpc.subnetIds].flatMap((id) => view.subnets.get(id) ?? []);
      return resource(natGatewayRows(own, gateway, ip, network, subnets), [
        { kind: 'vpc', id: vpc.id }, { kind: 'externalnetwork', id: network.id },
      ]);
    }
    case 'externalipattachment': {
      const attachment = view.attachments.get(ref.id);
      const ip = attachment && view.externalIps.get(attachment.externalIpId);
      if (!attachment || !ip) return undefined;
      const target = realisable(view, attachmentPort(view, attachment), 'deviceId' in attachment.target
        ? `no port of device "${attachment.target.deviceId}" in this tenant yet` : `port ${attachment.target.portId} does not exist`);
      return 'port' in target ? resource([attachmentNat(own, attachment, ip, target.port)], target.dependsOn) : target;
    }
    case 'portforward': {
      const forward = view.portForwards.get(ref.id);
      const ip = forward && view.externalIps.get(forward.externalIpId);
      if (!forward || !ip) return undefined;
      const port = view.ports.get(forward.portId);
      const target = realisable(view, port?.scope.org === forward.scope.org && port.scope.project === forward.scope.project ? port : undefined, `port ${forward.portId} does not exist`);
      return 'port' in target ? resource([portForwardLoadBalancer(own, forward, ip, target.port)], target.dependsOn) : target;
    }
    case 'loadbalancer': {
      const lb = view.loadBalancers.get(ref.id);
      const vpc = lb && view.vpcs.get(lb.vpcId);
      if (!lb || !vpc) return undefined;
      const subnets = [...vpc.subnetIds].map((id) => view.subnets.get(id)).filter((s): s is Subnet => s !== undefined);
      const members = lb.memberPortIds.map((id) => view.ports.get(id)).filter((p): p is Port => p !== undefined);
      return resource([loadBalancerRow(own, lb, members, subnets)], [{ kind: 'vpc', id: vpc.id }, ...subnets.map((s) => ({ kind: 'subnet' as const, id: s.id }))]);
    }
    default: {
      const unhandled: never = ref.kind;
      return unhandled;
    }
  }
}

/** NAT toward a port needs the port and a gateway from its VPC to the outside. */
function realisable(view: View, port: Port | undefined, missing: string): DesiredResource | { port: Port; dependsOn: ResourceRef[] } {
  if (!port) return pending(missing);
  const gatewayId = view.natGatewayOfVpc.get(port.vpcId);
  if (!gatewayId) return pending(`VPC ${port.vpcId} has no NAT gateway to the external network`);
  return { port, dependsOn: [{ kind: 'port', id: port.id }, { kind: 'natgateway', id: gatewayId }] };
}

/** The port an attachment binds: the named port, or the device's first port — in the attachment's tenant only. */
export function attachmentPort(view: View, attachment: ExternalIpAttachment): Port | undefined {
  const inTenant = (p: Port) => p.scope.org === attachment.scope.org && p.scope.project === attachment.scope.project;
  const { target } = attachment;
  if ('portId' in target) {
    const port = view.ports.get(target.portId);
    return port && inTenant(port) ? port : undefined;
  }
  let first: Port | undefined;
  for (const port of view.ports.values()) {
    if (port.deviceId === target.deviceId && inTenant(port) && (!first || port.seq < first.seq)) first = port;
  }
  return first;
}

/**
 * The ports allowed to hold this port's address, if it is a VIP: a port no device uses
 * (Neutron's rule: a bound VM port never turns virtual), named in other ports' pairs.
 * Sorted: the row must not depend on fold order.
 */
export function vipHolders(subnet: Subnet, port: Port): string[] {
  if (port.deviceId !== undefined) return [];
  return [...subnet.pairHolders.get(ipToInt(port.ipAddress)) ?? []].filter((id) => id !== port.id).sort();
}
