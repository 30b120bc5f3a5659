import test from 'ava';
import { takeShares } from '../../src/reconcile/reconciler.js';

const queue = (prefix: string, n: number) => new Map(Array.from({ length: n }, (_, i) => [`${prefix}${i}`, `${prefix}${i}`]));

test('batch - each queue has its own share: a busy first queue does not starve the resync queue', (t) => {
  const commands = queue('c', 300);
  const resync = queue('r', 20);
  const batch = takeShares([[commands, 256], [resync, 8]]);
  t.is(batch.filter((b) => b.startsWith('c')).length, 256);
  t.deepEqual(batch.filter((b) => b.startsWith('r')), ['r0', 'r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7'], 'the resync queue gets its share whatever the other holds');
  t.is(commands.size, 44);
  t.is(resync.size, 12, 'what was taken is out of its queue');
});
