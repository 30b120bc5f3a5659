import test from 'ava';
import { pino } from 'pino';
import { subjects } from '../../events/mod.js';
import type { Reply, Scope } from '../../events/mod.js';
import type { CommandRetention } from '../../projections/mod.js';
import { DEFAULT_DECIDE_CONFIG } from '../../src/commands/mod.js';
import { Intake } from '../../src/intake/intake.js';
import type { Draws } from '../../src/intake/intake.js';
import { MemoryLog } from '../support/memory-log.js';

/** The intake's core without a transport: the point here is its pipelining, recovery and idempotency. */

const scope: Scope = { org: 'acme', project: 'web' };
const subs = subjects('novanet');
const encode = (payload: unknown) => new TextEncoder().encode(JSON.stringify(payload));

function counterDraws(firstId = 0): Draws & { clockReads: number } {
  let id = firstId;
  let mac = 0;
  const draws = {
    clockReads: 0,
    now: () => `2026-01-01T00:00:${String(draws.clockReads++ % 60).padStart(2, '0')}.000Z`,
    newId: () => `00000000-0000-4000-8000-${String(++id).padStart(12, '0')}`,
    newMac: () => `0a:4e:00:${firstId > 0 ? '01' : '00'}:${((++mac) >> 8).toString(16).padStart(2, '0')}:${(mac & 255).toString(16).padStart(2, '0')}`,
  };
  return draws;
}

async function startIntake(log = new MemoryLog(), draws: Draws & { clockReads?: number } = counterDraws(), retention?: CommandRetention) {
  const intake = new Intake({ log, config: DEFAULT_DECIDE_CONFIG, logger: pino({ level: 'silent' }), draws, ...(retention && { retention }) });
  await intake.start();
  const sendIn = (tenant: Scope, operation: string, payload: Record<string, unknown>): Promise<Reply> =>
    intake.submit(subs.parseCommand(subs.command(tenant, operation))!, encode(payload));
  const send = (operation: string, payload: Record<string, unknown>): Promise<Reply> => sendIn(scope, operation, payload);
  return { intake, log, draws, send, sendIn };
}

/** Draws whose clock the test sets: the log's time is what the retention is measured in. */
function settableDraws(): Draws & { time: number } {
  const draws = { ...counterDraws(), time: Date.UTC(2026, 0, 1), now: () => new Date(draws.time).toISOString() };
  return draws;
}

const ok = (reply: Reply) => {
  if (!reply.ok) throw new Error(`${reply.error.code}: ${reply.error.message}`);
  return reply;
};

test('intake core - commands are pipelined: many appends in flight at once, each expecting the one before', async (t) => {
  const { intake, log, send } = await startIntake();
  t.teardown(() => intake.stop());
  const vpc = ok(await send('vpc.create', { commandId: 'v', name: 'v', cidr: '10.0.0.0/16' })).result.vpc as { id: string };
  const subnet = ok(await send('subnet.create', { commandId: 's', vpcId: vpc.id, name: 's', cidr: '10.0.0.0/22' })).result.subnet as { id: string };
  log.holding = true;
  const replies = Array.from({ length: 100 }, (_, i) => send('port.create', { commandId: `p${i}`, subnetId: subnet.id }));
  while (log.inFlight < 100) await new Promise((r) => setImmediate(r));
  t.is(log.inFlight, 100, 'all 100 appends were sent before the first was acknowledged');
  log.release();
  const done = (await Promise.all(replies)).map(ok);
  t.deepEqual(done.map((r) => r.seq), Array.from({ length: 100 }, (_, i) => 3 + i));
  t.is(new Set(done.map((r) => (r.result.port as { ipAddress: string }).ipAddress)).size, 100, 'every port got its own address');
  t.is(log.refused, 0);
});

test('intake core - an append refused because another writer got in first is decided again on the caught-up view', async (t) => {
  const { intake, log, send } = await startIntake();
  const vpc = ok(await send('vpc.create', { commandId: 'v', name: 'v', cidr: '10.0.0.0/16' })).result.vpc as { id: string };
  const subnet = ok(await send('subnet.create', { commandId: 's', vpcId: vpc.id, name: 's', cidr: '10.0.0.0/29' })).result.subnet as { id: string };
  // Another writer on the same log takes the first free address; this intake's view does not know yet.
  const other = await startIntake(log, counterDraws(1000));
  t.teardown(async () => { await intake.stop(); await other.intake.stop(); });
  const theirs = ok(await other.send('port.create', { commandId: 'theirs', subnetId: subnet.id }));
  const mine = ok(await send('port.create', { commandId: 'mine', subnetId: subnet.id }));
  t.is(log.refused, 1, 'the first attempt rested on a stale view and was refused');
  t.is(mine.seq, theirs.seq + 1);
  t.not((mine.result.port as { ipAddress: string }).ipAddress, (theirs.result.port as { ipAddress: string }).ipAddress, 'decided again: no address handed out twice');
});

