import { randomUUID } from 'node:crypto';
import test from 'ava';
import { OvsdbClient, OvsdbEncodingError, isOvsdbDisconnectedError, isOvsdbEncodingError, isOvsdbSchemaError, isOvsdbTransactionError, isUuid } from '../../src/ovsdb/mod.js';
import type { OvsdbTransactionError, Row, RowUpdate } from '../../src/ovsdb/mod.js';
import { connect, startNb, waitFor } from './fixture.js';

const names = (rows: Iterable<Row>): string[] => [...rows].map((r) => String(r['name'])).sort();

test('client - transact insert, select, update, mutate and delete', async (t) => {
  const nb = await startNb(t);
  const client = await connect(t, { remote: nb.remote });
  t.true(client.connected);
  t.is(client.schema.name, 'OVN_Northbound');

  const [inserted] = await client.transact([{ op: 'insert', table: 'Logical_Switch', row: { name: 'ls1', other_config: { a: 'b' } } }]);
  const uuid = inserted!.uuid!;
  t.true(isUuid(uuid));
  t.is(await nb.nbctl('--bare', '--columns=name', 'list', 'Logical_Switch', uuid), 'ls1');

  const byUuid = [['_uuid', '==', uuid]] as const;
  const [selected] = await client.transact([{ op: 'select', table: 'Logical_Switch', where: [['name', '==', 'ls1']] }]);
  t.like(selected!.rows![0], { _uuid: uuid, name: 'ls1', ports: [], other_config: { a: 'b' }, external_ids: {} });

  const results = await client.transact([
    { op: 'update', table: 'Logical_Switch', where: byUuid, row: { other_config: { a: 'c', x: 'y' } } },
    { op: 'mutate', table: 'Logical_Switch', where: byUuid, mutations: [['external_ids', 'insert', { owner: 'me', k: 'v' }], ['other_config', 'delete', ['x']]] },
    { op: 'mutate', table: 'Logical_Switch', where: byUuid, mutations: [['external_ids', 'delete', { k: 'v' }]] },
    { op: 'select', table: 'Logical_Switch', where: byUuid, columns: ['other_config', 'external_ids'] },
  ]);
  t.deepEqual(results.map((r) => r.count), [1, 1, 1, undefined]);
  t.deepEqual(results[3]!.rows, [{ _uuid: uuid, other_config: { a: 'c' }, external_ids: { owner: 'me' } }]);

  const [deleted, after] = await client.transact([
    { op: 'delete', table: 'Logical_Switch', where: byUuid },
    { op: 'select', table: 'Logical_Switch', where: [] },
  ]);
  t.is(deleted!.count, 1);
  t.deepEqual(after!.rows, []);
});

test('client - insert with a chosen uuid and a named uuid, referenced by their parent in the same transaction', async (t) => {
  const nb = await startNb(t);
  const client = await connect(t, { remote: nb.remote });
  const port1 = randomUUID();
  const sw = randomUUID();
  const results = await client.transact([
    { op: 'insert', table: 'Logical_Switch_Port', uuid: port1, row: { name: 'p1', addresses: ['00:00:00:00:00:01 10.0.0.1'] } },
    { op: 'insert', table: 'Logical_Switch_Port', uuidName: 'p2', row: { name: 'p2', addresses: 'unknown' } },
    { op: 'insert', table: 'Logical_Switch', uuid: sw, row: { name: 'sw', ports: [port1, 'p2'] } },
  ]);
  t.is(results[0]!.uuid, port1);
  t.is(results[2]!.uuid, sw);
  t.true(isUuid(results[1]!.uuid!));
  const list = await nb.nbctl('lsp-list', sw);
  t.true(list.includes(`${port1} (p1)`) && list.includes(`${results[1]!.uuid} (p2)`), list);
  t.is(await nb.nbctl('lsp-get-addresses', 'p1'), '00:00:00:00:00:01 10.0.0.1');
});

