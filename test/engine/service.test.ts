import test from 'ava';
import { jetstreamManager } from '@nats-io/jetstream';
import { Svcm } from '@nats-io/services';
import { streamNames } from '../../events/mod.js';
import { startStack } from '../support/stack.js';
import type { Stack } from '../support/stack.js';

let stack: Stack;
test.before(async () => { stack = await startStack(); });
test.after.always(async () => { await stack?.stop(); });

async function collect<T>(iterator: Promise<AsyncIterable<T>>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of await iterator) all.push(item);
  return all;
}

test.serial('service - the intake is a NATS micro service: ping, info and stats find it, with per-endpoint counts and refusals by code', async (t) => {
  const client = new Svcm(stack.nc).client();
  const [pong] = await collect(client.ping('novanet'));
  t.like(pong, { name: 'novanet', version: '0.1.0' });

  const [info] = await collect(client.info('novanet'));
  t.deepEqual(info!.endpoints.map((e) => [e.name, e.subject, e.queue_group]), [
    ['commands', 'novanet.cmd.>', 'novanet-intake'],
    ['admin', 'novanet.admin.cmd.>', 'novanet-intake'],
    ['operator', 'novanet.admin.ops.>', 'novanet-intake'],
  ]);

  const scope = { org: 'svc', project: 'p1' };
  await stack.client.call(scope, 'vpc.create', { name: 'a' });
  t.false((await stack.client.request(scope, 'vpc.get', { vpcId: '00000000-0000-4000-8000-000000000000' })).ok);
  t.false((await stack.client.request(scope, 'bogus.verb', {})).ok);
  const [stats] = await collect(client.stats('novanet'));
  const commands = stats!.endpoints!.find((e) => e.name === 'commands')!;
  t.is(commands.num_requests, 3);
  t.deepEqual(commands.data, { refused: { NOT_FOUND: 1, UNKNOWN_OPERATION: 1 } });
  t.is(stats!.endpoints!.find((e) => e.name === 'admin')!.num_requests, 0);
});

test.serial('service - the discovery requests answer only inboxes: a $SRV ping with its reply aimed at a purge of the log is dropped', async (t) => {
  const scope = { org: 'svc', project: 'p2' };
  await stack.client.call(scope, 'vpc.create', { name: 'kept' });
  const jsm = await jetstreamManager(stack.nc);
  const { events } = streamNames('novanet');
  const before = (await jsm.streams.info(events)).state.messages;
  const dropped = stack.engine.endpoint.droppedForReplySubject;
  // The services library's own PING/INFO/STATS handlers answer whatever reply subject a request names.
  const forged = ['$SRV.PING', '$SRV.INFO.novanet', '$SRV.STATS'];
  for (const subject of forged) stack.nc.publish(subject, '', { reply: `$JS.API.STREAM.PURGE.${events}` });
  // Positive control: a ping from an inbox is answered, and it arrives after the forged ones.
  const [pong] = await collect(new Svcm(stack.nc).client().ping('novanet'));
  t.like(pong, { name: 'novanet' });
  t.is(stack.engine.endpoint.droppedForReplySubject, dropped + forged.length);
  t.is((await jsm.streams.info(events)).state.messages, before, 'the log was not purged');
});
