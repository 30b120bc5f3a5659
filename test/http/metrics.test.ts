import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import test from 'ava';
import { pino } from 'pino';
import { NovanetClient } from '../../src/bus/client.js';
import { startObservedEngine } from '../../src/cli/serve.js';
import { EngineConfig } from '../../src/engine/config.js';
import { startNatsServer, startNorthbound } from '../../src/sandbox/mod.js';
import { eventually } from '../support/stack.js';

/** One sample of the Prometheus text format: `name{labels} value`. */
function sample(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels === '' ? ' ' : `{${labels}} `}`));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

test('http - /metrics moves with commands; /health is alive throughout; /ready is 503 with the reason while the Northbound is stopped', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'novanet-http-'));
  const nats = await startNatsServer({ dir: join(dir, 'nats') });
  let northbound = await startNorthbound({ dir: join(dir, 'ovn') });
  const observed = await startObservedEngine(
    EngineConfig.parse({ natsUrl: nats.url, ovnNb: northbound.remote, httpListen: '127.0.0.1:0', resyncIntervalMs: 2000, logLevel: 'silent' }),
    pino({ level: 'silent' }),
  );
  const nc = await connect({ servers: nats.url });
  t.teardown(async () => {
    await nc.close();
    await observed.stop();
    await northbound.stop();
    await nats.stop();
    await rm(dir, { recursive: true, force: true });
  });
  const base = `http://${observed.http!.address}`;
  const get = async (path: string) => { const res = await fetch(`${base}${path}`); return { status: res.status, body: await res.text(), type: res.headers.get('content-type') }; };
  const client = new NovanetClient(nc);
  const scope = { org: 'metrics', project: 'p1' };

  const before = (await get('/metrics')).body;
  t.is(sample(before, 'overlay_network_ports_total'), 0);
  const vpc = (await client.call(scope, 'vpc.create', { name: 'm' })).result.vpc as { id: string };
  const subnet = (await client.call(scope, 'subnet.create', { vpcId: vpc.id, name: 'app' })).result.subnet as { id: string };
  await client.call(scope, 'port.create', { subnetId: subnet.id });
  await client.call(scope, 'port.create', { subnetId: subnet.id });
  t.false((await client.request(scope, 'subnet.get', { subnetId: vpc.id })).ok);
  await observed.engine.reconciler.idle();

  const metrics = await get('/metrics');
  t.is(metrics.status, 200);
  t.regex(metrics.type ?? '', /^text\/plain; version=0\.0\.4/);
  const text = metrics.body;
  t.is(sample(text, 'overlay_network_vpcs_total'), 1);
  t.is(sample(text, 'overlay_network_subnets_total'), 1);
  t.is(sample(text, 'overlay_network_ports_total'), 2);
  t.is(sample(text, 'overlay_network_ip_allocations_total', 'kind="port"'), 2);
  t.is(sample(text, 'novanet_commands_total', 'operation="port.create",result="ok"'), 2);
  t.is(sample(text, 'novanet_commands_total', 'operation="subnet.get",result="NOT_FOUND"'), 1);
  t.is(sample(text, 'novanet_commit_duration_seconds_count'), 4);
  t.true(sample(text, 'novanet_reconcile_batch_resources_count')! >= 1);
  t.true(sample(text, 'overlay_network_ovn_operations_duration_seconds_count', 'operation="transact",result="committed"')! >= 1);
  t.true(sample(text, 'novanet_resync_duration_seconds_count')! >= 1);
  t.is(sample(text, 'novanet_reconcile_lag_commits'), 0);
  t.is(sample(text, 'novanet_status_publish_failures_total'), 0);
  t.not(sample(text, 'nodejs_eventloop_lag_seconds'), undefined);
  t.log(`event-loop lag ${sample(text, 'nodejs_eventloop_lag_seconds')} s, commit p50 bucket count ${sample(text, 'novanet_commit_duration_seconds_bucket', 'le="0.005"')}`);

  t.deepEqual(await get('/ready'), { status: 200, body: 'ready\n', type: 'text/plain; charset=utf-8' });
  await northbound.stop();
  const notReady = await eventually(async () => { const r = await get('/ready'); return r.status === 503 ? r : undefined; }, 20_000, '/ready to say not ready');
  t.is(notReady.body, 'not ready\nOVN Northbound not connected\n');
  t.is((await get('/health')).status, 200, 'alive while not ready');

  northbound = await startNorthbound({ dir: join(dir, 'ovn') });
  await eventually(async () => (await get('/ready')).status === 200, 30_000, '/ready again once the Northbound is back');
  t.is((await get('/nope')).status, 404);
});
