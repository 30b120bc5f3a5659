import type { View } from '../../projections/mod.js';
import type { DecideContext } from './context.js';
import { CommandError, ErrorCode } from './errors.js';

export const MacAddress = /^[0-9a-fA-F]{2}([:-][0-9a-fA-F]{2}){5}$/;

export function normalizeMac(mac: string): string {
  return mac.toLowerCase().replaceAll('-', ':');
}

/** Ports must have a unicast MAC: the multicast bit of the first octet is clear, and it is not all zeros. */
export function isUnicastMac(mac: string): boolean {
  const first = parseInt(mac.slice(0, 2), 16);
  return (first & 1) === 0 && mac !== '00:00:00:00:00:00';
}

/** Draws candidates from the context until one is unused; collisions are rare, so a few tries suffice. */
export function allocateMac(view: View, ctx: DecideContext, taken: ReadonlySet<string> = new Set()): string {
  for (let i = 0; i < 16; i++) {
    const mac = ctx.newMac();
    if (!view.macs.has(mac) && !taken.has(mac)) return mac;
  }
  throw new CommandError(ErrorCode.INTERNAL, 'could not find an unused MAC address');
}
