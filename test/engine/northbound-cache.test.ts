import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { pino } from 'pino';
import { NovanetClient } from '../../src/bus/client.js';
import { EngineConfig } from '../../src/engine/config.js';
import { startEngine } from '../../src/engine/engine.js';
import type { Engine } from '../../src/engine/engine.js';
import { startNatsServer, startNorthboundCluster } from '../../src/sandbox/mod.js';
import type { NatsServer, NorthboundCluster } from '../../src/sandbox/mod.js';
import { eventually, nbRows } from '../support/stack.js';

/**
 * The reconciler's Northbound cache, saved at a clean stop and restored at the next start
 * (src/engine/northbound-cache.ts): with a clustered Northbound the start asks for what
 * changed since (monitor_cond_since). A cache only: what the Northbound had changed while the
 * engine was down is repaired as after a full dump, and without the cache's help the result
 * is the same.
 */

interface Setup {
  readonly nats: NatsServer;
  readonly dir: string;
  readonly client: NovanetClient;
  /** The engine's log lines' messages, in order. */
  readonly lines: string[];
  start(nb: NorthboundCluster): Promise<Engine>;
  cluster(name: string): Promise<NorthboundCluster>;
}

async function setup(t: ExecutionContext): Promise<Setup> {
  const dir = await mkdtemp(join(tmpdir(), 'novanet-nbcache-'));
  const stops: (() => Promise<unknown>)[] = [() => rm(dir, { recursive: true, force: true })];
  t.teardown(async () => { for (const stop of stops.reverse()) await stop().catch(() => undefined); });
  const nats = await startNatsServer({ dir: join(dir, 'nats') });
  stops.push(() => nats.stop());
  const nc = await connect({ servers: nats.url, maxReconnectAttempts: -1 });
  stops.push(() => nc.close());
  const lines: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => { lines.push((JSON.parse(line) as { msg: string }).msg); } });
  return {
    nats, dir, lines, client: new NovanetClient(nc, 'novanet', 5000),
    async start(nb) {
      const engine = await startEngine(EngineConfig.parse({ natsUrl: nats.url, ovnNb: nb.remote, resyncIntervalMs: 30_000, logLevel: 'info' }), logger);
      stops.push(() => engine.stop());
      return engine;
    },
    async cluster(name) {
      const nb = await startNorthboundCluster({ dir: join(dir, name), members: 1 });
      stops.push(() => nb.stop());
      // ovsdb-server trims its transaction history once it holds more atoms than the database:
      // rows of someone else's, so that a few of the engine's transactions stay in it.
      const ballast = Array.from({ length: 300 }, (_, i) => ['--', 'lsp-add', 'ballast', `b${i}`, '--', 'lsp-set-addresses', `b${i}`, `fa:16:3e:01:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')} 10.200.${i >> 8}.${i & 255}`]).flat();
      await nb.nbctl('ls-add', 'ballast', ...ballast);
      return nb;
    },
  };
}

const scope = { org: 'nbcache', project: 'p1' };

/** A VPC, a subnet and `n` ports, each Ready; returns the ports' ids. */
async function ports(client: NovanetClient, n: number, subnetId?: string): Promise<{ subnetId: string; ids: string[] }> {
  if (subnetId === undefined) {
    const vpc = (await client.call(scope, 'vpc.create', { name: 'v' })).result.vpc as { id: string };
    subnetId = ((await client.call(scope, 'subnet.create', { vpcId: vpc.id, name: 's' })).result.subnet as { id: string }).id;
  }
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const id = ((await client.call(scope, 'port.create', { subnetId })).result.port as { id: string }).id;
    await client.waitFor(scope, 'port', id, (s) => s.phase === 'Ready');
    ids.push(id);
  }
  return { subnetId, ids };
}

const switchPorts = async (nb: NorthboundCluster) => (await nbRows(nb as never, 'Logical_Switch_Port', ['name', 'addresses', 'port_security'])).sort((a, b) => String(a['name']).localeCompare(String(b['name'])));

/** While the engine is down: a port's addresses edited, another port's row deleted, a switch nobody owns added. */
async function editWhileDown(nb: NorthboundCluster, [edited, deleted]: string[]): Promise<void> {
  await nb.nbctl('lsp-set-addresses', edited!, 'fa:16:3e:99:99:99 10.9.9.9');
  await nb.nbctl('lsp-del', deleted!);
  await nb.nbctl('ls-add', 'operators-own');
}

/** The engine repaired both ports as they were before the stop, left the operator's switch alone, and serves a new port. */
async function assertRepaired(t: ExecutionContext, s: Setup, nb: NorthboundCluster, before: Record<string, unknown>[], subnetId: string): Promise<void> {
  await eventually(async () => JSON.stringify(await switchPorts(nb)) === JSON.stringify(before), 20_000, 'the edited and the deleted port repaired');
  t.deepEqual(await switchPorts(nb), before);
  t.is((await nbRows(nb as never, 'Logical_Switch', ['name'], ['name=operators-own'])).length, 1);
  const { ids: [next] } = await ports(s.client, 1, subnetId);
  t.is((await nbRows(nb as never, 'Logical_Switch_Port', ['name'], [`name=${next!}`])).length, 1);
}

/** An engine on a one-member cluster with three ports, stopped (its cache saved), and the Northbound edited while it is down. */
async function stoppedAndEdited(t: ExecutionContext) {
  const s = await setup(t);
  const nb = await s.cluster('nb');
  const engine = await s.start(nb);
  const { subnetId, ids } = await ports(s.client, 3);
  const before = await switchPorts(nb);
  await engine.stop();
  t.true(s.lines.includes('Northbound cache saved'));
  await editWhileDown(nb, ids);
  s.lines.length = 0;
  return { s, nb, subnetId, before };
}

test('northbound cache - a restart resumes from the saved cache (found=true); rows an operator changed and deleted while the engine was down are repaired', async (t) => {
  const { s, nb, subnetId, before } = await stoppedAndEdited(t);
  await s.start(nb);
  t.true(s.lines.includes('saved Northbound cache restored; asking for what changed since'));
  t.true(s.lines.includes('ovsdb: the restored cache resumed from its transaction'), s.lines.join('\n'));
  await assertRepaired(t, s, nb, before, subnetId);
});

test('northbound cache - a saved transaction the server no longer has (found=false) and a cache of another cluster are not used: the full dump, the same repair', async (t) => {
  const { s, nb, subnetId, before } = await stoppedAndEdited(t);
  // Past the server's history (~100 transactions): the saved transaction is forgotten.
  for (let i = 0; i < 120; i++) await nb.nbctl('set', 'Logical_Switch', 'operators-own', `external_ids:n=${i}`);
  const second = await s.start(nb);
  t.true(s.lines.includes('ovsdb: the restored cache\'s transaction is not in the server\'s history; read the full dump instead'), s.lines.join('\n'));
  await assertRepaired(t, s, nb, before, subnetId);
  await second.stop();

  // The same log and its saved cache against another cluster: refused, and the engine fills it from the log.
  const other = await s.cluster('other');
  s.lines.length = 0;
  await s.start(other);
  t.true(s.lines.includes('the saved Northbound cache is not used; the start reads the full dump'), s.lines.join('\n'));
  await eventually(async () => (await switchPorts(other)).length === before.length + 1, 20_000, 'the ports in the other cluster');
});
