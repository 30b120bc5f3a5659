import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { connect } from '@nats-io/transport-node';
import { NovanetClient } from '../../src/bus/client.js';
import { benchScope } from './history.js';

/**
 * Worker thread that sends port.create commands like a separate client would. The
 * engine runs on the main thread: sharing its event loop would hold every reply back
 * until the engine yields, and the latencies would measure that instead.
 */

export type SendMode = 'one-by-one' | 'concurrent';

export interface SendJob {
  readonly natsUrl: string;
  readonly prefix: string;
  readonly subnetId: string;
  readonly count: number;
  readonly mode: SendMode;
}

/** Per-command latencies (ms) and the wall time (ms) of the whole run. */
export interface Sent {
  readonly latencies: readonly number[];
  readonly totalMs: number;
}

async function main(job: SendJob): Promise<Sent> {
  const nc = await connect({ servers: job.natsUrl });
  try {
    const client = new NovanetClient(nc, job.prefix, 120_000);
    const createPort = async (): Promise<number> => {
      const start = performance.now();
      // call() throws on a refusal: a benchmark of errors measures nothing.
      await client.call(benchScope, 'port.create', { subnetId: job.subnetId });
      return performance.now() - start;
    };
    const start = performance.now();
    let latencies: number[];
    if (job.mode === 'concurrent') {
      latencies = await Promise.all(Array.from({ length: job.count }, createPort));
    } else {
      latencies = [];
      for (let i = 0; i < job.count; i++) latencies.push(await createPort());
    }
    return { latencies, totalMs: performance.now() - start };
  } finally {
    await nc.close();
  }
}

// A rejection crashes the worker, which the main thread sees as an 'error' event.
if (parentPort) void main(workerData as SendJob).then((sent) => parentPort!.postMessage(sent));
