import { ipToInt } from '../../projections/mod.js';
import type { NovanetEvent, ResourceKind, ResourceRef } from '../../events/mod.js';
import type { View } from '../../projections/mod.js';
import { attachmentPort } from './desired.js';

/**
 * Other resources whose rows or status depend on what the event changes: a NAT
 * gateway SNATs every subnet of its VPC; attachments and port forwards follow their
 * port and their VPC's gateway; an external IP's status says what uses it.
 * Called on the view before and after the event, so both the old and the new
 * dependants are found.
 */
export function dependantsOf(view: View, event: NovanetEvent): ResourceRef[] {
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
      add('natgateway', vpcId && view.natGatewayOfVpc.get(vpcId));
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
    case 'VpcCreated':
    case 'VpcDeleted':
    case 'VpcRouteAdded':
    case 'VpcRouteRemoved':
    case 'PortSecurityGroupsChanged':
    case 'SecurityGroupCreated':
    case 'SecurityGroupUpdated':
    case 'SecurityGroupRuleAdded':
    case 'SecurityGroupRuleRemoved':
    case 'SecurityGroupDeleted':
    case 'LoadBalancerCreated':
    case 'LoadBalancerMembersChanged':
    case 'LoadBalancerDeleted':
    case 'ExternalNetworkDeleted':
    case 'ExternalIpPoolCreated':
    case 'ExternalIpPoolDeleted':
    case 'ExternalIpAllocated':
    case 'ExternalIpReleased':
    case 'QuotaSet':
      // No other resource's rows or status follow these.
      break;
    default: {
      const unhandled: never = event;
      return unhandled;
    }
  }
  return refs;
}
