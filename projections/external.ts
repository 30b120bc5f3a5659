import { scopeKey } from '../events/mod.js';
import type { AddressRange, AttachmentTarget, CommitRecord, ExternalEvent, GatewayChassis, Scope } from '../events/mod.js';
import { cidrBounds, intToIp, ipToInt } from './addresses.js';
import { indexChild } from './children.js';
import type { Children } from './children.js';
import { freeMac, useMac } from './macs.js';
import type { MacUse } from './macs.js';

/** The outside-world part of the view: provider networks and pools, and what tenants took from them. */

export interface ExternalNetwork {
  readonly id: string;
  readonly name: string;
  readonly cidr: string;
  readonly gatewayIp: string;
  readonly physicalNetwork: string;
  readonly vlanId?: number;
  gatewayChassis: readonly GatewayChassis[];
  readonly createdAt: string;
  seq: number;
  readonly poolIds: Set<string>;
  /** The NAT gateways whose address is on it: they follow its gateway chassis. */
  readonly natGatewayIds: Set<string>;
}

export interface ExternalIpPool {
  readonly id: string;
  readonly externalNetworkId: string;
  readonly name: string;
  readonly ranges: readonly AddressRange[];
  readonly createdAt: string;
  seq: number;
  /** Addresses handed out, across all tenants: address -> external IP id. */
  readonly allocated: Map<string, string>;
  /**
   * The lowest address of its ranges that is neither handed out nor its network's own (network,
   * broadcast, gateway); past its last range when none is left. Kept by the fold, so allocation
   * is amortized O(1) instead of a walk over every address the cloud's tenants hold.
   */
  nextFree: number;
}

export interface ExternalIp {
  readonly id: string;
  readonly scope: Scope;
  readonly poolId: string;
  readonly externalNetworkId: string;
  readonly address: string;
  readonly createdAt: string;
  seq: number;
  /** What uses it: at most one NAT gateway or attachment, or any number of port forwards. */
  natGatewayId?: string;
  attachmentId?: string;
  readonly portForwardIds: Set<string>;
}

export interface NatGateway {
  readonly id: string;
  readonly scope: Scope;
  readonly vpcId: string;
  readonly externalIpId: string;
  /** Its external IP's network (fixed, as the IP is). */
  readonly externalNetworkId: string;
  readonly gatewayMac: string;
  readonly releaseIpOnDelete: boolean;
  readonly createdAt: string;
  seq: number;
}

export interface ExternalIpAttachment {
  readonly id: string;
  readonly scope: Scope;
  readonly externalIpId: string;
  readonly target: AttachmentTarget;
  readonly createdAt: string;
  seq: number;
}

export interface PortForward {
  readonly id: string;
  readonly scope: Scope;
  readonly externalIpId: string;
  readonly protocol: 'tcp' | 'udp';
  readonly externalPort: number;
  readonly portId: string;
  readonly internalPort: number;
  readonly createdAt: string;
  seq: number;
}

export interface ExternalState {
  readonly externalNetworks: Map<string, ExternalNetwork>;
  defaultExternalNetworkId?: string;
  readonly externalIpPools: Map<string, ExternalIpPool>;
  readonly externalIps: Map<string, ExternalIp>;
  readonly natGateways: Map<string, NatGateway>;
  /** A VPC's NAT gateway (at most one), by VPC id: the VPC's own state stays the network family's. */
  readonly natGatewayOfVpc: Map<string, string>;
  readonly attachments: Map<string, ExternalIpAttachment>;
  /** The attachment naming a target (at most one per target), by targetKey. */
  readonly attachmentOfTarget: Map<string, string>;
  readonly portForwards: Map<string, PortForward>;
  /** The forwards to a port, by port id (the port's own state stays the network family's). */
  readonly portForwardsOfPort: Children;
}

/** A target's key in the view's index: one string per way of naming a target, in the tenant. */
export function targetKey(scope: Scope, target: AttachmentTarget): string {
  const tenant = scopeKey(scope);
  if ('portId' in target) return `${tenant}/port/${target.portId}`;
  if ('deviceId' in target) return `${tenant}/device/${target.deviceId}`;
  if ('loadBalancerId' in target) return `${tenant}/loadbalancer/${target.loadBalancerId}`;
  return `${tenant}/endpoint/${target.endpoint}/${target.clusterId}`;
}

