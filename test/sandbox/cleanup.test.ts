import test from 'ava';
import type { ExecutionContext } from 'ava';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { isAlive, leftovers, nothingLeft, tempDir, tracesFound } from './helpers.js';

const fixture = fileURLToPath(new URL('./fixtures/abandon.js', import.meta.url));

interface Report {
  readonly host: string;
  readonly pids: number[];
}

/** What the probes of assertNothingLeft found while the fixture's sandbox ran: their positive control. */
interface Running {
  readonly alive: number[];
  readonly traces: boolean;
}

/** Runs the fixture until its sandbox runs, lets `leave` act on it, and waits for it to end. */
async function abandon(dir: string, how: string, leave?: (child: ChildProcess) => void): Promise<{ report: Report; running: Running; signal: NodeJS.Signals | null }> {
  const child = spawn(process.execPath, [fixture, dir, how], { stdio: ['pipe', 'pipe', 'inherit'] });
  const ended = new Promise<NodeJS.Signals | null>((resolve) => child.once('close', (_code, signal) => resolve(signal)));
  const line = await Promise.race([
    new Promise<string>((resolve) => createInterface({ input: child.stdout }).once('line', resolve)),
    ended.then((): never => {
      throw new Error('the fixture ended before its sandbox ran');
    }),
  ]);
  const report = JSON.parse(line) as Report;
  const running = { alive: report.pids.filter(isAlive), traces: tracesFound(prefixOf(report), dir) };
  child.stdin.end('leave\n');
  leave?.(child);
  return { report, running, signal: await ended };
}

const prefixOf = (report: Report): string => report.host.replace(/-host$/, '');

function assertNothingLeft(t: ExecutionContext, { report, running }: { report: Report; running: Running }, dir: string): void {
  t.true(report.pids.length >= 6);
  t.deepEqual(running.alive, report.pids, 'every pid was alive while the sandbox ran');
  t.true(running.traces, 'and leftovers() found its namespaces and processes');
  t.deepEqual(report.pids.filter(isAlive), []);
  t.deepEqual(leftovers(prefixOf(report), dir), nothingLeft);
}

test('cleanup - process.exit() without stop() leaves no process, namespace or veth', async (t) => {
  const dir = await tempDir(t);
  assertNothingLeft(t, await abandon(dir, 'exit'), dir);
});

test('cleanup - ending without stop() leaves no process, namespace or veth', async (t) => {
  const dir = await tempDir(t);
  assertNothingLeft(t, await abandon(dir, 'return'), dir);
});

test('cleanup - SIGTERM without stop() leaves nothing, and the process still dies of SIGTERM', async (t) => {
  const dir = await tempDir(t);
  const abandoned = await abandon(dir, 'signal', (child) => child.kill('SIGTERM'));
  t.is(abandoned.signal, 'SIGTERM');
  assertNothingLeft(t, abandoned, dir);
});
