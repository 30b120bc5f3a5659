import { readFileSync } from 'node:fs';
import test from 'ava';
import { CacheImpl } from '../../src/ovsdb/cache.js';
import { parseSchema } from '../../src/ovsdb/mod.js';
import type { Json, Row, RowUpdate } from '../../src/ovsdb/mod.js';
import { NB_SCHEMA } from './fixture.js';

const schema = parseSchema(JSON.parse(readFileSync(NB_SCHEMA, 'utf8')) as Json);
const columns = new Map([['Logical_Switch', ['name', 'ports', 'other_config', 'external_ids']]]);
const A = 'aaaaaaaa-0000-0000-0000-000000000001';
const B = 'bbbbbbbb-0000-0000-0000-000000000002';
const P1 = '11111111-0000-0000-0000-000000000001';
const P2 = '22222222-0000-0000-0000-000000000002';
const P3 = '33333333-0000-0000-0000-000000000003';

/** A monitor reply's table updates read as OvsdbClient reads them: a row at a time, then compared. */
function readDump(cache: CacheImpl, tables: Record<string, Record<string, Json>>, monitored: typeof columns): Promise<() => RowUpdate[]> {
  const reader = cache.readDump(monitored);
  for (const [table, rows] of Object.entries(tables)) for (const [uuid, change] of Object.entries(rows)) reader.row(table, uuid, change);
  return reader.done();
}

function seeded(): CacheImpl {
  const cache = new CacheImpl(schema);
  cache.applyUpdate2(
    {
      Logical_Switch: {
        [A]: { insert: { name: 'a', ports: ['set', [['uuid', P1], ['uuid', P2]]], other_config: ['map', [['k1', 'v1'], ['k2', 'v2']]] } },
      },
    },
    columns,
  );
  return cache;
}

test('cache - insert fills the columns update2 leaves out at their default', (t) => {
  const cache = new CacheImpl(schema);
  const updates = cache.applyUpdate2({ Logical_Switch: { [B]: { insert: { name: 'b' } } } }, columns);
  const row = { _uuid: B, name: 'b', ports: [], other_config: {}, external_ids: {} };
  t.deepEqual(updates, [{ table: 'Logical_Switch', uuid: B, new: row }]);
  t.deepEqual(cache.get('Logical_Switch', B), row);
});

test('cache - modify replaces scalars, toggles set elements, adds/removes/replaces map keys', (t) => {
  const cache = seeded();
  const before = cache.get('Logical_Switch', A)!;
  const updates = cache.applyUpdate2(
    {
      Logical_Switch: {
        [A]: {
          modify: {
            name: 'a2',
            ports: ['set', [['uuid', P1], ['uuid', P3]]],
            other_config: ['map', [['k1', 'v1'], ['k2', 'changed'], ['k3', 'new']]],
          },
        },
      },
    },
    columns,
  );
  const after = cache.get('Logical_Switch', A)!;
  t.is(after['name'], 'a2');
  t.deepEqual([...(after['ports'] as string[])].sort(), [P2, P3]);
  t.deepEqual(after['other_config'], { k2: 'changed', k3: 'new' });
  t.deepEqual(updates, [{ table: 'Logical_Switch', uuid: A, old: before, new: after, setChanges: { ports: { added: [P3], removed: [P1] } } }],
    'a modify names the set elements it added and removed, and only the set columns it changed');
  t.is(before['name'], 'a', 'the old row is left as it was');
  t.deepEqual(cache.applyUpdate2({ Logical_Switch: { [A]: { modify: { ports: ['uuid', P2] } } } }, columns)[0]!.new!['ports'], [P3], 'a bare atom toggles too');
});

test('cache - modify of an optional column carries the new value, not a diff', (t) => {
  // What ovsdb-server sends when ovn-northd sets Logical_Switch_Port.up (verified against 23.03).
  const lsp = new Map([['Logical_Switch_Port', ['name', 'up']]]);
  const cache = new CacheImpl(schema);
  cache.applyUpdate2({ Logical_Switch_Port: { [A]: { insert: { name: 'p', up: false } } } }, lsp);
  t.deepEqual(cache.get('Logical_Switch_Port', A)!['up'], [false]);
  cache.applyUpdate2({ Logical_Switch_Port: { [A]: { modify: { up: true } } } }, lsp);
  t.deepEqual(cache.get('Logical_Switch_Port', A)!['up'], [true]);
  cache.applyUpdate2({ Logical_Switch_Port: { [A]: { modify: { up: ['set', []] } } } }, lsp);
  t.deepEqual(cache.get('Logical_Switch_Port', A)!['up'], []);
});

test('cache - delete removes the row and reports it as old', (t) => {
  const cache = seeded();
  const row = cache.get('Logical_Switch', A);
  t.deepEqual(cache.applyUpdate2({ Logical_Switch: { [A]: { delete: null } } }, columns), [{ table: 'Logical_Switch', uuid: A, old: row }]);
  t.is(cache.table('Logical_Switch').size, 0);
});

