// Spawning, readiness and stopping of the processes the sandbox runs. Every child is
// registered by pid for the exit hooks until it has exited.
import { spawn } from 'node:child_process';
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { open } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { constants } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { SandboxCommandError, SandboxStartError } from './errors.js';
import { trackPid, untrackPid } from './registry.js';

export interface ProcessResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
}

export interface RunOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly timeoutMs?: number;
  readonly input?: string;
}

const defaultRunTimeoutMs = 60_000;

export function spawnTracked(argv: readonly string[], options: SpawnOptions): ChildProcess {
  const [command, ...args] = argv;
  if (command === undefined) throw new TypeError('empty argv');
  const child = spawn(command, args, options);
  const pid = child.pid;
  if (pid !== undefined) {
    trackPid(pid);
    child.once('exit', () => untrackPid(pid));
  }
  return child;
}

/** Runs a command to completion; never rejects (a spawn failure is code 127, a signal 128+n). */
export function runProcess(argv: readonly string[], options: RunOptions = {}): Promise<ProcessResult> {
  return new Promise((resolve) => {
    const child = spawnTracked(argv, {
      env: options.env ?? process.env,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? defaultRunTimeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      resolve({ code: 127, stdout, stderr: stderr + err.message, timedOut });
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: exitCode(code, signal), stdout, stderr, timedOut });
    });
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** Runs a command and returns its stdout; throws SandboxCommandError unless it exits 0. */
export async function run(argv: readonly string[], options: RunOptions = {}): Promise<string> {
  const result = await runProcess(argv, options);
  if (result.code !== 0) {
    throw new SandboxCommandError({ argv, code: result.code, stderr: result.stderr, timedOut: result.timedOut });
  }
  return result.stdout;
}

export interface Daemon {
  readonly pid: number;
  readonly logPath: string;
  /** SIGTERM, then SIGKILL after stopTimeoutMs; resolves once the process has exited. */
  stop(): Promise<void>;
  /** SIGKILL at once (a crash); resolves once the process has exited. */
  kill(): Promise<void>;
}

export interface DaemonSpec {
  readonly name: string;
  readonly argv: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  /** stdout and stderr are appended here: OVS daemons log to the console, so early errors land in the same file. */
  readonly logPath: string;
  /** Resolves when the daemon serves; polled or blocking, it must give up once signal aborts. */
  readonly ready: (signal: AbortSignal, pid: number) => Promise<void>;
  readonly readyTimeoutMs?: number;
  readonly stopTimeoutMs?: number;
  /** Working directory: relative paths in a daemon's config resolve against it. */
  readonly cwd?: string;
}

interface Exit {
  readonly code: number;
  readonly error?: Error;
}

export async function startDaemon(spec: DaemonSpec): Promise<Daemon> {
  const log = await open(spec.logPath, 'a');
  // Own process group: a terminal's Ctrl-C reaches only us, and we stop daemons in order.
  const child = spawnTracked(spec.argv, { env: spec.env, stdio: ['ignore', log.fd, log.fd], detached: true, ...(spec.cwd !== undefined && { cwd: spec.cwd }) });
  // Listen before the next await: a daemon that fails at once may exit during it.
  let exit: Exit | undefined;
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => resolve((exit = { code: exitCode(code, signal) })));
    child.once('error', (error) => resolve((exit = { code: 127, error })));
  });
  await log.close();

  const stopTimeoutMs = spec.stopTimeoutMs ?? 5000;
  const daemon: Daemon = {
    pid: child.pid ?? -1,
    logPath: spec.logPath,
    async stop(): Promise<void> {
      if (exit !== undefined) return;
      // Referenced while we wait for it: otherwise the loop may end before its exit is seen.
      child.ref();
      child.kill('SIGTERM');
      const kill = setTimeout(() => child.kill('SIGKILL'), stopTimeoutMs);
      await exited;
      clearTimeout(kill);
    },
    async kill(): Promise<void> {
      if (exit !== undefined) return;
      child.ref();
      child.kill('SIGKILL');
      await exited;
    },
  };

  const readyTimeoutMs = spec.readyTimeoutMs ?? 20_000;
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      spec.ready(abort.signal, daemon.pid),
      exited.then((e) => {
        throw new Error(e.error ? e.error.message : `exited with code ${e.code}`);
      }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`not ready after ${readyTimeoutMs} ms`)), readyTimeoutMs);
      }),
    ]);
  } catch (err) {
    abort.abort();
    await daemon.stop();
    const reason = err instanceof Error ? err.message : String(err);
    throw new SandboxStartError({ component: spec.name, reason, logPath: spec.logPath, logTail: await tail(spec.logPath) }, { cause: err });
  } finally {
    abort.abort();
    clearTimeout(timer);
  }
  // A running daemon does not keep the caller alive: one that ends without stop() leaves the cleanup to the exit hook.
  child.unref();
  return daemon;
}

/** Calls check every intervalMs until it returns true; rejects with signal.reason once aborted. */
export async function pollUntil(check: () => Promise<boolean>, signal: AbortSignal, intervalMs = 50): Promise<void> {
  while (!signal.aborted) {
    if (await check()) return;
    await sleep(intervalMs);
  }
  throw signal.reason;
}

/** True if something accepts a connection on the unix socket path or 127.0.0.1 port. */
export function accepts(target: string | number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = typeof target === 'number' ? connect(target, '127.0.0.1') : connect(target);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function tail(path: string, maxBytes = 4096, maxLines = 30): Promise<string> {
  try {
    const file = await open(path, 'r');
    try {
      const { size } = await file.stat();
      const length = Math.min(size, maxBytes);
      const buffer = Buffer.alloc(length);
      await file.read(buffer, 0, length, size - length);
      return buffer.toString('utf8').split('\n').slice(-maxLines).join('\n');
    } finally {
      await file.close();
    }
  } catch {
    return '(no log)';
  }
}

function exitCode(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  return 128 + (signal === null ? 0 : constants.signals[signal]);
}

/**
 * A TCP port on 127.0.0.1 free a moment ago, for daemons that must be told their port before
 * they start (a raft member's address is written into its database when it is created).
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    }).on('error', reject);
  });
}
