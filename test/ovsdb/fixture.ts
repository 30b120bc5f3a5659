// A private Northbound ovsdb-server per test: temp dir, unix socket and a tcp port, restartable on
// the same database file (reconnect tests), cleaned up by pid and path in t.teardown.
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ExecutionContext } from 'ava';
import { OvsdbClient } from '../../src/ovsdb/mod.js';
import type { OvsdbClientOptions } from '../../src/ovsdb/mod.js';

const run = promisify(execFile);
export const NB_SCHEMA = '/usr/share/ovn/ovn-nb.ovsschema';

export interface NbServer {
  readonly dir: string;
  readonly db: string;
  /** unix:<dir>/nb.sock */
  readonly remote: string;
  /** tcp:127.0.0.1:<port>, the same port across restarts. */
  readonly tcpRemote: string;
  nbctl(...args: string[]): Promise<string>;
  /** Kills ovsdb-server (SIGKILL: no goodbye to clients); the database file stays. */
  kill(): Promise<void>;
  /** Starts it again on the same socket, port and database file. */
  restart(): Promise<void>;
}

const live = new Set<ChildProcess>();
// Last resort if the test process dies without running teardowns.
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** Starts a Northbound ovsdb-server that t.teardown stops and deletes. */
export async function startNb(t: ExecutionContext): Promise<NbServer> {
  const dir = await mkdtemp(join(tmpdir(), 'novanet-ovsdb-'));
  let child: ChildProcess | undefined;
  t.teardown(async () => {
    if (child) await stop(child, 'SIGTERM');
    await rm(dir, { recursive: true, force: true });
  });
  const db = join(dir, 'nb.db');
  const sock = join(dir, 'nb.sock');
  const log = join(dir, 'nb.log');
  await run('ovsdb-tool', ['create', db, NB_SCHEMA]);

  let port = 0;
  const launch = async (): Promise<void> => {
    child = spawn(
      'ovsdb-server',
      [db, `--remote=punix:${sock}`, `--remote=ptcp:${port}:127.0.0.1`, `--unixctl=${join(dir, 'nb.ctl')}`, `--log-file=${log}`],
      { stdio: 'ignore' },
    );
    live.add(child);
    child.once('exit', () => live.delete(child!));
    await waitFor(() => canConnect({ path: sock }), 'ovsdb-server unix socket');
    if (port === 0) port = await waitFor(() => listeningPort(log), 'ovsdb-server tcp port');
    await waitFor(() => canConnect({ host: '127.0.0.1', port }), 'ovsdb-server tcp port');
  };
  await launch();

  return {
    dir,
    db,
    remote: `unix:${sock}`,
    get tcpRemote() {
      return `tcp:127.0.0.1:${port}`;
    },
    nbctl: async (...args) => (await run('ovn-nbctl', [`--db=unix:${sock}`, '--timeout=10', ...args])).stdout.trim(),
    kill: async () => {
      if (child) await stop(child, 'SIGKILL');
      child = undefined;
    },
    restart: launch,
  };
}

/** A client closed in t.teardown (registered after the server's, so it closes first). */
export async function connect(t: ExecutionContext, options: OvsdbClientOptions): Promise<OvsdbClient> {
  const client = await OvsdbClient.connect(options);
  t.teardown(() => client.close());
  return client;
}

/** Polls until fn returns something other than undefined/false; fails after timeoutMs. */
export async function waitFor<T>(
  fn: () => T | undefined | false | Promise<T | undefined | false>,
  what: string,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function stop(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  await exited;
}

function canConnect(options: net.NetConnectOpts): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.createConnection(options);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function listeningPort(log: string): Promise<number | undefined> {
  const text = await readFile(log, 'utf8').catch(() => '');
  const m = /listening on port (\d+)/.exec(text);
  return m ? Number(m[1]) : undefined;
}
