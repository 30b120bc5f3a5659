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
  try {
    const text = plainCanonical(value);
    if (text !== undefined) return text;
  } catch (err) {
    if (err !== NOT_PLAIN) throw err;
  }
  return JSON.stringify(value, (_key, v: unknown) => v !== null && typeof v === 'object' && !Array.isArray(v)
    ? Object.fromEntries(Object.entries(v).sort(byKey))
    : v);
}

const byKey = ([a]: [string, unknown], [b]: [string, unknown]): number => (a < b ? -1 : a > b ? 1 : 0);

/** Thrown out of plainCanonical where the value is not plain data; canonicalJson then takes the general path. */
const NOT_PLAIN = Symbol('not plain');

/**
 * Objects hold array-index keys first, in numeric order, so sorting them as text would differ
 * from the general path's order: a key starting with a digit takes that path.
 */
const startsWithDigit = (key: string): boolean => {
  const c = key.charCodeAt(0);
  return c >= 48 && c <= 57;
};

/**
 * Members' keys as JSON text with their colon, by key: the keys are mostly the few field names of
 * statuses and payloads, and quoting each at every digest was a third of the walk. At most
 * KEY_TEXTS_KEPT are kept (keys that are ids would otherwise grow it); the rest are quoted each time.
 */
const keyTexts = new Map<string, string>();
const KEY_TEXTS_KEPT = 1024;

function keyText(key: string): string {
  let text = keyTexts.get(key);
  if (text === undefined) {
    text = `${JSON.stringify(key)}:`;
    if (keyTexts.size < KEY_TEXTS_KEPT) keyTexts.set(key, text);
  }
  return text;
}

/**
 * A character JSON.stringify may write otherwise than as itself: a quote, a backslash, a control
 * character (C0, which it escapes, or DEL and C1, which it does not), a lone surrogate.
 */
const ESCAPED = /["\\\p{Cc}\p{Cs}]/u;

/**
 * canonicalJson's text for plain data (objects of Object's prototype or none, arrays, strings,
 * finite or not numbers, booleans, null), built in one walk: the general path's replacer copies
 * and sorts every object through `Object.fromEntries`, ~5 % of the engine's CPU where every
 * status is digested (src/reconcile/status.ts). Anything else throws NOT_PLAIN.
 */
function plainCanonical(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return ESCAPED.test(value) ? JSON.stringify(value) : `"${value}"`;
    case 'number':
      // JSON.stringify's text of a number; a call of it a string or number was half of a status's digest.
      return Number.isFinite(value) ? String(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'undefined':
      return undefined;
    case 'object': {
      if (value === null) return 'null';
      if (typeof (value as { toJSON?: unknown }).toJSON === 'function') throw NOT_PLAIN;
      if (Array.isArray(value)) {
        let text = '[';
        // Indexes, not map: a hole is null, as JSON.stringify writes it.
        for (let i = 0; i < value.length; i++) text += `${i > 0 ? ',' : ''}${plainCanonical(value[i]) ?? 'null'}`;
        return `${text}]`;
      }
      const proto = Object.getPrototypeOf(value) as unknown;
      if (proto !== Object.prototype && proto !== null) throw NOT_PLAIN;
      let text = '{';
      let first = true;
      for (const key of Object.keys(value).sort()) {
        if (startsWithDigit(key)) throw NOT_PLAIN;
        const member = plainCanonical((value as Record<string, unknown>)[key]);
        if (member === undefined) continue;
        text += first ? keyText(key) + member : `,${keyText(key)}${member}`;
        first = false;
      }
      return `${text}}`;
    }
    case 'bigint':
    case 'function':
    case 'symbol':
      // Functions and symbols are left out as JSON.stringify leaves them; a bigint throws there.
      throw NOT_PLAIN;
  }
}
