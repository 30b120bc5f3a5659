import { PROVIDER_SCOPE } from '../../events/mod.js';
import { ipToInt } from '../../projections/mod.js';
import type { NovanetEvent, Scope } from '../../events/mod.js';
import type { NetworkView } from '../../projections/mod.js';
import { attachmentPort } from './desired.js';
import type { ResourceKind, ResourceRef } from './names.js';

/** The resource an event is about; none for events without Northbound rows (quotas). */
export function resourceOf(event: NovanetEvent): ResourceRef | undefined {
  switch (event.type) {
    case 'VpcCreated':
    case 'VpcDeleted':
    case 'VpcRouteAdded':
    case 'VpcRouteRemoved':
      return { kind: 'vpc', id: event.data.vpcId };
    case 'SubnetCreated':
    case 'SubnetUpdated':
    case 'SubnetDeleted':
      return { kind: 'subnet', id: event.data.subnetId };
    case 'PortCreated':
    case 'PortDeleted':
    case 'PortSecurityGroupsChanged':
    case 'PortAllowedAddressPairsChanged':
      return { kind: 'port', id: event.data.portId };
    case 'SecurityGroupCreated':
    case 'SecurityGroupUpdated':
    case 'SecurityGroupRuleAdded':
    case 'SecurityGroupRuleRemoved':
    case 'SecurityGroupDeleted':
      return { kind: 'securitygroup', id: event.data.securityGroupId };
    case 'ExternalNetworkCreated':
    case 'ExternalNetworkUpdated':
    case 'ExternalNetworkDeleted':
      return { kind: 'externalnetwork', id: event.data.externalNetworkId };
    case 'ExternalIpPoolCreated':
    case 'ExternalIpPoolDeleted':
      return { kind: 'externalippool', id: event.data.poolId };
    case 'ExternalIpAllocated':
    case 'ExternalIpReleased':
      return { kind: 'externalip', id: event.data.externalIpId };
    case 'NatGatewayCreated':
    case 'NatGatewayDeleted':
      return { kind: 'natgateway', id: event.data.natGatewayId };
    case 'ExternalIpAttachmentCreated':
    case 'ExternalIpAttachmentDeleted':
      return { kind: 'externalipattachment', id: event.data.attachmentId };
    case 'PortForwardCreated':
    case 'PortForwardDeleted':
      return { kind: 'portforward', id: event.data.portForwardId };
    case 'LoadBalancerCreated':
    case 'LoadBalancerMembersChanged':
    case 'LoadBalancerDeleted':
      return { kind: 'loadbalancer', id: event.data.loadBalancerId };
    case 'QuotaSet':
      return undefined;
    default: {
      const unhandled: never = event;
      return unhandled;
    }
  }
}

/**
 * Other resources whose rows or status depend on what the event changes: a NAT
 * gateway SNATs every subnet of its VPC; attachments and port forwards follow their
 * port and their VPC's gateway; an external IP's status says what uses it.
 * Called on the view before and after the event, so both the old and the new
 * dependants are found.
 */