/** Whether an address of the pool's ranges may be handed out: nobody holds it and it is not the network's own. */
function isFree(pool: ExternalIpPool, network: ExternalNetwork | undefined, ip: number): boolean {
  if (pool.allocated.has(intToIp(ip))) return false;
  if (!network) return true;
  const { first, last } = cidrBounds(network.cidr);
  return ip !== first && ip !== last && ip !== ipToInt(network.gatewayIp);
}

/** The first address from `start` on that the pool may hand out; past its last range if none. */
function lowestFreeFrom(pool: ExternalIpPool, network: ExternalNetwork | undefined, start: number): number {
  const ranges = pool.ranges.map((r) => [ipToInt(r.first), ipToInt(r.last)] as const).sort((a, b) => a[0] - b[0]);
  for (const [first, last] of ranges) {
    for (let ip = Math.max(first, start); ip <= last; ip++) if (isFree(pool, network, ip)) return ip;
  }
  return Math.max(start, ...ranges.map(([, last]) => last + 1));
}

/** The address the pool hands out next; undefined when it has none left. */
export function nextPoolAddress(pool: ExternalIpPool): string | undefined {
  return pool.ranges.some((r) => ipToInt(r.first) <= pool.nextFree && pool.nextFree <= ipToInt(r.last)) ? intToIp(pool.nextFree) : undefined;
}

/** The external family's kinds, each with its collection (view.ts joins every family's). */
export const externalCollections = {
  externalnetwork: (state: ExternalState) => state.externalNetworks,
  externalippool: (state: ExternalState) => state.externalIpPools,
  externalip: (state: ExternalState) => state.externalIps,
  natgateway: (state: ExternalState) => state.natGateways,
  externalipattachment: (state: ExternalState) => state.attachments,
  portforward: (state: ExternalState) => state.portForwards,
} as const;

export function initialExternalState(): ExternalState {
  return {
    externalNetworks: new Map(), externalIpPools: new Map(), externalIps: new Map(),
    natGateways: new Map(), natGatewayOfVpc: new Map(), attachments: new Map(), attachmentOfTarget: new Map(), portForwards: new Map(), portForwardsOfPort: new Map(),
  };
}

