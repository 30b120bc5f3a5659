// A monitor's dump as it streams in (a row at a time) over a real ovsdb-server,
// with a relay in between that cuts the server's bytes into pieces, holds them, or drops the connection.
import net from 'node:net';
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { JsonStreamParser } from '../../src/ovsdb/mod.js';
import type { Json, OvsdbClient, Row, RowUpdate } from '../../src/ovsdb/mod.js';
import { connect, startNb, startRelay, waitFor } from './fixture.js';
import type { NbServer } from './fixture.js';

const TABLES = { NB_Global: {}, Logical_Switch: {}, Logical_Switch_Port: {}, Port_Group: {} } as const;

const rowsOf = (client: OvsdbClient, table: string): Row[] => [...client.cache.table(table).values()].sort((a, b) => a._uuid.localeCompare(b._uuid));
const names = (client: OvsdbClient, table: string): string[] => rowsOf(client, table).map((r) => String(r['name'])).sort();

/** Ports with multibyte strings and braces in their values, on two switches and in a group, and a bigint beside them. */
async function populate(t: ExecutionContext, nb: NbServer, ports: number): Promise<bigint> {
  const writer = await connect(t, { remote: nb.remote });
  const big = 2n ** 60n + 7n;
  const lsps = Array.from({ length: ports }, (_, i) => ({
    op: 'insert' as const,
    table: 'Logical_Switch_Port',
    uuidName: `p${i}`,
    row: { name: `port-${i}-ünï😀`, addresses: [`fa:16:3e:00:00:${(i % 256).toString(16).padStart(2, '0')} 10.0.0.${i % 256}`], external_ids: { quote: '"}{][\\', i: String(i) } },
  }));
  await writer.transact([
    ...lsps,
    { op: 'insert', table: 'Logical_Switch', row: { name: 'even', ports: lsps.filter((_, i) => i % 2 === 0).map((p) => p.uuidName) } },
    { op: 'insert', table: 'Logical_Switch', row: { name: 'odd', ports: lsps.filter((_, i) => i % 2 === 1).map((p) => p.uuidName) } },
    { op: 'insert', table: 'Port_Group', row: { name: 'all', ports: lsps.map((p) => p.uuidName) } },
    { op: 'insert', table: 'NB_Global', row: { nb_cfg: big, options: { k: 'v' } } },
  ]);
  return big;
}

test('dump stream - a dump that reaches the client a byte at a time lands as a direct read has it, bigints and multibyte strings whole', async (t) => {
  const nb = await startNb(t);
  const big = await populate(t, nb, 40);
  const relay = await startRelay(t, nb);
  const direct = await connect(t, { remote: nb.remote });
  await direct.monitor(TABLES);
  const relayed = await connect(t, { remote: relay.remote });
  relay.pieceBytes = 1;
  await relayed.monitor(TABLES);
  for (const table of Object.keys(TABLES)) t.deepEqual(rowsOf(relayed, table), rowsOf(direct, table), table);
  t.is(rowsOf(relayed, 'NB_Global')[0]!['nb_cfg'], big);
  t.is(rowsOf(relayed, 'Logical_Switch_Port').length, 40);
  t.deepEqual(rowsOf(relayed, 'Logical_Switch_Port').find((r) => r['name'] === 'port-7-ünï😀')!['external_ids'], { quote: '"}{][\\', i: '7' });
  // Live updates still arrive a byte at a time, after the dump.
  await nb.nbctl('ls-add', 'later');
  await waitFor(() => names(relayed, 'Logical_Switch').includes('later'), 'the update after the dump');
});

test('dump stream - a connection lost in the middle of a dump: what was read of it is dropped, and the next dump is swapped in whole', async (t) => {
  const nb = await startNb(t);
  await populate(t, nb, 2000);
  const relay = await startRelay(t, nb);
  const client = await connect(t, { remote: relay.remote, reconnectDelayMs: { min: 20, max: 100 } });
  await client.monitor(TABLES);
  const before = names(client, 'Logical_Switch_Port');
  const batches: (readonly RowUpdate[])[] = [];
  client.onUpdate((updates) => batches.push(updates));
  const seen = new Set<number>();
  let watching = true;
  const watch = (): void => {
    seen.add(client.cache.table('Logical_Switch_Port').size);
    if (watching) setImmediate(watch);
  };
  watch();

  // Changed while the client hears nothing, so only the next dump can tell it.
  relay.held = true;
  await nb.nbctl('--', '--if-exists', 'lsp-del', 'port-0-ünï😀', '--', 'lsp-add', 'even', 'fresh');
  relay.cut();
  // The reconnect's dump (~1 MB) is cut off after 200 kB of it.
  relay.cutAfter = 200_000;
  relay.held = false;
  await waitFor(() => client.connected && relay.connections === 3 && relay.cutAfter === undefined, 'the second reconnect', 30_000);
  watching = false;

  const after = names(client, 'Logical_Switch_Port');
  t.deepEqual(after, [...before.filter((n) => n !== 'port-0-ünï😀'), 'fresh'].sort());
  t.deepEqual([...seen].sort(), [2000], 'the cache never held part of a dump');
  t.deepEqual(batches.map((b) => b.filter((u) => u.table === 'Logical_Switch_Port').map((u) => (u.new ? `+${String(u.new['name'])}` : `-${String(u.old!['name'])}`)).sort()), [['+fresh', '-port-0-ünï😀']], 'one batch: the difference');
  t.deepEqual(after, (await nb.nbctl('--bare', '--columns=name', 'list', 'Logical_Switch_Port')).split(/\s+/).filter((n) => n !== '').sort());
});