test('client - a duplicate port name fails as an OvsdbTransactionError blamed on its insert', async (t) => {
  const nb = await startNb(t);
  const client = await connect(t, { remote: nb.remote });
  await nb.nbctl('ls-add', 'sw', '--', 'lsp-add', 'sw', 'p1');
  const sw = await nb.nbctl('get', 'Logical_Switch', 'sw', '_uuid');
  const err = await t.throwsAsync(
    client.transact([
      { op: 'comment', comment: 'novanet test' },
      { op: 'insert', table: 'Logical_Switch_Port', uuidName: 'dup', row: { name: 'p1' } },
      { op: 'mutate', table: 'Logical_Switch', where: [['_uuid', '==', sw]], mutations: [['ports', 'insert', 'dup']] },
    ]),
  );
  t.true(isOvsdbTransactionError(err));
  const txErr = err as OvsdbTransactionError;
  t.is(txErr.name, 'OvsdbTransactionError');
  t.is(txErr.opIndex, 1);
  t.is(txErr.error, 'constraint violation');
  t.is(txErr.operation?.op, 'insert');
  t.regex(
    txErr.message,
    /^transaction failed at op 1 \(insert Logical_Switch_Port\): constraint violation: Transaction causes multiple rows in "Logical_Switch_Port" table to have identical values \(p1\) for index on column "name"/,
  );
  t.is(await nb.nbctl('--bare', '--columns=name', 'list', 'Logical_Switch_Port'), 'p1', 'nothing was committed');
});

test('client - referential integrity and per-operation errors carry the failing operation', async (t) => {
  const nb = await startNb(t);
  const client = await connect(t, { remote: nb.remote });
  const [{ uuid: sw } = {}] = await client.transact([{ op: 'insert', table: 'Logical_Switch', row: { name: 'sw' } }]);

  const dangling = await t.throwsAsync(
    client.transact([{ op: 'update', table: 'Logical_Switch', where: [['_uuid', '==', sw!]], row: { ports: [randomUUID()] } }]),
  );
  t.like(dangling as OvsdbTransactionError, { opIndex: 0, error: 'referential integrity violation' });
  t.regex(dangling!.message, /^transaction failed at op 0 \(update Logical_Switch\): referential integrity violation: .*references nonexistent row/);

  const range = await t.throwsAsync(
    client.transact([
      { op: 'select', table: 'ACL', where: [] },
      { op: 'insert', table: 'ACL', row: { priority: 99_999, direction: 'to-lport', match: 'ip', action: 'drop' } },
    ]),
  );
  t.like(range as OvsdbTransactionError, { opIndex: 1, error: 'constraint violation' });
  t.regex(range!.message, /^transaction failed at op 1 \(insert ACL\): constraint violation: .*99999/);

  const waited = await t.throwsAsync(
    client.transact([{ op: 'wait', table: 'Logical_Switch', where: [], columns: ['name'], until: '==', rows: [{ name: 'other' }], timeout: 0 }]),
  );
  t.like(waited as OvsdbTransactionError, { opIndex: 0, error: 'timed out' });

  await nb.nbctl('lsp-add', 'sw', 'p');
  const referenced = await t.throwsAsync(client.transact([{ op: 'delete', table: 'Logical_Switch_Port', where: [['name', '==', 'p']] }]));
  t.like(referenced as OvsdbTransactionError, { opIndex: 1, error: 'referential integrity violation', operation: undefined });
  t.regex(referenced!.message, /^transaction failed at commit: referential integrity violation: cannot delete Logical_Switch_Port row/);
  t.is(await nb.nbctl('--bare', '--columns=name', 'list', 'Logical_Switch'), 'sw');
});

test('client - operations that do not fit the schema throw before anything is sent', async (t) => {
  const nb = await startNb(t);
  const client = await connect(t, { remote: nb.remote });
  const bad = [
    { op: 'insert', table: 'No_Such_Table', row: {} },
    { op: 'insert', table: 'Logical_Switch', row: { nme: 'x' } },
    { op: 'update', table: 'Logical_Switch', where: [['nam', '==', 'x']], row: {} },
    { op: 'insert', table: 'ACL', row: { priority: 'high' } },
    { op: 'insert', table: 'Logical_Switch', row: {}, uuidName: 'has-hyphen' },
    { op: 'insert', table: 'Logical_Switch', row: {}, uuid: 'not-a-uuid' },
  ] as const;
  for (const op of bad) {
    const err = await t.throwsAsync(client.transact([{ op: 'insert', table: 'Logical_Switch', row: { name: 'first' } }, op]));
    t.true(isOvsdbSchemaError(err), err?.message);
  }
  t.regex((await t.throwsAsync(client.transact([bad[1]])))!.message, /unknown column "nme" in table Logical_Switch/);
  t.is(await nb.nbctl('--bare', '--columns=name', 'list', 'Logical_Switch'), '');
});

