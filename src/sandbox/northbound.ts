import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { prepareDir, sandboxEnv } from './env.js';
import { SandboxStartError } from './errors.js';
import { ctl, listeningPort, logSize, Schemas, sslArgs, startOvsdb } from './ovsdb.js';
import { accepts, freePort, pollUntil, run, runProcess, startDaemon, tail } from './process.js';
import type { Daemon } from './process.js';
import type { Northbound, NorthboundCluster, NorthboundClusterOptions, NorthboundMember, NorthboundOptions } from './types.js';

const DATABASE = 'OVN_Northbound';

/** ovsdb-server with the OVN Northbound schema; the db file is persistent state and is reused. */
export async function startNorthbound(opts: NorthboundOptions): Promise<Northbound> {
  const dir = await prepareDir(opts.dir);
  const env = sandboxEnv(dir);
  const nb = await startOvsdb({ name: 'ovnnb_db', dir, schema: Schemas.northbound, env, keep: true, ...(opts.ssl && { ssl: opts.ssl }) });
  return {
    remote: nb.remote,
    ...(nb.sslRemote !== undefined && { sslRemote: nb.sslRemote }),
    dir,
    pid: nb.daemon.pid,
    nbctl: ctl('ovn-nbctl', nb.remote, env),
    stop: () => nb.daemon.stop(),
  };
}

/**
 * A clustered Northbound: `members` ovsdb-servers (3 by default) on loopback, one raft cluster
 * (`ovsdb-tool create-cluster` for the first, `join-cluster` for the others). Raft runs over
 * TCP, or SSL with `ssl`; clients reach each member on its unix socket (and SSL port with `ssl`).
 * The db files are kept in `dir`: a member killed and started again rejoins with its log.
 */
export async function startNorthboundCluster(opts: NorthboundClusterOptions): Promise<NorthboundCluster> {
  const dir = await prepareDir(opts.dir);
  const env = sandboxEnv(dir);
  const count = opts.members ?? 3;
  const scheme = opts.ssl ? 'ssl' : 'tcp';
  const raft = await Promise.all(Array.from({ length: count }, async () => `${scheme}:127.0.0.1:${await freePort()}`));
  const members: MemberImpl[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const member = new MemberImpl(dir, env, i, raft[i]!, opts);
      members.push(member);
      if (!(await exists(member.dbFile))) {
        await run(i === 0
          ? ['ovsdb-tool', 'create-cluster', member.dbFile, Schemas.northbound, raft[0]!]
          : ['ovsdb-tool', 'join-cluster', member.dbFile, DATABASE, raft[i]!, ...raft.slice(0, i)]);
      }
    }
    // The first member is the cluster; the others join it (and then each other) once it serves.
    await members[0]!.start();
    await Promise.all(members.slice(1).map((m) => m.start()));
  } catch (err) {
    for (const m of members) await m.kill();
    throw err;
  }
  const remotes = (kind: 'remote' | 'sslRemote') => members.map((m) => m[kind]!).join(',');
  const cluster: NorthboundCluster = {
    dir,
    members,
    remote: remotes('remote'),
    get sslRemote() { return opts.ssl ? remotes('sslRemote') : undefined; },
    nbctl: (...args) => ctl('ovn-nbctl', remotes('remote'), env)(...args),
    async leader() {
      for (;;) {
        for (const m of members) if (m.running && await m.role() === 'leader') return m;
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async stop() {
      for (const m of members) await m.stop();
    },
  };
  await cluster.leader();
  return cluster;
}

class MemberImpl implements NorthboundMember {
  readonly dbFile: string;
  readonly remote: string;
  sslRemote: string | undefined;
  #daemon: Daemon | undefined;
  readonly #file: (ext: string) => string;

  constructor(private readonly dir: string, private readonly env: NodeJS.ProcessEnv, readonly index: number, readonly raftAddress: string, private readonly opts: NorthboundClusterOptions) {
    this.#file = (ext) => join(dir, `nb${index + 1}.${ext}`);
    this.dbFile = this.#file('db');
    this.remote = `unix:${this.#file('sock')}`;
  }

  get running(): boolean {
    return this.#daemon !== undefined;
  }

  get pid(): number {
    return this.#daemon?.pid ?? -1;
  }

  async start(): Promise<void> {
    const socket = this.#file('sock');
    const log = this.#file('log');
    const logStart = await logSize(log);
    const ssl = this.opts.ssl;
    let sslPort = 0;
    try {
      this.#daemon = await startDaemon({
        name: `nb${this.index + 1}`,
        argv: ['ovsdb-server', this.dbFile, `--remote=punix:${socket}`, `--pidfile=${this.#file('pid')}`, `--unixctl=${this.#file('ctl')}`, ...sslArgs(ssl)],
        env: this.env,
        logPath: log,
        readyTimeoutMs: 30_000,
        ready: (signal) => pollUntil(async () => {
          if (ssl) sslPort = await listeningPort(log, logStart);
          return (!ssl || sslPort > 0) && await accepts(socket) && /Status: cluster member/.test(await this.#status());
        }, signal, 100),
      });
    } catch (err) {
      throw new SandboxStartError({ component: `nb${this.index + 1}`, reason: (err as Error).message, logPath: log, logTail: await tail(log) });
    }
    if (ssl) this.sslRemote = `ssl:127.0.0.1:${sslPort}`;
  }

  /** 'leader', 'follower' or 'candidate', as cluster/status reports it ('' when it does not answer). */
  async role(): Promise<string> {
    return /Role: (\w+)/.exec(await this.#status())?.[1] ?? '';
  }

  async appctl(...args: string[]): Promise<string> {
    return (await run(['ovs-appctl', '-t', this.#file('ctl'), ...args], { env: this.env, timeoutMs: 10_000 })).trimEnd();
  }

  async kill(): Promise<void> {
    await this.#daemon?.kill();
    this.#daemon = undefined;
  }

  async stop(): Promise<void> {
    await this.#daemon?.stop();
    this.#daemon = undefined;
  }

  async #status(): Promise<string> {
    const r = await runProcess(['ovs-appctl', '-t', this.#file('ctl'), 'cluster/status', DATABASE], { env: this.env, timeoutMs: 5000 });
    return r.code === 0 ? r.stdout : '';
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
