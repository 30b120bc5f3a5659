import type { NovanetEvent, Scope } from '../../events/mod.js';
import { deviceKey, ipToInt, lowestFreeFrom } from '../../projections/mod.js';
import type { Subnet, View } from '../../projections/mod.js';

/**
 * What the earlier ports of one `port.create` command hold, folded from the events decided
 * for them: the view has none of it until the commit is appended and folded. Each port of a
 * bulk command is decided by the one-port decider on the view plus these claims, so it sees
 * the addresses, MACs, device memberships and VLANs of the ports before it exactly as it would
 * after their own commands. Costs O(ports in the command): nothing of the view is copied.
 */
export class PortClaims {
  /** Ports' own addresses by subnet id: address -> port id. */
  readonly #addresses = new Map<string, Map<number, string>>();
  /** Single addresses named in pairs, by subnet id: skipped by allocation, as the view skips its pair holders'. */
  readonly #pairAddresses = new Map<string, Set<number>>();
  /** Where the lowest unclaimed free address of a subnet was last found: it only moves up within a command. */
  readonly #cursors = new Map<string, number>();
  readonly #macs = new Set<string>();
  /** By deviceKey: the device's VPC (from any of its ports here) and its primary port here. */
  readonly #devices = new Map<string, { readonly portId: string; readonly vpcId: string; primaryPortId?: string }>();
  readonly #subnetVlans = new Map<string, number>();
  /** VLANs drawn here, by network class id. */
  readonly #classVlans = new Map<string, Set<number>>();

  /** Folds one decided port's events in (PortCreated, SubnetVlanAllocated); the view supplies the subnet's VPC and class. */
  fold(view: View, scope: Scope, events: readonly NovanetEvent[]): void {
    for (const event of events) {
      if (event.type === 'SubnetVlanAllocated') {
        this.#subnetVlans.set(event.data.subnetId, event.data.vlanId);
        const classId = view.vpcs.get(view.subnets.get(event.data.subnetId)?.vpcId ?? '')?.networkClassId;
        if (classId !== undefined) setOf(this.#classVlans, classId).add(event.data.vlanId);
      }
      if (event.type !== 'PortCreated') continue;
      const d = event.data;
      mapOf(this.#addresses, d.subnetId).set(ipToInt(d.ipAddress), d.portId);
      this.#macs.add(d.macAddress);
      for (const pair of d.allowedAddressPairs ?? []) {
        this.#macs.add(pair.macAddress);
        if (!pair.ipAddress.includes('/')) setOf(this.#pairAddresses, d.subnetId).add(ipToInt(pair.ipAddress));
      }
      if (d.deviceId === undefined) continue;
      const key = deviceKey(scope, d.deviceId);
      const device = this.#devices.get(key) ?? { portId: d.portId, vpcId: view.subnets.get(d.subnetId)!.vpcId };
      if (d.primary === true && device.primaryPortId === undefined) device.primaryPortId = d.portId;
      this.#devices.set(key, device);
    }
  }

  /** The port holding the address here, if an earlier port of the command took it. */
  holderOf(subnetId: string, ip: number): string | undefined {
    return this.#addresses.get(subnetId)?.get(ip);
  }

  /** The subnet's lowest address free in the view and not claimed here; the broadcast address when none is. */
  lowestFree(subnet: Subnet): number {
    const own = this.#addresses.get(subnet.id);
    const pairs = this.#pairAddresses.get(subnet.id);
    let ip = this.#cursors.get(subnet.id) ?? subnet.nextFree;
    for (;;) {
      while (own?.has(ip) || pairs?.has(ip)) ip++;
      const free = lowestFreeFrom(subnet, ip);
      if (free === ip) break;
      ip = free;
    }
    if (own || pairs) this.#cursors.set(subnet.id, ip);
    return ip;
  }

  get macs(): ReadonlySet<string> {
    return this.#macs;
  }

  /** A port of the device decided here: the device's VPC, and its primary port here if one is. */
  device(key: string): { readonly portId: string; readonly vpcId: string; readonly primaryPortId?: string } | undefined {
    return this.#devices.get(key);
  }

  subnetVlan(subnetId: string): number | undefined {
    return this.#subnetVlans.get(subnetId);
  }

  classVlans(classId: string): ReadonlySet<number> {
    return this.#classVlans.get(classId) ?? new Set();
  }
}

function mapOf<K, V>(map: Map<string, Map<K, V>>, key: string): Map<K, V> {
  let inner = map.get(key);
  if (!inner) map.set(key, inner = new Map());
  return inner;
}

function setOf<V>(map: Map<string, Set<V>>, key: string): Set<V> {
  let inner = map.get(key);
  if (!inner) map.set(key, inner = new Set());
  return inner;
}
