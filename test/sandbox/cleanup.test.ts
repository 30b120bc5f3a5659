import test from 'ava';
import type { ExecutionContext } from 'ava';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { isAlive, leftovers, nothingLeft, tempDir } from './helpers.js';

const fixture = fileURLToPath(new URL('./fixtures/abandon.js', import.meta.url));

interface Report {
  readonly host: string;
  readonly pids: number[];
}

/** Runs the fixture until its sandbox runs, lets `leave` act on it, and waits for it to end. */
async function abandon(dir: string, how: string, leave?: (child: ChildProcess) => void): Promise<{ report: Report; signal: NodeJS.Signals | null }> {
  const child = spawn(process.execPath, [fixture, dir, how], { stdio: ['ignore', 'pipe', 'inherit'] });
  const ended = new Promise<NodeJS.Signals | null>((resolve) => child.once('close', (_code, signal) => resolve(signal)));
  const line = await Promise.race([
    new Promise<string>((resolve) => createInterface({ input: child.stdout }).once('line', resolve)),
    ended.then((): never => {
      throw new Error('the fixture ended before its sandbox ran');
    }),
  ]);
  leave?.(child);
  return { report: JSON.parse(line) as Report, signal: await ended };
}

function assertNothingLeft(t: ExecutionContext, report: Report, dir: string): void {
  t.true(report.pids.length >= 6);
  t.deepEqual(report.pids.filter(isAlive), []);
  t.deepEqual(leftovers(report.host.replace(/-host$/, ''), dir), nothingLeft);
}

test('cleanup - process.exit() without stop() leaves no process, namespace or veth', async (t) => {
  const dir = await tempDir(t);
  const { report } = await abandon(dir, 'exit');
  assertNothingLeft(t, report, dir);
});

test('cleanup - ending without stop() leaves no process, namespace or veth', async (t) => {
  const dir = await tempDir(t);
  const { report } = await abandon(dir, 'return');
  assertNothingLeft(t, report, dir);
});

test('cleanup - SIGTERM without stop() leaves nothing, and the process still dies of SIGTERM', async (t) => {
  const dir = await tempDir(t);
  const { report, signal } = await abandon(dir, 'signal', (child) => child.kill('SIGTERM'));
  t.is(signal, 'SIGTERM');
  assertNothingLeft(t, report, dir);
});
