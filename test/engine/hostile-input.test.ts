import { randomUUID } from 'node:crypto';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import test from 'ava';
import fc from 'fast-check';
import { subjects } from '../../events/mod.js';
import { admit, ErrorCode, isCommandError, providerOperations, tenantOperations } from '../../src/commands/mod.js';
import { streamNames } from '../../events/mod.js';
import { startSmallPayloadEngine } from '../support/small-payload.js';
import { startStack } from '../support/stack.js';
import type { Stack } from '../support/stack.js';

let stack: Stack;
test.before(async () => { stack = await startStack(); });
test.after.always(async () => { await stack?.stop(); });

const lastSeq = async () => (await (await jetstreamManager(stack.nc)).streams.info(streamNames('novanet').events)).state.last_seq;

test.serial('hostile input - fuzzed requests through NATS are all refused with their documented code, and nothing is appended', async (t) => {
  const scope = { org: 'fuzz', project: 'p1' };
  await stack.client.call(scope, 'vpc.create', { name: 'v' });
  const subs = subjects('novanet');
  const names = [...tenantOperations.keys(), ...providerOperations.keys(), '__proto__', 'constructor', 'toString'];
  const value = fc.oneof(fc.string({ unit: 'binary' }), fc.constantFrom('\ud800', 'a\u0000', '10.1.0.0/016', randomUUID()), fc.integer(), fc.constant(null), fc.array(fc.string(), { maxLength: 2 }));
  const request = fc.record({
    subject: fc.constantFrom(...names).map((n) => providerOperations.has(n) ? `novanet.admin.cmd.${n}` : `novanet.cmd.fuzz.p1.${n}`),
    body: fc.dictionary(fc.oneof(fc.constantFrom('commandId', 'name', 'vpcId', 'cidr', 'subnetId', 'tenant', 'limits', '__proto__'), fc.string()), value, { maxKeys: 4 }),
  });
  // Only what admit() refuses is sent: an accepted command would append, and that is the point of other tests.
  const refused = fc.sample(request, { numRuns: 2000, seed: 11 }).flatMap(({ subject, body }) => {
    const data = new TextEncoder().encode(JSON.stringify(body));
    try {
      admit(subs.parseCommand(subject)!, data);
      return [];
    } catch (err) {
      return isCommandError(err) ? [{ subject, data, code: err.code }] : [];
    }
  }).slice(0, 600);
  t.true(refused.length >= 300, `${refused.length} refused samples`);
  const before = await lastSeq();
  const replies = await Promise.all(refused.map(async (r) => ({ code: r.code, reply: (await stack.nc.request(r.subject, r.data, { timeout: 10_000 })).json<{ ok: boolean; error?: { code: string } }>() })));
  for (const { code, reply } of replies) {
    t.false(reply.ok);
    t.is(reply.error?.code, code);
  }
  t.false(replies.some((r) => r.reply.error?.code === ErrorCode.INTERNAL));
  t.is(await lastSeq(), before, 'nothing appended');
  // Positive control: the same connection's valid command is appended.
  const ok = await stack.client.call(scope, 'vpc.create', { name: 'w' });
  t.is(ok.seq, before + 1);
});

test.serial('hostile input - a lone surrogate in a committed name fails that resource alone; the Northbound session and every other tenant go on', async (t) => {
  const evil = { org: 'evil', project: 'p1' };
  const good = { org: 'good', project: 'p1' };
  const vpc = (await stack.client.call(evil, 'vpc.create', { name: 'v' })).result.vpc as { id: string };
  // The intake refuses the string itself …
  const refused = await stack.nc.request(subjects().command(evil, 'securitygroup.create'), `{"commandId":"sg","vpcId":"${vpc.id}","name":"\\ud800"}`, { timeout: 10_000 });
  t.like(refused.json(), { ok: false, error: { code: ErrorCode.VALIDATION_FAILED } });

  // … so a privileged writer puts it in the log behind the intake's back, fenced like the intake would.
  const states: string[] = [];
  t.teardown(stack.engine.reconciler.onNorthboundConnection((s) => states.push(s)));
  const groupId = randomUUID();
  const commit = {
    v: 1, commandId: 'evil-sg', scope: evil, operation: 'securitygroup.create', at: new Date().toISOString(), request: {}, result: {},
    events: [{ type: 'SecurityGroupCreated', data: { securityGroupId: groupId, vpcId: vpc.id, name: '\ud800', description: '', isDefault: false, ingressRules: [], egressRules: [] } }],
  };
  await jetstream(stack.nc).publish(subjects().events(evil), JSON.stringify(commit), { expect: { lastSequence: await lastSeq() } });
  const failed = await stack.client.waitFor(evil, 'securitygroup', groupId, (s) => s.phase === 'Failed');
  t.regex(String(failed.message), /well-formed/);

  // Another tenant's new resources reach Ready meanwhile: reconciliation did not stop.
  const gv = (await stack.client.call(good, 'vpc.create', { name: 'v' })).result.vpc as { id: string };
  const subnet = await stack.client.call(good, 'subnet.create', { vpcId: gv.id, name: 's' });
  const port = await stack.client.call(good, 'port.create', { subnetId: (subnet.result.subnet as { id: string }).id });
  const portId = (port.result.port as { id: string }).id;
  await stack.client.waitFor(good, 'port', portId, (s) => s.phase === 'Ready' && s.observedSeq >= port.seq, 10_000);
  t.deepEqual(states, [], 'the Northbound session never dropped');
});

test.serial('hostile input - a reply larger than NATS carries is answered INTERNAL and the engine goes on serving', async (t) => {
  const { client } = await startSmallPayloadEngine(t, 16384, 5000);
  const scope = { org: 'big', project: 'p1' };
  // Positive control: a list that fits is answered.
  await client.call(scope, 'vpc.create', { name: 'v0' });
  t.like(await client.request(scope, 'vpc.list'), { ok: true });
  for (let i = 1; i < 80; i++) await client.call(scope, 'vpc.create', { name: `v${i}`, cidr: `10.${i}.0.0/16` });
  t.like(await client.request(scope, 'vpc.list'), { ok: false, error: { code: ErrorCode.INTERNAL } });
  // The engine is still there for everyone.
  t.like(await client.request({ org: 'other', project: 'p1' }, 'vpc.create', { name: 'x' }), { ok: true });
});
