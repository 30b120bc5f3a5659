import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import test from 'ava';
import { NovanetClient } from '../../src/bus/client.js';
import type { Reply } from '../../src/bus/client.js';
import { streamNames } from '../../events/mod.js';
import { startNatsServer, startNorthbound } from '../../src/sandbox/mod.js';
import { eventually, nbRows } from '../support/stack.js';

const cli = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

function startEngineProcess(natsUrl: string, nb: string): ChildProcess {
  return spawn(process.execPath, [cli, 'serve', '--nats', natsUrl, '--ovn-nb', nb, '--log-level', 'warn', '--resync-interval-ms', '2000'], { stdio: ['ignore', 'ignore', 'inherit'] });
}

async function retryUntilAnswered(client: NovanetClient, scope: { org: string; project: string }, op: string, payload: Record<string, unknown>): Promise<Reply> {
  for (;;) {
    try {
      return await client.request(scope, op, payload);
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

test('crash - an engine killed mid-stream loses nothing and duplicates nothing, in the log or in OVN', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'novanet-crash-'));
  const nats = await startNatsServer({ dir: join(dir, 'nats') });
  const northbound = await startNorthbound({ dir: join(dir, 'ovn') });
  const nc = await connect({ servers: nats.url });
  let engine = startEngineProcess(nats.url, northbound.remote);
  t.teardown(async () => {
    engine.kill('SIGKILL');
    await nc.close();
    await northbound.stop();
    await nats.stop();
    await rm(dir, { recursive: true, force: true });
  });
  const client = new NovanetClient(nc, 'novanet', 3000);
  const scope = { org: 'crash', project: 'p1' };
  const vpc = await retryUntilAnswered(client, scope, 'vpc.create', { commandId: 'vpc', name: 'c' });
  if (!vpc.ok) throw new Error('vpc.create failed');
  const subnet = await retryUntilAnswered(client, scope, 'subnet.create', { commandId: 'subnet', vpcId: (vpc.result.vpc as { id: string }).id, name: 's', cidr: '10.0.0.0/22' });
  if (!subnet.ok) throw new Error('subnet.create failed');
  const subnetId = (subnet.result.subnet as { id: string }).id;

  const count = 300;
  const killAfter = 30;
  const first = new Map<string, Reply>();
  // The kill happens in the reply callback, not on a poll: however fast the engine is,
  // it dies with most of the stream still in flight.
  const inFlight = Array.from({ length: count }, (_, i) => client.request(scope, 'port.create', { commandId: `port-${i}`, subnetId })
    .then((r) => {
      first.set(`port-${i}`, r);
      if (first.size === killAfter) engine.kill('SIGKILL');
    }, () => undefined));
  await Promise.all(inFlight);
  t.true(first.size < count, 'the kill interrupted the stream');

  engine = startEngineProcess(nats.url, northbound.remote);
  const replies = await Promise.all(Array.from({ length: count }, (_, i) =>
    retryUntilAnswered(client, scope, 'port.create', { commandId: `port-${i}`, subnetId })));
  for (const [commandId, reply] of first) {
    t.deepEqual(replies[Number(commandId.slice(5))], reply, `${commandId} answered the same before and after the crash`);
  }
  t.true(replies.every((r) => r.ok));
  const ips = replies.map((r) => r.ok && (r.result.port as { ipAddress: string }).ipAddress);
  t.is(new Set(ips).size, count, 'no address handed out twice');

  const jsm = await jetstreamManager(nc);
  t.is((await jsm.streams.info(streamNames('novanet').events)).state.messages, 2 + count, 'one commit per command');
  const lsps = await eventually(async () => {
    const rows = await nbRows(northbound, 'Logical_Switch_Port', ['name'], ['external_ids:"novanet:kind"=port']);
    return rows.length === count ? rows : undefined;
  }, 30_000, `${count} LSPs`);
  t.is(new Set(lsps.map((r) => r.name)).size, count);
});
