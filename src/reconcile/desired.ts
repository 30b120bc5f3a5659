import { sameScope } from '../../events/mod.js';
import { deviceKey, endpointKey } from '../../projections/mod.js';
import type { ExternalIpAttachment, LoadBalancer, Port, Subnet, View } from '../../projections/mod.js';
import type { DesiredRow } from './desired-row.js';
import type { RowOwner } from './names.js';

export interface DesiredResource {
  readonly rows: readonly DesiredRow[];
  /** Resources whose rows these rows reference: they must be in the Northbound first. */
  readonly dependsOn: readonly RowOwner[];
  /** Why the resource cannot be realised yet (its rows are left out until it can). */
  readonly pending?: string;
}

export const resource = (rows: readonly DesiredRow[], dependsOn: readonly RowOwner[] = []): DesiredResource => ({ rows, dependsOn });
export const pending = (reason: string): DesiredResource => ({ rows: [], dependsOn: [], pending: reason });

/** NAT toward a port or load balancer needs it and a gateway from its VPC to the outside. */
export function realisable<T extends { readonly id: string; readonly vpcId: string }>(
  view: View, kind: 'port' | 'loadbalancer', target: T,
): DesiredResource | { target: T; dependsOn: RowOwner[] } {
  const gatewayId = view.natGatewayOfVpc.get(target.vpcId);
  if (!gatewayId) return pending(`VPC ${target.vpcId} has no NAT gateway to the external network`);
  return { target, dependsOn: [{ kind, id: target.id }, { kind: 'natgateway', id: gatewayId }] };
}

/** What an attachment binds now: a port, a load balancer, or why neither (in the attachment's tenant only). */
export type AttachmentBinding = { readonly port: Port } | { readonly loadBalancer: LoadBalancer } | { readonly missing: string };

/**
 * The port or load balancer an attachment binds: the named port, the device's primary port,
 * the named load balancer, or the cluster endpoint's load balancer. Index lookups: O(1).
 */
export function attachmentBinding(view: View, attachment: ExternalIpAttachment): AttachmentBinding {
  const { target, scope } = attachment;
  const port = (id: string | undefined) => {
    const found = id !== undefined ? view.ports.get(id) : undefined;
    return found && sameScope(found.scope, scope) ? found : undefined;
  };
  const loadBalancer = (id: string | undefined) => {
    const found = id !== undefined ? view.loadBalancers.get(id) : undefined;
    return found && sameScope(found.scope, scope) ? found : undefined;
  };
  if ('portId' in target) {
    const found = port(target.portId);
    return found ? { port: found } : { missing: `port ${target.portId} does not exist` };
  }
  if ('deviceId' in target) {
    const key = deviceKey(scope, target.deviceId);
    const found = port(view.primaryPortOfDevice.get(key));
    if (found) return { port: found };
    return { missing: view.devicePorts.has(key) ? `device "${target.deviceId}" has no primary port` : `no port of device "${target.deviceId}" in this tenant yet` };
  }
  if ('loadBalancerId' in target) {
    const found = loadBalancer(target.loadBalancerId);
    return found ? { loadBalancer: found } : { missing: `load balancer ${target.loadBalancerId} does not exist` };
  }
  const found = loadBalancer(view.endpointLoadBalancer.get(endpointKey(scope, { clusterId: target.clusterId, role: target.endpoint })));
  return found ? { loadBalancer: found } : { missing: `no load balancer is cluster ${target.clusterId}'s ${target.endpoint} endpoint in this tenant yet` };
}

/** The VPC an attachment's binding is in, if it binds something. */
export function attachmentVpc(view: View, attachment: ExternalIpAttachment): string | undefined {
  const binding = attachmentBinding(view, attachment);
  return 'port' in binding ? binding.port.vpcId : 'loadBalancer' in binding ? binding.loadBalancer.vpcId : undefined;
}

/**
 * The ports allowed to hold this port's address, if it is a VIP: a port no device uses
 * (Neutron's rule: a bound VM port never turns virtual), named in other ports' pairs.
 * Sorted: the row must not depend on fold order.
 */
export function vipHolders(subnet: Subnet, port: Port): string[] {
  if (port.deviceId !== undefined) return [];
  return [...subnet.pairHolders.get(port.ip) ?? []].filter((id) => id !== port.id).sort();
}
