import type { NovanetEvent, Scope } from '../../events/mod.js';
import type { NetworkView } from '../../projections/mod.js';
import type { Row } from '../ovsdb/mod.js';
import type { DesiredRow } from './desired-row.js';
import type { ResourceRef } from './names.js';

export const Phase = { Pending: 'Pending', Ready: 'Ready', Failed: 'Failed', Deleted: 'Deleted' } as const;
export type Phase = (typeof Phase)[keyof typeof Phase];

/** What a client sees on `novanet.status.<org>.<project>.<kind>.<id>`. */
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

/** The resource an event is about: it is the one whose rows may have to change. */
export function resourceOf(event: NovanetEvent): ResourceRef {
  switch (event.type) {
    case 'VpcCreated':
    case 'VpcDeleted':
      return { kind: 'vpc', id: event.data.vpcId };
    case 'SubnetCreated':
    case 'SubnetDeleted':
      return { kind: 'subnet', id: event.data.subnetId };
    case 'PortCreated':
    case 'PortDeleted':
    case 'PortSecurityGroupsChanged':
      return { kind: 'port', id: event.data.portId };
    case 'SecurityGroupCreated':
    case 'SecurityGroupUpdated':
    case 'SecurityGroupRuleAdded':
    case 'SecurityGroupRuleRemoved':
    case 'SecurityGroupDeleted':
      return { kind: 'securitygroup', id: event.data.securityGroupId };
    default: {
      const unhandled: never = event;
      return unhandled;
    }
  }
}

const ROLE_OF_TABLE: Readonly<Record<string, string>> = {
  Logical_Router: 'logicalRouter',
  Logical_Router_Port: 'logicalRouterPort',
  Logical_Switch: 'logicalSwitch',
  DHCP_Options: 'dhcpOptions',
  Port_Group: 'portGroup',
};

/**
 * The status of a resource after a reconcile pass. `present` tells which desired
 * rows the Northbound now holds: Ready means all of them, not just "the transaction
 * committed" (a row whose parent is missing is garbage-collected silently).
 */
export function statusOf(
  view: NetworkView,
  ref: ResourceRef,
  scope: Scope,
  observedSeq: number,
  desired: readonly DesiredRow[],
  present: (d: DesiredRow) => Row | undefined,
  failure?: string,
): ResourceStatus {
  const base = { kind: ref.kind, id: ref.id, scope, observedSeq };
  if (desired.length === 0) return { ...base, phase: Phase.Deleted };
  const ovn: Record<string, string> = {};
  for (const d of desired) {
    // ACLs are many per resource: the status counts them instead of listing them.
    if (d.table === 'ACL') continue;
    const role = d.table === 'Logical_Switch_Port'
      ? (ref.kind === 'port' ? 'logicalSwitchPort' : 'switchRouterPort')
      : ROLE_OF_TABLE[d.table] ?? d.table;
    ovn[role] = d.uuid;
  }
  const missing = desired.filter((d) => !present(d));
  const phase = failure !== undefined ? Phase.Failed : missing.length > 0 ? Phase.Pending : Phase.Ready;
  const message = failure ?? (missing.length > 0 ? `waiting for ${missing.map((m) => m.table).join(', ')} rows in the Northbound` : undefined);
  const details = kindDetails(view, ref, desired, present);
  return { ...base, phase, ...(message !== undefined && { message }), ovn, ...details };
}

function kindDetails(view: NetworkView, ref: ResourceRef, desired: readonly DesiredRow[], present: (d: DesiredRow) => Row | undefined): Record<string, unknown> {
  switch (ref.kind) {
    case 'vpc': {
      const vpc = view.vpcs.get(ref.id);
      return vpc ? { cidr: vpc.cidr } : {};
    }
    case 'subnet': {
      const subnet = view.subnets.get(ref.id);
      return subnet ? { vpcId: subnet.vpcId, cidr: subnet.cidr, gatewayIp: subnet.gatewayIp } : {};
    }
    case 'port': {
      const port = view.ports.get(ref.id);
      if (!port) return {};
      const lsp = desired[0] && present(desired[0]);
      // `up` is optional in the schema, so it decodes as a set: [] or [true].
      const up = lsp?.up;
      const bound = up === true || (Array.isArray(up) && up[0] === true);
      return { subnetId: port.subnetId, vpcId: port.vpcId, ipAddress: port.ipAddress, macAddress: port.macAddress, securityGroupIds: port.securityGroupIds, bound };
    }
    case 'securitygroup': {
      const group = view.securityGroups.get(ref.id);
      return group ? { vpcId: group.vpcId, aclCount: desired.filter((d) => d.table === 'ACL').length } : {};
    }
    case 'default-deny':
      return {};
    default: {
      const unhandled: never = ref.kind;
      return unhandled;
    }
  }
}
