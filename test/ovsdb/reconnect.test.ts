import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import test from 'ava';
import { isOvsdbDisconnectedError } from '../../src/ovsdb/mod.js';
import type { ConnectionState, Row, RowUpdate } from '../../src/ovsdb/mod.js';
import { connect, startNb, waitFor } from './fixture.js';

const run = promisify(execFile);
const names = (rows: Iterable<Row>): string[] => [...rows].map((r) => String(r['name'])).sort();

test('client - reconnects after the server dies, re-monitors, and reports what changed meanwhile', async (t) => {
  const nb = await startNb(t);
  await nb.nbctl('ls-add', 'keep', '--', 'ls-add', 'gone', '--', 'ls-add', 'changed');
  const client = await connect(t, { remote: nb.remote, reconnectDelayMs: { min: 20, max: 200 } });
  const states: ConnectionState[] = [];
  client.onConnection((state) => states.push(state));
  await client.monitor({ Logical_Switch: { columns: ['name', 'external_ids'] } });
  const before = new Map([...client.cache.table('Logical_Switch').values()].map((r) => [String(r['name']), r]));
  const updates: RowUpdate[] = [];
  client.onUpdate((batch) => updates.push(...batch));

  // A transaction the server holds open (a wait that cannot succeed) is pending when the server dies.
  const pending = client.transact([
    { op: 'wait', table: 'Logical_Switch', where: [['name', '==', 'keep']], columns: ['name'], until: '==', rows: [{ name: 'never' }], timeout: 60_000 },
  ]);
  await nb.stop();
  t.true(isOvsdbDisconnectedError(await t.throwsAsync(pending)));
  await waitFor(() => !client.connected, 'the client to notice');
  t.true(isOvsdbDisconnectedError(await t.throwsAsync(client.transact([{ op: 'comment', comment: 'while down' }]))));

  // Change the database file while no server runs: the client cannot have seen this.
  await run('ovsdb-tool', [
    'transact',
    nb.db,
    JSON.stringify([
      'OVN_Northbound',
      { op: 'delete', table: 'Logical_Switch', where: [['name', '==', 'gone']] },
      { op: 'update', table: 'Logical_Switch', where: [['name', '==', 'changed']], row: { external_ids: ['map', [['rev', '2']]] } },
      { op: 'insert', table: 'Logical_Switch', row: { name: 'new' } },
    ]),
  ]);
  await nb.restart();
  await waitFor(() => client.connected, 'the client to reconnect');
  t.deepEqual(states, ['disconnected', 'connected']);

  const summary = updates.map((u) => [String((u.new ?? u.old)!['name']), u.old ? (u.new ? 'modify' : 'delete') : 'insert']).sort();
  t.deepEqual(summary, [
    ['changed', 'modify'],
    ['gone', 'delete'],
    ['new', 'insert'],
  ]);
  const modified = updates.find((u) => u.new?.['name'] === 'changed')!;
  t.is(modified.old, before.get('changed'));
  t.deepEqual(modified.new!['external_ids'], { rev: '2' });
  t.is(client.cache.get('Logical_Switch', before.get('keep')!._uuid), before.get('keep'), 'unchanged rows are not reported and keep their identity');
  t.deepEqual(names(client.cache.table('Logical_Switch').values()), (await nb.nbctl('--bare', '--columns=name', 'list', 'Logical_Switch')).split(/\s+/).sort());

  // The monitor is live again, and transactions work.
  await nb.nbctl('ls-add', 'after');
  await waitFor(() => names(client.cache.table('Logical_Switch').values()).includes('after'), 'live updates after the reconnect');
  const [inserted] = await client.transact([{ op: 'insert', table: 'Logical_Switch', row: { name: 'mine' } }]);
  t.is(client.cache.get('Logical_Switch', inserted!.uuid!)?.['name'], 'mine');
});

test('client - keeps retrying with backoff while the server stays away; close() disconnects', async (t) => {
  const nb = await startNb(t);
  let failedAttempts = 0;
  const noop = (): void => {};
  const logger = { info: noop, warn: noop, error: noop, debug: (o: object) => void ('retryInMs' in o && failedAttempts++) };
  const client = await connect(t, { remote: nb.remote, reconnectDelayMs: { min: 10, max: 50 }, logger });
  const states: ConnectionState[] = [];
  client.onConnection((state) => states.push(state));
  await nb.stop();
  await waitFor(() => failedAttempts >= 5, 'several failed attempts');
  t.false(client.connected);
  await nb.restart();
  await waitFor(() => client.connected, 'the reconnect');
  t.deepEqual(states, ['disconnected', 'connected']);
  await client.close();
  t.false(client.connected);
  t.deepEqual(states, ['disconnected', 'connected', 'disconnected']);
  t.true(isOvsdbDisconnectedError(await t.throwsAsync(client.transact([]))));
});

test('client - a dump read in slices: the cache is before it or after it, never half of it, and a write that follows it is applied after it', async (t) => {
  const nb = await startNb(t);
  const writer = await connect(t, { remote: nb.remote });
  const ROWS = 3000;
  await writer.transact(Array.from({ length: ROWS }, (_, i) => ({ op: 'insert' as const, table: 'Logical_Switch', row: { name: `s${i}` } })));
  const client = await connect(t, { remote: nb.remote });
  const sizes = new Set<number>();
  let watching = true;
  const watch = (): void => {
    sizes.add(client.cache.table('Logical_Switch').size);
    if (watching) setImmediate(watch);
  };
  watch();
  const monitored = client.monitor({ Logical_Switch: { columns: ['name'] } });
  // Committed while the client reads the dump (or before it is built): either way, in the cache after it.
  await writer.transact([{ op: 'insert', table: 'Logical_Switch', row: { name: 'late' } }]);
  await monitored;
  await waitFor(() => client.cache.table('Logical_Switch').size === ROWS + 1, 'the late row');
  watching = false;
  t.deepEqual([...sizes].filter((n) => n !== 0 && n !== ROWS && n !== ROWS + 1), []);
  t.true(names(client.cache.table('Logical_Switch').values()).includes('late'));
});
