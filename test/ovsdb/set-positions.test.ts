import test from 'ava';
import { SetPositions } from '../../src/ovsdb/set-positions.js';
import type { Atom } from '../../src/ovsdb/mod.js';

/** A deterministic generator (mulberry32), so a failure replays. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

test('set positions - toggles as a set does, through growth, removals of every kind and shrinking', (t) => {
  const next = random(7);
  // Few distinct atoms, so removals are as common as additions; numbers beside their own text.
  const universe: Atom[] = [...Array.from({ length: 3000 }, (_, i) => `p-${i}`), ...Array.from({ length: 200 }, (_, i) => i), '0', '1'];
  const set: Atom[] = universe.slice(0, 100);
  const model = new Set(set);
  const positions = new SetPositions(set);
  const check = (step: number): void => {
    const same = set.length === model.size && new Set(set).size === set.length && set.every((atom) => model.has(atom));
    t.true(same, `the array is the set at step ${step}`);
  };
  for (let step = 0; step < 40_000; step++) {
    // Grow to ~2,000 elements, then shrink to a few, then grow again: the table resizes both ways.
    const phase = Math.floor(step / 10_000) % 2;
    const pool = phase === 0 ? universe : universe.slice(0, 20);
    const atom = next() < 0.5 && set.length > 0 && phase === 1 ? set[Math.floor(next() * set.length)]! : pool[Math.floor(next() * pool.length)]!;
    const added = positions.toggle(atom);
    t.is(added, !model.has(atom));
    if (added) model.add(atom);
    else model.delete(atom);
    if (step % 97 === 0) check(step);
  }
  check(40_000);
  // Removed down to nothing, every element found where it is.
  for (const atom of [...set]) t.false(positions.toggle(atom));
  t.deepEqual(set, []);
  t.true(positions.toggle('p-1'));
  t.deepEqual(set, ['p-1']);
});

test('set positions - a removal moves the last element into its place, as the Map-indexed set did', (t) => {
  const set: Atom[] = ['a', 'b', 'c', 'd'];
  const positions = new SetPositions(set);
  t.false(positions.toggle('b'));
  t.deepEqual(set, ['a', 'd', 'c']);
  t.true(positions.toggle('e'));
  t.false(positions.toggle('e'));
  t.false(positions.toggle('a'));
  t.deepEqual(set, ['c', 'd']);
  t.false(positions.toggle('c'));
  t.false(positions.toggle('d'));
  t.deepEqual(set, []);
});

test('set positions - a small table kept near half full, whose runs wrap past its last slot, finds every element after each removal', (t) => {
  const next = random(11);
  // ~30 elements of a thousand distinct atoms in the least table (64 slots): runs are long and
  // some cross from the last slot to the first, the backward shift's wrapped case.
  const pool: Atom[] = Array.from({ length: 1000 }, (_, i) => `p-${i}`);
  const set: Atom[] = pool.slice(0, 16);
  const model = new Set(set);
  const positions = new SetPositions(set);
  let wrong = 0;
  for (let step = 0; step < 20_000; step++) {
    const atom = set.length >= 30 && next() < 0.7 ? set[Math.floor(next() * set.length)]! : pool[Math.floor(next() * pool.length)]!;
    if (positions.toggle(atom) !== !model.has(atom)) wrong++;
    if (model.has(atom)) model.delete(atom);
    else model.add(atom);
  }
  t.is(wrong, 0, 'each toggle added exactly the absent atoms');
  t.true(set.length === model.size && set.every((atom) => model.has(atom)), 'the array is the set');
});
