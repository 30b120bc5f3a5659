// monitor_cond_since from a saved cache, against real ovsdb-servers: a one-member raft cluster
// (ovsdb-server keeps a transaction history only for clustered databases) and a standalone one.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deserialize } from 'node:v8';
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { OvsdbClient } from '../../src/ovsdb/mod.js';
import type { Cache, OvsdbClientOptions, Row, RowUpdate } from '../../src/ovsdb/mod.js';
import { encodeSavedCache } from '../../src/ovsdb/saved-cache.js';
import type { SavedMonitor } from '../../src/ovsdb/saved-cache.js';
import { startNorthboundCluster } from '../../src/sandbox/mod.js';
import type { NorthboundCluster } from '../../src/sandbox/mod.js';
import { startNb } from './fixture.js';

async function cluster(t: ExecutionContext, name = 'nb'): Promise<NorthboundCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'novanet-ovsdb-since-'));
  const started = await startNorthboundCluster({ dir: join(dir, name), members: 1 });
  t.teardown(async () => {
    await started.stop();
    await rm(dir, { recursive: true, force: true });
  });
  return started;
}

const TABLES = { Logical_Switch: {}, Logical_Switch_Port: {}, Port_Group: {} };

interface Monitored {
  readonly client: OvsdbClient;
  /** Every update listeners were told of, in order. */
  readonly heard: RowUpdate[];
  readonly logs: string[];
}

async function monitored(t: ExecutionContext, options: OvsdbClientOptions, saved?: Uint8Array): Promise<Monitored & { restored: ReturnType<OvsdbClient['restoreCache']> | undefined }> {
  const logs: string[] = [];
  const log = (_o: object, msg?: string) => { logs.push(msg ?? ''); };
  const client = await OvsdbClient.connect({ ...options, logger: { debug: log, info: log, warn: log, error: log } });
  t.teardown(() => client.close());
  const restored = saved && client.restoreCache(saved);
  const heard: RowUpdate[] = [];
  client.onUpdate((updates) => heard.push(...updates));
  await client.monitor(TABLES);
  return { client, heard, logs, restored };
}

/** The cache's rows by table, as plain data (large sets sorted: their order is the cache's own). */
function contents(cache: Cache): Record<string, Record<string, Row>> {
  const out: Record<string, Record<string, Row>> = {};
  for (const table of Object.keys(TABLES)) {
    out[table] = Object.fromEntries([...cache.table(table)].map(([uuid, row]) => [uuid, Object.fromEntries(Object.entries(row).map(([c, v]) => [c, Array.isArray(v) ? [...v].sort() : v])) as Row]));
  }
  return out;
}

/**
 * sw1 with ports p0..p4, three of them in the group pg, an empty sw2, and sw0 with 40 ports as
 * ballast: ovsdb-server trims its history once it holds more atoms than the database.
 */
async function fill(nb: { nbctl(...args: string[]): Promise<string> }): Promise<void> {
  const ballast = Array.from({ length: 40 }, (_, i) => ['--', 'lsp-add', 'sw0', `b${i}`, '--', 'lsp-set-addresses', `b${i}`, `fa:16:3e:00:01:${(i + 16).toString(16)} 10.1.0.${i + 10}`]).flat();
  await nb.nbctl('ls-add', 'sw0', ...ballast);
  await nb.nbctl('ls-add', 'sw1', '--', 'ls-add', 'sw2');
  for (let i = 0; i < 5; i++) await nb.nbctl('lsp-add', 'sw1', `p${i}`, '--', 'lsp-set-addresses', `p${i}`, `fa:16:3e:00:00:0${i} 10.0.0.${i + 10}`);
  await nb.nbctl('pg-add', 'pg', 'p0', 'p1', 'p2');
}

/** The rows `fill` makes in the monitored tables. */
const FILLED = 3 + 45 + 1;

