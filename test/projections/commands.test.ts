import test from 'ava';
import type { CommitRecord, Scope } from '../../events/mod.js';
import { acceptedSeq, evolveCommands, initialCommandView } from '../../projections/mod.js';
import type { CommandView } from '../../projections/mod.js';

/** The idempotency view alone: what it remembers, and that it stays small. */

const t0 = Date.UTC(2026, 0, 1);
const acme: Scope = { org: 'acme', project: 'web' };
const globex: Scope = { org: 'globex', project: 'shop' };

function fold(view: CommandView, commits: readonly { scope: Scope; commandId: string; at: number }[]): CommandView {
  for (const { scope, commandId, at } of commits) {
    const record: CommitRecord = {
      seq: view.seq + 1,
      commit: { v: 1, commandId, scope, operation: 'vpc.create', at: new Date(at).toISOString(), request: { commandId }, result: {}, events: [] },
    };
    evolveCommands(view, record);
  }
  return view;
}

test('idempotency view - a tenant keeps its newest records up to the count; the arrays stay within twice that', (t) => {
  const view = fold(initialCommandView({ ms: 60_000, perScope: 100 }), Array.from({ length: 10_000 }, (_, i) => ({ scope: acme, commandId: `c${i}`, at: t0 })));
  const commands = view.scopes.get('acme/web')!;
  t.is(commands.positions.size, 100);
  t.true(commands.commandIds.length <= 200, String(commands.commandIds.length));
  t.is(acceptedSeq(view, acme, 'c9899'), undefined);
  t.is(acceptedSeq(view, acme, 'c9900'), 9901);
  t.is(acceptedSeq(view, acme, 'c9999'), 10_000);
});

test('idempotency view - age is the log\'s: a record is gone once a newer commit is past the retention, and an idle tenant\'s records are swept', (t) => {
  const view = fold(initialCommandView({ ms: 60_000, perScope: 100 }), [{ scope: globex, commandId: 'g', at: t0 }, { scope: acme, commandId: 'a', at: t0 + 60_000 }]);
  t.is(acceptedSeq(view, globex, 'g'), 1, 'exactly the retention apart: still remembered');
  fold(view, [{ scope: acme, commandId: 'b', at: t0 + 60_001 }]);
  t.is(acceptedSeq(view, globex, 'g'), undefined);
  // globex commits nothing more; within as many commits as there are tenants its scope is dropped.
  fold(view, [{ scope: acme, commandId: 'c', at: t0 + 60_002 }, { scope: acme, commandId: 'd', at: t0 + 60_003 }]);
  t.deepEqual([...view.scopes.keys()], ['acme/web']);
  t.deepEqual(view.order, ['acme/web']);
  t.is(acceptedSeq(view, acme, 'a'), 2);
});

test('idempotency view - a commandId used again after it expired keeps its new record when the old one is evicted', (t) => {
  const view = fold(initialCommandView({ ms: 60_000, perScope: 3 }), [
    { scope: acme, commandId: 'x', at: t0 },
    { scope: acme, commandId: 'y', at: t0 + 120_000 },
    { scope: acme, commandId: 'x', at: t0 + 120_001 },
    { scope: acme, commandId: 'z', at: t0 + 120_002 },
    { scope: acme, commandId: 'w', at: t0 + 120_003 },
  ]);
  t.is(acceptedSeq(view, acme, 'x'), 3);
  t.is(acceptedSeq(view, acme, 'y'), undefined, 'past the newest three');
});

test('idempotency view - the log\'s time is its last commit\'s: a writer\'s clock far ahead hides keys until the next commit; the same log folds to the same view', (t) => {
  const commits = [
    { scope: acme, commandId: 'a', at: t0 },
    { scope: acme, commandId: 'b', at: t0 + 1000 },
    { scope: globex, commandId: 'future', at: t0 + 365 * 24 * 60 * 60_000 },
  ];
  const view = fold(initialCommandView({ ms: 60_000, perScope: 10 }), commits);
  t.deepEqual(view, fold(initialCommandView({ ms: 60_000, perScope: 10 }), commits));
  t.is(acceptedSeq(view, acme, 'b'), undefined);
  t.is(acceptedSeq(view, globex, 'future'), 3);
  fold(view, [{ scope: globex, commandId: 'next', at: t0 + 2000 }]);
  t.is(acceptedSeq(view, acme, 'b'), 2, 'back with the next commit (acme was not among the tenants the future commit swept)');
  t.is(acceptedSeq(view, globex, 'next'), 4);
});
