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
import { printTable } from './report.js';
import type { Row } from './report.js';

/**
 * `npm run bench`: each benchmark measures a design decision against a baseline
 * taken in the same run on the same machine, and never asserts on time.
 * The CPU-only benchmarks run first, before any daemon shares the machine.
 */
async function main(): Promise<void> {
  const cleanup = new Cleanup();
  const rows: Row[] = [];
  try {
    rows.push(...benchParser());
    rows.push(...benchIpam());
    const dir = await mkdtemp(join(tmpdir(), 'novanet-bench-'));
    cleanup.defer(() => rm(dir, { recursive: true, force: true }));
    const nats = await startNatsServer({ dir: join(dir, 'nats') });
    cleanup.defer(() => nats.stop());
    const env: BenchEnv = { dir, nats, cleanup };
    rows.push(...await benchIntake(env));
    rows.push(await benchReconcile(env));
    rows.push(...await benchCni(cleanup));
  } finally {
    await cleanup.run();
  }
  printTable(rows);
}

main().catch((err: unknown) => {
  console.error('bench failed:', err);
  process.exitCode = 1;
});