test('cache - a dump read is swapped in at once and reports the difference', async (t) => {
  const cache = seeded();
  cache.applyUpdate2({ Logical_Switch: { [B]: { insert: { name: 'b' } } } }, columns);
  const oldA = cache.get('Logical_Switch', A)!;
  const oldB = cache.get('Logical_Switch', B)!;
  const C = 'cccccccc-0000-0000-0000-000000000003';
  const swap = await readDump(
    cache,
    {
      Logical_Switch: {
        [B]: { initial: { name: 'b' } },
        [C]: { initial: { name: 'c', external_ids: ['map', [['owner', 'x']]] } },
      },
    },
    columns,
  );
  t.is(cache.get('Logical_Switch', A), oldA, 'nothing changes before the swap');
  const updates = swap();
  const sorted = [...updates].sort((x, y) => x.uuid.localeCompare(y.uuid));
  t.deepEqual(sorted, [
    { table: 'Logical_Switch', uuid: A, old: oldA },
    { table: 'Logical_Switch', uuid: C, new: { _uuid: C, name: 'c', ports: [], other_config: {}, external_ids: { owner: 'x' } } },
  ]);
  t.is(cache.get('Logical_Switch', B), oldB, 'an unchanged row keeps its identity');
  const changed = (await readDump(cache, { Logical_Switch: { [B]: { initial: { name: 'b2' } } } }, columns))();
  t.deepEqual(changed.map((u) => [u.uuid, u.old?.['name'], u.new?.['name']]).sort(), [
    [B, 'b', 'b2'],
    [C, 'c', undefined],
  ]);
});

test('cache - secondary indexes cover rows already present and follow every change', (t) => {
  const cache = seeded();
  const byName = (row: Row): string | undefined => (row['name'] === '' ? undefined : String(row['name']));
  cache.addIndex('Logical_Switch', 'name', byName);
  t.deepEqual(cache.lookup('Logical_Switch', 'name', 'a').map((r) => r._uuid), [A]);
  cache.applyUpdate2({ Logical_Switch: { [B]: { insert: { name: 'a' } } } }, columns);
  t.deepEqual(cache.lookup('Logical_Switch', 'name', 'a').map((r) => r._uuid).sort(), [A, B]);
  cache.applyUpdate2({ Logical_Switch: { [A]: { modify: { name: 'z' } } } }, columns);
  t.deepEqual(cache.lookup('Logical_Switch', 'name', 'a').map((r) => r._uuid), [B]);
  t.deepEqual(cache.lookup('Logical_Switch', 'name', 'z').map((r) => r._uuid), [A]);
  cache.applyUpdate2({ Logical_Switch: { [B]: { delete: null } } }, columns);
  t.deepEqual(cache.lookup('Logical_Switch', 'name', 'a'), []);
  t.throws(() => cache.lookup('Logical_Switch', 'nope', 'a'), { message: /no index "nope"/ });
  t.throws(() => cache.addIndex('Logical_Switch', 'name', byName), { message: /already exists/ });
  t.throws(() => cache.addIndex('No_Such_Table', 'name', byName), { message: /unknown table "No_Such_Table"/ });
});

test('cache - empty sets and maps are one frozen value for every row; a modify of one changes only its row', (t) => {
  const cache = new CacheImpl(schema);
  cache.applyUpdate2({ Logical_Switch: { [A]: { insert: { name: 'a' } }, [B]: { insert: { name: 'b', ports: ['set', []] } } } }, columns);
  const [a, b] = [cache.get('Logical_Switch', A)!, cache.get('Logical_Switch', B)!];
  t.is(a['ports'], b['ports']);
  t.is(a['external_ids'], b['external_ids']);
  t.true(Object.isFrozen(a['ports']) && Object.isFrozen(a['other_config']));
  cache.applyUpdate2({ Logical_Switch: { [A]: { modify: { ports: ['uuid', P1], other_config: ['map', [['k', 'v']]] } } } }, columns);
  t.deepEqual(cache.get('Logical_Switch', A)!['ports'], [P1]);
  t.deepEqual(cache.get('Logical_Switch', A)!['other_config'], { k: 'v' });
  t.deepEqual([cache.get('Logical_Switch', B)!['ports'], cache.get('Logical_Switch', B)!['other_config']], [[], {}]);
});

