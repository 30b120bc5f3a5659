import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import test from 'ava';
import { streamNames } from '../../events/mod.js';
import { NovanetClient } from '../../src/bus/client.js';
import { configFrom, natsOptions } from '../../src/engine/config.js';
import { pollUntil, run, runProcess, startDaemon } from '../../src/sandbox/process.js';
import type { Daemon } from '../../src/sandbox/process.js';
import { eventually } from '../support/stack.js';
import { leaseHolder, startEngineProcess } from '../support/processes.js';
import type { EngineProcess } from '../support/processes.js';
import { HOSTS, Loopback, production, productionTls, startProductionNats } from '../support/production.js';

test('production layout - deploy/production as written: a 3-node NATS cluster and a 3-member Northbound over TLS, two engines, one writing', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'novanet-prod-'));
  const stops: (() => Promise<unknown> | void)[] = [() => rm(root, { recursive: true, force: true })];
  t.teardown(async () => { for (const stop of stops.reverse()) await Promise.resolve(stop()).catch(() => undefined); });
  const local = new Loopback(root);
  await productionTls(local);
  await startProductionNats(local, (node) => stops.push(() => node.stop()));

  // The Northbound members: nb-member.sh init, then run, with each host's environment file.
  const script = join(production, 'ovn', 'nb-member.sh');
  const members = await Promise.all(HOSTS.map((n) => local.environment(`ovn/nb-${n}.env`)));
  const running: { ctl: string; daemon: Daemon }[] = [];
  const role = async (ctl: string) => /Role: (\w+)/.exec((await runProcess(['ovs-appctl', '-t', ctl, 'cluster/status', 'OVN_Northbound'], { timeoutMs: 5000 })).stdout)?.[1];
  const startMember = async (env: Record<string, string>) => {
    const childEnv = { ...process.env, ...env };
    await run(['bash', script, 'init'], { env: childEnv });
    const ctl = join(env.NB_RUN_DIR!, 'ovnnb_db.ctl');
    const daemon = await startDaemon({
      name: env.NB_MEMBER!, argv: ['bash', script, 'run'], env: childEnv, logPath: join(root, `${env.NB_MEMBER}.out`), readyTimeoutMs: 30_000,
      ready: (signal) => pollUntil(async () => /Status: cluster member/.test((await runProcess(['ovs-appctl', '-t', ctl, 'cluster/status', 'OVN_Northbound'], { timeoutMs: 5000 })).stdout), signal, 100),
    });
    stops.push(() => daemon.stop());
    running.push({ ctl, daemon });
  };
  await startMember(members[0]!);
  await Promise.all(members.slice(1).map(startMember));

  // Two engines with the layout's engine.env, restarted on failure as systemd would (the cluster elects its JetStream leader first).
  const engineEnv = await local.environment('engine.env');
  const engines: EngineProcess[] = [];
  const logs = new Map<string, string>();
  let stopping = false;
  stops.push(() => { stopping = true; });
  const supervise = (name: string) => {
    const start = () => {
      const e = startEngineProcess([], join(root, `${name}.log`), { ...engineEnv, NOVANET_LOG_LEVEL: 'info' });
      engines.push(e);
      logs.set(e.holder, join(root, `${name}.log`));
      stops.push(() => e.kill());
      void e.exited.then(() => { if (!stopping && e.child.exitCode !== 0 && e.child.signalCode === null) setTimeout(start, 2000); });
    };
    start();
  };
  supervise('engine-nv1');
  supervise('engine-nv2');

  const config = configFrom({}, engineEnv);
  const nc = await connect(natsOptions(config, 'production-test'));
  stops.push(() => nc.close());
  const client = new NovanetClient(nc, 'novanet', 5000);
  const scope = { org: 'prod', project: 'p1' };
  const vpc = await eventually(async () => {
    const reply = await client.request(scope, 'vpc.create', { commandId: 'vpc', name: 'v' });
    return reply.ok ? reply.result.vpc as { id: string } : undefined;
  }, 90_000, 'the first command answered');
  const subnet = (await client.call(scope, 'subnet.create', { commandId: 'subnet', vpcId: vpc.id, name: 's' })).result.subnet as { id: string };
  const port = (await client.call(scope, 'port.create', { commandId: 'port', subnetId: subnet.id })).result.port as { id: string };
  await client.waitFor(scope, 'port', port.id, (s) => s.phase === 'Ready', 30_000);

  const jsm = await jetstreamManager(nc);
  for (const stream of [streamNames('novanet').events, streamNames('novanet').status, `KV_${streamNames('novanet').lease}`]) {
    t.is((await jsm.streams.info(stream)).config.num_replicas, 3, `${stream} is R3`);
  }
  // The operator's view of the Northbound: ovn-nbctl over SSL to the cluster, with the layout's files.
  const nbctl = ['ovn-nbctl', `--db=${engineEnv.NOVANET_OVN_NB}`, '-p', engineEnv.NOVANET_OVN_NB_SSL_KEY!, '-c', engineEnv.NOVANET_OVN_NB_SSL_CERT!, '-C', engineEnv.NOVANET_OVN_NB_SSL_CA!];
  t.is((await run([...nbctl, '--bare', '--columns=name', 'find', 'Logical_Switch_Port', `name=${port.id}`])).trim(), port.id);

  // One engine writes; the other takes over when it dies (both serve by then).
  await eventually(async () => {
    const ready = await Promise.all(engines.filter((e) => e.child.exitCode === null).map(async (e) => (await readFile(logs.get(e.holder)!, 'utf8')).includes('novanet engine ready')));
    return ready.length === 2 && ready.every(Boolean);
  }, 60_000, 'both engines ready');
  const live = engines.filter((e) => e.child.exitCode === null);
  const holder = await eventually(() => leaseHolder(nc), 10_000, 'a lease holder');
  const writer = live.find((e) => e.holder === holder)!;
  const standby = live.find((e) => e.holder !== holder)!;
  t.truthy(writer && standby, 'two engines running, one of them writing');
  const writerMark = await run([...nbctl, 'get', 'NB_Global', '.', 'external_ids:"novanet:writer:novanet"']);
  t.regex(writerMark, new RegExp(`\\d+ ${writer.holder}`), 'the Northbound names the writer');
  stopping = true;
  const killedAt = Date.now();
  writer.kill();
  await eventually(async () => await leaseHolder(nc) === standby.holder, 15_000, 'the standby holding the lease');
  const takeover = Date.now() - killedAt;
  const second = (await client.call(scope, 'port.create', { commandId: 'port-2', subnetId: subnet.id })).result.port as { id: string };
  await client.waitFor(scope, 'port', second.id, (s) => s.phase === 'Ready', 30_000);
  const acquired = (await readFile(logs.get(standby.holder)!, 'utf8')).split('\n').filter((l) => l.includes('writer lease acquired')).map((l) => (JSON.parse(l) as { time: number }).time);
  t.log(`takeover in the production layout: ${takeover} ms (the standby's log: lease acquired ${Math.max(...acquired) - killedAt} ms after the kill)`);
  t.true(takeover <= 5000);

  // The Northbound's leader dies too: the engine follows the new one over SSL.
  let leader: { ctl: string; daemon: Daemon } | undefined;
  for (const m of running) if (await role(m.ctl) === 'leader') leader = m;
  const leaderKilledAt = Date.now();
  await leader!.daemon.kill();
  const third = (await client.call(scope, 'port.create', { commandId: 'port-3', subnetId: subnet.id })).result.port as { id: string };
  await client.waitFor(scope, 'port', third.id, (s) => s.phase === 'Ready', 30_000);
  const readyAfterLeaderKill = Date.now() - leaderKilledAt;
  t.log(`a port created right after the Northbound leader's kill was Ready ${readyAfterLeaderKill} ms after it`);
  t.true(readyAfterLeaderKill <= 5000);
});
