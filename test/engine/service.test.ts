import test from 'ava';
import { Svcm } from '@nats-io/services';
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

test('service - the intake is a NATS micro service: ping, info and stats find it, with per-endpoint counts and refusals by code', async (t) => {
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
