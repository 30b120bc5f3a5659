import { access, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { SandboxStartError } from './errors.js';
import { accepts, pollUntil, run, startDaemon, tail } from './process.js';
import type { Daemon } from './process.js';
import type { SslFiles } from './types.js';

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
  /** Also serve SSL on a free 127.0.0.1 port with these PEM files (ovsdb-server's --private-key, --certificate, --ca-cert). */
  readonly ssl?: SslFiles;
}



export interface Ovsdb {
  readonly daemon: Daemon;
  readonly socket: string;
  /** 'unix:<socket>' */
  readonly remote: string;
  /** 'ssl:127.0.0.1:<port>' when started with ssl. */
  readonly sslRemote?: string;
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
  let sslPort = 0;
  const logStart = await logSize(file('log'));
  const daemon = await startDaemon({
    name: spec.name,
    argv: ['ovsdb-server', db, `--remote=punix:${socket}`, `--pidfile=${file('pid')}`, `--unixctl=${file('ctl')}`, ...sslArgs(spec.ssl)],
    env: spec.env,
    logPath: file('log'),
    ready: (signal) => pollUntil(async () => {
      if (spec.ssl) sslPort = await listeningPort(file('log'), logStart);
      return (!spec.ssl || sslPort > 0) && await accepts(socket);
    }, signal),
  });
  return { daemon, socket, remote: `unix:${socket}`, ...(spec.ssl && { sslRemote: `ssl:127.0.0.1:${sslPort}` }) };
}

/** ovsdb-server's arguments for an SSL listener on a port it picks (`pssl:0`), with these files. */
export function sslArgs(ssl: SslFiles | undefined): string[] {
  return ssl ? ['--remote=pssl:0:127.0.0.1', `--private-key=${ssl.privateKey}`, `--certificate=${ssl.certificate}`, `--ca-cert=${ssl.caCert}`] : [];
}

/**
 * The port a `pssl:0` listener got, from the daemon's log ("listening on port N", logged
 * once per listener) after byte `from` (where this start's lines begin); 0 until it is there.
 */
export async function listeningPort(logPath: string, from: number): Promise<number> {
  const log = await readFile(logPath).catch(() => Buffer.alloc(0));
  const m = /listening on port (\d+)/.exec(log.subarray(from).toString('utf8'));
  return m ? Number(m[1]) : 0;
}

/** The log's size now: a restarted daemon appends to it. */
export async function logSize(logPath: string): Promise<number> {
  return (await stat(logPath).catch(() => ({ size: 0 }))).size;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