/** Never throws: an event that does not fit the view is ignored. Reads the VPCs only to check a gateway's exists. */
export function evolveExternal(view: ExternalState & MacUse & { readonly vpcs: ReadonlyMap<string, unknown> }, event: ExternalEvent, { seq, commit }: CommitRecord): void {
  const at = commit.at;
  switch (event.type) {
    case 'ExternalNetworkCreated': {
      const { externalNetworkId: id, isDefault, ...d } = event.data;
      view.externalNetworks.set(id, { id, ...d, createdAt: at, seq, poolIds: new Set(), natGatewayIds: new Set() });
      if (isDefault) view.defaultExternalNetworkId = id;
      return;
    }
    case 'ExternalNetworkUpdated': {
      const { externalNetworkId: id, isDefault, gatewayChassis } = event.data;
      const network = view.externalNetworks.get(id);
      if (!network) return;
      if (isDefault === true) view.defaultExternalNetworkId = id;
      if (isDefault === false && view.defaultExternalNetworkId === id) delete view.defaultExternalNetworkId;
      if (gatewayChassis) network.gatewayChassis = gatewayChassis;
      network.seq = seq;
      return;
    }
    case 'ExternalNetworkDeleted':
      view.externalNetworks.delete(event.data.externalNetworkId);
      if (view.defaultExternalNetworkId === event.data.externalNetworkId) delete view.defaultExternalNetworkId;
      return;
    case 'ExternalIpPoolCreated': {
      const { poolId: id, ...d } = event.data;
      const network = view.externalNetworks.get(d.externalNetworkId);
      if (!network) return;
      const pool: ExternalIpPool = { id, ...d, createdAt: at, seq, allocated: new Map(), nextFree: 0 };
      pool.nextFree = lowestFreeFrom(pool, network, 0);
      view.externalIpPools.set(id, pool);
      network.poolIds.add(id);
      return;
    }
    case 'ExternalIpPoolDeleted': {
      const pool = view.externalIpPools.get(event.data.poolId);
      if (!pool) return;
      view.externalIpPools.delete(pool.id);
      view.externalNetworks.get(pool.externalNetworkId)?.poolIds.delete(pool.id);
      return;
    }
    case 'ExternalIpAllocated': {
      const { externalIpId: id, poolId, address } = event.data;
      const pool = view.externalIpPools.get(poolId);
      if (!pool) return;
      view.externalIps.set(id, {
        id, scope: commit.scope, poolId, externalNetworkId: pool.externalNetworkId, address, createdAt: at, seq, portForwardIds: new Set(),
      });
      pool.allocated.set(address, id);
      if (ipToInt(address) === pool.nextFree) pool.nextFree = lowestFreeFrom(pool, view.externalNetworks.get(pool.externalNetworkId), pool.nextFree + 1);
      return;
    }
    case 'ExternalIpReleased': {
      const ip = view.externalIps.get(event.data.externalIpId);
      if (!ip) return;
      view.externalIps.delete(ip.id);
      const pool = view.externalIpPools.get(ip.poolId);
      if (!pool?.allocated.delete(ip.address)) return;
      const freed = ipToInt(ip.address);
      if (freed < pool.nextFree && pool.ranges.some((r) => ipToInt(r.first) <= freed && freed <= ipToInt(r.last))
        && isFree(pool, view.externalNetworks.get(pool.externalNetworkId), freed)) pool.nextFree = freed;
      return;
    }
    case 'NatGatewayCreated': {
      const { natGatewayId: id, ...d } = event.data;
      const ip = view.externalIps.get(d.externalIpId);
      if (!view.vpcs.has(d.vpcId) || !ip) return;
      view.natGateways.set(id, { id, scope: commit.scope, ...d, externalNetworkId: ip.externalNetworkId, createdAt: at, seq });
      view.externalNetworks.get(ip.externalNetworkId)?.natGatewayIds.add(id);
      useMac(view, d.gatewayMac);
      view.natGatewayOfVpc.set(d.vpcId, id);
      ip.natGatewayId = id;
      return;
    }
    case 'NatGatewayDeleted': {
      const gateway = view.natGateways.get(event.data.natGatewayId);
      if (!gateway) return;
      view.natGateways.delete(gateway.id);
      view.externalNetworks.get(gateway.externalNetworkId)?.natGatewayIds.delete(gateway.id);
      freeMac(view, gateway.gatewayMac);
      if (view.natGatewayOfVpc.get(gateway.vpcId) === gateway.id) view.natGatewayOfVpc.delete(gateway.vpcId);
      const ip = view.externalIps.get(gateway.externalIpId);
      if (ip?.natGatewayId === gateway.id) delete ip.natGatewayId;
      return;
    }
    case 'ExternalIpAttachmentCreated': {
      const { attachmentId: id, externalIpId, target } = event.data;
      const ip = view.externalIps.get(externalIpId);
      if (!ip) return;
      view.attachments.set(id, { id, scope: commit.scope, externalIpId, target, createdAt: at, seq });
      view.attachmentOfTarget.set(targetKey(commit.scope, target), id);
      ip.attachmentId = id;
      return;
    }
    case 'ExternalIpAttachmentDeleted': {
      const attachment = view.attachments.get(event.data.attachmentId);
      if (!attachment) return;
      view.attachments.delete(attachment.id);
      const key = targetKey(attachment.scope, attachment.target);
      if (view.attachmentOfTarget.get(key) === attachment.id) view.attachmentOfTarget.delete(key);
      const ip = view.externalIps.get(attachment.externalIpId);
      if (ip?.attachmentId === attachment.id) delete ip.attachmentId;
      return;
    }
    case 'PortForwardCreated': {
      const { portForwardId: id, ...d } = event.data;
      const ip = view.externalIps.get(d.externalIpId);
      if (!ip) return;
      view.portForwards.set(id, { id, scope: commit.scope, ...d, createdAt: at, seq });
      ip.portForwardIds.add(id);
      indexChild(view.portForwardsOfPort, d.portId, id, true);
      return;
    }
    case 'PortForwardDeleted': {
      const forward = view.portForwards.get(event.data.portForwardId);
      if (!forward) return;
      view.portForwards.delete(forward.id);
      view.externalIps.get(forward.externalIpId)?.portForwardIds.delete(forward.id);
      indexChild(view.portForwardsOfPort, forward.portId, forward.id, false);
      return;
    }
    default: {
      const unhandled: never = event;
      return unhandled;
    }
  }
}
