import { randomUUID } from 'node:crypto';
import test from 'ava';
import type { Row, Value } from '../../src/ovsdb/mod.js';
import { connect, startNb, waitFor } from './fixture.js';

/**
 * The cache lays rows and large maps out compactly (a generated copier a table and a map key
 * list): against a real ovsdb-server, what a reader sees is still the row the server holds,
 * every monitored column present in the schema's order, map keys in the server's order, through
 * inserts, modifies of maps and scalars, a reconnect's dump, and the `old` of each modify.
 */

const ids = (n: number, extra: Record<string, string> = {}): Record<string, string> => ({
  'novanet:id': `id-${n}`, 'novanet:kind': 'port', 'novanet:org': 'o', 'novanet:owner': 'novanet', 'novanet:project': 'p', 'novanet:seq': String(n), ...extra,
});

/** A row as plain data: its columns in order, sets sorted. */
const plain = (row: Row | undefined): [string, Value][] =>
  Object.entries(row ?? {}).map(([c, v]) => [c, Array.isArray(v) ? [...(v as string[])].sort() : v]);

test('cache - rows and maps laid out compactly read as the server holds them, through inserts, modifies, their old and a dump', async (t) => {
  const nb = await startNb(t);
  const client = await connect(t, { remote: nb.remote });
  await client.monitor({ Logical_Switch_Port: {} });
  const [a, b] = [randomUUID(), randomUUID()];
  await client.transact([
    { op: 'insert', table: 'Logical_Switch_Port', uuid: a, row: { name: 'a', addresses: ['0a:00:00:00:00:01 10.0.0.2'], external_ids: ids(1) } },
    // A key list of its own, and a map of more than four keys with one an object literal would take as the prototype.
    { op: 'insert', table: 'Logical_Switch_Port', uuid: b, row: { name: 'b', external_ids: ids(2, { __proto__x: '1', zz: 'z' }), options: JSON.parse('{"__proto__":"p","k1":"1","k2":"2","k3":"3","k4":"4"}') as Record<string, string> } },
    // Switch ports are not root rows: a switch holds them.
    { op: 'insert', table: 'Logical_Switch', row: { name: 'ls', ports: [a, b] } },
  ]);
  const select = async (uuid: string): Promise<Row> => {
    const [result] = await client.transact([{ op: 'select', table: 'Logical_Switch_Port', where: [['_uuid', '==', uuid]] }]);
    const { _version: _, ...row } = result!.rows![0]!;
    return row as Row;
  };
  const same = async (uuid: string, what: string): Promise<void> => {
    const cached = client.cache.get('Logical_Switch_Port', uuid);
    const byColumn = (a: [string, Value], b: [string, Value]): number => a[0].localeCompare(b[0]);
    t.deepEqual(plain(cached).sort(byColumn), plain(await select(uuid)).sort(byColumn), what);
    t.deepEqual(Object.keys(cached!), Object.keys(client.cache.get('Logical_Switch_Port', a)!), `${what}: every column, in one order`);
  };
  await same(a, 'inserted');
  await same(b, 'inserted, other keys');
  t.deepEqual(Object.keys(client.cache.get('Logical_Switch_Port', a)!['external_ids'] as object), Object.keys(ids(1)).sort(), 'map keys in the server\'s order');
  t.is(Object.getPrototypeOf(client.cache.get('Logical_Switch_Port', b)!['options']), Object.prototype, 'a "__proto__" key is a key');
  t.is((client.cache.get('Logical_Switch_Port', b)!['options'] as Record<string, string>)['__proto__'], 'p');

  const olds: Row[] = [];
  client.onUpdate((updates) => { for (const u of updates) if (u.old) olds.push(u.old); });
  const before = client.cache.get('Logical_Switch_Port', a)!;
  const where = [['_uuid', '==', a]] as const;
  await client.transact([
    { op: 'update', table: 'Logical_Switch_Port', where, row: { enabled: [true], tag_request: [7] } },
    { op: 'mutate', table: 'Logical_Switch_Port', where, mutations: [['external_ids', 'insert', { 'novanet:name': 'n' }], ['external_ids', 'delete', ['novanet:seq']]] },
  ]);
  await same(a, 'modified: a scalar set, a map\'s key added and one removed');
  t.deepEqual(olds.map(plain), [plain(before)], 'the old is the row before');
  await client.transact([{ op: 'mutate', table: 'Logical_Switch_Port', where: [['_uuid', '==', b]], mutations: [['options', 'delete', ['__proto__']]] }]);
  await same(b, 'modified: the "__proto__" key removed');

  await nb.stop();
  await waitFor(() => !client.connected, 'the client to notice');
  await nb.restart();
  await waitFor(() => client.connected, 'the client to reconnect, its dump read');
  await client.transact([{ op: 'update', table: 'Logical_Switch_Port', where, row: { name: 'a2' } }]);
  await same(a, 'after a reconnect\'s dump and a modify');
  await same(b, 'after a reconnect\'s dump');
});
