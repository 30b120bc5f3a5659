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
