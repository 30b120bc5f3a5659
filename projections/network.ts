import { sameScope, scopeKey } from '../events/mod.js';
import type { AllowedAddressPair, CommitRecord, DhcpSettings, LoadBalancerEndpoint, LoadBalancerListener, NetworkEvent, Scope, SecurityEvent, SecurityGroupRule, VpcRoute, VpcScope } from '../events/mod.js';
import { cidrBounds, ipToInt } from './addresses.js';
import { emptyBlockSet, freeBlock, takeBlock } from './blocks.js';
import type { BlockSet } from './blocks.js';
import { indexChild } from './children.js';
import type { Children } from './children.js';
import { freeVlan, useVlan } from './network-class.js';
import type { NetworkClassState } from './network-class.js';
import { freeMac, useMac } from './macs.js';
import type { MacUse } from './macs.js';
import { commitTime } from './times.js';
import type { CommitTime } from './times.js';

/**
 * The network family of the view: VPCs, subnets with their IPAM, ports, security
 * groups and load balancers. Its fold mutates the state it is given (see view.ts).
 */

export interface Vpc {
  readonly id: string;
  readonly scope: Scope;
  readonly name: string;
  readonly cidr: string;
  readonly createdAt: string;
  /** Sequence of the commit that last changed this resource (its revision). */
  seq: number;
  readonly subnetIds: Set<string>;
  readonly securityGroupIds: Set<string>;
  /** Its load balancers (their VIPs may be in any of its subnets). */
  readonly loadBalancerIds: Set<string>;
  /** Static routes, in the order they were added. */
  routes: readonly VpcRoute[];
  /** The group ports join when they name none; set by the same commit that creates the VPC. */
  defaultSecurityGroupId?: string;
  /** Absent for VPCs without a class (installations that define none, VPCs from before classes). */
  readonly networkClassId?: string;
  /** What the VPC is for; absent: anything. */
  readonly vpcScope?: VpcScope;
  /** Its CIDR is a block of the provider's VPC pool (freed with the VPC). */
  readonly cidrFromPool: boolean;
}

export interface Subnet {
  readonly id: string;
  readonly scope: Scope;
  readonly vpcId: string;
  name: string;
  readonly cidr: string;
  readonly gatewayIp: string;
  readonly gatewayMac: string;
  dhcp: DhcpSettings;
  readonly createdAt: string;
  seq: number;
  /**
   * Allocated addresses, as numbers (projections/addresses.ts): ip -> the id of what holds
   * it, a port or a load balancer's VIP. Its ports are the ones here (`subnetPortIds`): a set
   * of them beside it was ~26 B a port in each view (heap snapshot at 10k ports).
   */
  readonly allocated: Map<number, string>;
  /**
   * The lowest usable address that is not allocated (the broadcast address when none is
   * left). Kept by the fold, so lowest-free allocation is amortized O(1) instead of a scan.
   */
  nextFree: number;
  /**
   * Single addresses named in allowed address pairs of this subnet's ports: ip -> those
   * ports. A port whose own address is here is a VIP its holders take turns announcing.
   */
  readonly pairHolders: Map<number, Set<string>>;
  /** Ports of the subnet that are not their device's primary: while there are any, DHCP has a set of options without a router for them. */
  secondaryPorts: number;
  /** Its VLAN on the class's bare-metal physical network, once it has had a bare-metal port. */
  vlanId?: number;
}

export interface Port {
  readonly id: string;
  readonly scope: Scope;
  readonly subnetId: string;
  readonly vpcId: string;
  readonly name?: string;
  /** Changes with port.attach and port.detach. */
  deviceId?: string;
  /** Immutable: the primary port of a device gets the default route and the device's external IP. */
  readonly primary: boolean;
  readonly macAddress: string;
  /** Its address as a number (projections/addresses.ts; `intToIp` gives the text): a small integer costs no heap, the text ~32 B a view. */
  readonly ip: number;
  /** The `at` of the commit that created it. */
  readonly created: CommitTime;
  seq: number;
  securityGroupIds: readonly string[];
  allowedAddressPairs: readonly AllowedAddressPair[];
  /** A bare-metal host's NIC (an OVN external port); absent: a virtual NIC. */
  readonly vnicType?: 'baremetal';
}

