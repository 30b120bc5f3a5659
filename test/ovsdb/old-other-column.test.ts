import { randomUUID } from 'node:crypto';
import test from 'ava';
import type { Atom, RowUpdate } from '../../src/ovsdb/mod.js';
import { connect, startNb } from './fixture.js';

const sorted = (set: unknown): string[] => [...(set as readonly Atom[])].map(String).sort();

test('cache - an update that changes another column keeps the large set as it was, when read later', async (t) => {
  const nb = await startNb(t);
  const client = await connect(t, { remote: nb.remote });
  await client.monitor({ Port_Group: {}, Logical_Switch: {}, Logical_Switch_Port: {} });
  const ports = Array.from({ length: 100 }, () => randomUUID());
  await client.transact([
    ...ports.map((uuid, i) => ({ op: 'insert' as const, table: 'Logical_Switch_Port', uuid, row: { name: `p${i}` } })),
    { op: 'insert', table: 'Logical_Switch', row: { name: 'ls', ports } },
  ]);
  const [pg] = await client.transact([{ op: 'insert', table: 'Port_Group', row: { name: 'big', ports: ports.slice(0, 80) } }]);
  const where = [['_uuid', '==', pg!.uuid!]] as const;
  // Make the set tracked (in place) first.
  await client.transact([{ op: 'mutate', table: 'Port_Group', where, mutations: [['ports', 'insert', [ports[80]!]] as const] }]);
  const seen: RowUpdate[] = [];
  client.onUpdate((us) => { for (const u of us) if (u.table === 'Port_Group') seen.push(u); });
  await client.transact([{ op: 'update', table: 'Port_Group', where, row: { name: 'renamed' } }]);
  const before = sorted(client.cache.get('Port_Group', pg!.uuid!)!['ports']);
  await client.transact([{ op: 'mutate', table: 'Port_Group', where, mutations: [['ports', 'insert', [ports[90]!]] as const] }]);
  t.is(seen.length, 2);
  t.deepEqual(sorted(seen[0]!.old!['ports']), before, 'old of the rename: the ports as they were then');
  // `new` is the row the cache holds (types.ts RowUpdate): its large set is live.
  t.deepEqual(sorted(seen[1]!.old!['ports']), before, 'old of the next modify: the ports before it');
});
