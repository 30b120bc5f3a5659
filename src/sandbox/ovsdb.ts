import { access, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { SandboxStartError } from './errors.js';
import { accepts, pollUntil, run, startDaemon, tail } from './process.js';
import type { Daemon } from './process.js';

export const Schemas = {
  northbound: '/usr/share/ovn/ovn-nb.ovsschema',
  southbound: '/usr/share/ovn/ovn-sb.ovsschema',
  openvswitch: '/usr/share/openvswitch/vswitch.ovsschema',
} as const;

/** ovs-vsctl, ovn-nbctl and ovn-sbctl wait for ever by default (e.g. in wait-until); a caller's later --timeout wins. */
const ctlTimeout = '--timeout=30';

export type Ctl = (...args: string[]) => Promise<string>;

/** A *ctl tool bound to one database; resolves to stdout without the trailing newline. */
export function ctl(tool: 'ovs-vsctl' | 'ovn-nbctl' | 'ovn-sbctl', remote: string, env: NodeJS.ProcessEnv): Ctl {
  return async (...args) => (await run([tool, `--db=${remote}`, ctlTimeout, ...args], { env })).trimEnd();
}

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
    const reason = `${socket} is served by another process (an earlier sandbox still running? see ${file('pid')})`;
    throw new SandboxStartError({ component: spec.name, reason, logPath: file('log'), logTail: await tail(file('log')) });
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
