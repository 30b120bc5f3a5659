import type { BaremetalNetwork, Capability, ClassDefaults, CommitRecord, NetworkClassEvent } from '../events/mod.js';
import type { ExternalState } from './external.js';

/**
 * The provider's network classes: what a VPC of each class gets and may do. The VPCs and the
 * VLANs of a class are kept here too (by the network fold, which sees VPCs and subnets come
 * and go), so "is the class in use" and "the lowest free VLAN" cost O(1).
 */

export interface NetworkClass {
  readonly id: string;
  readonly name: string;
  description: string;
  externalNetworkId?: string;
  baremetal?: BaremetalNetwork;
  defaults: ClassDefaults;
  disableCapabilities: readonly Capability[];
  readonly createdAt: string;
  seq: number;
  /** The VPCs of the class. */
  readonly vpcIds: Set<string>;
  /** VLANs subnets of the class's VPCs hold: VLAN -> subnet id. */
  readonly vlans: Map<number, string>;
  /** The lowest VLAN of the range nobody holds (past the range when none is left): amortized O(1) allocation. */
  nextFreeVlan: number;
}

export interface NetworkClassState {
  readonly networkClasses: Map<string, NetworkClass>;
  defaultNetworkClassId?: string;
}

export const networkClassCollections = {
  networkclass: (state: NetworkClassState) => state.networkClasses,
} as const;

export function initialNetworkClassState(): NetworkClassState {
  return { networkClasses: new Map() };
}

/** Never throws: an event that does not fit the view is ignored. */
export function evolveNetworkClass(view: NetworkClassState, event: NetworkClassEvent, { seq, commit }: CommitRecord): void {
  switch (event.type) {
    case 'NetworkClassCreated': {
      const { networkClassId: id, isDefault, externalNetworkId, baremetal, ...d } = event.data;
      view.networkClasses.set(id, {
        id, ...d, ...(externalNetworkId !== undefined && { externalNetworkId }), ...(baremetal !== undefined && { baremetal }),
        createdAt: commit.at, seq, vpcIds: new Set(), vlans: new Map(), nextFreeVlan: baremetal?.vlanRange.first ?? 0,
      });
      if (isDefault) view.defaultNetworkClassId = id;
      return;
    }
    case 'NetworkClassUpdated': {
      const { networkClassId: id, isDefault, description, externalNetworkId, baremetal, defaults, disableCapabilities } = event.data;
      const cls = view.networkClasses.get(id);
      if (!cls) return;
      if (description !== undefined) cls.description = description;
      if (externalNetworkId === null) delete cls.externalNetworkId;
      else if (externalNetworkId !== undefined) cls.externalNetworkId = externalNetworkId;
      if (baremetal === null) delete cls.baremetal;
      else if (baremetal !== undefined) cls.baremetal = baremetal;
      if (baremetal !== undefined) cls.nextFreeVlan = lowestFreeVlan(cls, cls.baremetal?.vlanRange.first ?? 0);
      if (defaults !== undefined) cls.defaults = defaults;
      if (disableCapabilities !== undefined) cls.disableCapabilities = disableCapabilities;
      if (isDefault === true) view.defaultNetworkClassId = id;
      if (isDefault === false && view.defaultNetworkClassId === id) delete view.defaultNetworkClassId;
      cls.seq = seq;
      return;
    }
    case 'NetworkClassDeleted':
      view.networkClasses.delete(event.data.networkClassId);
      if (view.defaultNetworkClassId === event.data.networkClassId) delete view.defaultNetworkClassId;
      return;
    default: {
      const unhandled: never = event;
      return unhandled;
    }
  }
}

function lowestFreeVlan(cls: NetworkClass, from: number): number {
  const last = cls.baremetal?.vlanRange.last ?? -1;
  let vlan = from;
  while (vlan <= last && cls.vlans.has(vlan)) vlan++;
  return vlan;
}

/** A subnet of the class takes a VLAN (SubnetVlanAllocated). */
export function useVlan(cls: NetworkClass, vlan: number, subnetId: string): void {
  cls.vlans.set(vlan, subnetId);
  if (vlan === cls.nextFreeVlan) cls.nextFreeVlan = lowestFreeVlan(cls, vlan + 1);
}

/** The subnet holding it is gone. */
export function freeVlan(cls: NetworkClass, vlan: number): void {
  if (cls.vlans.delete(vlan) && vlan < cls.nextFreeVlan) cls.nextFreeVlan = vlan;
}

/**
 * The next VLAN a subnet of the class gets, past the ones in `claimed` (drawn by earlier ports
 * of the same command, not in the view yet); undefined when the range is used up (or the class
 * has no bare metal).
 */
export function nextVlan(cls: NetworkClass, claimed: ReadonlySet<number> = new Set()): number | undefined {
  let vlan = cls.nextFreeVlan;
  while (claimed.has(vlan)) vlan = lowestFreeVlan(cls, vlan + 1);
  return cls.baremetal && vlan <= cls.baremetal.vlanRange.last ? vlan : undefined;
}

export type Capabilities = Readonly<Record<Capability, boolean>>;

/**
 * What a VPC of the class can have, computed from the facts rather than declared: NAT
 * gateways and external IPs need the class's external network (the provider's default one
 * when the class names none) and, for external IPs, a pool in it; bare metal needs a physical
 * network with a VLAN range. The provider may take any of them away. VPCs without a class
 * (installations that define none, and VPCs from before classes) have what every VPC had then.
 */
export function capabilitiesOf(view: NetworkClassState & Pick<ExternalState, 'externalNetworks' | 'defaultExternalNetworkId'>, cls: NetworkClass | undefined): Capabilities {
  const networkId = cls?.externalNetworkId ?? view.defaultExternalNetworkId;
  const network = networkId !== undefined ? view.externalNetworks.get(networkId) : undefined;
  const computed: Record<Capability, boolean> = {
    ipv4: true,
    ipv6: false,
    externalIps: network !== undefined && network.poolIds.size > 0,
    natGateway: network !== undefined,
    baremetal: cls?.baremetal !== undefined,
    loadBalancers: true,
  };
  for (const disabled of cls?.disableCapabilities ?? []) computed[disabled] = false;
  return computed;
}