export interface SecurityGroup {
  readonly id: string;
  readonly scope: Scope;
  readonly vpcId: string;
  readonly name: string;
  description: string;
  readonly isDefault: boolean;
  ingressRules: readonly SecurityGroupRule[];
  egressRules: readonly SecurityGroupRule[];
  readonly createdAt: string;
  seq: number;
  /** Ports in the group. */
  readonly portIds: Set<string>;
  /** Those of them that are bare-metal hosts: their ACLs are the group's rules, so they follow every rule change. */
  readonly baremetalPortIds: Set<string>;
  /** `[id]`, frozen: the `securityGroupIds` of every port in this group alone (a VPC's ports in its default group), one array for all. */
  readonly alone: readonly string[];
}

export interface LoadBalancer {
  readonly id: string;
  readonly scope: Scope;
  readonly vpcId: string;
  readonly subnetId: string;
  readonly name: string;
  readonly vipAddress: string;
  readonly protocol: 'tcp' | 'udp';
  readonly listeners: readonly LoadBalancerListener[];
  memberPortIds: readonly string[];
  readonly endpoint?: LoadBalancerEndpoint;
  readonly createdAt: string;
  seq: number;
}

export interface NetworkState {
  readonly vpcs: Map<string, Vpc>;
  readonly subnets: Map<string, Subnet>;
  readonly ports: Map<string, Port>;
  readonly securityGroups: Map<string, SecurityGroup>;
  readonly loadBalancers: Map<string, LoadBalancer>;
  /** The blocks of the provider's VPC pool that pooled VPCs hold, across tenants. */
  readonly pooledVpcBlocks: BlockSet;
  /** A device's ports, by deviceKey: devices are per tenant. */
  readonly devicePorts: Children;
  /** A device's primary port (at most one), by deviceKey. */
  readonly primaryPortOfDevice: Map<string, string>;
  /** The load balancer of a cluster endpoint (at most one per tenant), by endpointKey. */
  readonly endpointLoadBalancer: Map<string, string>;
  /** The load balancers a port is a member of, by port id (few ports are members: no set on every port). */
  readonly loadBalancersOfMember: Children;
}

/** A device's key in the view's indexes: devices are the tenant's own names. */
export function deviceKey(scope: Scope, deviceId: string): string {
  return `${scopeKey(scope)}/${deviceId}`;
}

/** A cluster endpoint's key in the view's indexes. */
export function endpointKey(scope: Scope, endpoint: LoadBalancerEndpoint): string {
  return `${scopeKey(scope)}/${endpoint.role}/${endpoint.clusterId}`;
}

/** Puts a port on its device (or takes it off): the device's port set and, for a primary, its primary. */
function indexDevice(view: NetworkState, port: Port, add: boolean): void {
  if (port.deviceId === undefined) return;
  const key = deviceKey(port.scope, port.deviceId);
  indexChild(view.devicePorts, key, port.id, add);
  if (!port.primary) return;
  if (add && !view.primaryPortOfDevice.has(key)) view.primaryPortOfDevice.set(key, port.id);
  if (!add && view.primaryPortOfDevice.get(key) === port.id) view.primaryPortOfDevice.delete(key);
}

/** Puts a port in its groups (or takes it out). */
function joinGroups(view: NetworkState, port: Pick<Port, 'id' | 'vnicType'>, securityGroupIds: readonly string[], add: boolean): void {
  for (const sg of securityGroupIds) {
    const group = view.securityGroups.get(sg);
    if (!group) continue;
    if (add) group.portIds.add(port.id);
    else group.portIds.delete(port.id);
    if (port.vnicType !== 'baremetal') continue;
    if (add) group.baremetalPortIds.add(port.id);
    else group.baremetalPortIds.delete(port.id);
  }
}

const NO_IDS: readonly string[] = Object.freeze([]);
const NO_PAIRS: readonly AllowedAddressPair[] = Object.freeze([]);

/**
 * A port's group list as the view keeps it: the group's own `alone` for one group, else each
 * id as the group's own string. A list and its id strings per port were ~0.1 KiB a port a view.
 */
