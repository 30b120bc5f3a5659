import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { Phase, readStatus, subjects } from '../../events/mod.js';
import type { Scope } from '../../events/mod.js';
import { NovanetClient } from '../../src/bus/client.js';

/**
 * Worker thread that sends port.create commands like a separate client would. The
 * engine runs on the main thread: sharing its event loop would hold every reply back
 * until the engine yields, and the latencies would measure that instead.
 */

/** Where a port goes: commands cycle through the subnets in order. */
export interface PortTarget {
  readonly scope: Scope;
  readonly subnetId: string;
}

export interface SendJob {
  readonly natsUrl: string;
  readonly prefix: string;
  readonly targets: readonly PortTarget[];
  readonly count: number;
  /** Commands outstanding at once: 1 is one after another, `count` is all at once. */
  readonly inFlight: number;
  /** A command counts as done when its port's status is Ready at or after the commit, not at the reply. */
  readonly untilReady: boolean;
  /**
   * Bulk: each command is one port.create with `ports`, this many, in the subnets of one
   * tenant's targets (round-robin over them); commands cycle through the tenants. Done when
   * every port of it is Ready.
   */
  readonly portsPerCommand?: number;
}

/** Per-command latencies (ms) and the wall time (ms) of the whole run. */
export interface Sent {
  readonly latencies: readonly number[];
  readonly totalMs: number;
}

/**
 * Ready statuses of ports, from one subscription on every status subject: one watch per
 * port would cost the client a subscription and a direct get per command. A status may
 * arrive before the reply that names the port, so the latest Ready sequence is kept.
 */
class ReadyPorts {
  private readonly readyAt = new Map<string, number>();
  private readonly waiting = new Map<string, { seq: number; resolve: () => void }>();

  constructor(nc: NatsConnection, prefix: string) {
    nc.subscribe(subjects(prefix).statusWildcard, {
      callback: (err, msg) => {
        if (err) return;
        const status = readStatus(msg.data);
        if (status?.kind !== 'port' || status.phase !== Phase.Ready) return;
        const waiter = this.waiting.get(status.id);
        if (waiter && status.observedSeq >= waiter.seq) {
          this.waiting.delete(status.id);
          waiter.resolve();
        } else if (!waiter) {
          this.readyAt.set(status.id, Math.max(status.observedSeq, this.readyAt.get(status.id) ?? 0));
        }
      },
    });
  }

  wait(id: string, seq: number): Promise<void> {
    const seen = this.readyAt.get(id);
    this.readyAt.delete(id);
    if (seen !== undefined && seen >= seq) return Promise.resolve();
    return new Promise((resolve) => this.waiting.set(id, { seq, resolve }));
  }
}

async function main(job: SendJob): Promise<Sent> {
  const nc = await connect({ servers: job.natsUrl });
  try {
    const client = new NovanetClient(nc, job.prefix, 120_000);
    const ready = job.untilReady ? new ReadyPorts(nc, job.prefix) : undefined;
    await nc.flush();
    let next = 0;
    const createPort = async (): Promise<number> => {
      const target = job.targets[next++ % job.targets.length]!;
      const start = performance.now();
      // call() throws on a refusal: a benchmark of errors measures nothing.
      const { seq, result } = await client.call(target.scope, 'port.create', { subnetId: target.subnetId });
      await ready?.wait((result.port as { id: string }).id, seq);
      return performance.now() - start;
    };
    const byTenant = new Map<string, PortTarget[]>();
    for (const t of job.targets) byTenant.set(`${t.scope.org}/${t.scope.project}`, [...byTenant.get(`${t.scope.org}/${t.scope.project}`) ?? [], t]);
    const tenants = [...byTenant.values()];
    const createPorts = async (perCommand: number): Promise<number> => {
      const subnets = tenants[next++ % tenants.length]!;
      const start = performance.now();
      const ports = Array.from({ length: perCommand }, (_, i) => ({ subnetId: subnets[i % subnets.length]!.subnetId }));
      const { seq, result } = await client.call(subnets[0]!.scope, 'port.create', { ports });
      if (ready) await Promise.all((result.ports as { id: string }[]).map((p) => ready.wait(p.id, seq)));
      return performance.now() - start;
    };
    const command = job.portsPerCommand === undefined ? createPort : () => createPorts(job.portsPerCommand!);
    const start = performance.now();
    const latencies: number[] = [];
    let sent = 0;
    const lane = async (): Promise<void> => {
      while (sent < job.count) {
        sent++;
        latencies.push(await command());
      }
    };
    await Promise.all(Array.from({ length: Math.min(job.inFlight, job.count) }, lane));
    return { latencies, totalMs: performance.now() - start };
  } finally {
    await nc.close();
  }
}

// A rejection crashes the worker, which the main thread sees as an 'error' event.
if (parentPort) void main(workerData as SendJob).then((sent) => parentPort!.postMessage(sent));
