import test from 'ava';
import { JsonStreamParser, isOvsdbProtocolError, stringifyJson } from '../../src/ovsdb/mod.js';
import type { Json } from '../../src/ovsdb/mod.js';

const messages: Json[] = [
  { method: 'echo', params: [], id: 'echo' },
  { id: 1, result: { name: 'héllo wörld 日本語 😀', braces: '}{][', quote: 'say "hi" \\ \\"', nested: [[{}], []] }, error: null },
  [1, -2.5e3, true, false, null, 'tail \u0001 \t\n'],
  { id: null, method: 'update2', params: ['m1', { T: { 'a-b': { modify: { s: '\\' } } } }] },
];
// Whitespace between texts is legal; there is no delimiter.
const sample = Buffer.from(messages.map((m) => JSON.stringify(m)).join(' \n'), 'utf8');

function parseChunks(chunks: Buffer[]): Json[] {
  const out: Json[] = [];
  const parser = new JsonStreamParser((m) => out.push(m));
  for (const chunk of chunks) parser.push(chunk);
  return out;
}

test('json-stream - a stream split at every byte offset yields the same messages', (t) => {
  t.true(sample.length > sample.toString('utf8').length, 'the sample holds multibyte UTF-8');
  for (let i = 0; i <= sample.length; i++) {
    t.deepEqual(parseChunks([sample.subarray(0, i), sample.subarray(i)]), messages, `split at ${i}`);
  }
});

test('json-stream - a stream split at every pair of offsets yields the same messages', (t) => {
  let failures = 0;
  for (let i = 0; i <= sample.length; i++) {
    for (let j = i; j <= sample.length; j++) {
      const parts = [sample.subarray(0, i), sample.subarray(i, j), sample.subarray(j)];
      if (JSON.stringify(parseChunks(parts)) !== JSON.stringify(messages)) failures++;
    }
  }
  t.is(failures, 0);
});

test('json-stream - one byte per chunk', (t) => {
  const bytes = [...sample].map((b) => Buffer.from([b]));
  t.deepEqual(parseChunks(bytes), messages);
});

test('json-stream - many messages in one chunk', (t) => {
  const many = Array.from({ length: 10_000 }, (_, i) => ({ id: i, result: [`r${i}`], error: null }));
  const out = parseChunks([Buffer.from(many.map((m) => JSON.stringify(m)).join(''))]);
  t.deepEqual(out, many);
});

test('json-stream - a 40 MB message arriving in 64 KiB chunks', (t) => {
  // Shaped like a big initial monitor reply: 100k rows with multibyte strings and nested sets.
  const rows: Record<string, Json> = {};
  for (let i = 0; i < 100_000; i++) {
    const uuid = `00000000-0000-0000-0000-${String(i).padStart(12, '0')}`;
    rows[uuid] = {
      initial: {
        name: `port-${i}-ünïcødé-${'x'.repeat(250)}`,
        addresses: ['set', [`fa:16:3e:00:00:${i % 100} 10.0.${i % 250}.${i % 200}`, 'unknown']],
        external_ids: ['map', [['novanet:owner', 'novanet'], ['quote', '"}{']]],
      },
    };
  }
  const big = Buffer.from(JSON.stringify({ id: 7, result: { Logical_Switch_Port: rows }, error: null }));
  t.true(big.length > 40_000_000);
  const chunks: Buffer[] = [];
  for (let off = 0; off < big.length; off += 65_536) chunks.push(big.subarray(off, off + 65_536));
  const out = parseChunks(chunks);
  t.is(out.length, 1);
  const result = (out[0] as { result: { Logical_Switch_Port: Record<string, Json> } }).result.Logical_Switch_Port;
  t.is(Object.keys(result).length, 100_000);
  t.deepEqual(result['00000000-0000-0000-0000-000000099999'], rows['00000000-0000-0000-0000-000000099999']);
});

test('json-stream - integers beyond 2^53 decode to bigint, also when split', (t) => {
  const text = '{"a":9007199254740993,"b":[1,-9223372036854775808,1.5e300,12345678901234567890.5,9007199254740991],"c":"12345678901234567890"}';
  const expected = {
    a: 9007199254740993n,
    // 12345678901234567890.5 has no double: it decodes to the nearest one.
    b: [1, -9223372036854775808n, 1.5e300, 12345678901234567168, 9007199254740991],
    c: '12345678901234567890',
  };
  const buf = Buffer.from(text);
  for (let i = 0; i <= buf.length; i++) {
    t.deepEqual(parseChunks([buf.subarray(0, i), buf.subarray(i)]), [expected], `split at ${i}`);
  }
});

test('json-stream - stringifyJson writes bigint as a JSON integer', (t) => {
  t.is(stringifyJson({ a: [9007199254740993n, 'x', null, 1.5], b: { c: true } }), '{"a":[9007199254740993,"x",null,1.5],"b":{"c":true}}');
});

test('json-stream - bytes that are not a JSON text are a protocol error', (t) => {
  const parser = new JsonStreamParser(() => {});
  t.true(isOvsdbProtocolError(t.throws(() => parser.push(Buffer.from('{"a":1} x')))));
  const invalid = new JsonStreamParser(() => {});
  t.true(isOvsdbProtocolError(t.throws(() => invalid.push(Buffer.from('{"a" 1}')))));
});

