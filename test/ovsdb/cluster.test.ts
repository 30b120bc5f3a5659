import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { OvsdbClient } from '../../src/ovsdb/mod.js';
import { startNorthboundCluster } from '../../src/sandbox/mod.js';
import type { NorthboundCluster } from '../../src/sandbox/mod.js';

async function cluster(t: ExecutionContext): Promise<NorthboundCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'novanet-ovsdb-cl-'));
  const stops: (() => Promise<unknown>)[] = [() => rm(dir, { recursive: true, force: true })];
  t.teardown(async () => { for (const stop of stops.reverse()) await stop().catch(() => undefined); });
  const started = await startNorthboundCluster({ dir: join(dir, 'nb') });
  stops.push(() => started.stop());
  return started;
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<number> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > timeoutMs) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
  return Date.now() - start;
}

const insertSwitch = (name: string) => [{ op: 'insert' as const, table: 'Logical_Switch', row: { name } }];

test('client - with the members of a cluster it talks to the leader, whichever remote comes first', async (t) => {
  const nb = await cluster(t);
  const leader = await nb.leader();
  // The leader last in the list: the client skips the followers.
  const remotes = [...nb.members.filter((m) => m !== leader).map((m) => m.remote), leader.remote].join(',');
  const client = await OvsdbClient.connect({ remote: remotes });
  t.teardown(() => client.close());
  t.is(client.remote, leader.remote);
  await client.transact(insertSwitch('a'));
  t.is(await nb.nbctl('--bare', '--columns=name', 'find', 'Logical_Switch', 'name=a'), 'a');
  // Without leaderOnly it takes the first member that answers.
  const any = await OvsdbClient.connect({ remote: remotes, leaderOnly: false });
  t.teardown(() => any.close());
  t.is(any.remote, nb.members.find((m) => m !== leader)!.remote);
});

test('client - the leader killed: it moves to the new leader, and writes go on', async (t) => {
  const nb = await cluster(t);
  const client = await OvsdbClient.connect({ remote: nb.remote, reconnectDelayMs: { min: 50, max: 500 } });
  t.teardown(() => client.close());
  const leader = await nb.leader();
  t.is(client.remote, leader.remote);
  await leader.kill();
  // An election can settle on one member and then move again: wait until the client is on the leader that stays.
  let next = leader;
  const ms = await until(async () => {
    next = await nb.leader();
    return client.connected && client.remote === next.remote;
  });
  t.not(next, leader);
  await client.transact(insertSwitch('after-kill'));
  t.log(`reconnected to the new leader ${ms} ms after the kill`);
});

test('client - its member stops leading while the socket lives: the _Server database says so and it moves', async (t) => {
  const nb = await cluster(t);
  const warnings: string[] = [];
  const logger = { debug: () => undefined, info: () => undefined, error: () => undefined, warn: (_: object, msg?: string) => { warnings.push(msg ?? ''); } };
  const client = await OvsdbClient.connect({ remote: nb.remote, reconnectDelayMs: { min: 50, max: 500 }, logger });
  t.teardown(() => client.close());
  const leader = await nb.leader();
  let dropped = false;
  client.onConnection((state) => { if (state === 'disconnected') dropped = true; });
  // The leader hands over and leaves the cluster; its process and the client's socket stay up.
  await leader.appctl('cluster/leave', 'OVN_Northbound');
  let next = leader;
  await until(async () => {
    next = await nb.leader();
    return dropped && client.connected && client.remote === next.remote;
  });
  t.not(next, leader);
  t.true(leader.running, 'the old leader still runs');
  t.true(warnings.some((w) => w.includes('no longer the cluster leader')), 'the client left because of the _Server row, not a dead socket');
  await client.transact(insertSwitch('after-leave'));
});
