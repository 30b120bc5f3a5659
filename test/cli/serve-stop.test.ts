import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { streamNames, subjects } from '../../events/mod.js';
import { NovanetClient } from '../../src/bus/client.js';
import { EventLog } from '../../src/bus/log.js';
import { startNatsServer, startNorthbound } from '../../src/sandbox/mod.js';

const cli = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

/** `novanet serve` as its own process, resolved once it logs that it is ready. */
async function serve(t: ExecutionContext, args: string[]): Promise<{ child: ChildProcess; exited: Promise<[number | null, string | null]> }> {
  const child = spawn(process.execPath, [cli, ...args, 'serve'], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); });
  const exited = once(child, 'exit') as Promise<[number | null, string | null]>;
  let output = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const lines = createInterface({ input: child.stdout! });
  await Promise.race([
    (async () => { for await (const line of lines) if (line.includes('novanet engine ready')) return; })(),
    exited.then(() => { throw new Error(`serve exited before it was ready: ${output}`); }),
  ]);
  return { child, exited };
}

async function stack(t: ExecutionContext) {
  const dir = await mkdtemp(join(tmpdir(), 'novanet-stop-'));
  const nats = await startNatsServer({ dir: join(dir, 'nats') });
  const northbound = await startNorthbound({ dir: join(dir, 'ovn') });
  t.teardown(async () => {
    await northbound.stop();
    await nats.stop();
    await rm(dir, { recursive: true, force: true });
  });
  return { nats, northbound, args: ['--nats', nats.url, '--ovn-nb', northbound.remote, '--http-listen', '127.0.0.1:0'] };
}

test('serve - SIGTERM with NATS gone ends the engine within 5 s, and the exit code says it was not clean', async (t) => {
  const { nats, args } = await stack(t);
  const { child, exited } = await serve(t, args);
  await nats.stop();
  const started = Date.now();
  child.kill('SIGTERM');
  const [code] = await exited;
  const seconds = (Date.now() - started) / 1000;
  t.log(`stopped ${seconds.toFixed(2)} s after SIGTERM with NATS gone, exit code ${code}`);
  t.true(seconds < 5, `took ${seconds} s`);
  t.is(code, 3, 'forced: connections closed at the deadline');
});

test('serve - SIGINT with everything up is a clean stop, exit code 0', async (t) => {
  const { args } = await stack(t);
  const { child, exited } = await serve(t, args);
  const started = Date.now();
  child.kill('SIGINT');
  const [code] = await exited;
  t.log(`stopped ${((Date.now() - started) / 1000).toFixed(2)} s after SIGINT`);
  t.is(code, 0);
});

test('serve - SIGTERM with the Northbound gone is still a stop within 5 s', async (t) => {
  const { northbound, args } = await stack(t);
  const { child, exited } = await serve(t, args);
  await northbound.stop();
  const started = Date.now();
  child.kill('SIGTERM');
  const [code] = await exited;
  const seconds = (Date.now() - started) / 1000;
  t.log(`stopped ${seconds.toFixed(2)} s after SIGTERM with the Northbound gone, exit code ${code}`);
  t.true(seconds < 5, `took ${seconds} s`);
  t.true(code === 0 || code === 3, `exit code ${code}`);
});

test('serve - SIGTERM amid a stream of commands: the commands taken are answered before the engine ends, each in the log where its reply says, nothing refused, exit 0', async (t) => {
  const { nats, args } = await stack(t);
  const { child, exited } = await serve(t, args);
  const nc = await connect({ servers: nats.url });
  t.teardown(() => nc.close());
  const client = new NovanetClient(nc, 'novanet', 3000);
  const scope = { org: 'stop', project: 'p1' };
  const sent = Array.from({ length: 200 }, (_, i) => client.request(scope, 'vpc.create', { commandId: `c-${i}`, name: `v-${i}` }).catch(() => undefined));
  await nc.flush();
  child.kill('SIGTERM');
  const replies = await Promise.all(sent);
  const [code] = await exited;
  t.is(code, 0);
  const log = new EventLog(nc, jetstream(nc), await jetstreamManager(nc), streamNames().events, subjects());
  const committed = new Map<string, number>();
  for await (const record of log.read(1, await log.lastSeq())) if ('commit' in record) committed.set(record.commit.commandId, record.seq);
  const answered = replies.flatMap((r, i) => (r?.ok ? [[`c-${i}`, r.seq] as const] : []));
  t.log(`${answered.length} of 200 answered ok before the stop, ${committed.size} commits in the log`);
  for (const [commandId, seq] of answered) t.is(committed.get(commandId), seq, `${commandId} is in the log where its reply said`);
  t.true(committed.size >= answered.length && [...committed.keys()].every((id) => /^c-\d+$/.test(id)), 'the log holds the stream\'s commands and nothing else');
  t.deepEqual(replies.filter((r) => r !== undefined && !r.ok), [], 'nothing was refused: a command is answered ok or not at all');
});
