import { childrenOf, ipToInt, resourcesIn, subnetPortIds, targetKey } from '../../projections/mod.js';
import type { AttachmentTarget, EventOf, EventType, NovanetEvent, ResourceKind, ResourceRef } from '../../events/mod.js';
import type { View } from '../../projections/mod.js';
import { attachmentVpc } from './desired.js';

type Add = (kind: ResourceKind, id: string | undefined) => void;
type Dependants = { readonly [T in EventType]?: (view: View, event: EventOf<T>, add: Add) => void };

/** A port named by a pair becomes (or stops being) a VIP. */
function pairHolders(view: View, portId: string, add: Add): void {
  const port = view.ports.get(portId);
  const subnet = port && view.subnets.get(port.subnetId);
  for (const pair of port?.allowedAddressPairs ?? []) {
    const holder = pair.ipAddress.includes('/') ? undefined : subnet?.allocated.get(ipToInt(pair.ipAddress));
    if (holder !== undefined && view.ports.has(holder)) add('port', holder);
  }
}

/** Attachments and port forwards follow their port (by its id, or by its device); a secondary port needs its subnet's second DHCP options. Index lookups. */
function portDependants(view: View, portId: string, add: Add): void {
  pairHolders(view, portId, add);
  deviceDependants(view, portId, add);
  const port = view.ports.get(portId);
  if (port && !port.primary) add('subnet', port.subnetId);
  for (const forwardId of childrenOf(view.portForwardsOfPort, portId)) add('portforward', forwardId);
}

/** The attachments naming a port or its device (index lookups): they follow it when it joins or leaves the device. */
function deviceDependants(view: View, portId: string, add: Add): void {
  const port = view.ports.get(portId);
  if (!port) return;
  attachmentsNaming(view, port.scope, [{ portId }, ...(port.deviceId !== undefined ? [{ deviceId: port.deviceId }] : [])], add);
}

/** The attachments naming a load balancer, by its id or by its cluster endpoint. */
function loadBalancerDependants(view: View, loadBalancerId: string, add: Add): void {
  const lb = view.loadBalancers.get(loadBalancerId);
  if (!lb) return;
  attachmentsNaming(view, lb.scope, [{ loadBalancerId }, ...(lb.endpoint ? [{ clusterId: lb.endpoint.clusterId, endpoint: lb.endpoint.role }] : [])], add);
}

function attachmentsNaming(view: View, scope: { org: string; project: string }, targets: AttachmentTarget[], add: Add): void {
  for (const target of targets) add('externalipattachment', view.attachmentOfTarget.get(targetKey(scope, target)));
}

/**
 * A NAT gateway's IP says what uses it; attachments and port forwards of its VPC need it. They
 * bind only their own tenant's ports and load balancers, so the VPC's tenant's are all there are
 * to look at (each needs an external IP of the tenant's: few), not the cloud's.
 */
function gatewayDependants(view: View, gateway: { readonly vpcId: string; readonly externalIpId: string } | undefined, add: Add): void {
  if (!gateway) return;
  add('externalip', gateway.externalIpId);
  const scope = view.vpcs.get(gateway.vpcId)?.scope;
  if (!scope) return;
  for (const a of resourcesIn(view, scope, 'externalipattachment')) if (attachmentVpc(view, a) === gateway.vpcId) add('externalipattachment', a.id);
  for (const f of resourcesIn(view, scope, 'portforward')) if (view.ports.get(f.portId)?.vpcId === gateway.vpcId) add('portforward', f.id);
}

/** A NAT gateway SNATs every subnet of its VPC; load balancers sit on every switch of their VPC. */
function vpcSubnetDependants(view: View, vpcId: string | undefined, add: Add): void {
  if (vpcId === undefined) return;
  add('natgateway', view.natGatewayOfVpc.get(vpcId));
  for (const loadBalancerId of view.vpcs.get(vpcId)?.loadBalancerIds ?? []) add('loadbalancer', loadBalancerId);
}

/** Gateways on the network follow its chassis; the previous default's status changes too. */
function externalNetworkDependants(view: View, externalNetworkId: string, add: Add): void {
  add('externalnetwork', view.defaultExternalNetworkId);
  classesOn(view, externalNetworkId, add);
  for (const gatewayId of view.externalNetworks.get(externalNetworkId)?.natGatewayIds ?? []) add('natgateway', gatewayId);
}

/** Classes whose capabilities come from the network (theirs, or the default one for classes that name none): there are few. */
function classesOn(view: View, externalNetworkId: string | undefined, add: Add): void {
  for (const cls of view.networkClasses.values()) {
    if ((cls.externalNetworkId ?? view.defaultExternalNetworkId) === externalNetworkId) add('networkclass', cls.id);
  }
}

