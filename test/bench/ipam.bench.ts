import { History } from './history.js';
import { fmt, median, perSecond, section, timedSync } from './report.js';
import type { Row } from './report.js';

const ALLOCATIONS = 5000;
const WINDOW = 500;
/** Whole runs; each window's rate is the median over them, so one GC pause does not decide the ratio. */
const RUNS = 3;

/**
 * Decider/IPAM cost as the subnet fills: port.create decided and folded through the
 * pure decider 5000 times in one /16 subnet, the intake's hot path without the I/O.
 * The first 500 allocations are the baseline for the last 500: the same work at a
 * higher fill, so a ratio near 1 means allocation cost does not grow with fill.
 */
export function benchIpam(): Row[] {
  // A throwaway run first, so the JIT warms up on someone else's clock, not the first window's.
  allocationTimes(WINDOW);
  const runs = Array.from({ length: RUNS }, () => allocationTimes(ALLOCATIONS));
  const windowRate = (times: readonly number[]): number => perSecond(times.length, times.reduce((a, b) => a + b, 0));
  const rate = (pick: (times: number[]) => number[]): number => median(runs.map((times) => windowRate(pick(times))));
  const firstRate = rate((times) => times.slice(0, WINDOW));
  const lastRate = rate((times) => times.slice(-WINDOW));
  const totalRate = rate((times) => times);
  section(`decider/IPAM: ${ALLOCATIONS} port.create in one /16 subnet (decide + fold, median of ${RUNS} runs)`, [
    `first ${WINDOW}: ${fmt(firstRate)} allocations/s (${fmt(1000 / firstRate)} ms each)`,
    `last ${WINDOW}:  ${fmt(lastRate)} allocations/s (${fmt(1000 / lastRate)} ms each)`,
    `all ${ALLOCATIONS}: ${fmt(totalRate)} allocations/s`,
    `slowdown first/last: ${(firstRate / lastRate).toFixed(2)}x`,
  ]);
  return [{
    name: `IPAM: last ${WINDOW} of ${ALLOCATIONS} allocations`,
    unit: 'alloc/s', value: lastRate, baseline: firstRate, ratio: firstRate / lastRate,
    reads: 'first / last rate (near 1 is good; large = cost grows with fill)',
  }];
}

/** Milliseconds each allocation took, in order; command parsing is done outside the clock. */
function allocationTimes(count: number): number[] {
  const history = new History();
  const subnetId = history.network('10.0.0.0/16', '10.0.0.0/16');
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const prepared = history.prepare('port.create', { subnetId });
    times.push(timedSync(() => history.apply(prepared)));
  }
  return times;
}