test('client - monitor: initial dump, live updates made by ovn-nbctl, own writes visible when transact resolves', async (t) => {
  const nb = await startNb(t);
  await nb.nbctl('ls-add', 'sw0', '--', 'lsp-add', 'sw0', 'port0');
  const client = await connect(t, { remote: nb.remote });
  const batches: (readonly RowUpdate[])[] = [];
  client.onUpdate((updates) => batches.push(updates));

  await client.monitor({ Logical_Switch: {}, Logical_Switch_Port: { columns: ['name', 'addresses', 'external_ids'] } });
  t.is(batches.length, 1, 'one call for the initial dump');
  t.deepEqual(batches[0]!.map((u) => [u.table, u.new?.['name'], u.old]).sort(), [
    ['Logical_Switch', 'sw0', undefined],
    ['Logical_Switch_Port', 'port0', undefined],
  ]);
  const [port0] = client.cache.table('Logical_Switch_Port').values();
  t.deepEqual(port0, { _uuid: port0!._uuid, name: 'port0', addresses: [], external_ids: {} }, 'only monitored columns, defaults filled in');
  const [sw0] = client.cache.table('Logical_Switch').values();
  t.deepEqual(sw0!['ports'], [port0!._uuid]);
  client.cache.addIndex('Logical_Switch_Port', 'name', (row) => String(row['name']));

  batches.length = 0;
  await nb.nbctl('lsp-add', 'sw0', 'port1', '--', 'lsp-set-addresses', 'port1', '00:00:00:00:00:02 10.0.0.2');
  const port1 = await waitFor(() => client.cache.lookup('Logical_Switch_Port', 'name', 'port1')[0], 'port1 in the cache');
  t.deepEqual(port1['addresses'], ['00:00:00:00:00:02 10.0.0.2']);
  t.deepEqual([...(client.cache.get('Logical_Switch', sw0!._uuid)!['ports'] as string[])].sort(), [port0!._uuid, port1._uuid].sort());
  const changed = batches.flat();
  t.deepEqual(changed.find((u) => u.table === 'Logical_Switch')?.old, sw0, 'a modify carries the old row');

  await nb.nbctl('set', 'Logical_Switch', 'sw0', 'external_ids:owner=x', 'external_ids:k=v');
  await nb.nbctl('remove', 'Logical_Switch', 'sw0', 'external_ids', 'k');
  await nb.nbctl('lsp-del', 'port0');
  await waitFor(() => client.cache.table('Logical_Switch_Port').size === 1, 'port0 gone');
  t.deepEqual(client.cache.get('Logical_Switch', sw0!._uuid)!['external_ids'], { owner: 'x' });
  t.deepEqual(client.cache.get('Logical_Switch', sw0!._uuid)!['ports'], [port1._uuid]);
  t.true(batches.flat().some((u) => u.uuid === port0!._uuid && u.old !== undefined && u.new === undefined), 'delete reported with old only');
  t.deepEqual(client.cache.lookup('Logical_Switch_Port', 'name', 'port0'), []);

  const [mine] = await client.transact([{ op: 'insert', table: 'Logical_Switch', row: { name: 'mine' } }]);
  t.is(client.cache.get('Logical_Switch', mine!.uuid!)?.['name'], 'mine', 'the update precedes the reply');
  t.deepEqual(names(client.cache.table('Logical_Switch').values()), ['mine', 'sw0']);
  t.deepEqual(names(client.cache.table('Logical_Switch_Port').values()), ['port1']);

  await t.throwsAsync(client.monitor({ Logical_Switch: {} }), { message: /table Logical_Switch is already monitored/ });
  t.true(isOvsdbSchemaError(await t.throwsAsync(client.monitor({ Nope: {} }))));
  t.true(isOvsdbSchemaError(await t.throwsAsync(client.monitor({ ACL: { columns: ['nope'] } }))));
});

test('client - a monitor where condition caches only the rows that match', async (t) => {
  const nb = await startNb(t);
  const client = await connect(t, { remote: nb.remote });
  await nb.nbctl('ls-add', 'a', '--', 'set', 'Logical_Switch', 'a', 'external_ids:owner=x');
  await nb.nbctl('ls-add', 'b', '--', 'set', 'Logical_Switch', 'b', 'external_ids:owner=y');
  const seen: RowUpdate[] = [];
  client.onUpdate((updates) => seen.push(...updates));
  await client.monitor({ Logical_Switch: { columns: ['name', 'external_ids'], where: [['external_ids', 'includes', { owner: 'x' }]] } });
  t.deepEqual(names(client.cache.table('Logical_Switch').values()), ['a']);

  await nb.nbctl('set', 'Logical_Switch', 'b', 'external_ids:owner=x');
  await waitFor(() => names(client.cache.table('Logical_Switch').values()).length === 2, 'b to match');
  await nb.nbctl('remove', 'Logical_Switch', 'a', 'external_ids', 'owner');
  await nb.nbctl('ls-add', 'c');
  await waitFor(() => names(client.cache.table('Logical_Switch').values()).join() === 'b', 'a to stop matching');
  t.deepEqual(
    seen.map((u) => [u.new?.['name'] ?? u.old?.['name'], u.old ? (u.new ? 'modify' : 'delete') : 'insert']),
    [
      ['a', 'insert'],
      ['b', 'insert'],
      ['a', 'delete'],
    ],
  );
});

