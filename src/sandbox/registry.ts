// Process-wide record of every pid and network namespace the sandbox created, so that a
// test process that dies or forgets to stop still leaves nothing behind. The hooks are
// synchronous: by the time 'exit' runs there is no event loop left.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const pids = new Set<number>();
const namespaces = new Set<string>();
const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const graceMs = 2000;
let hooked = false;

export function trackPid(pid: number): void {
  hook();
  pids.add(pid);
}
export function untrackPid(pid: number): void {
  pids.delete(pid);
}
export function trackNamespace(name: string): void {
  hook();
  namespaces.add(name);
}
export function untrackNamespace(name: string): void {
  namespaces.delete(name);
}

function hook(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', cleanupSync);
  for (const signal of signals) process.on(signal, onSignal);
}

function onSignal(signal: NodeJS.Signals): void {
  // Another listener means the application owns shutdown (npm start stops things in order);
  // whatever it leaves is still caught by the 'exit' hook.
  if (process.listenerCount(signal) > 1) return;
  cleanupSync();
  for (const s of signals) process.off(s, onSignal);
  process.kill(process.pid, signal);
}

/** SIGTERM everything still registered, SIGKILL what outlives a short grace, and wait until all are gone; then delete the namespaces. */
function cleanupSync(): void {
  let alive = [...pids].filter(isAlive);
  for (const pid of alive) signal(pid, 'SIGTERM');
  alive = waitGone(alive, graceMs);
  for (const pid of alive) signal(pid, 'SIGKILL');
  waitGone(alive, graceMs);
  pids.clear();
  if (namespaces.size > 0) {
    // Deleting a namespace destroys the veth ends inside it, and with them their peers.
    const script = [...namespaces].map((name) => `netns delete ${name}\n`).join('');
    try {
      execFileSync('ip', ['-force', '-batch', '-'], { input: script, stdio: ['pipe', 'ignore', 'ignore'] });
    } catch {
      // -force carries on past names that are already gone; nothing else is worth reporting at exit.
    }
    namespaces.clear();
  }
}

/** Polls until the pids have exited or timeoutMs passed; returns those still alive. */
function waitGone(pids: number[], timeoutMs: number): number[] {
  const deadline = Date.now() + timeoutMs;
  let alive = pids.filter(isAlive);
  while (alive.length > 0 && Date.now() < deadline) {
    sleepSync(20);
    alive = alive.filter(isAlive);
  }
  return alive;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

// process.kill(pid, 0) succeeds on zombies, and nothing reaps our children once the loop has stopped.
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
