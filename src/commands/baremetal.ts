import { z } from 'zod';
import type { EventOf } from '../../events/mod.js';
import { nextVlan } from '../../projections/mod.js';
import type { Subnet, View } from '../../projections/mod.js';
import { CommandError, ErrorCode } from './errors.js';
import { isUnicastMac, MacAddress, normalizeMac } from './mac.js';
import type { PortClaims } from './port-claims.js';
import { classOfVpc, requireCapability } from './vpc.js';

/**
 * Bare-metal ports: a physical host's NIC on a tenant subnet (Neutron's vnic_type baremetal).
 * The host reaches OVN over its class's physical network on the subnet's VLAN, so the subnet
 * draws a VLAN with its first bare-metal port, and the port's MAC is the host NIC's.
 */

/** The fields port.create takes for it. */
export const NicFields = {
  /** `baremetal`: a host NIC, an OVN external port. Absent or `normal`: a virtual NIC. */
  vnicType: z.enum(['normal', 'baremetal']).optional(),
  /** The host NIC's MAC, which becomes the port's: bare-metal ports only, and required there. */
  interface: z.string().regex(MacAddress, 'a MAC address such as 0a:4e:00:00:00:01').optional(),
};

interface NicInput {
  readonly vnicType?: 'normal' | 'baremetal' | undefined;
  readonly interface?: string | undefined;
  readonly macAddress?: string | undefined;
}

/** What a port's kind of NIC decides: for a host NIC its MAC, and the subnet's VLAN if it has none yet. */
export type NicDecision =
  | { readonly vnicType?: undefined }
  | { readonly vnicType: 'baremetal'; readonly macAddress: string; readonly events: EventOf<'SubnetVlanAllocated'>[] };

export function decideNic(view: View, subnet: Subnet, input: NicInput, claims?: PortClaims): NicDecision {
  const vpc = view.vpcs.get(subnet.vpcId)!;
  if (input.vnicType !== 'baremetal') {
    if (input.interface !== undefined) {
      throw new CommandError(ErrorCode.VALIDATION_FAILED, 'interface names a bare-metal host NIC: it needs vnicType "baremetal"', { field: 'interface' });
    }
    if (vpc.vpcScope === 'baremetal') {
      throw new CommandError(ErrorCode.CONFLICT, `VPC ${vpc.id} is a baremetal VPC: it takes bare-metal ports only`, { vpcId: vpc.id, scope: vpc.vpcScope });
    }
    return {};
  }
  if (vpc.vpcScope === 'compute') {
    throw new CommandError(ErrorCode.CONFLICT, `VPC ${vpc.id} is a compute VPC: it takes no bare-metal ports`, { vpcId: vpc.id, scope: vpc.vpcScope });
  }
  requireCapability(view, vpc, 'baremetal');
  if (input.interface === undefined) {
    throw new CommandError(ErrorCode.VALIDATION_FAILED, 'a bare-metal port needs interface, the host NIC\'s MAC', { field: 'interface' });
  }
  const macAddress = normalizeMac(input.interface);
  if (input.macAddress !== undefined && normalizeMac(input.macAddress) !== macAddress) {
    throw new CommandError(ErrorCode.VALIDATION_FAILED, 'a bare-metal port\'s MAC is its interface\'s: leave macAddress out', { field: 'macAddress' });
  }
  if (!isUnicastMac(macAddress)) {
    throw new CommandError(ErrorCode.VALIDATION_FAILED, `interface ${input.interface} is not a unicast MAC address`, { field: 'interface' });
  }
  if (view.macs.has(macAddress) || claims?.macs.has(macAddress)) {
    throw new CommandError(ErrorCode.MAC_ALREADY_ALLOCATED, `${macAddress} is already in use`, { macAddress });
  }
  if (subnet.vlanId !== undefined || claims?.subnetVlan(subnet.id) !== undefined) return { vnicType: 'baremetal', macAddress, events: [] };
  const cls = classOfVpc(view, vpc)!;
  const vlanId = nextVlan(cls, claims?.classVlans(cls.id));
  if (vlanId === undefined) {
    const range = cls.baremetal!.vlanRange;
    throw new CommandError(ErrorCode.VLAN_EXHAUSTED, `network class ${cls.id} has no free VLAN left in ${range.first}-${range.last}`, { networkClassId: cls.id, vlanRange: range });
  }
  return { vnicType: 'baremetal', macAddress, events: [{ type: 'SubnetVlanAllocated', data: { subnetId: subnet.id, vlanId } }] };
}