function groupList(view: NetworkState, ids: readonly string[] | undefined): readonly string[] {
  if (ids === undefined || ids.length === 0) return NO_IDS;
  const only = ids.length === 1 ? view.securityGroups.get(ids[0]!) : undefined;
  if (only) return only.alone;
  return ids.map((id) => view.securityGroups.get(id)?.id ?? id);
}

function indexMembers(view: NetworkState, lb: Pick<LoadBalancer, 'id' | 'memberPortIds'>, add: boolean): void {
  for (const portId of lb.memberPortIds) indexChild(view.loadBalancersOfMember, portId, lb.id, add);
}

/**
 * Adds (or removes) a port's pairs: it holds their single addresses, and their MACs
 * other than its own are in use.
 */
function indexPairs(view: MacUse, subnet: Subnet, port: Pick<Port, 'id' | 'macAddress'>, pairs: readonly AllowedAddressPair[], add: boolean): void {
  for (const pair of pairs) {
    if (pair.macAddress !== port.macAddress) {
      if (add) useMac(view, pair.macAddress);
      else freeMac(view, pair.macAddress);
    }
    if (pair.ipAddress.includes('/')) continue;
    const ip = ipToInt(pair.ipAddress);
    const holders = subnet.pairHolders.get(ip) ?? new Set<string>();
    if (add) holders.add(port.id);
    else holders.delete(port.id);
    if (holders.size > 0) subnet.pairHolders.set(ip, holders);
    else subnet.pairHolders.delete(ip);
    // A VIP named in pairs is not handed out by IPAM, unless asked for (as a VIP port).
    if (ip === subnet.nextFree && isTaken(subnet, ip)) subnet.nextFree = lowestFreeFrom(subnet, ip + 1);
    else if (ip < subnet.nextFree && !isTaken(subnet, ip) && inRange(subnet, ip)) subnet.nextFree = ip;
  }
}

/** Whether IPAM may not hand out the address: a port's or VIP's, named in pairs, or the gateway. */
function isTaken(subnet: Subnet, ip: number, gateway = ipToInt(subnet.gatewayIp)): boolean {
  return subnet.allocated.has(ip) || subnet.pairHolders.has(ip) || ip === gateway;
}

/** A usable address of the subnet (network and broadcast are not). */
function inRange(subnet: Subnet, ip: number): boolean {
  const { first, last } = cidrBounds(subnet.cidr);
  return ip > first && ip < last;
}

/** Records an address as taken and keeps `nextFree` the lowest free one. */
function allocate(subnet: Subnet, ip: number, holderId: string): void {
  subnet.allocated.set(ip, holderId);
  if (ip === subnet.nextFree) subnet.nextFree = lowestFreeFrom(subnet, ip + 1);
}

function release(subnet: Subnet, ip: number): void {
  subnet.allocated.delete(ip);
  if (ip < subnet.nextFree && !isTaken(subnet, ip)) subnet.nextFree = ip;
}

/** The first address from `start` on that IPAM may hand out; the broadcast address if none. */
export function lowestFreeFrom(subnet: Subnet, start: number): number {
  const { last } = cidrBounds(subnet.cidr);
  // Parsed once: this loop is IPAM's hot path.
  const gateway = ipToInt(subnet.gatewayIp);
  let ip = start;
  while (ip < last && isTaken(subnet, ip, gateway)) ip++;
  return ip;
}

/** The subnet's ports, in the order they were created: O(the subnet's addresses). */
export function subnetPortIds(view: Pick<NetworkState, 'ports'>, subnet: Subnet): string[] {
  const ids: string[] = [];
  for (const holder of subnet.allocated.values()) if (view.ports.get(holder)?.subnetId === subnet.id) ids.push(holder);
  return ids;
}

/** The network family's kinds, each with its collection (view.ts joins every family's). */
export const networkCollections = {
  vpc: (state: NetworkState) => state.vpcs,
  subnet: (state: NetworkState) => state.subnets,
  port: (state: NetworkState) => state.ports,
  securitygroup: (state: NetworkState) => state.securityGroups,
  loadbalancer: (state: NetworkState) => state.loadBalancers,
} as const;

