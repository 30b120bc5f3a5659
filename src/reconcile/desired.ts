import type { NetworkView } from '../../projections/mod.js';
import type { DesiredRow } from './desired-row.js';
import { defaultDenyRef } from './names.js';
import type { Ownership, ResourceRef } from './names.js';
import { defaultDenyAcls, gatewayAcl, securityGroupAcls } from './tables/acl.js';
import { subnetDhcpOptions } from './tables/dhcp-options.js';
import { vpcRouter } from './tables/logical-router.js';
import { subnetRouterPort } from './tables/logical-router-port.js';
import { subnetSwitch } from './tables/logical-switch.js';
import { portSwitchPort, subnetSwitchRouterPort } from './tables/logical-switch-port.js';
import { dropPortGroup, securityGroupPortGroup } from './tables/port-group.js';

export interface DesiredResource {
  readonly rows: readonly DesiredRow[];
  /** Resources whose rows these rows reference: they must be in the Northbound first. */
  readonly dependsOn: readonly ResourceRef[];
}

const ABSENT: DesiredResource = { rows: [], dependsOn: [] };

/** The Northbound rows one resource should have: none once it is gone from the view. Pure. */
export function desiredRows(view: NetworkView, ref: ResourceRef, own: Ownership): DesiredResource {
  switch (ref.kind) {
    case 'vpc': {
      const vpc = view.vpcs.get(ref.id);
      return vpc ? { rows: [vpcRouter(own, vpc)], dependsOn: [] } : ABSENT;
    }
    case 'subnet': {
      const subnet = view.subnets.get(ref.id);
      if (!subnet) return ABSENT;
      const dhcp = subnetDhcpOptions(own, subnet);
      return {
        rows: [
          subnetSwitch(own, subnet), subnetRouterPort(own, subnet), subnetSwitchRouterPort(own, subnet),
          gatewayAcl(own, subnet), ...(dhcp ? [dhcp] : []),
        ],
        dependsOn: [{ kind: 'vpc', id: subnet.vpcId }],
      };
    }
    case 'port': {
      const port = view.ports.get(ref.id);
      const subnet = port && view.subnets.get(port.subnetId);
      if (!port || !subnet) return ABSENT;
      return {
        rows: [portSwitchPort(own, port, subnet)],
        dependsOn: [
          { kind: 'subnet', id: subnet.id }, defaultDenyRef(own),
          ...port.securityGroupIds.map((id) => ({ kind: 'securitygroup' as const, id })),
        ],
      };
    }
    case 'securitygroup': {
      const group = view.securityGroups.get(ref.id);
      if (!group) return ABSENT;
      const remotes = new Set([...group.ingressRules, ...group.egressRules]
        .flatMap((r) => ('securityGroupId' in r.remote && r.remote.securityGroupId !== group.id ? [r.remote.securityGroupId] : [])));
      return {
        rows: [securityGroupPortGroup(own, group), ...securityGroupAcls(own, group)],
        // A remote group's address set is named in the match: its port group must exist.
        dependsOn: [...remotes].map((id) => ({ kind: 'securitygroup' as const, id })),
      };
    }
    case 'default-deny':
      return ref.id === own.owner ? { rows: [dropPortGroup(own), ...defaultDenyAcls(own)], dependsOn: [] } : ABSENT;
    default: {
      const unhandled: never = ref.kind;
      return unhandled;
    }
  }
}
