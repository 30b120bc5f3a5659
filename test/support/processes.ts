import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { jetstream } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { readStatus, streamNames, subjects } from '../../events/mod.js';
import type { Scope } from '../../events/mod.js';
import type { NovanetClient, Reply } from '../../src/bus/client.js';
import { runProcess } from '../../src/sandbox/process.js';

const cli = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

/** An engine as a process of its own (`novanet serve`), so a test can SIGKILL or SIGSTOP it. */
export interface EngineProcess {
  readonly child: ChildProcess;
  /** Its name as the writer lease and the Northbound's writer mark show it. */
  readonly holder: string;
  readonly exited: Promise<void>;
  kill(signal?: NodeJS.Signals): void;
}

/** Starts `novanet serve` with these flags and environment; its log goes to `logFile`. */
export function startEngineProcess(flags: readonly string[], logFile: string, env: NodeJS.ProcessEnv = {}): EngineProcess {
  const fd = openSync(logFile, 'a');
  const child = spawn(process.execPath, [cli, 'serve', ...flags], { stdio: ['ignore', fd, fd], env: { ...process.env, ...env } });
  closeSync(fd);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { child, holder: `${hostname()}:${child.pid}`, exited, kill: (signal = 'SIGKILL') => { if (child.exitCode === null) child.kill(signal); } };
}

/** Who holds the writer lease now (the value of its KV entry), or undefined. */
export async function leaseHolder(nc: NatsConnection, prefix = 'novanet'): Promise<string | undefined> {
  try {
    const kv = await new Kvm(jetstream(nc)).open(streamNames(prefix).lease);
    const entry = await kv.get('reconciler');
    return entry && entry.operation === 'PUT' ? entry.string() : undefined;
  } catch {
    return undefined;
  }
}

/** Sends a command until it is answered (the engine it reached may have died): the same commandId every time. */
export async function untilAnswered(client: NovanetClient, scope: Scope, operation: string, payload: Record<string, unknown>): Promise<Reply> {
  for (;;) {
    try {
      return await client.request(scope, operation, payload);
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** An acknowledged port.create: its port, the commit's sequence and when the reply came. */
export interface AckedPort {
  readonly id: string;
  readonly seq: number;
  readonly at: number;
}

/** A steady stream of port.create commands on one subnet, `concurrency` at a time, each retried until answered. */
export class PortLoad {
  readonly acked: AckedPort[] = [];
  readonly refused: Reply[] = [];
  private stopped = false;
  private workers: Promise<void>[] = [];
  private next = 0;

  constructor(private readonly client: NovanetClient, private readonly scope: Scope, private readonly subnetId: string, private readonly tag: string) {}

  start(concurrency: number): void {
    this.workers = Array.from({ length: concurrency }, () => this.work());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.workers);
  }

  private async work(): Promise<void> {
    while (!this.stopped) {
      const reply = await untilAnswered(this.client, this.scope, 'port.create', { commandId: `${this.tag}-${this.next++}`, subnetId: this.subnetId });
      if (reply.ok) this.acked.push({ id: (reply.result.port as { id: string }).id, seq: reply.seq, at: Date.now() });
      else this.refused.push(reply);
    }
  }
}

/** When each port of a tenant was first reported Ready (a subscription to their statuses). */
export class ReadyWatch {
  private constructor(readonly readyAt: Map<string, { at: number; seq: number }>, private readonly stopSub: () => void) {}

  static async start(nc: NatsConnection, scope: Scope, prefix = 'novanet'): Promise<ReadyWatch> {
    const subject = subjects(prefix).status(scope, 'port', '*');
    const readyAt = new Map<string, { at: number; seq: number }>();
    const sub = nc.subscribe(subject, {
      callback: (err, msg) => {
        const status = err ? undefined : readStatus(msg.data);
        if (status?.phase === 'Ready' && !readyAt.has(status.id)) readyAt.set(status.id, { at: Date.now(), seq: status.observedSeq });
      },
    });
    const watch = new ReadyWatch(readyAt, () => sub.unsubscribe());
    await nc.flush();
    return watch;
  }

  /** The ports of `acked` not reported Ready (at or after their commit) by `deadline` (epoch ms). */
  notReadyBy(acked: readonly AckedPort[], deadline: number): AckedPort[] {
    return acked.filter((p) => {
      const ready = this.readyAt.get(p.id);
      return !ready || ready.at > deadline;
    });
  }

  stop(): void {
    this.stopSub();
  }
}

/** A transaction of the Northbound's own log that a novanet writer made: who, with which token. */
export interface WriterTransaction {
  readonly record: number;
  readonly holder: string;
  readonly token: number;
}

/**
 * The writers of every transaction in a standalone Northbound's database file, in commit order,
 * read with `ovsdb-tool show-log` (each novanet transaction carries a comment naming its writer).
 */
export async function writerTransactions(dbFile: string): Promise<WriterTransaction[]> {
  const { stdout } = await runProcess(['ovsdb-tool', 'show-log', dbFile]);
  const out: WriterTransaction[] = [];
  for (const line of stdout.split('\n')) {
    const m = /^record (\d+): .*"novanet writer (\S+) token (\d+) /.exec(line);
    if (m) out.push({ record: Number(m[1]), holder: m[2]!, token: Number(m[3]) });
  }
  return out;
}

/** Where the writer changed, in commit order; throws if a smaller token ever followed a greater one (two writers interleaved). */
export function writerChanges(log: readonly WriterTransaction[]): WriterTransaction[] {
  const changes: WriterTransaction[] = [];
  for (const [i, tx] of log.entries()) {
    const before = log[i - 1];
    if (before && tx.token < before.token) throw new Error(`record ${tx.record}: writer ${tx.holder} (token ${tx.token}) wrote after ${before.holder} (token ${before.token})`);
    if (!before || tx.token !== before.token) changes.push(tx);
  }
  return changes;
}
