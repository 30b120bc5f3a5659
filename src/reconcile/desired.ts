import { sameScope } from '../../events/mod.js';
import { ipToInt } from '../../projections/mod.js';
import type { ExternalIpAttachment, Port, Subnet, View } from '../../projections/mod.js';
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

/** NAT toward a port needs the port and a gateway from its VPC to the outside. */
export function realisable(view: View, port: Port | undefined, missing: string): DesiredResource | { port: Port; dependsOn: RowOwner[] } {
  if (!port) return pending(missing);
  const gatewayId = view.natGatewayOfVpc.get(port.vpcId);
  if (!gatewayId) return pending(`VPC ${port.vpcId} has no NAT gateway to the external network`);
  return { port, dependsOn: [{ kind: 'port', id: port.id }, { kind: 'natgateway', id: gatewayId }] };
}

/** The port an attachment binds: the named port, or the device's first port — in the attachment's tenant only. */
export function attachmentPort(view: View, attachment: ExternalIpAttachment): Port | undefined {
  const inTenant = (p: Port) => sameScope(p.scope, attachment.scope);
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
