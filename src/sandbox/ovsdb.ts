import { access, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { SandboxStartError } from './errors.js';
import { accepts, pollUntil, run, startDaemon } from './process.js';
import type { Daemon } from './process.js';

export const Schemas = {
  northbound: '/usr/share/ovn/ovn-nb.ovsschema',
  southbound: '/usr/share/ovn/ovn-sb.ovsschema',
  openvswitch: '/usr/share/openvswitch/vswitch.ovsschema',
} as const;

export interface OvsdbSpec {
  /** Base name of the db, socket, pid, ctl and log files in dir. */
  readonly name: string;
  readonly dir: string;
  readonly schema: string;
  readonly env: NodeJS.ProcessEnv;
  /** Reuse an existing db file (persistent state) or start from an empty one (derived state). */
  readonly keep: boolean;
}

export interface Ovsdb {
  readonly daemon: Daemon;
  readonly socket: string;
  /** 'unix:<socket>' */
  readonly remote: string;
}

export async function startOvsdb(spec: OvsdbSpec): Promise<Ovsdb> {
  const file = (ext: string): string => join(spec.dir, `${spec.name}.${ext}`);
  const db = file('db');
  const socket = file('sock');
  // ovsdb-server replaces a stale socket file, but must not hijack a live one: refuse instead.
  if (await accepts(socket)) {
    throw new SandboxStartError({ component: spec.name, reason: `${socket} is served by another process`, logPath: file('log'), logTail: '' });
  }
  if (!spec.keep) await rm(db, { force: true });
  if (!(await exists(db))) {
    await run(['ovsdb-tool', 'create', db, spec.schema]);
  } else if ((await run(['ovsdb-tool', 'needs-conversion', db, spec.schema])).trim() === 'yes') {
    await run(['ovsdb-tool', 'convert', db, spec.schema]);
  }
  const daemon = await startDaemon({
    name: spec.name,
    argv: ['ovsdb-server', db, `--remote=punix:${socket}`, `--pidfile=${file('pid')}`, `--unixctl=${file('ctl')}`],
    env: spec.env,
    logPath: file('log'),
    ready: (signal) => pollUntil(() => accepts(socket), signal),
  });
  return { daemon, socket, remote: `unix:${socket}` };
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