export function dependantsOf(view: NetworkView, event: NovanetEvent): ResourceRef[] {
  const refs: ResourceRef[] = [];
  const add = (kind: ResourceKind, id: string | undefined) => { if (id) refs.push({ kind, id }); };
  switch (event.type) {
    case 'ExternalNetworkCreated':
    case 'ExternalNetworkUpdated':
      // Gateways on the network follow its chassis; the previous default's status changes too.
      add('externalnetwork', view.defaultExternalNetworkId);
      for (const g of view.natGateways.values()) {
        if (view.externalIps.get(g.externalIpId)?.externalNetworkId === event.data.externalNetworkId) add('natgateway', g.id);
      }
      break;
    case 'SubnetCreated':
    case 'SubnetDeleted': {
      const vpcId = event.type === 'SubnetCreated' ? event.data.vpcId : view.subnets.get(event.data.subnetId)?.vpcId;
      add('natgateway', vpcId && view.vpcs.get(vpcId)?.natGatewayId);
      // Load balancers sit on every switch of their VPC.
      for (const lb of view.loadBalancers.values()) if (lb.vpcId === vpcId) add('loadbalancer', lb.id);
      break;
    }
    case 'SubnetUpdated': {
      // A port's row points at its subnet's DHCP options, which exist only while DHCP is on.
      const subnet = view.subnets.get(event.data.subnetId);
      if (subnet && subnet.dhcp.enabled !== event.data.dhcp.enabled) for (const portId of subnet.portIds) add('port', portId);
      break;
    }
    case 'PortCreated':
    case 'PortDeleted':
    case 'PortAllowedAddressPairsChanged': {
      // A port named by a pair becomes (or stops being) a VIP.
      const port = view.ports.get(event.data.portId);
      const subnet = port && view.subnets.get(port.subnetId);
      for (const pair of port?.allowedAddressPairs ?? []) {
        const holder = pair.ipAddress.includes('/') ? undefined : subnet?.allocated.get(ipToInt(pair.ipAddress));
        if (holder !== undefined && view.ports.has(holder)) add('port', holder);
      }
      if (event.type === 'PortAllowedAddressPairsChanged') break;
      for (const a of view.attachments.values()) if (attachmentPort(view, a)?.id === event.data.portId) add('externalipattachment', a.id);
      for (const f of view.portForwards.values()) if (f.portId === event.data.portId) add('portforward', f.id);
      break;
    }
    case 'NatGatewayCreated':
    case 'NatGatewayDeleted': {
      const gateway = event.type === 'NatGatewayCreated' ? event.data : view.natGateways.get(event.data.natGatewayId);
      if (!gateway) break;
      add('externalip', gateway.externalIpId);
      for (const a of view.attachments.values()) if (attachmentPort(view, a)?.vpcId === gateway.vpcId) add('externalipattachment', a.id);
      for (const f of view.portForwards.values()) if (view.ports.get(f.portId)?.vpcId === gateway.vpcId) add('portforward', f.id);
      break;
    }
    case 'ExternalIpAttachmentCreated':
    case 'ExternalIpAttachmentDeleted':
      add('externalip', event.type === 'ExternalIpAttachmentCreated' ? event.data.externalIpId : view.attachments.get(event.data.attachmentId)?.externalIpId);
      break;
    case 'PortForwardCreated':
    case 'PortForwardDeleted':
      add('externalip', event.type === 'PortForwardCreated' ? event.data.externalIpId : view.portForwards.get(event.data.portForwardId)?.externalIpId);
      break;
    default:
      break;
  }
  return refs;
}

/** Every resource of the view with its scope and the sequence of its last commit: what a full resync walks. */
export function* allResources(view: NetworkView): Generator<{ ref: ResourceRef; scope: Scope; seq: number }> {
  const tenant = <T extends { id: string; scope: Scope; seq: number }>(kind: ResourceKind, map: ReadonlyMap<string, T>) =>
    [...map.values()].map((r) => ({ ref: { kind, id: r.id }, scope: r.scope, seq: r.seq }));
  const provider = <T extends { id: string; seq: number }>(kind: ResourceKind, map: ReadonlyMap<string, T>) =>
    [...map.values()].map((r) => ({ ref: { kind, id: r.id }, scope: PROVIDER_SCOPE, seq: r.seq }));
  yield* tenant('vpc', view.vpcs);
  yield* tenant('subnet', view.subnets);
  yield* tenant('port', view.ports);
  yield* tenant('securitygroup', view.securityGroups);
  yield* provider('externalnetwork', view.externalNetworks);
  yield* provider('externalippool', view.externalIpPools);
  yield* tenant('externalip', view.externalIps);
  yield* tenant('natgateway', view.natGateways);
  yield* tenant('externalipattachment', view.attachments);
  yield* tenant('portforward', view.portForwards);
  yield* tenant('loadbalancer', view.loadBalancers);
}