test('intake core - a repeated commandId gets the first reply and appends nothing; reused for something else it is IDEMPOTENCY_CONFLICT', async (t) => {
  const { intake, log, send } = await startIntake();
  t.teardown(() => intake.stop());
  const first = ok(await send('vpc.create', { commandId: 'c1', name: 'a' }));
  const again = await send('vpc.create', { commandId: 'c1', name: 'a' });
  t.deepEqual(again, first);
  t.is(log.commits.length, 1);
  t.like(await send('vpc.create', { commandId: 'c1', name: 'b' }), { ok: false, error: { code: 'IDEMPOTENCY_CONFLICT' } });
  t.is(log.commits.length, 1);
  // After a restart the key is still known: it is in the log.
  const { intake: restarted, send: sendAgain } = await startIntake(log);
  t.teardown(() => restarted.stop());
  t.deepEqual(await sendAgain('vpc.create', { commandId: 'c1', name: 'a' }), first);
  t.is(log.commits.length, 1);
});

test('intake core - a repeat arriving while its original\'s append is in flight gets the first reply once it is confirmed', async (t) => {
  const { intake, log, send } = await startIntake();
  t.teardown(() => intake.stop());
  log.holding = true;
  const first = send('vpc.create', { commandId: 'c1', name: 'a' });
  const again = send('vpc.create', { commandId: 'c1', name: 'a' });
  const conflict = send('vpc.create', { commandId: 'c1', name: 'b' });
  while (log.inFlight < 1) await new Promise((r) => setImmediate(r));
  log.release();
  t.deepEqual(await again, ok(await first));
  t.like(await conflict, { ok: false, error: { code: 'IDEMPOTENCY_CONFLICT', details: { seq: 1, operation: 'vpc.create' } } });
  t.is(log.commits.length, 1);
});

test('intake core - a repeat of a command whose append is then refused gets the reply of the command decided again', async (t) => {
  const { intake, log, send } = await startIntake();
  t.teardown(() => intake.stop());
  log.holding = true;
  const first = send('vpc.create', { commandId: 'c1', name: 'a' });
  while (log.inFlight < 1) await new Promise((r) => setImmediate(r));
  const again = send('vpc.create', { commandId: 'c1', name: 'a' });
  // Another writer's commit lands first: the held append's expectation is stale.
  log.commits.push({ v: 1, commandId: 'o', scope: { org: 'other', project: 'p' }, operation: 'vpc.create', at: '2026-01-01T00:00:00.000Z', request: { commandId: 'o', name: 'o' }, result: {}, events: [] });
  log.release();
  const reply = ok(await first);
  t.is(reply.seq, 2);
  t.deepEqual(await again, reply);
  t.is(log.refused, 1);
  t.is(log.commits.length, 2);
});

test('intake core - a commandId is remembered for the retention in the log\'s own time; repeated after it, it is a new command', async (t) => {
  const retention: CommandRetention = { ms: 60_000, perScope: 100 };
  const draws = settableDraws();
  const { intake, log, send, sendIn } = await startIntake(new MemoryLog(), draws, retention);
  t.teardown(() => intake.stop());
  const vpc = ok(await send('vpc.create', { commandId: 'v', name: 'v', cidr: '10.0.0.0/16' })).result.vpc as { id: string };
  const subnet = ok(await send('subnet.create', { commandId: 's', vpcId: vpc.id, name: 's', cidr: '10.0.0.0/24' })).result.subnet as { id: string };
  const first = ok(await send('port.create', { commandId: 'p', subnetId: subnet.id }));
  // Hours pass on the engine's clock, but nothing is appended: the log's time stands still.
  draws.time += 3 * 60 * 60_000;
  t.deepEqual(await send('port.create', { commandId: 'p', subnetId: subnet.id }), first);
  t.is(log.commits.length, 3);
  // Another tenant's commit moves the log's time past the retention of the tenant's keys.
  ok(await sendIn({ org: 'other', project: 'p' }, 'vpc.create', { commandId: 'o', name: 'o', cidr: '10.1.0.0/16' }));
  const anew = ok(await send('port.create', { commandId: 'p', subnetId: subnet.id }));
  t.is(anew.seq, 5, 'a new commit');
  t.not((anew.result.port as { id: string }).id, (first.result.port as { id: string }).id, 'a second port');
  // A name the first command took: decided as any new command.
  t.like(await send('vpc.create', { commandId: 'v', name: 'v', cidr: '10.0.0.0/16' }), { ok: false, error: { code: 'ALREADY_EXISTS' } });
  // Remembered afresh; a restart on the same log with the same retention remembers the same.
  t.deepEqual(await send('port.create', { commandId: 'p', subnetId: subnet.id }), anew);
  const { intake: restarted, send: sendAgain } = await startIntake(log, draws, retention);
  t.teardown(() => restarted.stop());
  t.deepEqual(await sendAgain('port.create', { commandId: 'p', subnetId: subnet.id }), anew);
  t.like(await sendAgain('vpc.create', { commandId: 'v', name: 'v', cidr: '10.0.0.0/16' }), { ok: false, error: { code: 'ALREADY_EXISTS' } });
  t.is(log.commits.length, 5);
});

