import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import test from 'ava';
import { subjects } from '../../events/mod.js';
import type { Commit } from '../../events/mod.js';
import { EventLog } from '../../src/bus/log.js';
import { ensureStreams } from '../../src/bus/streams.js';
import { streamNames } from '../../events/mod.js';
import { startStack } from '../support/stack.js';
import type { Stack } from '../support/stack.js';

let stack: Stack;
test.before(async () => { stack = await startStack(); });
test.after.always(async () => { await stack?.stop(); });

async function eventLog(): Promise<EventLog> {
  return new EventLog(stack.nc, jetstream(stack.nc), await jetstreamManager(stack.nc), streamNames('novanet').events, subjects('novanet'));
}

test.serial('log - follow delivers every commit once, in order, then the new ones; stop() returns at once', async (t) => {
  const scope = { org: 'follow', project: 'p1' };
  for (let i = 0; i < 3; i++) await stack.client.call(scope, 'vpc.create', { name: `v${i}` });
  const log = await eventLog();
  const last = await log.lastSeq();
  const seen: number[] = [];
  const following = log.follow(1, (record) => { seen.push(record.seq); });
  await stack.client.call(scope, 'vpc.create', { name: 'later' });
  while (seen.length < last + 1) await new Promise((r) => setTimeout(r, 50));
  t.deepEqual(seen, Array.from({ length: last + 1 }, (_, i) => i + 1));
  const started = Date.now();
  await following.stop();
  t.true(Date.now() - started < 2000);
});

test.serial('log - a commit the follower cannot process ends the follow instead of being retried', async (t) => {
  const log = await eventLog();
  let calls = 0;
  const following = log.follow(1, () => {
    calls++;
    throw new Error('cannot fold this');
  });
  await t.throwsAsync(following.done, { message: 'cannot fold this' });
  t.is(calls, 1);
  await following.stop();
});

test.serial('log - readAt reads one record by its sequence, as read() does; nothing past the end', async (t) => {
  const scope = { org: 'readat', project: 'p1' };
  const { seq } = await stack.client.call(scope, 'vpc.create', { name: 'v' });
  const log = await eventLog();
  const streamed = [];
  for await (const record of log.read(seq, seq)) streamed.push(record);
  t.deepEqual(await log.readAt(seq), streamed[0]);
  t.like(await log.readAt(seq), { seq, commit: { scope, operation: 'vpc.create' } });
  t.is(await log.readAt(await log.lastSeq() + 1), undefined);
});

test.serial('log - appends made together land in order; one expecting a stale last sequence is refused with the server\'s reason, the ones after it too', async (t) => {
  const prefix = 'fenced';
  const jsm = await jetstreamManager(stack.nc);
  const log = new EventLog(stack.nc, jetstream(stack.nc), jsm, (await ensureStreams(jsm, prefix, 1)).events, subjects(prefix));
  const commit = (n: number): Commit => ({
    v: 1, commandId: `c${n}`, scope: { org: 'o', project: 'p' }, operation: 'vpc.create', at: new Date(0).toISOString(), request: { commandId: `c${n}` }, result: {}, events: [],
  });
  // One turn: chained expectations, as the intake pipelines them.
  t.deepEqual(await Promise.all([log.append(commit(1), 0), log.append(commit(2), 1), log.append(commit(3), 2)]), [1, 2, 3]);
  const [stale, after] = await Promise.allSettled([log.append(commit(4), 1), log.append(commit(5), 4)]);
  t.is(stale.status, 'rejected');
  t.regex(String((stale as PromiseRejectedResult).reason), /refused the append: wrong last sequence/);
  t.is(after.status, 'rejected');
  t.is(await log.lastSeq(), 3);
  t.is(await log.append(commit(4), 3), 4);
  t.like(await log.readAt(4), { seq: 4, commit: { commandId: 'c4' } });
});
