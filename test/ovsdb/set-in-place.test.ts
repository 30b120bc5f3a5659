import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import test from 'ava';
import type { Atom, RowUpdate } from '../../src/ovsdb/mod.js';
import { connect, startNb, waitFor } from './fixture.js';

/**
 * A port group of hundreds of ports, changed a few ports at a time as the reconciler changes
 * it, against a real ovsdb-server: the cache changes the set in place, names each change, and
 * hands listeners an `old` that is the set as it was, also when read after later changes.
 */

const sorted = (set: unknown): string[] => [...(set as readonly Atom[])].map(String).sort();

test('cache - a large set changes in place, and each update\'s old is the set before it, whenever it is read', async (t) => {
  const nb = await startNb(t);
  const client = await connect(t, { remote: nb.remote });
  await client.monitor({ Port_Group: {}, Logical_Switch: {}, Logical_Switch_Port: {} });
  const ports = Array.from({ length: 300 }, () => randomUUID());
  await client.transact([
    ...ports.map((uuid, i) => ({ op: 'insert' as const, table: 'Logical_Switch_Port', uuid, row: { name: `p${i}` } })),
    { op: 'insert', table: 'Logical_Switch', row: { name: 'ls', ports } },
  ]);
  const [pg] = await client.transact([{ op: 'insert', table: 'Port_Group', row: { name: 'big', ports: ports.slice(0, 200) } }]);
  const group = pg!.uuid!;
  const live = client.cache.get('Port_Group', group)!['ports'] as readonly Atom[];
  t.is(live.length, 200);

  const seen: { update: RowUpdate; expectedOld: string[] }[] = [];
  let expected = sorted(live);
  client.onUpdate((updates) => {
    for (const u of updates) {
      if (u.table !== 'Port_Group') continue;
      seen.push({ update: u, expectedOld: expected });
      expected = sorted(u.new!['ports']);
    }
  });
  const change = async (add: readonly string[], remove: readonly string[]) => {
    const where = [['_uuid', '==', group]] as const;
    await client.transact([
      ...(add.length > 0 ? [{ op: 'mutate' as const, table: 'Port_Group', where, mutations: [['ports', 'insert', add] as const] }] : []),
      ...(remove.length > 0 ? [{ op: 'mutate' as const, table: 'Port_Group', where, mutations: [['ports', 'delete', remove] as const] }] : []),
    ]);
  };
  await change([ports[200]!], []);
  await change([], [ports[0]!, ports[199]!, ports[57]!]);
  await change([ports[201]!, ports[202]!], [ports[200]!]);
  await change([ports[0]!], [ports[1]!]);

  const now = client.cache.get('Port_Group', group)!['ports'] as readonly Atom[];
  t.is(now, live, 'the same array, changed in place');
  const [selected] = await client.transact([{ op: 'select', table: 'Port_Group', where: [['_uuid', '==', group]], columns: ['ports'] }]);
  t.deepEqual(sorted(now), sorted(selected!.rows![0]!['ports']), 'the cache holds what the server holds');
  t.is(new Set(now).size, now.length, 'no element twice');

  t.is(seen.length, 4);
  const changes = seen.map(({ update }) => update.setChanges!['ports']!).map(({ added, removed }) => ({ added: sorted(added), removed: sorted(removed) }));
  t.deepEqual(changes, [
    { added: [ports[200]!], removed: [] },
    { added: [], removed: sorted([ports[0], ports[199], ports[57]]) },
    { added: sorted([ports[201], ports[202]]), removed: [ports[200]!] },
    { added: [ports[0]!], removed: [ports[1]!] },
  ], 'each update names what it added and removed');
  // Read only now, after every later change: each old is still the set just before its change.
  for (const [i, { update, expectedOld }] of seen.entries()) t.deepEqual(sorted(update.old!['ports']), expectedOld, `old of change ${i + 1}`);
  t.deepEqual(sorted(seen[0]!.update.old!['ports']), sorted(ports.slice(0, 200)));
  t.deepEqual(Object.keys(seen[0]!.update.old!).sort(), Object.keys(seen[0]!.update.new!).sort(), 'old has every column');
  t.is(seen[0]!.update.old!['name'], 'big');
});