test('since - a cache saved and restored resumes with found=true: rows changed, added and deleted while away are in it, exactly as a full dump has them', async (t) => {
  const nb = await cluster(t);
  await fill(nb);
  const first = await monitored(t, { remote: nb.remote });
  const saved = first.client.saveCache();
  t.truthy(saved);
  await first.client.close();
  // Away: an operator's edits of every kind.
  await nb.nbctl('set', 'Logical_Switch_Port', 'p1', 'external_ids:edited=yes');
  await nb.nbctl('lsp-del', 'p2');
  await nb.nbctl('lsp-add', 'sw2', 'q0');
  await nb.nbctl('pg-set-ports', 'pg', 'p0', 'q0');
  await nb.nbctl('lsp-del', 'p4');
  await nb.nbctl('ls-add', 'sw9', '--', 'ls-del', 'sw9');
  const resumed = await monitored(t, { remote: nb.remote }, saved);
  t.like(resumed.restored, { rows: FILLED });
  t.true(resumed.logs.includes('ovsdb: the restored cache resumed from its transaction'), JSON.stringify(resumed.logs));
  const fresh = await monitored(t, { remote: nb.remote });
  t.deepEqual(contents(resumed.client.cache), contents(fresh.client.cache));
  t.is(resumed.client.cache.table('Logical_Switch_Port').size, 44);
  t.deepEqual([...resumed.client.cache.table('Logical_Switch_Port').values()].find((row) => row['name'] === 'p1')?.['external_ids'], { edited: 'yes' });
  // Laid out as a dump's rows: every monitored column, in the same order; the group's members are rows the cache holds.
  for (const table of Object.keys(TABLES)) {
    for (const [uuid, row] of resumed.client.cache.table(table)) t.deepEqual(Object.keys(row), Object.keys(fresh.client.cache.get(table, uuid)!));
  }
  // Values the cache shares are shared again: a port's addresses and port security are one array in both.
  for (const [uuid, row] of resumed.client.cache.table('Logical_Switch_Port')) {
    t.is(row['addresses'] === row['port_security'], fresh.client.cache.get('Logical_Switch_Port', uuid)!['addresses'] === fresh.client.cache.get('Logical_Switch_Port', uuid)!['port_security']);
  }
  const group = [...resumed.client.cache.table('Port_Group').values()][0]!;
  t.is((group['ports'] as string[]).length, 2);
  for (const member of group['ports'] as string[]) t.true(member === resumed.client.cache.get('Logical_Switch_Port', member)!._uuid);
  // Listeners heard of every row as a dump's reader does: the restored rows and the changes, in one batch.
  const rows = new Map<string, Row | undefined>();
  for (const u of resumed.heard) rows.set(`${u.table}/${u.uuid}`, u.new);
  t.deepEqual([...rows].filter(([, row]) => row).map(([key]) => key).sort(), Object.entries(contents(fresh.client.cache)).flatMap(([table, byUuid]) => Object.keys(byUuid).map((uuid) => `${table}/${uuid}`)).sort());
  // And it follows on: a later change arrives as an update3, and a save resumes from it.
  await resumed.client.transact([{ op: 'insert', table: 'Logical_Switch', row: { name: 'sw3' } }]);
  const again = await monitored(t, { remote: nb.remote }, resumed.client.saveCache());
  t.true(again.logs.includes('ovsdb: the restored cache resumed from its transaction'), JSON.stringify([again.restored, again.logs]));
  t.deepEqual(contents(again.client.cache), contents(resumed.client.cache));
});

test('since - a transaction unknown to the server gets the full dump, and the cache is exactly the dump, not the restored rows', async (t) => {
  const nb = await cluster(t);
  await fill(nb);
  const first = await monitored(t, { remote: nb.remote });
  const saved = Buffer.from(first.client.saveCache()!);
  await first.client.close();
  await nb.nbctl('lsp-del', 'p3');
  // Past the server's history (~100 transactions): the saved transaction is forgotten.
  for (let i = 0; i < 120; i++) await nb.nbctl('set', 'Logical_Switch', 'sw2', `external_ids:n=${i}`);
  const resumed = await monitored(t, { remote: nb.remote }, saved);
  t.like(resumed.restored, { rows: FILLED });
  t.true(resumed.logs.includes('ovsdb: the restored cache\'s transaction is not in the server\'s history; read the full dump instead'));
  const fresh = await monitored(t, { remote: nb.remote });
  t.deepEqual(contents(resumed.client.cache), contents(fresh.client.cache));
  t.is(resumed.client.cache.table('Logical_Switch_Port').size, 44);
});

