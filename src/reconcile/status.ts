import { Phase } from '../../events/mod.js';
import type { Scope } from '../../events/mod.js';
import type { View } from '../../projections/mod.js';
import type { Row } from '../ovsdb/mod.js';
import { attachmentPort } from './desired.js';
import type { DesiredResource } from './desired.js';
import type { DesiredRow } from './desired-row.js';
import type { ResourceRef } from './names.js';

/** A status as the reconciler produces it: the wire's StatusMessage (events/status.ts) with its tenant as a scope. */
export interface ResourceStatus {
  readonly kind: string;
  readonly id: string;
  readonly scope: Scope;
  readonly phase: Phase;
  /** The event-log sequence the reconciler had folded when it produced this status. */
  readonly observedSeq: number;
  readonly message?: string;
  /** UUIDs of the Northbound rows that realise the resource, by role. */
  readonly ovn?: Readonly<Record<string, string>>;
  readonly [field: string]: unknown;
}

/** Row roles in `ovn`, by table; a table with many rows per resource (ACL, NAT, …) is counted instead. */
const ROLE_OF_TABLE: Readonly<Record<string, string>> = {
  Logical_Router: 'logicalRouter',
  Logical_Router_Port: 'logicalRouterPort',
  Logical_Switch: 'logicalSwitch',
  DHCP_Options: 'dhcpOptions',
  Port_Group: 'portGroup',
  Load_Balancer: 'loadBalancer',
};

/**
 * The status of a resource after a reconcile pass. `present` tells which desired
 * rows the Northbound now holds: Ready means all of them, not just "the transaction
 * committed" (a row whose parent is missing is garbage-collected silently).
 */
export function statusOf(
  view: View,
  ref: ResourceRef,
  scope: Scope,
  observedSeq: number,
  desired: DesiredResource | undefined,
  present: (d: DesiredRow) => Row | undefined,
  failure?: string,
): ResourceStatus {
  const base = { kind: ref.kind, id: ref.id, scope, observedSeq };
  if (!desired) return { ...base, phase: Phase.Deleted };
  const ovn: Record<string, string> = {};
  for (const d of desired.rows) {
    const role = roleOf(ref, d.table);
    if (role) ovn[role] = d.uuid;
  }
  const missing = desired.rows.filter((d) => !present(d));
  const phase = failure !== undefined ? Phase.Failed : desired.pending !== undefined || missing.length > 0 ? Phase.Pending : Phase.Ready;
  const message = failure ?? desired.pending ?? (missing.length > 0 ? `waiting for ${missing.map((m) => m.table).join(', ')} rows in the Northbound` : undefined);
  return { ...base, phase, ...(message !== undefined && { message }), ovn, ...kindDetails(view, ref, desired.rows, present) };
}

/** The role of a resource's one row in a table; undefined where a resource has many (a VPC's routes, ACLs). */
function roleOf(ref: ResourceRef, table: string): string | undefined {
  switch (table) {
    case 'Logical_Switch_Port':
      return ref.kind === 'port' ? 'logicalSwitchPort' : ref.kind === 'externalnetwork' ? 'localnetPort' : ref.kind === 'natgateway' ? 'gatewaySwitchPort' : 'switchRouterPort';
    case 'NAT':
      return ref.kind === 'externalipattachment' ? 'nat' : undefined;
    case 'Logical_Router_Static_Route':
      return ref.kind === 'natgateway' ? 'defaultRoute' : undefined;
    default:
      return ROLE_OF_TABLE[table];
  }
}

function kindDetails(view: View, ref: ResourceRef, rows: readonly DesiredRow[], present: (d: DesiredRow) => Row | undefined): Record<string, unknown> {
  switch (ref.kind) {
    case 'vpc': {
      const vpc = view.vpcs.get(ref.id);
      return vpc ? { cidr: vpc.cidr, routes: vpc.routes.length } : {};
    }
    case 'subnet': {
      const subnet = view.subnets.get(ref.id);
      return subnet ? { vpcId: subnet.vpcId, cidr: subnet.cidr, gatewayIp: subnet.gatewayIp } : {};
    }
    case 'port': {
      const port = view.ports.get(ref.id);
      if (!port) return {};
      const lsp = rows[0] && present(rows[0]);
      // `up` is optional in the schema, so it decodes as a set: [] or [true].
      const up = lsp?.up;
      const bound = up === true || (Array.isArray(up) && up[0] === true);
      return { subnetId: port.subnetId, vpcId: port.vpcId, ipAddress: port.ipAddress, macAddress: port.macAddress, securityGroupIds: port.securityGroupIds, bound };
    }
    case 'securitygroup': {
      const group = view.securityGroups.get(ref.id);
      return group ? { vpcId: group.vpcId, aclCount: rows.filter((d) => d.table === 'ACL').length } : {};
    }
    case 'default-deny':
    case 'externalippool':
      return {};
    case 'externalnetwork': {
      const network = view.externalNetworks.get(ref.id);
      return network ? { cidr: network.cidr, physicalNetwork: network.physicalNetwork, isDefault: view.defaultExternalNetworkId === network.id } : {};
    }
    case 'externalip': {
      const ip = view.externalIps.get(ref.id);
      return ip ? { address: ip.address, natGatewayId: ip.natGatewayId ?? null, attachmentId: ip.attachmentId ?? null, portForwardIds: [...ip.portForwardIds] } : {};
    }
    case 'natgateway': {
      const gateway = view.natGateways.get(ref.id);
      const ip = gateway && view.externalIps.get(gateway.externalIpId);
      return gateway ? { vpcId: gateway.vpcId, externalIpId: gateway.externalIpId, address: ip?.address, snatCount: rows.filter((d) => d.table === 'NAT').length } : {};
    }
    case 'externalipattachment': {
      const attachment = view.attachments.get(ref.id);
      if (!attachment) return {};
      const port = attachmentPort(view, attachment);
      return { externalIpId: attachment.externalIpId, address: view.externalIps.get(attachment.externalIpId)?.address, target: attachment.target, portId: port?.id ?? null };
    }
    case 'portforward': {
      const forward = view.portForwards.get(ref.id);
      return forward ? { externalIpId: forward.externalIpId, protocol: forward.protocol, externalPort: forward.externalPort, portId: forward.portId, internalPort: forward.internalPort } : {};
    }
    case 'loadbalancer': {
      const lb = view.loadBalancers.get(ref.id);
      return lb ? { vpcId: lb.vpcId, subnetId: lb.subnetId, vipAddress: lb.vipAddress, protocol: lb.protocol, listeners: lb.listeners, memberPortIds: lb.memberPortIds } : {};
    }
    default: {
      const unhandled: never = ref.kind;
      return unhandled;
    }
  }
}
