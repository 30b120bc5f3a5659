import { setTimeout as sleep } from 'node:timers/promises';
import { jetstreamManager } from '@nats-io/jetstream';
import test from 'ava';
import { pino } from 'pino';
import { readStatus, streamNames } from '../../events/mod.js';
import { NovanetClient } from '../../src/bus/client.js';
import { configFrom } from '../../src/engine/config.js';
import { startTenantsStack } from '../support/tenants.js';

const DROPPED = 'request dropped unprocessed: its reply subject is not an inbox';

// The confused deputy: a tenant may only publish on its own command subjects, but it names the
// reply subject, and the engine publishes the reply with rights of its own.
test('deputy - a request whose reply subject is not an inbox is dropped, and the engine\'s NATS user cannot purge', async (t) => {
  const warnings: { msg: string; subject?: string; reply?: string }[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => { warnings.push(JSON.parse(line) as { msg: string }); } });
  // No periodic resync, so the STATUS stream only moves when a resource does.
  const { engine, login } = await startTenantsStack(t, { logger, config: { resyncIntervalMs: 3_600_000 } });
  const acmeNc = await login('acme-web', 'change-me-acme');
  const globexNc = await login('globex-web', 'change-me-globex');
  const acme = new NovanetClient(acmeNc, 'novanet', 3000);
  const globex = new NovanetClient(globexNc, 'novanet', 3000);
  const acmeScope = { org: 'acme', project: 'web' };
  const globexScope = { org: 'globex', project: 'web' };
  // The engine's user, as a second client: it reads the streams' state, and is refused what the engine never does.
  const jsm = await jetstreamManager(await login('engine', 'change-me-engine'));
  const streams = streamNames('novanet');

  const mine = (await acme.call(acmeScope, 'vpc.create', { name: 'main' })).result.vpc as { id: string };
  await acme.waitFor(acmeScope, 'vpc', mine.id, (s) => s.phase === 'Ready');
  const theirs = (await globex.call(globexScope, 'vpc.create', { name: 'main' })).result.vpc as { id: string };
  await globex.waitFor(globexScope, 'vpc', theirs.id, (s) => s.phase === 'Ready');
  while (engine.reconciler.observedSeq < engine.intake.view.seq) await sleep(20);
  await engine.reconciler.idle();
  // The restricted user may do all the engine does: a resync reads the stored statuses too.
  await engine.reconciler.resync();
  await engine.reconciler.idle();
  t.deepEqual(warnings.filter((w) => w.msg.startsWith('reading the stored statuses failed')), []);

  const theirStatus = `novanet.status.globex.web.vpc.${theirs.id}`;
  const storedStatus = async () => {
    const msg = await globexNc.request(`$JS.API.DIRECT.GET.${streams.status}.${theirStatus}`, '', { timeout: 3000 });
    return { seq: msg.headers?.get('Nats-Sequence'), status: readStatus(msg.data) };
  };
  const state = async () => ({
    theirs: await storedStatus(),
    statuses: (await jsm.streams.info(streams.status)).state.messages,
    lastCommit: (await jsm.streams.info(streams.events)).state.last_seq,
  });
  const before = await state();
  t.like(before.theirs.status, { org: 'globex', id: theirs.id, phase: 'Ready' });

  // acme's own, allowed query, with the reply aimed at globex's status, at a purge of every
  // tenant's statuses, at the immutable event log, and at globex's and the operator's inboxes
  // (which the engine may publish to: it answers them).
  const forged = [theirStatus, `$JS.API.STREAM.PURGE.${streams.status}`, 'novanet.evt.globex.web', '_INBOX_globex_web.forged', '_INBOX_operator.forged'];
  const intoTheirInbox = globexNc.subscribe('_INBOX_globex_web.forged', { callback: () => t.fail('a reply reached another tenant\'s inbox') });
  await globexNc.flush();
  t.teardown(() => intoTheirInbox.unsubscribe());
  for (const reply of forged) acmeNc.publish('novanet.cmd.acme.web.vpc.list', '{}', { reply });
  // Positive control: the same query with acme's own inbox is answered. It arrives after the forged ones.
  const answered = await acme.call(acmeScope, 'vpc.list', {});
  t.deepEqual((answered.result.vpcs as { id: string }[]).map((v) => v.id), [mine.id]);
  t.is(engine.endpoint.droppedForReplySubject, forged.length);
  t.deepEqual(warnings.filter((w) => w.msg === DROPPED).map((w) => [w.subject, w.reply]),
    forged.map((reply) => ['novanet.cmd.acme.web.vpc.list', reply]));
  // Had a reply gone out, the stream would store it a moment after the answer above.
  await sleep(500);
  t.deepEqual(await state(), before, 'globex\'s status, the STATUS stream and the event log are untouched');

  // The engine's user itself: NATS refuses a purge or a deletion of a stream.
  for (const [what, attempt] of [
    ['purge STATUS', () => jsm.streams.purge(streams.status)],
    ['delete STATUS', () => jsm.streams.delete(streams.status)],
    ['delete EVENTS', () => jsm.streams.delete(streams.events)],
  ] as const) {
    const err = await t.throwsAsync(attempt(), undefined, what);
    t.regex(err?.message ?? '', /permissions violation/i, what);
  }
  t.deepEqual(await state(), before);

  // Everything the engine does still works: globex's next command is answered and reaches OVN.
  const next = await globex.call(globexScope, 'vpc.create', { name: 'next' });
  const nextId = (next.result.vpc as { id: string }).id;
  t.like(await globex.waitFor(globexScope, 'vpc', nextId, (s) => s.phase === 'Ready' && s.observedSeq >= next.seq), { org: 'globex' });
  t.is(next.seq, before.lastCommit + 1);
  t.deepEqual(await storedStatus(), before.theirs);

  // A request without a reply subject is processed as before; there is just nothing to answer.
  acmeNc.publish('novanet.cmd.acme.web.vpc.create', JSON.stringify({ commandId: 'no-reply', name: 'quiet' }));
  const listed = await acme.call(acmeScope, 'vpc.list', {});
  t.deepEqual((listed.result.vpcs as { name: string }[]).map((v) => v.name).sort(), ['main', 'quiet']);
  t.is(engine.endpoint.droppedForReplySubject, forged.length);
});

