import ipaddr from 'ipaddr.js';
import { cidrBounds, intToIp, ipToInt } from '../../projections/mod.js';
import type { Subnet, View } from '../../projections/mod.js';
import { CommandError, ErrorCode } from './errors.js';
import type { PortClaims } from './port-claims.js';

/** The numeric address helpers live with the view, which keeps allocations as numbers. */
export { intToIp, ipToInt };

/** IPv4 address arithmetic for the deciders: addresses as unsigned 32-bit numbers. */

export interface Cidr {
  /** Network address as a number. */
  readonly network: number;
  readonly prefix: number;
  /** Number of addresses in the block. */
  readonly size: number;
}

export function formatCidr(c: Cidr): string {
  return `${intToIp(c.network)}/${c.prefix}`;
}

/**
 * Parses an IPv4 CIDR in canonical form (network address, no host bits).
 * Anything else is INVALID_CIDR, with the canonical form in the details where there is one.
 */
export function parseCidr(text: string, limits: { minPrefix: number; maxPrefix: number }): Cidr {
  let parsed: [ipaddr.IPv4 | ipaddr.IPv6, number];
  try {
    // Canonical digits only: ipaddr.js also reads "/016" or "/ 16" as /16.
    if (!/^[0-9.]+\/(0|[1-9][0-9]?)$/.test(text) || !ipaddr.IPv4.isValidFourPartDecimal(text.split('/')[0] ?? '')) throw new Error('not dotted quad');
    parsed = ipaddr.parseCIDR(text);
  } catch {
    throw new CommandError(ErrorCode.INVALID_CIDR, `"${text}" is not an IPv4 CIDR such as 10.0.0.0/16`, { cidr: text });
  }
  const [addr, prefix] = parsed;
  if (addr.kind() !== 'ipv4') {
    throw new CommandError(ErrorCode.INVALID_CIDR, `"${text}": only IPv4 is supported`, { cidr: text });
  }
  if (prefix < limits.minPrefix || prefix > limits.maxPrefix) {
    throw new CommandError(ErrorCode.INVALID_CIDR, `"${text}": prefix length must be between /${limits.minPrefix} and /${limits.maxPrefix}`, { cidr: text, ...limits });
  }
  const size = 2 ** (32 - prefix);
  const ip = ipToInt(addr.toString());
  const network = ip - (ip % size);
  if (network !== ip) {
    const canonical = `${intToIp(network)}/${prefix}`;
    throw new CommandError(ErrorCode.INVALID_CIDR, `"${text}" has host bits set; did you mean ${canonical}?`, { cidr: text, canonical });
  }
  return { network, prefix, size };
}

export function cidrOf(text: string): Cidr {
  return parseCidr(text, { minPrefix: 0, maxPrefix: 32 });
}

export function contains(outer: Cidr, ip: number): boolean {
  return ip >= outer.network && ip < outer.network + outer.size;
}

export function within(inner: Cidr, outer: Cidr): boolean {
  return contains(outer, inner.network) && inner.network + inner.size <= outer.network + outer.size;
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  return a.network < b.network + b.size && b.network < a.network + a.size;
}

/** First aligned block of the given prefix inside `pool` that overlaps none of `taken`. */
export function firstFreeBlock(pool: Cidr, prefix: number, taken: readonly Cidr[]): Cidr | undefined {
  if (prefix < pool.prefix) return undefined;
  const size = 2 ** (32 - prefix);
  const sorted = [...taken].sort((a, b) => a.network - b.network);
  let candidate = pool.network;
  for (const t of sorted) {
    if (t.network + t.size <= candidate) continue;
    if (t.network >= candidate + size) break;
    // Overlap: jump past the taken block, re-aligned to the block size.
    candidate = Math.ceil((t.network + t.size) / size) * size;
  }
  return candidate + size <= pool.network + pool.size ? { network: candidate, prefix, size } : undefined;
}

/** Network and broadcast addresses are never handed out (except in /31 and /32, which novanet does not allow). */
export function isReserved(c: Cidr, ip: number): boolean {
  return ip === c.network || ip === c.network + c.size - 1;
}

export function firstUsable(c: Cidr): number {
  return c.network + 1;
}

// Addresses of a subnet, for ports and load balancer VIPs alike.

/**
 * A requested address of the subnet that is usable and free (for a port, or a load balancer's
 * VIP), also of what earlier ports of the same command claimed.
 */
export function checkRequestedIp(view: View, subnet: Subnet, ipAddress: string, claims?: PortClaims): string {
  const cidr = cidrOf(subnet.cidr);
  const ip = ipToInt(ipAddress);
  if (!contains(cidr, ip)) {
    throw new CommandError(ErrorCode.IP_OUTSIDE_SUBNET, `${ipAddress} is not inside ${subnet.cidr}`, { ipAddress, cidr: subnet.cidr });
  }
  if (isReserved(cidr, ip)) {
    throw new CommandError(ErrorCode.IP_RESERVED, `${ipAddress} is the network or broadcast address of ${subnet.cidr}`, { ipAddress });
  }
  const canonical = intToIp(ip);
  if (canonical === subnet.gatewayIp) {
    throw new CommandError(ErrorCode.IP_ALREADY_ALLOCATED, `${canonical} is the subnet's gateway`, { ipAddress: canonical, usedBy: 'gateway' });
  }
  const holder = subnet.allocated.get(ip) ?? claims?.holderOf(subnet.id, ip);
  if (holder !== undefined) {
    const [kind, detail] = view.loadBalancers.has(holder) ? ['load balancer', 'loadBalancerId'] : ['port', 'portId'];
    throw new CommandError(ErrorCode.IP_ALREADY_ALLOCATED, `${canonical} is already allocated to ${kind} ${holder}`, { ipAddress: canonical, [detail]: holder });
  }
  return canonical;
}

/** The subnet's lowest free usable address, past what earlier ports of the same command claimed. */
export function allocateIp(subnet: Subnet, claims?: PortClaims): string {
  // The view keeps the lowest free address; it is the broadcast address when the subnet is full.
  const ip = claims ? claims.lowestFree(subnet) : subnet.nextFree;
  // The view's CIDRs are canonical: their bounds need no parser (parseCidr cost ~40 µs a port).
  const { first, last } = cidrBounds(subnet.cidr);
  if (ip === first || ip === last) {
    throw new CommandError(ErrorCode.POOL_EXHAUSTED, `subnet ${subnet.id} (${subnet.cidr}) has no free address`, { subnetId: subnet.id });
  }
  return intToIp(ip);
}
