import test from 'ava';
import { canonicalJson } from '../../events/mod.js';

/** Canonical JSON as defined: JSON.stringify with every object's keys sorted. */
const sortedStringify = (value: unknown): string => JSON.stringify(value, (_key, v: unknown) => v !== null && typeof v === 'object' && !Array.isArray(v)
  ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
  : v);

test('canonicalJson - the text of JSON.stringify with sorted keys, for statuses, escapes, surrogates, numbers, holes, absent members and more keys than it remembers', (t) => {
  const status = {
    kind: 'port', id: 'p-1', scope: { project: 'web', org: 'acme' }, observedSeq: 7, phase: 'Ready', ovn: { logicalSwitchPort: 'p-1' },
    securityGroupIds: ['b', 'a'], deviceId: null, primary: true, bound: false, message: undefined,
  };
  // eslint-disable-next-line no-sparse-arrays -- a hole is null, as JSON.stringify writes it
  const holes = [1, , 3];
  const values: unknown[] = [
    status, { ...status, observedSeq: 8 }, { 'a "quoted" key': 'a\nline', 'é': '\u2028', '': 0 }, { b: { d: [{ f: 1, e: 2 }], c: -0 }, a: 1e21 },
    holes, [undefined, () => 1], 'text', 12.5, true, null, { nested: { nested: { nested: {} } } }, { x: Number.NaN, y: Number.POSITIVE_INFINITY },
    // Strings written as they are unless JSON.stringify escapes them; numbers as it writes them.
    ['plain', 'a "quote"', 'back\\slash', '\u0000\u001f\u007f', 'pair \ud83d\ude00', 'lone \ud800 high', 'lone \udc00 low', '\u2028 é'],
    [-0, 0.1, 1e-7, 5e-324, 2 ** 53, -1.5e300, Number.NEGATIVE_INFINITY],
    // More distinct keys than the key texts kept: each still quoted right.
    Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`key-${i}"\\`, i])),
  ];
  for (const value of values) t.is(canonicalJson(value), sortedStringify(value));
  t.is(canonicalJson({ b: 1, a: 2 }), canonicalJson({ a: 2, b: 1 }));
  // Digit-first keys take the general path (objects hold array-index keys first): the same text as it.
  t.is(canonicalJson({ b: 1, 10: 2, 9: 3 }), sortedStringify({ b: 1, 10: 2, 9: 3 }));
});
