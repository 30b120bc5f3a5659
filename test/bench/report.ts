import { performance } from 'node:perf_hooks';

/**
 * One line of the final table. `ratio` is oriented per benchmark (see `reads`),
 * and both numbers come from the same run on the same machine.
 */
export interface Row {
  readonly name: string;
  readonly unit: string;
  readonly value: number;
  readonly baseline: number;
  readonly ratio: number;
  /** How to read the ratio, e.g. "pipelined / sequential (higher is better)". */
  readonly reads: string;
}

/** Milliseconds spent in `fn`, with the monotonic high-resolution clock. */
export async function timed(fn: () => Promise<void>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

export function timedSync(fn: () => void): number {
  const start = performance.now();
  fn();
  return performance.now() - start;
}

/** Nearest-rank percentile of unsorted samples (p in 0..100). */
export function percentile(samples: readonly number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] ?? Number.NaN;
}

export function median(samples: readonly number[]): number {
  return percentile(samples, 50);
}

/** Events per second from a count and a duration in milliseconds. */
export function perSecond(count: number, ms: number): number {
  return (count * 1000) / ms;
}

/** Numbers as people read them: 3 significant digits, thousands grouped. */
export function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const digits = Math.abs(n) >= 100 ? 0 : Math.abs(n) >= 10 ? 1 : 2;
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

/** A heading and indented detail lines, printed as each benchmark finishes. */
export function section(title: string, lines: readonly string[]): void {
  console.log(`\n== ${title}`);
  for (const line of lines) console.log(`   ${line}`);
}

export function printTable(rows: readonly Row[]): void {
  const header = ['benchmark', 'value', 'baseline', 'ratio', 'ratio reads as'];
  const body = rows.map((r) => [r.name, `${fmt(r.value)} ${r.unit}`, `${fmt(r.baseline)} ${r.unit}`, `${r.ratio.toFixed(2)}x`, r.reads]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((line) => line[i]!.length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === 1 || i === 2 || i === 3 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ');
  console.log(`\n${line(header)}`);
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const cells of body) console.log(line(cells));
}
