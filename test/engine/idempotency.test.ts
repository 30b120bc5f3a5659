import test from 'ava';
import { EventLog } from '../../src/bus/log.js';
import { streamNames } from '../../events/mod.js';
import { isQuarantined, subjects } from '../../events/mod.js';
import type { Reply } from '../../events/mod.js';
import { evolve, initialView } from '../../projections/mod.js';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { startStack } from '../support/stack.js';
import type { Stack } from '../support/stack.js';

let stack: Stack;
test.before(async () => { stack = await startStack(); });
test.after.always(async () => { await stack?.stop(); });

async function commitCount(): Promise<number> {
  const jsm = await jetstreamManager(stack.nc);
  return (await jsm.streams.info(streamNames('novanet').events)).state.messages;
}

test.serial('idempotency - the same commandId twice gives one commit and the same reply, also after a restart', async (t) => {
  const scope = { org: 'idem', project: 'p1' };
  const first = await stack.client.request(scope, 'vpc.create', { commandId: 'create-main', name: 'main' });
  t.true(first.ok);
  const commits = await commitCount();
  const again = await stack.client.request(scope, 'vpc.create', { commandId: 'create-main', name: 'main' });
  t.deepEqual(again, first);
  t.is(await commitCount(), commits);

  await stack.restartEngine();
  const afterRestart = await stack.client.request(scope, 'vpc.create', { commandId: 'create-main', name: 'main' });
  t.deepEqual(afterRestart, first);
  t.is(await commitCount(), commits);

  // The key is scoped to the tenant: another tenant may use the same commandId.
  const other = await stack.client.request({ org: 'idem2', project: 'p1' }, 'vpc.create', { commandId: 'create-main', name: 'main' });
  t.true(other.ok);
  // Reusing a key for a different command is a client bug: say so instead of guessing.
  t.like(await stack.client.request(scope, 'vpc.create', { commandId: 'create-main', name: 'other' }), { ok: false, error: { code: 'IDEMPOTENCY_CONFLICT' } });
});

test.serial('replay - the view rebuilt from the log deep-equals the live view', async (t) => {
  const scope = { org: 'replay', project: 'p1' };
  const vpc = (await stack.client.call(scope, 'vpc.create', { name: 'r' })).result.vpc as { id: string };
  const subnets = await Promise.all([0, 1, 2].map((i) => stack.client.call(scope, 'subnet.create', { vpcId: vpc.id, name: `s${i}` })));
  const ports = await Promise.all(subnets.flatMap((s) => [0, 1, 2, 3].map(() =>
    stack.client.call(scope, 'port.create', { subnetId: (s.result.subnet as { id: string }).id }))));
  await Promise.all(ports.slice(0, 4).map((p) => stack.client.call(scope, 'port.delete', { portId: (p.result.port as { id: string }).id })));
  await stack.client.call(scope, 'port.create', { subnetId: (subnets[0]!.result.subnet as { id: string }).id });
  // A bulk command, into the addresses the deletes freed and past them.
  await stack.client.call(scope, 'port.create', { ports: subnets.flatMap((s) => [0, 1, 2].map(() => ({ subnetId: (s.result.subnet as { id: string }).id }))) });

  const log = new EventLog(stack.nc, jetstream(stack.nc), await jetstreamManager(stack.nc), streamNames('novanet').events, subjects('novanet'));
  const rebuilt = initialView();
  for await (const record of log.read(1, await log.lastSeq())) if (!isQuarantined(record)) evolve(rebuilt, record);
  t.deepEqual(rebuilt, stack.engine.intake.view);
  t.is(rebuilt.seq, await log.lastSeq());

  // A restart folds both views from one read of the log (src/engine): each gets all of it.
  const restarted = await stack.restartEngine();
  t.deepEqual(restarted.intake.view, rebuilt);
  t.deepEqual(await restarted.reconciler.renderedView(), rebuilt);
});

test.serial('fencing - two engines writing to one log never allocate the same address twice', async (t) => {
  const scope = { org: 'fence', project: 'p1' };
  const vpc = (await stack.client.call(scope, 'vpc.create', { name: 'f' })).result.vpc as { id: string };
  const subnet = (await stack.client.call(scope, 'subnet.create', { vpcId: vpc.id, name: 's', cidr: '10.0.0.0/24' })).result.subnet as { id: string };
  // A second engine on the same NATS: both are in the intake queue group, so commands are shared between them.
  const { startEngine } = await import('../../src/engine/engine.js');
  const { pino } = await import('pino');
  const second = await startEngine(stack.config, pino({ level: 'silent' }));
  t.teardown(() => second.stop());
  const replies = await Promise.all(Array.from({ length: 60 }, () => stack.client.call(scope, 'port.create', { subnetId: subnet.id })));
  const ips = replies.map((r) => (r.result.port as { ipAddress: string }).ipAddress);
  t.is(new Set(ips).size, ips.length, 'every address handed out once');
  const listed = (await stack.client.call(scope, 'port.list', { subnetId: subnet.id })).result.ports as unknown[];
  t.is(listed.length, 60);
});

test.serial('idempotency - past its retention (count or age of the log\'s time) a commandId is a new command, also after a restart', async (t) => {
  const short = await startStack({ config: { idempotencyRetentionMs: 3000, idempotencyRetentionCommands: 2 } });
  t.teardown(() => short.stop());
  const scope = { org: 'retain', project: 'p1' };
  const vpc = (await short.client.call(scope, 'vpc.create', { name: 'v' })).result.vpc as { id: string };
  const subnet = (await short.client.call(scope, 'subnet.create', { vpcId: vpc.id, name: 's', cidr: '10.0.0.0/24' })).result.subnet as { id: string };
  const port = (commandId: string) => short.client.request(scope, 'port.create', { commandId, subnetId: subnet.id });
  const portId = (reply: Reply) => (reply.ok ? reply.result.port as { id: string } : undefined)?.id;

  // Age: a commit three seconds later (another tenant's) puts the first port past the retention.
  const first = await port('p-age');
  t.deepEqual(await port('p-age'), first);
  await new Promise((r) => setTimeout(r, 3100));
  await short.client.call({ org: 'retain2', project: 'p1' }, 'vpc.create', { name: 'later' });
  const anew = await port('p-age');
  t.true(anew.ok && first.ok && anew.seq > first.seq);
  t.not(portId(anew), portId(first), 'a second port');
  t.deepEqual(await port('p-age'), anew, 'remembered afresh');

  // Count: the tenant's newest two are remembered.
  const a = await port('p-a');
  const b = await port('p-b');
  const c = await port('p-c');
  t.deepEqual(await port('p-b'), b);
  await short.restartEngine();
  t.deepEqual(await port('p-c'), c, 'the same after a restart');
  const again = await port('p-a');
  t.true(again.ok && a.ok && again.seq > a.seq, 'p-a was past the newest two: a new commit');
});
