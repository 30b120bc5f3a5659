import net from 'node:net';
import test from 'ava';
import type { ConnectionState } from '../../src/ovsdb/mod.js';
import { connect, startNb, waitFor } from './fixture.js';

test('client - over tcp, answering echo keeps an idle connection past the inactivity probe', async (t) => {
  const nb = await startNb(t);
  const remote = await nb.listenTcp();
  const client = await connect(t, { remote });
  const states: ConnectionState[] = [];
  client.onConnection((state) => states.push(state));
  await client.monitor({ Logical_Switch: { columns: ['name'] } });

  // Control: a peer that never answers echo is dropped by the server's probe (5 s idle + 5 s).
  const silent = net.createConnection({ host: '127.0.0.1', port: Number(remote.split(':')[2]) });
  t.teardown(() => silent.destroy());
  let received = '';
  silent.on('data', (chunk: Buffer) => (received += chunk.toString()));
  let dropped = false;
  silent.on('close', () => (dropped = true));
  silent.on('error', () => {});
  await waitFor(() => dropped, 'the silent peer to be dropped', 30_000);
  t.regex(received, /"method":"echo"/);

  t.true(client.connected);
  t.deepEqual(states, [], 'the client, idle just as long, was never disconnected');
  await nb.nbctl('ls-add', 'after-idle');
  await waitFor(() => client.cache.table('Logical_Switch').size === 1, 'the update after the idle period');
  const [result] = await client.transact([{ op: 'select', table: 'Logical_Switch', where: [], columns: ['name'] }]);
  t.like(result!.rows![0], { name: 'after-idle' });
});
