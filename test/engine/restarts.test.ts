import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import test from 'ava';
import { pino } from 'pino';
import { NovanetClient } from '../../src/bus/client.js';
import { EngineConfig } from '../../src/engine/config.js';
import { startEngine } from '../../src/engine/engine.js';
import { startNatsServer, startNorthbound } from '../../src/sandbox/mod.js';
import type { NatsServer, Northbound } from '../../src/sandbox/mod.js';
import { eventually, nbRows } from '../support/stack.js';

async function setup(t: { teardown(fn: () => Promise<void>): void }) {
  const dir = await mkdtemp(join(tmpdir(), 'novanet-restart-'));
  const live: { nats?: NatsServer; northbound?: Northbound } = {};
  // Registered before anything starts: whatever did start is stopped, also when a start fails.
  const stops: (() => Promise<unknown> | undefined)[] = [
    () => rm(dir, { recursive: true, force: true }), () => live.nats?.stop(), () => live.northbound?.stop(),
  ];
  t.teardown(async () => { for (const stop of stops.reverse()) await Promise.resolve(stop()).catch(() => undefined); });
  live.nats = await startNatsServer({ dir: join(dir, 'nats') });
  live.northbound = await startNorthbound({ dir: join(dir, 'ovn') });
  const engine = await startEngine(EngineConfig.parse({ natsUrl: live.nats.url, ovnNb: live.northbound.remote, logLevel: 'silent' }), pino({ level: 'silent' }));
  stops.push(() => engine.stop());
  const nc = await connect({ servers: live.nats.url, maxReconnectAttempts: -1 });
  stops.push(() => nc.close());
  return { dir, live, engine, client: new NovanetClient(nc, 'novanet', 3000) };
}

test('restarts - commands accepted while the Northbound is down reach it once it is back', async (t) => {
  const { dir, live, client } = await setup(t);
  const scope = { org: 'nbdown', project: 'p1' };
  const vpc = (await client.call(scope, 'vpc.create', { name: 'v' })).result.vpc as { id: string };
  const subnet = (await client.call(scope, 'subnet.create', { vpcId: vpc.id, name: 's' })).result.subnet as { id: string };
  await client.waitFor(scope, 'subnet', subnet.id, (s) => s.phase === 'Ready');

  await live.northbound!.stop();
  const port = (await client.call(scope, 'port.create', { subnetId: subnet.id })).result.port as { id: string };
  live.northbound = await startNorthbound({ dir: join(dir, 'ovn') });
  await eventually(async () => (await nbRows(live.northbound!, 'Logical_Switch_Port', ['name'], [`name=${port.id}`])).length === 1, 30_000, 'the port in the restarted Northbound');
  t.like(await client.waitFor(scope, 'port', port.id, (s) => s.phase === 'Ready'), { ipAddress: '10.0.0.2' });
});

test('restarts - the engine rides through a nats-server restart and keeps serving and reconciling', async (t) => {
  const { dir, live, client } = await setup(t);
  const scope = { org: 'natsdown', project: 'p1' };
  const vpc = (await client.call(scope, 'vpc.create', { name: 'v' })).result.vpc as { id: string };

  const port = live.nats!.port;
  await live.nats!.stop();
  live.nats = await startNatsServer({ dir: join(dir, 'nats'), port });
  const subnet = await eventually(async () => {
    const reply = await client.request(scope, 'subnet.create', { commandId: 'after-restart', vpcId: vpc.id, name: 's' });
    return reply.ok ? (reply.result.subnet as { id: string }) : undefined;
  }, 30_000, 'a command accepted after the restart');
  await client.waitFor(scope, 'subnet', subnet.id, (s) => s.phase === 'Ready', 30_000);
  t.is(((await client.call(scope, 'subnet.list', { vpcId: vpc.id })).result.subnets as unknown[]).length, 1, 'exactly one subnet: the retried command was not applied twice');
});