test('since - a cache of another database, schema or encoding is not used; a standalone Northbound keeps monitor_cond', async (t) => {
  const a = await cluster(t, 'a');
  const b = await cluster(t, 'b');
  await fill(a);
  const first = await monitored(t, { remote: a.remote });
  const saved = first.client.saveCache()!;
  const other = await OvsdbClient.connect({ remote: b.remote });
  t.teardown(() => other.close());
  t.regex((other.restoreCache(saved) as { reason: string }).reason, /of cluster .* connected to OVN_Northbound of cluster/);
  const same = await OvsdbClient.connect({ remote: a.remote });
  t.teardown(() => same.close());
  const corrupt = Buffer.from(saved);
  corrupt[corrupt.length - 3]! ^= 1;
  t.deepEqual(same.restoreCache(corrupt), { reason: 'checksum mismatch' });
  t.deepEqual(same.restoreCache(Buffer.from('garbage')), { reason: 'no cache header' });
  // Restored for another request (other columns): that monitor gets the full dump.
  t.like(same.restoreCache(saved), { rows: FILLED });
  await same.monitor({ Logical_Switch: { columns: ['name'] } });
  t.is(same.cache.table('Logical_Switch').size, 3);

  const standalone = await startNb(t);
  await fill(standalone);
  const plain = await monitored(t, { remote: standalone.remote });
  t.is(plain.client.saveCache(), undefined);
  t.regex((plain.client.restoreCache(saved) as { reason: string }).reason, /monitors are already established/);
  const fresh = await OvsdbClient.connect({ remote: standalone.remote });
  t.teardown(() => fresh.close());
  t.regex((fresh.restoreCache(saved) as { reason: string }).reason, /not clustered/);
});

test('since - a reconnect to a clustered Northbound resumes: only what changed while away comes, and the cache equals a fresh dump', async (t) => {
  const nb = await cluster(t);
  await fill(nb);
  const m = await monitored(t, { remote: nb.remote, reconnectDelayMs: { min: 50, max: 200 } });
  const leader = await nb.leader();
  await leader.kill();
  await leader.start();
  await nb.nbctl('lsp-del', 'p4');
  const heardBefore = m.heard.length;
  for (let i = 0; i < 400 && !(m.client.connected && m.client.cache.table('Logical_Switch_Port').size === 44); i++) await new Promise((r) => setTimeout(r, 50));
  const fresh = await monitored(t, { remote: nb.remote });
  t.deepEqual(contents(m.client.cache), contents(fresh.client.cache));
  // The reconnect's reply was the change, not 8 rows compared again.
  t.true(m.heard.length - heardBefore <= 2, `${m.heard.length - heardBefore} updates`);
});

test('since - a restored cache the changes since its transaction do not fit (a row they modify is not in it) is dropped for the full dump', async (t) => {
  const nb = await cluster(t);
  await fill(nb);
  const first = await monitored(t, { remote: nb.remote });
  const saved = first.client.saveCache()!;
  await first.client.close();
  // The same identity and transaction, but without p1's row: as a cache that lost track.
  const header = Buffer.from(saved).toString('utf8', 0, Buffer.from(saved).indexOf(0x0a)).split(' ');
  const monitors = deserialize(Buffer.from(saved).subarray(Buffer.from(saved).indexOf(0x0a) + 1)) as SavedMonitor[];
  const p1 = [...first.client.cache.table('Logical_Switch_Port').values()].find((row) => row['name'] === 'p1')!._uuid;
  const lacking = monitors.map((m) => ({ ...m, tables: m.tables.map((table) => ({ ...table, rows: table.rows.filter((values) => m.strings[values[0] as number] !== p1) })) }));
  const bytes = encodeSavedCache({ database: header[2]!, cluster: header[3]!, schema: header[4]! }, lacking);
  await nb.nbctl('set', 'Logical_Switch_Port', 'p1', 'external_ids:edited=yes');
  const resumed = await monitored(t, { remote: nb.remote }, bytes);
  t.true(resumed.logs.includes('ovsdb: the changes since the cache\'s transaction modify rows it does not hold; asking for the full dump'), JSON.stringify(resumed.logs));
  const fresh = await monitored(t, { remote: nb.remote });
  t.deepEqual(contents(resumed.client.cache), contents(fresh.client.cache));
  // It goes on as any monitor: a later change arrives once.
  await nb.nbctl('set', 'Logical_Switch_Port', 'p1', 'external_ids:again=yes');
  for (let i = 0; i < 100 && resumed.client.cache.get('Logical_Switch_Port', p1)?.['external_ids']?.['again' as never] !== 'yes'; i++) await new Promise((r) => setTimeout(r, 20));
  t.like(resumed.client.cache.get('Logical_Switch_Port', p1), { external_ids: { edited: 'yes', again: 'yes' } });
});
