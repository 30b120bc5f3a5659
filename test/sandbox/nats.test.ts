import { connect as connectNats } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import test from 'ava';
import { access } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { startNatsServer } from '../../src/sandbox/mod.js';
import { isAlive, tempDir } from './helpers.js';

function firstLine(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('data', (chunk) => {
      socket.destroy();
      resolve(chunk.toString('utf8').split('\r\n')[0] ?? '');
    });
    socket.once('error', reject);
  });
}

test('nats - starts on a free port, greets with INFO, stops', async (t) => {
  const dir = await tempDir(t);
  const nats = await startNatsServer({ dir });
  t.teardown(() => nats.stop());
  t.is(nats.url, `nats://127.0.0.1:${nats.port}`);
  t.true(nats.port > 0);
  const info = JSON.parse((await firstLine(nats.port)).replace(/^INFO /, '')) as { jetstream?: boolean; host?: string };
  t.true(info.jetstream);
  t.is(info.host, '127.0.0.1');
  await nats.stop();
  t.false(isAlive(nats.pid));
});

test('nats - the JetStream store survives a restart on the same dir', async (t) => {
  const dir = await tempDir(t);
  const first = await startNatsServer({ dir });
  t.teardown(() => first.stop());
  const nc = await connectNats({ servers: first.url });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: 'KEEP', subjects: ['keep.>'] });
  await jetstream(nc).publish('keep.a', 'hello');
  await nc.close();
  await first.stop();
  await access(join(dir, 'jetstream'));

  const second = await startNatsServer({ dir });
  t.teardown(() => second.stop());
  const nc2 = await connectNats({ servers: second.url });
  t.teardown(() => nc2.close());
  const info = await (await jetstreamManager(nc2)).streams.info('KEEP');
  t.is(info.state.messages, 1);
});

test('nats - a port in use fails with the log tail', async (t) => {
  const dir = await tempDir(t);
  const nats = await startNatsServer({ dir });
  t.teardown(() => nats.stop());
  const err = await t.throwsAsync(startNatsServer({ dir: join(dir, 'second'), port: nats.port }));
  t.is(err?.name, 'SandboxStartError');
  t.regex(err?.message ?? '', /address already in use/);
});
