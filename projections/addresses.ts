/**
 * IPv4 addresses as unsigned 32-bit numbers: the view keeps allocations as numbers so
 * finding a free one never builds strings. Inputs were validated when the event was.
 */

export function ipToInt(ip: string): number {
  const [a = 0, b = 0, c = 0, d = 0] = ip.split('.').map(Number);
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** First and last address of a CIDR (network and broadcast). */
export function cidrBounds(cidr: string): { first: number; last: number } {
  const [ip = '', prefix = '32'] = cidr.split('/');
  const size = 2 ** (32 - Number(prefix));
  const first = ipToInt(ip) - (ipToInt(ip) % size);
  return { first, last: first + size - 1 };
}