test('cache - a small set is copied on change: its old is the previous array', async (t) => {
  const nb = await startNb(t);
  const client = await connect(t, { remote: nb.remote });
  await client.monitor({ Logical_Switch: {} });
  const [ls] = await client.transact([{ op: 'insert', table: 'Logical_Switch', row: { name: 'ls', other_config: { a: 'b' } } }]);
  const uuid = ls!.uuid!;
  const [p1, p2] = [randomUUID(), randomUUID()];
  await client.transact([
    { op: 'insert', table: 'Logical_Switch_Port', uuid: p1, row: { name: 'a' } },
    { op: 'mutate', table: 'Logical_Switch', where: [['_uuid', '==', uuid]], mutations: [['ports', 'insert', [p1]]] },
  ]);
  const before = client.cache.get('Logical_Switch', uuid)!['ports'];
  const updates: RowUpdate[] = [];
  client.onUpdate((u) => updates.push(...u));
  await client.transact([
    { op: 'insert', table: 'Logical_Switch_Port', uuid: p2, row: { name: 'b' } },
    { op: 'mutate', table: 'Logical_Switch', where: [['_uuid', '==', uuid]], mutations: [['ports', 'insert', [p2]]] },
  ]);
  t.deepEqual(before, [p1], 'the previous array is left as it was');
  const modify = updates.find((u) => u.table === 'Logical_Switch')!;
  t.is(modify.old!['ports'], before);
  t.deepEqual(sorted(modify.new!['ports']), sorted([p1, p2]));
});

test('cache - a large set changed in place through many adds and removes, and again after a reconnect\'s dump, holds what the server holds', async (t) => {
  const nb = await startNb(t);
  const client = await connect(t, { remote: nb.remote, reconnectDelayMs: { min: 10, max: 50 } });
  await client.monitor({ Port_Group: {}, Logical_Switch: {}, Logical_Switch_Port: {} });
  const ports = Array.from({ length: 400 }, () => randomUUID());
  // A switch holds the ports (a group's references are weak: ports no switch holds are deleted).
  await client.transact([
    ...ports.map((uuid, i) => ({ op: 'insert' as const, table: 'Logical_Switch_Port', uuid, row: { name: `p${i}` } })),
    { op: 'insert', table: 'Logical_Switch', row: { name: 'ls', ports } },
  ]);
  const [pg] = await client.transact([{ op: 'insert', table: 'Port_Group', row: { name: 'big', ports: ports.slice(0, 150) } }]);
  const group = pg!.uuid!;
  const where = [['_uuid', '==', group]] as const;
  const held = (): readonly Atom[] => client.cache.get('Port_Group', group)!['ports'] as readonly Atom[];
  const served = async (): Promise<string[]> => {
    const [selected] = await client.transact([{ op: 'select', table: 'Port_Group', where, columns: ['ports'] }]);
    return sorted(selected!.rows![0]!['ports']);
  };
  // A fixed walk over the ports: each transaction adds a few absent ones and removes a few present ones.
  let cursor = 0;
  const churn = async (rounds: number): Promise<void> => {
    for (let round = 0; round < rounds; round++) {
      const present = new Set(held());
      const add: string[] = [];
      const remove: string[] = [];
      for (let i = 0; i < 7; i++) {
        const port = ports[(cursor = (cursor * 31 + 17) % ports.length)]!;
        if (add.includes(port) || remove.includes(port)) continue;
        (present.has(port) ? remove : add).push(port);
      }
      await client.transact([
        ...(add.length > 0 ? [{ op: 'mutate' as const, table: 'Port_Group', where, mutations: [['ports', 'insert', add] as const] }] : []),
        ...(remove.length > 0 ? [{ op: 'mutate' as const, table: 'Port_Group', where, mutations: [['ports', 'delete', remove] as const] }] : []),
      ]);
    }
  };
  await churn(60);
  const live = held();
  t.true(live.length > 100);
  t.deepEqual(sorted(live), await served(), 'after adds and removes in place');
  t.is(new Set(live).size, live.length, 'no element twice');

  // Changed while the client is away, so the reconnect's dump replaces the row: its set is a new
  // array, indexed afresh at its first change.
  await nb.stop();
  await waitFor(() => !client.connected, 'the client to notice');
  const away = ports.filter((port) => !live.includes(port)).slice(0, 5);
  await promisify(execFile)('ovsdb-tool', ['transact', nb.db, JSON.stringify(['OVN_Northbound',
    { op: 'mutate', table: 'Port_Group', where: [['name', '==', 'big']], mutations: [['ports', 'insert', ['set', away.map((port) => ['uuid', port])]], ['ports', 'delete', ['set', [['uuid', String(live[3])]]]]] }])]);
  await nb.restart();
  await waitFor(() => client.connected, 'the reconnect');
  t.deepEqual(sorted(held()), await served(), 'after the dump');
  await churn(60);
  t.not(held(), live, 'the dump\'s array, not the one changed before it');
  t.deepEqual(sorted(held()), await served(), 'after adds and removes in place on the dump\'s set');
  t.is(new Set(held()).size, held().length, 'no element twice');
});