test('dump stream - a notification that comes while the dump streams in is applied with it, in one step', async (t) => {
  const nb = await startNb(t);
  await populate(t, nb, 2000);
  const relay = await startRelay(t, nb);
  const client = await connect(t, { remote: relay.remote });
  const batches: (readonly RowUpdate[])[] = [];
  client.onUpdate((updates) => batches.push(updates));
  // The reply (~1 MB) stops 300 kB in; a port is added meanwhile, its update2 queued behind the reply.
  relay.holdAfter = 300_000;
  const monitored = client.monitor(TABLES);
  await waitFor(() => relay.held, 'the reply held part-way');
  await nb.nbctl('lsp-add', 'odd', 'between');
  await waitFor(() => relay.notifications === 1, 'the notification behind the reply');
  relay.held = false;
  await monitored;
  await waitFor(() => batches.length > 0, 'the dump told');
  t.true(names(client, 'Logical_Switch_Port').includes('between'));
  const odd = rowsOf(client, 'Logical_Switch').find((r) => r['name'] === 'odd')!;
  const between = rowsOf(client, 'Logical_Switch_Port').find((r) => r['name'] === 'between')!;
  t.true((odd['ports'] as string[]).includes(between._uuid));
  t.is(batches.length, 1, 'the dump and the notification are one step for listeners');
  t.is(batches[0]!.filter((u) => u.table === 'Logical_Switch_Port').length, 2001);
});

test('dump stream - ovsdb-server\'s own reply bytes, split at every offset, hand out the rows a whole parse has', async (t) => {
  const nb = await startNb(t);
  await populate(t, nb, 12);
  const socket = net.createConnection({ path: nb.remote.slice('unix:'.length) });
  t.teardown(() => socket.destroy());
  const chunks: Buffer[] = [];
  const whole = new Promise<Json>((resolve) => {
    const parser = new JsonStreamParser(resolve);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      parser.push(chunk);
    });
  });
  const tables = Object.fromEntries(Object.keys(TABLES).map((table) => [table, [{}]]));
  socket.write(JSON.stringify({ method: 'monitor_cond', params: ['OVN_Northbound', 'm', tables], id: 3 }));
  const reply = (await whole) as { result: Record<string, Record<string, Json>> };
  const expected = Object.entries(reply.result).flatMap(([table, rows]) => Object.entries(rows).map(([uuid, change]) => [table, uuid, change]));
  t.true(expected.length > 12 && expected.some(([table]) => table === 'NB_Global'));
  const bytes = Buffer.concat(chunks);
  for (let at = 0; at <= bytes.length; at++) {
    const rows: [string, string, Json][] = [];
    const messages: Json[] = [];
    const parser = new JsonStreamParser((m) => messages.push(m), (id) => (id === 3 ? (table, uuid, change) => rows.push([table, uuid, change]) : undefined));
    parser.push(bytes.subarray(0, at));
    parser.push(bytes.subarray(at));
    if (JSON.stringify(rows, bigints) !== JSON.stringify(expected, bigints) || JSON.stringify(messages) !== '[{"id":3,"result":{},"error":null}]') return t.fail(`split at ${at}`);
  }
  t.pass();
});

const bigints = (_key: string, value: unknown): unknown => (typeof value === 'bigint' ? `${value}n` : value);

test('dump stream - a notification that came while a monitor request failed is applied, not lost with it', async (t) => {
  const nb = await startNb(t);
  const relay = await startRelay(t, nb);
  const client = await connect(t, { remote: relay.remote });
  await nb.nbctl('ls-add', 'one');
  await client.monitor({ Logical_Switch: { columns: ['name'] } });
  relay.held = true;
  // Behind the relay: the switch's update2, then the refusal of a monitor whose condition the
  // server does not take ('<' on a string), so the client reads the update while that request is open.
  await nb.nbctl('ls-add', 'two');
  await waitFor(() => relay.notifications === 1, 'the notification held in the relay');
  const refused = client.monitor({ Port_Group: { columns: ['name'], where: [['name', '<', 'x']] } });
  refused.catch(() => undefined);
  await new Promise((resolve) => setTimeout(resolve, 300));
  relay.held = false;
  await t.throwsAsync(refused);
  await nb.nbctl('ls-add', 'three');
  await waitFor(() => client.cache.table('Logical_Switch').size === 3, 'the live switch after the refusal', 5000).catch(() => undefined);
  t.deepEqual([...client.cache.table('Logical_Switch').values()].map((r) => String(r['name'])).sort(), ['one', 'three', 'two']);
});
