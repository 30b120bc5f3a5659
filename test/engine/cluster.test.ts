import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import test from 'ava';
import { pino } from 'pino';
import { NovanetClient } from '../../src/bus/client.js';
import { streamNames } from '../../events/mod.js';
import { EngineConfig } from '../../src/engine/config.js';
import { startEngine } from '../../src/engine/engine.js';
import type { Engine } from '../../src/engine/engine.js';
import { startNatsServer, startNorthbound } from '../../src/sandbox/mod.js';
import type { NatsServer } from '../../src/sandbox/mod.js';
import { eventually } from '../support/stack.js';

const deploy = fileURLToPath(new URL('../../../deploy/nats/', import.meta.url));

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    }).on('error', reject);
  });
}

test('cluster - the engine on the 3-node JetStream cluster from deploy/ keeps R3 streams and serves through the loss of a node', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'novanet-cluster-'));
  const stops: (() => Promise<unknown>)[] = [() => rm(dir, { recursive: true, force: true })];
  t.teardown(async () => { for (const stop of stops.reverse()) await stop().catch(() => undefined); });

  // The deploy configs, with this test's ports: routes and listen addresses given as flags win over the file.
  const routePorts = await Promise.all([1, 2, 3].map(() => freePort()));
  const routes = routePorts.map((p) => `nats-route://127.0.0.1:${p}`).join(',');
  const nodes: NatsServer[] = await Promise.all([1, 2, 3].map((n) => startNatsServer({
    dir: join(dir, `nats-${n}`),
    config: { file: join(deploy, `cluster-node-${n}.conf`), flags: ['--cluster', `nats://127.0.0.1:${routePorts[n - 1]}`, '--routes', routes] },
  })));
  for (const node of nodes) stops.push(() => node.stop());
  const northbound = await startNorthbound({ dir: join(dir, 'ovn') });
  stops.push(() => northbound.stop());

  const config = EngineConfig.parse({ natsUrl: nodes.map((n) => n.url).join(','), ovnNb: northbound.remote, replicas: 3, logLevel: 'silent' });
  // The cluster elects its JetStream leader a moment after the nodes start.
  const engine: Engine = await eventually(() => startEngine(config, pino({ level: process.env.NOVANET_TEST_LOG ?? 'silent' })), 30_000, 'engine on the cluster');
  stops.push(() => engine.stop());
  const nc = await connect({ servers: nodes.map((n) => n.url) });
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