/** What a parser whose sink takes reply `streamed`'s rows hands out: rows and messages, in order. */
function streamChunks(chunks: Buffer[], streamed = 7): [string, ...Json[]][] {
  const out: [string, ...Json[]][] = [];
  const parser = new JsonStreamParser((m) => out.push(['message', m]), (id) => (id === streamed ? (table, uuid, change) => out.push(['row', table, uuid, change]) : undefined));
  for (const chunk of chunks) parser.push(chunk);
  return out;
}

const monitorReply = [
  '{"id":7,"result":{"A":{"u1":{"initial":{"n":9007199254740993,"s":"x}{\\"][","m":["map",[["k",1.5]]]}},"u2":{"initial":{}}},',
  ' "B" : { } , "C ü😀":{"u3":{"initial":{"big":["set",[-9223372036854775808,3]]}}}},"error":null}',
  '{"id":null,"method":"update2","params":["m",{"A":{"u1":{"modify":{"n":12345678901234567890}}}}]}',
  '{"id":8,"result":{"A":{"u9":{"initial":{}}}},"error":null}',
].join('\n');
const streamedMessages: [string, ...Json[]][] = [
  ['row', 'A', 'u1', { initial: { n: 9007199254740993n, s: 'x}{"][', m: ['map', [['k', 1.5]]] } }],
  ['row', 'A', 'u2', { initial: {} }],
  ['row', 'C ü😀', 'u3', { initial: { big: ['set', [-9223372036854775808n, 3]] } }],
  ['message', { id: 7, result: {}, error: null }],
  ['message', { id: null, method: 'update2', params: ['m', { A: { u1: { modify: { n: 12345678901234567890n } } } }] }],
  ['message', { id: 8, result: { A: { u9: { initial: {} } } }, error: null }],
];

test('json-stream - a monitor reply streams its rows one at a time, bigints included, at every split into three chunks', (t) => {
  const buf = Buffer.from(monitorReply);
  t.deepEqual(streamChunks([buf]), streamedMessages);
  const text = (v: unknown): string => JSON.stringify(v, (_key, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x));
  const expected = text(streamedMessages);
  let failures = 0;
  for (let i = 0; i <= buf.length; i++) {
    for (let j = i; j <= buf.length; j++) {
      if (text(streamChunks([buf.subarray(0, i), buf.subarray(i, j), buf.subarray(j)])) !== expected) failures++;
    }
  }
  t.is(failures, 0);
});

test('json-stream - a monitor_cond_since reply streams the rows of its third element, at every split into three chunks', (t) => {
  const reply = '{"id":7,"result":[ false , "c9d70483-d08c-4e45-ab27-cb3bd45a1992",{"A":{"u1":{"initial":{"n":1}}},"B":{"u2":{"modify":{"s":"]}"}}}}],"error":null}'
    + '{"id":null,"method":"update3","params":["m","bc6ca620-0232-47cd-bf0e-2693fe65c204",{"A":{"u1":{"delete":null}}}]}'
    // A transact reply's array of results is not table updates: it comes out whole.
    + '{"id":7,"result":[{"uuid":["uuid","u3"]}],"error":null}';
  const expected: [string, ...Json[]][] = [
    ['row', 'A', 'u1', { initial: { n: 1 } }],
    ['row', 'B', 'u2', { modify: { s: ']}' } }],
    ['message', { id: 7, result: [false, 'c9d70483-d08c-4e45-ab27-cb3bd45a1992', {}], error: null }],
    ['message', { id: null, method: 'update3', params: ['m', 'bc6ca620-0232-47cd-bf0e-2693fe65c204', { A: { u1: { delete: null } } }] }],
    ['message', { id: 7, result: [{ uuid: ['uuid', 'u3'] }], error: null }],
  ];
  const buf = Buffer.from(reply);
  let failures = 0;
  for (let i = 0; i <= buf.length; i += 3) {
    for (let j = i; j <= buf.length; j += 2) {
      if (JSON.stringify(streamChunks([buf.subarray(0, i), buf.subarray(i, j), buf.subarray(j)])) !== JSON.stringify(expected)) failures++;
    }
  }
  t.is(failures, 0);
  t.deepEqual(streamChunks([buf]), expected);
});

test('json-stream - a reply that does not begin with its id comes out whole', (t) => {
  const reply = { result: { A: { u1: { initial: { n: 1 } } } }, error: null, id: 7 };
  t.deepEqual(streamChunks([Buffer.from(JSON.stringify(reply))]), [['message', reply]]);
});

test('json-stream - a streamed reply that is not table updates is a protocol error', (t) => {
  for (const bad of ['{"id":7,"result":{"A":5}}', '{"id":7,"result":{"A":{"u":"x"}}}', '{"id":7,"result":{"A" {}}}', '{"id":7,"result":{"A":{},}}', '{"id":7,"result":{,"A":{}}}', '{"id":7,"result":{"A":{"u":{"initial":{}]}}}']) {
    t.true(isOvsdbProtocolError(t.throws(() => streamChunks([Buffer.from(bad)]))), bad);
  }
});
