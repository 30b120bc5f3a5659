import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import test from 'ava';
import { pino } from 'pino';
import { NovanetClient } from '../../src/bus/client.js';
import { EngineConfig } from '../../src/engine/config.js';
import { startEngine } from '../../src/engine/engine.js';
import { startNatsServer, startNorthboundCluster } from '../../src/sandbox/mod.js';
import { eventually } from '../support/stack.js';
import { PortLoad, ReadyWatch, untilAnswered } from '../support/processes.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('nb cluster - the engine writes to the raft leader of a 3-member Northbound; the leader killed under load: no acknowledged command lost, every port Ready within 5 s', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'novanet-nbc-'));
  const stops: (() => Promise<unknown> | void)[] = [() => rm(dir, { recursive: true, force: true })];
  t.teardown(async () => { for (const stop of stops.reverse()) await Promise.resolve(stop()).catch(() => undefined); });
  const nats = await startNatsServer({ dir: join(dir, 'nats') });
  stops.push(() => nats.stop());
  const cluster = await startNorthboundCluster({ dir: join(dir, 'nb') });
  stops.push(() => cluster.stop());
  const config = EngineConfig.parse({ natsUrl: nats.url, ovnNb: cluster.remote, resyncIntervalMs: 30_000, logLevel: 'silent' });
  const engine = await startEngine(config, pino({ level: process.env.NOVANET_TEST_LOG ?? 'silent' }));
  stops.push(() => engine.stop());
  const leader = await cluster.leader();
  t.is(engine.reconciler.northbound.remote, leader.remote, 'the engine talks to the leader');

  const nc = await connect({ servers: nats.url });
  stops.push(() => nc.close());
  const client = new NovanetClient(nc, 'novanet', 5000);
  const scope = { org: 'nbc', project: 'p1' };
  const vpc = await untilAnswered(client, scope, 'vpc.create', { commandId: 'vpc', name: 'v' });
  // A /18: room for every port the load creates (a full subnet would be POOL_EXHAUSTED, a refusal).
  const subnet = await untilAnswered(client, scope, 'subnet.create', { commandId: 'subnet', vpcId: vpc.ok ? (vpc.result.vpc as { id: string }).id : '', name: 's', cidr: '10.0.0.0/18' });
  const subnetId = subnet.ok ? (subnet.result.subnet as { id: string }).id : '';
  const watch = await ReadyWatch.start(nc, scope);
  stops.push(() => watch.stop());
  const load = new PortLoad(client, scope, subnetId, 'load');
  load.start(4);
  stops.push(() => load.stop());

  await sleep(2000);
  const killedAt = Date.now();
  await leader.kill();
  await sleep(3000);
  await load.stop();
  const newLeader = await cluster.leader();
  t.not(newLeader.index, leader.index);

  t.deepEqual(load.refused, [], 'no command refused');
  const beforeKill = load.acked.filter((p) => p.at <= killedAt);
  const afterKill = load.acked.filter((p) => p.at > killedAt);
  t.true(beforeKill.length > 0 && afterKill.length > 0, 'commands were acknowledged before and after the kill');
  await eventually(() => watch.notReadyBy(load.acked, Number.POSITIVE_INFINITY).length === 0, 30_000, 'every acknowledged port Ready').catch(() => undefined);
  t.deepEqual(watch.notReadyBy(load.acked, Number.POSITIVE_INFINITY).map((p) => p.id), [], 'every acknowledged port is Ready');
  const readyAfterKill = Math.max(0, ...beforeKill.map((p) => (watch.readyAt.get(p.id)?.at ?? Number.POSITIVE_INFINITY) - killedAt));
  const latencyAfterKill = Math.max(0, ...afterKill.map((p) => (watch.readyAt.get(p.id)?.at ?? Number.POSITIVE_INFINITY) - p.at));
  const firstAckedAfter = Math.min(...afterKill.map((p) => p.at)) - killedAt;

  // Nothing acknowledged is missing from the Northbound (read through the new leader).
  const lsps = JSON.parse(await cluster.nbctl('--format=json', '--columns=name', 'find', 'Logical_Switch_Port', 'external_ids:novanet\\:kind=port')) as { data: [string][] };
  const names = new Set(lsps.data.map(([name]) => name));
  t.deepEqual(load.acked.filter((p) => !names.has(p.id)).map((p) => p.id), [], 'every acknowledged port is in the Northbound');
  t.is(engine.reconciler.northbound.remote, newLeader.remote, 'the engine followed the new leader');

  t.log(`leader nb${leader.index + 1} killed; nb${newLeader.index + 1} leads; ${load.acked.length} ports acknowledged (${afterKill.length} after the kill, the first ${firstAckedAfter} ms after it)`);
  t.log(`ports acknowledged before the kill all Ready ${readyAfterKill} ms after it; ports acknowledged after it Ready at most ${latencyAfterKill} ms after their reply`);
  t.true(readyAfterKill <= 5000, `every port acknowledged before the kill Ready within 5 s of it (${readyAfterKill} ms)`);
  t.true(latencyAfterKill <= 5000, `every port acknowledged after the kill Ready within 5 s of its reply (${latencyAfterKill} ms)`);
});