test('intake core - a tenant\'s newest commandIds are remembered up to the retention\'s count; other tenants keep theirs', async (t) => {
  const { intake, log, send, sendIn } = await startIntake(new MemoryLog(), counterDraws(), { ms: 24 * 60 * 60_000, perScope: 2 });
  t.teardown(() => intake.stop());
  const other: Scope = { org: 'other', project: 'p' };
  const kept = ok(await sendIn(other, 'vpc.create', { commandId: 'g', name: 'g' }));
  ok(await send('vpc.create', { commandId: 'g1', name: 'g1' }));
  const second = ok(await send('vpc.create', { commandId: 'g2', name: 'g2' }));
  ok(await send('vpc.create', { commandId: 'g3', name: 'g3' }));
  t.deepEqual(await send('vpc.create', { commandId: 'g2', name: 'g2' }), second);
  t.is(log.commits.length, 4);
  // g1 is past the newest two: sending it again decides it anew.
  t.like(await send('vpc.create', { commandId: 'g1', name: 'g1' }), { ok: false, error: { code: 'ALREADY_EXISTS' } });
  t.deepEqual(await sendIn(other, 'vpc.create', { commandId: 'g', name: 'g' }), kept);
  t.is(log.commits.length, 4);
});

test('intake core - one clock read per command: the reply and the commit carry the same time', async (t) => {
  const { intake, log, draws, send } = await startIntake();
  t.teardown(() => intake.stop());
  const reply = ok(await send('vpc.create', { commandId: 'c1', name: 'a' }));
  t.is(draws.clockReads, 1);
  t.is((reply.result.vpc as { createdAt: string }).createdAt, log.commits[0]!.at);
  const listed = ok(await send('vpc.list', {}));
  t.is((listed.result.vpcs as { createdAt: string }[])[0]!.createdAt, log.commits[0]!.at, 'a later read agrees with the reply');
});

test('intake core - a refusal that rests on commits in flight is answered only once they are confirmed', async (t) => {
  const { intake, log, send } = await startIntake();
  t.teardown(() => intake.stop());
  log.holding = true;
  const created = send('vpc.create', { commandId: 'c1', name: 'a' });
  const duplicate = send('vpc.create', { commandId: 'c2', name: 'a' });
  let answered = false;
  void duplicate.then(() => { answered = true; });
  while (log.inFlight < 1) await new Promise((r) => setImmediate(r));
  await new Promise((r) => setTimeout(r, 20));
  t.false(answered, 'the refusal waits for the commit it rests on');
  log.release();
  ok(await created);
  t.like(await duplicate, { ok: false, error: { code: 'ALREADY_EXISTS' } });
});

/** A log another writer appends to without pause: every look at its head finds one more commit. */
class FloodedLog extends MemoryLog {
  flooding = false;
  override async lastSeq(): Promise<number> {
    if (this.flooding && this.commits.length > 0) this.commits.push(structuredClone(this.commits[0]!));
    return super.lastSeq();
  }
}

test('intake core - a refusal is decided again once after a catch-up, not for as long as another writer keeps appending', async (t) => {
  const log = new FloodedLog();
  const { intake, send } = await startIntake(log);
  t.teardown(() => intake.stop());
  ok(await send('vpc.create', { commandId: 'v', name: 'v', cidr: '10.0.0.0/16' }));
  log.flooding = true;
  const refused = send('port.create', { commandId: 'p', subnetId: '00000000-0000-4000-8000-999999999999' });
  const answer = await Promise.race([refused, new Promise<'waiting'>((r) => setTimeout(() => r('waiting'), 5000))]);
  log.flooding = false;
  t.like(answer, { ok: false, error: { code: 'NOT_FOUND' } });
});

test('intake core - a refusal that rests on a view behind another writer\'s commits is decided again on the caught-up view', async (t) => {
  const { intake, log, send } = await startIntake();
  const other = await startIntake(log, counterDraws(1000));
  t.teardown(async () => { await intake.stop(); await other.intake.stop(); });
  // The other writer creates the VPC and subnet; this intake's view has neither yet.
  const vpc = ok(await other.send('vpc.create', { commandId: 'v', name: 'v', cidr: '10.0.0.0/16' })).result.vpc as { id: string };
  const subnet = ok(await other.send('subnet.create', { commandId: 's', vpcId: vpc.id, name: 's' })).result.subnet as { id: string };
  const port = ok(await send('port.create', { commandId: 'p', subnetId: subnet.id }));
  t.is(port.seq, 3, 'decided again after folding in the other writer\'s commits: no NOT_FOUND');
  t.is(log.refused, 0, 'nothing was appended on the stale view');
  // A refusal that still holds on the caught-up view is answered as it is.
  t.like(await send('port.create', { commandId: 'q', subnetId: '00000000-0000-4000-8000-999999999999' }), { ok: false, error: { code: 'NOT_FOUND' } });
});