test('cache - a notification inserting a port and adding it to its switch, in either order, leaves both rows whole', (t) => {
  const withPorts = new Map([...columns, ['Logical_Switch_Port', ['name', 'external_ids']]]);
  for (const order of ['switch first', 'port first']) {
    const cache = seeded();
    const sw = { Logical_Switch: { [A]: { modify: { ports: ['uuid', P3] } } } };
    const port = { Logical_Switch_Port: { [P3]: { insert: { name: 'p3', external_ids: ['map', [['owner', 'x']]] } } } };
    const updates = cache.applyUpdate2(order === 'switch first' ? { ...sw, ...port } : { ...port, ...sw }, withPorts);
    t.deepEqual(updates.map((u) => u.table), ['Logical_Switch_Port', 'Logical_Switch'], order);
    t.deepEqual(cache.get('Logical_Switch', A)!['ports'], [P1, P2, P3], order);
    t.deepEqual(cache.get('Logical_Switch_Port', P3), { _uuid: P3, name: 'p3', external_ids: { owner: 'x' } }, order);
  }
});

test('cache - a large dump is compared in slices that hand the event loop back, and changes nothing until swapped in', async (t) => {
  const cache = seeded();
  const rows = Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`dddddddd-0000-0000-0000-${String(i).padStart(12, '0')}`, { initial: { name: `s${i}` } }]));
  let turns = 0;
  const turn = (): void => {
    turns++;
    if (turns < 1000) setImmediate(turn);
  };
  setImmediate(turn);
  const swap = await readDump(cache, { Logical_Switch: rows }, columns);
  t.true(turns >= 2, `the event loop turned ${turns} times while the dump was read`);
  t.is(cache.table('Logical_Switch').size, 1);
  const updates = swap();
  t.is(updates.length, 2001, 'every dumped row inserted, the seeded one deleted');
  t.is(cache.table('Logical_Switch').size, 2000);
});

test('cache - an index finds a row keyed by its own UUID (held by the table, not the index) beside rows of the same key, through changes', (t) => {
  const withPorts = new Map([['Logical_Switch_Port', ['name', 'external_ids']]]);
  const cache = new CacheImpl(schema);
  cache.addIndex('Logical_Switch_Port', 'owner', (row) => (row['external_ids'] as Record<string, string>)['id']);
  const port = (id: string) => ({ insert: { name: id, external_ids: ['map', [['id', id]]] } });
  cache.applyUpdate2({ Logical_Switch_Port: { [P1]: port(P1), [P2]: port(P1), [P3]: port('other') } }, withPorts);
  const found = (key: string): string[] => cache.lookup('Logical_Switch_Port', 'owner', key).map((r) => r._uuid).sort();
  t.deepEqual(found(P1), [P1, P2], 'its own row and another of its key');
  t.deepEqual(found(P3), [], 'a row at a UUID is found by its key, not its UUID');
  cache.applyUpdate2({ Logical_Switch_Port: { [P1]: { modify: { external_ids: ['map', [['id', 'moved']]] } } } }, withPorts);
  t.deepEqual([found(P1), found('moved')], [[P2], [P1]], 'keyed away from its UUID');
  cache.applyUpdate2({ Logical_Switch_Port: { [P3]: { modify: { external_ids: ['map', [['id', P3]]] } } } }, withPorts);
  t.deepEqual([found(P3), found('other')], [[P3], []], 'keyed to its UUID');
  cache.applyUpdate2({ Logical_Switch_Port: { [P3]: { delete: null }, [P2]: { delete: null } } }, withPorts);
  t.deepEqual([found(P3), found(P1)], [[], []], 'deleted');
});

test('cache - a row\'s UUID is asked of sharedUuid for each row inserted or dumped, and the rows are what they are without it', async (t) => {
  const asked: string[] = [];
  // An equal string of the caller's own, as the reconciler's view holds a port's id.
  const shared = new CacheImpl(schema, (uuid) => {
    asked.push(uuid);
    return [...uuid].join('');
  });
  const plain = new CacheImpl(schema);
  const notification = { Logical_Switch: { [A]: { insert: { name: A, ports: ['set', [['uuid', P1]]] } } } };
  t.deepEqual(shared.applyUpdate2(notification, columns), plain.applyUpdate2(notification, columns));
  const modify = { Logical_Switch: { [A]: { modify: { name: 'a2', ports: ['uuid', P2] } } } };
  t.deepEqual(shared.applyUpdate2(modify, columns), plain.applyUpdate2(modify, columns));
  t.deepEqual(asked, [A], 'an insert asks; a modify keeps the row\'s own string');
  const dump = { Logical_Switch: { [A]: { initial: { name: 'a3' } }, [B]: { initial: { name: B } } } };
  t.deepEqual((await readDump(shared, dump, columns))(), (await readDump(plain, dump, columns))());
  t.deepEqual(asked, [A, A, B], 'each dumped row asks');
  t.deepEqual([...shared.table('Logical_Switch')], [...plain.table('Logical_Switch')]);
  const gone = { Logical_Switch: { [B]: { delete: null } } };
  t.deepEqual(shared.applyUpdate2(gone, columns), plain.applyUpdate2(gone, columns));
  t.is(shared.get('Logical_Switch', B), undefined);
});
