/** JSON text on the wire: decoding bytes that anyone may have sent, and comparing values. */

/** Stateless between calls (no `stream` option), so one serves every message instead of one built per message. */
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The JSON value of UTF-8 bytes, or why they are not one. Never throws: garbage is normal input. */
export function decodeJson(data: Uint8Array): { readonly value: unknown } | { readonly reason: 'not UTF-8' | 'not JSON' } {
  let text: string;
  try {
    text = utf8.decode(data);
  } catch {
    return { reason: 'not UTF-8' };
  }
  try {
    return { value: JSON.parse(text) as unknown };
  } catch {
    return { reason: 'not JSON' };
  }
}

/** JSON with every object's keys sorted: equal values give equal text, whatever their fields' order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => v !== null && typeof v === 'object' && !Array.isArray(v)
    ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
    : v);
}
