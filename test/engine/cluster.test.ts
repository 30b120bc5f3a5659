import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import test from 'ava';
import { pino } from 'pino';
import { NovanetClient } from '../../src/bus/client.js';
import { streamNames } from '../../events/mod.js';
import { configFrom, natsOptions } from '../../src/engine/config.js';
import { startEngine } from '../../src/engine/engine.js';
import type { Engine } from '../../src/engine/engine.js';
import { startNorthbound } from '../../src/sandbox/mod.js';
import { Loopback, productionTls, startProductionNats } from '../support/production.js';
import { eventually } from '../support/stack.js';

test('cluster - the engine on the 3-node JetStream cluster of deploy/production keeps R3 streams and serves through the loss of a node', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'novanet-cluster-'));
  const stops: (() => Promise<unknown>)[] = [() => rm(dir, { recursive: true, force: true })];
  t.teardown(async () => { for (const stop of stops.reverse()) await stop().catch(() => undefined); });

  // The production layout's NATS nodes (TLS for clients and routes), on loopback ports.
  const local = new Loopback(dir);
  await productionTls(local);
  const nodes = await startProductionNats(local, (node) => stops.push(() => node.stop()));
  const engineEnv = await local.environment('engine.env');
  const northbound = await startNorthbound({ dir: join(dir, 'ovn') });
  stops.push(() => northbound.stop());

  // The layout's engine settings but for the Northbound: a standalone one here (the NB cluster is production.test.ts's).
  const config = configFrom({ ovnNb: northbound.remote, logLevel: 'silent' }, engineEnv);
  // The cluster elects its JetStream leader a moment after the nodes start.
  const engine: Engine = await eventually(() => startEngine(config, pino({ level: process.env.NOVANET_TEST_LOG ?? 'silent' })), 30_000, 'engine on the cluster');
  stops.push(() => engine.stop());
  const nc = await connect(natsOptions(config, 'cluster-test'));
  stops.push(() => nc.close());
  const client = new NovanetClient(nc);

  const info = await (await jetstreamManager(nc)).streams.info(streamNames('novanet').events);
  t.is(info.config.num_replicas, 3);
  t.is((info.cluster?.replicas ?? []).length, 2, 'a leader and two replicas');

  const scope = { org: 'cluster', project: 'p1' };
  const vpc = (await client.call(scope, 'vpc.create', { name: 'v' })).result.vpc as { id: string };
  const subnet = (await client.call(scope, 'subnet.create', { vpcId: vpc.id, name: 's' })).result.subnet as { id: string };
  await client.call(scope, 'port.create', { subnetId: subnet.id });

  // Any one node may go: two of three still form a quorum for every stream.
  await nodes[2]!.stop();
  const port = await eventually(async () => {
    const reply = await client.request(scope, 'port.create', { commandId: 'after-loss', subnetId: subnet.id });
    return reply.ok ? reply : undefined;
  }, 30_000, 'a command accepted after losing a node');
  t.like(port.result, { port: { ipAddress: '10.0.0.3' } });
  // The reconciler's log consumer may have lived on the lost node: it is followed again within seconds.
  await client.waitFor(scope, 'port', (port.result.port as { id: string }).id, (s) => s.phase === 'Ready', 60_000);
});