test('deputy - reply prefixes that could reach a stream or the JetStream API are refused', (t) => {
  t.deepEqual(configFrom({}, {}).replyPrefixes, ['_INBOX.', '_INBOX_{org}_{project}.']);
  t.deepEqual(configFrom({}, {}).adminReplyPrefixes, ['_INBOX.', '_INBOX_operator.']);
  t.deepEqual(configFrom({}, { NOVANET_ADMIN_REPLY_PREFIXES: '_INBOX_ops.' }).adminReplyPrefixes, ['_INBOX_ops.']);
  t.deepEqual(configFrom({ replyPrefixes: '_INBOX., _INBOX_acme_web.' }, {}).replyPrefixes, ['_INBOX.', '_INBOX_acme_web.']);
  t.deepEqual(configFrom({}, { NOVANET_REPLY_PREFIXES: '_INBOX_ops.' }).replyPrefixes, ['_INBOX_ops.']);
  t.deepEqual(configFrom({ prefix: 'acme', replyPrefixes: 'novanet-replies.' }, {}).replyPrefixes, ['novanet-replies.']);
  for (const refused of ['$JS.API.', '$JS.', '$SYS.', '$KV.', 'novanet.status.', 'novanet.', 'novanet', 'nov', '_INBOX.*', '_INBOX.>', ',', '{org}.', 'nova{org}.']) {
    t.throws(() => configFrom({ replyPrefixes: refused }, {}), undefined, refused);
    t.throws(() => configFrom({ adminReplyPrefixes: refused }, {}), undefined, refused);
  }
  t.throws(() => configFrom({ prefix: 'acme', replyPrefixes: '_INBOX.,acme.evt.' }, {}), undefined, 'the installation\'s own prefix');
});