/** A bare-metal host's ACLs are its groups' rules (tables/acl.ts, baremetalPortAcls): the group's bare-metal members, not all of them. */
function baremetalMembers(view: View, securityGroupId: string, add: Add): void {
  for (const portId of view.securityGroups.get(securityGroupId)?.baremetalPortIds ?? []) add('port', portId);
}

/**
 * The events whose change reaches other resources' rows or status, and which ones. An event
 * not listed here touches only its own resource (events/kinds.ts), so a new kind's events
 * appear here only when something depends on them.
 */
const dependants: Dependants = {
  ExternalNetworkCreated: (view, e, add) => externalNetworkDependants(view, e.data.externalNetworkId, add),
  ExternalNetworkUpdated: (view, e, add) => externalNetworkDependants(view, e.data.externalNetworkId, add),
  SubnetCreated: (view, e, add) => vpcSubnetDependants(view, e.data.vpcId, add),
  SubnetDeleted: (view, e, add) => vpcSubnetDependants(view, view.subnets.get(e.data.subnetId)?.vpcId, add),
  // A port's row points at its subnet's DHCP options, which exist only while DHCP is on.
  SubnetUpdated: (view, e, add) => {
    const subnet = view.subnets.get(e.data.subnetId);
    if (subnet && subnet.dhcp.enabled !== e.data.dhcp.enabled) for (const portId of subnetPortIds(view, subnet)) add('port', portId);
  },
  PortCreated: (view, e, add) => portDependants(view, e.data.portId, add),
  PortDeleted: (view, e, add) => portDependants(view, e.data.portId, add),
  PortAllowedAddressPairsChanged: (view, e, add) => pairHolders(view, e.data.portId, add),
  PortAttached: (view, e, add) => deviceDependants(view, e.data.portId, add),
  PortDetached: (view, e, add) => deviceDependants(view, e.data.portId, add),
  LoadBalancerCreated: (view, e, add) => loadBalancerDependants(view, e.data.loadBalancerId, add),
  LoadBalancerMembersChanged: (view, e, add) => loadBalancerDependants(view, e.data.loadBalancerId, add),
  LoadBalancerDeleted: (view, e, add) => loadBalancerDependants(view, e.data.loadBalancerId, add),
  NatGatewayCreated: (view, e, add) => gatewayDependants(view, e.data, add),
  NatGatewayDeleted: (view, e, add) => gatewayDependants(view, view.natGateways.get(e.data.natGatewayId), add),
  ExternalIpAttachmentCreated: (_view, e, add) => add('externalip', e.data.externalIpId),
  ExternalIpAttachmentDeleted: (view, e, add) => add('externalip', view.attachments.get(e.data.attachmentId)?.externalIpId),
  PortForwardCreated: (_view, e, add) => add('externalip', e.data.externalIpId),
  PortForwardDeleted: (view, e, add) => add('externalip', view.portForwards.get(e.data.portForwardId)?.externalIpId),
  ExternalIpPoolCreated: (view, e, add) => classesOn(view, e.data.externalNetworkId, add),
  ExternalIpPoolDeleted: (view, e, add) => classesOn(view, view.externalIpPools.get(e.data.poolId)?.externalNetworkId, add),
  // A class's status counts its VPCs; its VPCs' statuses show its capabilities.
  VpcCreated: (_view, e, add) => add('networkclass', e.data.networkClassId),
  VpcDeleted: (view, e, add) => add('networkclass', view.vpcs.get(e.data.vpcId)?.networkClassId),
  NetworkClassCreated: (view, _e, add) => add('networkclass', view.defaultNetworkClassId),
  NetworkClassUpdated: (view, e, add) => {
    for (const vpcId of view.networkClasses.get(e.data.networkClassId)?.vpcIds ?? []) add('vpc', vpcId);
    add('networkclass', view.defaultNetworkClassId);
  },
  SecurityGroupUpdated: (view, e, add) => baremetalMembers(view, e.data.securityGroupId, add),
  SecurityGroupRuleAdded: (view, e, add) => baremetalMembers(view, e.data.securityGroupId, add),
  SecurityGroupRuleRemoved: (view, e, add) => baremetalMembers(view, e.data.securityGroupId, add),
};

/**
 * Other resources whose rows or status depend on what the event changes. Called on the view
 * before and after the event, so both the old and the new dependants are found.
 */
export function dependantsOf(view: View, event: NovanetEvent): ResourceRef[] {
  const refs: ResourceRef[] = [];
  const find = dependants[event.type] as ((view: View, event: NovanetEvent, add: Add) => void) | undefined;
  find?.(view, event, (kind, id) => { if (id) refs.push({ kind, id }); });
  return refs;
}