test('client - integers beyond 2^53 round-trip as bigint', async (t) => {
  const nb = await startNb(t);
  const client = await connect(t, { remote: nb.remote });
  const big = 2n ** 60n + 1n;
  await client.monitor({ NB_Global: { columns: ['nb_cfg', 'external_ids'] } });
  const [row] = await client.transact([{ op: 'insert', table: 'NB_Global', row: { nb_cfg: big } }]);
  t.is(await nb.nbctl('get', 'NB_Global', '.', 'nb_cfg'), big.toString());
  t.is(client.cache.get('NB_Global', row!.uuid!)?.['nb_cfg'], big);
  const [selected] = await client.transact([{ op: 'select', table: 'NB_Global', where: [['nb_cfg', '==', big]], columns: ['nb_cfg'] }]);
  t.deepEqual(selected!.rows, [{ _uuid: row!.uuid!, nb_cfg: big }]);
});

test('client - the first connect rejects when nothing listens', async (t) => {
  const err = await t.throwsAsync(OvsdbClient.connect({ remote: 'unix:/nonexistent/nb.sock' }));
  t.true(isOvsdbDisconnectedError(err));
  await t.throwsAsync(OvsdbClient.connect({ remote: 'punix:/x' }), { message: /unsupported remote/ });
});

test('client - a large initial dump (20k ports, several MB) lands in the cache', async (t) => {
  const nb = await startNb(t);
  const writer = await connect(t, { remote: nb.remote });
  const count = 20_000;
  const pad = 'ü'.repeat(100);
  const ports = Array.from({ length: count }, (_, i) => ({
    op: 'insert' as const,
    table: 'Logical_Switch_Port',
    uuidName: `p${i}`,
    row: { name: `port-${i}`, addresses: [`fa:16:3e:00:${(i >> 8) & 0xff}:${i & 0xff} 10.1.${i >> 8}.${i & 0xff}`], external_ids: { pad, i: String(i) } },
  }));
  await writer.transact([...ports, { op: 'insert', table: 'Logical_Switch', row: { name: 'big', ports: ports.map((p) => p.uuidName) } }]);

  const reader = await connect(t, { remote: nb.remote });
  let batch: readonly RowUpdate[] = [];
  reader.onUpdate((updates) => (batch = updates));
  await reader.monitor({ Logical_Switch: {}, Logical_Switch_Port: {} });
  t.is(reader.cache.table('Logical_Switch_Port').size, count);
  t.is(batch.length, count + 1);
  const [big] = reader.cache.table('Logical_Switch').values();
  t.is((big!['ports'] as string[]).length, count);
  const last = [...reader.cache.table('Logical_Switch_Port').values()].find((r) => r['name'] === `port-${count - 1}`);
  t.deepEqual(last?.['external_ids'], { pad, i: String(count - 1) });
});

test('client - a string that is not well-formed Unicode is refused before sending; the session stays up', async (t) => {
  const nb = await startNb(t);
  const client = await connect(t, { remote: nb.remote });
  const states: string[] = [];
  const dispose = client.onConnection((state) => states.push(state));
  t.teardown(dispose);
  for (const name of ['\ud800', 'x\udfff', 'bad\ud800key']) {
    const err = await t.throwsAsync(client.transact([{ op: 'insert', table: 'Logical_Switch', row: { name } }]));
    t.true(isOvsdbEncodingError(err), String(err));
  }
  await t.throwsAsync(client.transact([{ op: 'insert', table: 'Logical_Switch', row: { name: 'ok', external_ids: { '\ud800': 'v' } } }]), { instanceOf: OvsdbEncodingError });
  // Positive control on the same session: a well-formed name (astral characters included) goes through.
  const [inserted] = await client.transact([{ op: 'insert', table: 'Logical_Switch', row: { name: 'good-\u{1f600}' } }]);
  t.true(isUuid(inserted!.uuid!));
  t.is(await nb.nbctl('--bare', '--columns=name', 'list', 'Logical_Switch', inserted!.uuid!), 'good-\u{1f600}');
  t.deepEqual(states, [], 'the session never dropped');
  t.true(client.connected);
});
