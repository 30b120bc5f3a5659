import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNatsServer } from '../../src/sandbox/mod.js';
import { Cleanup } from './infra.js';
import type { BenchEnv } from './infra.js';
import { benchCni } from './cni.bench.js';
import { benchIntake } from './intake.bench.js';
import { benchIpam } from './ipam.bench.js';
import { benchParser } from './parser.bench.js';
import { benchReconcile } from './reconcile.bench.js';
import { benchRestart } from './restart.bench.js';
import { benchScale } from './scale.bench.js';
import { printTable } from './report.js';
import type { Row } from './report.js';

/** Every benchmark by name, in the order they run: the CPU-only ones first, before any daemon shares the machine. */
const benchmarks: Readonly<Record<string, (env: () => Promise<BenchEnv>, cleanup: Cleanup) => Promise<Row | Row[]>>> = {
  parser: () => Promise.resolve(benchParser()),
  ipam: () => Promise.resolve(benchIpam()),
  intake: async (env) => benchIntake(await env()),
  reconcile: async (env) => benchReconcile(await env()),
  cni: (_, cleanup) => benchCni(cleanup),
  scale: async (env) => benchScale(await env()),
  restart: async (env) => benchRestart(await env()),
};

/**
 * `npm run bench [-- NAME…]`: each benchmark measures a design decision against a baseline
 * taken in the same run on the same machine, and never asserts on time. Names pick some.
 */
async function main(names: readonly string[]): Promise<void> {
  const unknown = names.filter((n) => !(n in benchmarks));
  if (unknown.length > 0) throw new Error(`unknown benchmark ${unknown.join(', ')}; known: ${Object.keys(benchmarks).join(', ')}`);
  const cleanup = new Cleanup();
  const rows: Row[] = [];
  let shared: Promise<BenchEnv> | undefined;
  // One nats-server and scratch dir for every benchmark that needs them, started on first use.
  const env = (): Promise<BenchEnv> => (shared ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'novanet-bench-'));
    cleanup.defer(() => rm(dir, { recursive: true, force: true }));
    const nats = await startNatsServer({ dir: join(dir, 'nats') });
    cleanup.defer(() => nats.stop());
    return { dir, nats, cleanup };
  })());
  try {
    for (const [name, bench] of Object.entries(benchmarks)) {
      if (names.length === 0 || names.includes(name)) rows.push(...[await bench(env, cleanup)].flat());
    }
  } finally {
    await cleanup.run();
  }
  printTable(rows);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error('bench failed:', err);
  process.exitCode = 1;
});