export function initialNetworkState(): NetworkState {
  return {
    vpcs: new Map(), subnets: new Map(), ports: new Map(), securityGroups: new Map(), loadBalancers: new Map(), pooledVpcBlocks: emptyBlockSet(),
    devicePorts: new Map(), primaryPortOfDevice: new Map(), endpointLoadBalancer: new Map(), loadBalancersOfMember: new Map(),
  };
}

function classOfVpc(view: NetworkState & NetworkClassState, vpcId: string) {
  const classId = view.vpcs.get(vpcId)?.networkClassId;
  return classId !== undefined ? view.networkClasses.get(classId) : undefined;
}

/** Never throws: an event that does not fit the view is ignored, the log is the truth. */
export function evolveNetwork(view: NetworkState & MacUse & NetworkClassState, event: NetworkEvent | SecurityEvent, record: CommitRecord): void {
  const { seq, commit } = record;
  switch (event.type) {
    case 'VpcCreated': {
      const { vpcId, name, cidr, networkClassId, scope, cidrFromPool } = event.data;
      const cls = networkClassId !== undefined ? view.networkClasses.get(networkClassId) : undefined;
      view.vpcs.set(vpcId, {
        id: vpcId, scope: commit.scope, name, cidr, createdAt: commit.at, seq, subnetIds: new Set(), securityGroupIds: new Set(), loadBalancerIds: new Set(), routes: [],
        ...(cls && { networkClassId: cls.id }), ...(scope !== undefined && { vpcScope: scope }), cidrFromPool: cidrFromPool === true,
      });
      cls?.vpcIds.add(vpcId);
      if (cidrFromPool) {
        const { first, last } = cidrBounds(cidr);
        takeBlock(view.pooledVpcBlocks, first, 32 - Math.log2(last - first + 1));
      }
      return;
    }
    case 'VpcDeleted': {
      const vpc = view.vpcs.get(event.data.vpcId);
      if (!vpc) return;
      view.vpcs.delete(vpc.id);
      if (vpc.networkClassId !== undefined) view.networkClasses.get(vpc.networkClassId)?.vpcIds.delete(vpc.id);
      if (vpc.cidrFromPool) {
        const { first, last } = cidrBounds(vpc.cidr);
        freeBlock(view.pooledVpcBlocks, first, 32 - Math.log2(last - first + 1));
      }
      return;
    }
    case 'VpcRouteAdded': {
      const vpc = view.vpcs.get(event.data.vpcId);
      if (!vpc) return;
      vpc.routes = [...vpc.routes, event.data.route];
      vpc.seq = seq;
      return;
    }
    case 'VpcRouteRemoved': {
      const vpc = view.vpcs.get(event.data.vpcId);
      if (!vpc) return;
      vpc.routes = vpc.routes.filter((r) => r.routeId !== event.data.routeId);
      vpc.seq = seq;
      return;
    }
    case 'SubnetCreated': {
      const d = event.data;
      const vpc = view.vpcs.get(d.vpcId);
      if (!vpc) return;
      view.subnets.set(d.subnetId, {
        id: d.subnetId, scope: commit.scope, vpcId: d.vpcId, name: d.name, cidr: d.cidr,
        gatewayIp: d.gatewayIp, gatewayMac: d.gatewayMac, dhcp: d.dhcp, createdAt: commit.at, seq,
        allocated: new Map(), nextFree: 0, pairHolders: new Map(), secondaryPorts: 0,
      });
      const created = view.subnets.get(d.subnetId)!;
      created.nextFree = lowestFreeFrom(created, cidrBounds(d.cidr).first + 1);
      vpc.subnetIds.add(d.subnetId);
      useMac(view, d.gatewayMac);
      return;
    }
    case 'SubnetUpdated': {
      const subnet = view.subnets.get(event.data.subnetId);
      if (!subnet) return;
      subnet.name = event.data.name;
      subnet.dhcp = event.data.dhcp;
      subnet.seq = seq;
      return;
    }
    case 'SubnetVlanAllocated': {
      const subnet = view.subnets.get(event.data.subnetId);
      const cls = subnet && classOfVpc(view, subnet.vpcId);
      if (!subnet || !cls || subnet.vlanId !== undefined) return;
      subnet.vlanId = event.data.vlanId;
      useVlan(cls, event.data.vlanId, subnet.id);
      subnet.seq = seq;
      return;
    }
    case 'SubnetDeleted': {
      const subnet = view.subnets.get(event.data.subnetId);
      if (!subnet) return;
      view.subnets.delete(subnet.id);
      view.vpcs.get(subnet.vpcId)?.subnetIds.delete(subnet.id);
      freeMac(view, subnet.gatewayMac);
      const cls = classOfVpc(view, subnet.vpcId);
      if (cls && subnet.vlanId !== undefined) freeVlan(cls, subnet.vlanId);
      return;
    }
    case 'PortCreated': {
      const d = event.data;
      const subnet = view.subnets.get(d.subnetId);
      if (!subnet) return;
      const primary = d.primary ?? (d.deviceId === undefined || !view.primaryPortOfDevice.has(deviceKey(commit.scope, d.deviceId)));
      // The subnet's own scope and id strings, shared lists: every port holding copies of its
      // own was ~0.25 KiB a port in each view (heap snapshot at 100k ports; README "Scale").
      const port: Port = {
        id: d.portId, scope: sameScope(subnet.scope, commit.scope) ? subnet.scope : commit.scope, subnetId: subnet.id, vpcId: subnet.vpcId,
        ...(d.name !== undefined && { name: d.name }),
        ...(d.deviceId !== undefined && { deviceId: d.deviceId }),
        primary, macAddress: d.macAddress, ip: ipToInt(d.ipAddress), created: commitTime(commit.at), seq,
        securityGroupIds: groupList(view, d.securityGroupIds),
        allowedAddressPairs: d.allowedAddressPairs?.length ? d.allowedAddressPairs : NO_PAIRS,
        ...(d.vnicType !== undefined && { vnicType: d.vnicType }),
      };
      view.ports.set(d.portId, port);
      indexDevice(view, port, true);
      if (!primary) subnet.secondaryPorts++;
      indexPairs(view, subnet, { id: d.portId, macAddress: d.macAddress }, d.allowedAddressPairs ?? [], true);
      joinGroups(view, port, port.securityGroupIds, true);
      allocate(subnet, port.ip, d.portId);
      useMac(view, d.macAddress);
      return;
    }
    case 'PortDeleted': {
      const port = view.ports.get(event.data.portId);
      if (!port) return;
      view.ports.delete(port.id);
      indexDevice(view, port, false);
      const subnet = view.subnets.get(port.subnetId);
      if (subnet && !port.primary) subnet.secondaryPorts--;
      if (subnet) {
        release(subnet, port.ip);
        indexPairs(view, subnet, port, port.allowedAddressPairs, false);
      }
      freeMac(view, port.macAddress);
      joinGroups(view, port, port.securityGroupIds, false);
      return;
    }
    case 'PortAttached': {
      const port = view.ports.get(event.data.portId);
      if (!port) return;
      indexDevice(view, port, false);
      port.deviceId = event.data.deviceId;
      indexDevice(view, port, true);
      port.seq = seq;
      return;
    }
    case 'PortDetached': {
      const port = view.ports.get(event.data.portId);
      if (!port) return;
      indexDevice(view, port, false);
      delete port.deviceId;
      port.seq = seq;
      return;
    }
    case 'PortAllowedAddressPairsChanged': {
      const port = view.ports.get(event.data.portId);
      const subnet = port && view.subnets.get(port.subnetId);
      if (!port || !subnet) return;
      indexPairs(view, subnet, port, port.allowedAddressPairs, false);
      port.allowedAddressPairs = event.data.allowedAddressPairs.length > 0 ? event.data.allowedAddressPairs : NO_PAIRS;
      indexPairs(view, subnet, port, port.allowedAddressPairs, true);
      port.seq = seq;
      return;
    }
    case 'PortSecurityGroupsChanged': {
      const port = view.ports.get(event.data.portId);
      if (!port) return;
      joinGroups(view, port, port.securityGroupIds, false);
      port.securityGroupIds = groupList(view, event.data.securityGroupIds);
      joinGroups(view, port, port.securityGroupIds, true);
      port.seq = seq;
      return;
    }
    case 'LoadBalancerCreated': {
      const d = event.data;
      const subnet = view.subnets.get(d.subnetId);
      if (!subnet) return;
      view.loadBalancers.set(d.loadBalancerId, {
        id: d.loadBalancerId, scope: commit.scope, vpcId: subnet.vpcId, subnetId: d.subnetId, name: d.name, vipAddress: d.vipAddress,
        protocol: d.protocol, listeners: d.listeners, memberPortIds: d.memberPortIds, ...(d.endpoint && { endpoint: d.endpoint }), createdAt: commit.at, seq,
      });
      allocate(subnet, ipToInt(d.vipAddress), d.loadBalancerId);
      view.vpcs.get(subnet.vpcId)?.loadBalancerIds.add(d.loadBalancerId);
      indexMembers(view, { id: d.loadBalancerId, memberPortIds: d.memberPortIds }, true);
      if (d.endpoint) view.endpointLoadBalancer.set(endpointKey(commit.scope, d.endpoint), d.loadBalancerId);
      return;
    }
    case 'LoadBalancerMembersChanged': {
      const lb = view.loadBalancers.get(event.data.loadBalancerId);
      if (!lb) return;
      indexMembers(view, lb, false);
      lb.memberPortIds = event.data.memberPortIds;
      indexMembers(view, lb, true);
      lb.seq = seq;
      return;
    }
    case 'LoadBalancerDeleted': {
      const lb = view.loadBalancers.get(event.data.loadBalancerId);
      if (!lb) return;
      view.loadBalancers.delete(lb.id);
      view.vpcs.get(lb.vpcId)?.loadBalancerIds.delete(lb.id);
      indexMembers(view, lb, false);
      if (lb.endpoint && view.endpointLoadBalancer.get(endpointKey(lb.scope, lb.endpoint)) === lb.id) view.endpointLoadBalancer.delete(endpointKey(lb.scope, lb.endpoint));
      const subnet = view.subnets.get(lb.subnetId);
      if (subnet) release(subnet, ipToInt(lb.vipAddress));
      return;
    }
    case 'SecurityGroupCreated': {
      const d = event.data;
      const vpc = view.vpcs.get(d.vpcId);
      if (!vpc) return;
      view.securityGroups.set(d.securityGroupId, {
        id: d.securityGroupId, scope: commit.scope, vpcId: d.vpcId, name: d.name, description: d.description,
        isDefault: d.isDefault, ingressRules: d.ingressRules, egressRules: d.egressRules, createdAt: commit.at, seq,
        portIds: new Set(), baremetalPortIds: new Set(), alone: Object.freeze([d.securityGroupId]),
      });
      vpc.securityGroupIds.add(d.securityGroupId);
      if (d.isDefault) vpc.defaultSecurityGroupId = d.securityGroupId;
      return;
    }
    case 'SecurityGroupUpdated': {
      const d = event.data;
      const group = view.securityGroups.get(d.securityGroupId);
      if (!group) return;
      if (d.description !== undefined) group.description = d.description;
      if (d.ingressRules !== undefined) group.ingressRules = d.ingressRules;
      if (d.egressRules !== undefined) group.egressRules = d.egressRules;
      group.seq = seq;
      return;
    }
    case 'SecurityGroupRuleAdded': {
      const group = view.securityGroups.get(event.data.securityGroupId);
      if (!group) return;
      if (event.data.direction === 'ingress') group.ingressRules = [...group.ingressRules, event.data.rule];
      else group.egressRules = [...group.egressRules, event.data.rule];
      group.seq = seq;
      return;
    }
    case 'SecurityGroupRuleRemoved': {
      const group = view.securityGroups.get(event.data.securityGroupId);
      if (!group) return;
      const keep = (r: SecurityGroupRule) => r.ruleId !== event.data.ruleId;
      group.ingressRules = group.ingressRules.filter(keep);
      group.egressRules = group.egressRules.filter(keep);
      group.seq = seq;
      return;
    }
    case 'SecurityGroupDeleted': {
      const group = view.securityGroups.get(event.data.securityGroupId);
      if (!group) return;
      view.securityGroups.delete(group.id);
      const vpc = view.vpcs.get(group.vpcId);
      vpc?.securityGroupIds.delete(group.id);
      if (vpc?.defaultSecurityGroupId === group.id) delete vpc.defaultSecurityGroupId;
      return;
    }
    default: {
      const unhandled: never = event;
      return unhandled;
    }
  }
}
