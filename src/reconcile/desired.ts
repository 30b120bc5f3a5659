import type { NetworkView } from '../../projections/mod.js';
import type { DesiredRow } from './desired-row.js';
import type { Ownership, ResourceRef } from './names.js';
import { subnetDhcpOptions } from './tables/dhcp-options.js';
import { vpcRouter } from './tables/logical-router.js';
import { subnetRouterPort } from './tables/logical-router-port.js';
import { subnetSwitch } from './tables/logical-switch.js';
import { portSwitchPort, subnetSwitchRouterPort } from './tables/logical-switch-port.js';

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
        rows: [subnetSwitch(own, subnet), subnetRouterPort(own, subnet), subnetSwitchRouterPort(own, subnet), ...(dhcp ? [dhcp] : [])],
        dependsOn: [{ kind: 'vpc', id: subnet.vpcId }],
      };
    }
    case 'port': {
      const port = view.ports.get(ref.id);
      const subnet = port && view.subnets.get(port.subnetId);
      if (!port || !subnet) return ABSENT;
      return { rows: [portSwitchPort(own, port, subnet)], dependsOn: [{ kind: 'subnet', id: subnet.id }] };
    }
    default: {
      const unhandled: never = ref.kind;
      return unhandled;
    }
  }
}
