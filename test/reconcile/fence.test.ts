import test from 'ava';
import { OvsdbClient } from '../../src/ovsdb/mod.js';
import { WriterFence } from '../../src/reconcile/fence.js';
import { startNb } from '../ovsdb/fixture.js';

const own = { owner: 'novanet' };
const insertSwitch = (name: string) => ({ op: 'insert' as const, table: 'Logical_Switch', row: { name } });

test('writer fence - a writer whose token was superseded is refused by the Northbound; it cannot claim back, and a greater token always can', async (t) => {
  const nb = await startNb(t);
  const [a, b] = await Promise.all([OvsdbClient.connect({ remote: nb.remote }), OvsdbClient.connect({ remote: nb.remote })]);
  t.teardown(async () => { await a.close(); await b.close(); });
  const fenceA = new WriterFence(a, own);
  const fenceB = new WriterFence(b, own);
  await fenceA.start();
  await fenceB.start();
  const writerA = { token: 1, holder: 'engine-a' };
  const writerB = { token: 5, holder: 'engine-b' };

  // An empty Northbound: the first claim inserts NB_Global.
  t.true(await fenceA.claim(writerA));
  await a.transact([...fenceA.guard(writerA), insertSwitch('by-a')]);
  t.true(await fenceB.claim(writerB), 'a greater token takes over');
  const refused = await t.throwsAsync(a.transact([...fenceA.guard(writerA), insertSwitch('by-a-late')]));
  t.true(fenceA.fencedOut(refused), 'the old writer is fenced out');
  t.false(await fenceA.claim(writerA), 'the old writer cannot claim back');
  await b.transact([...fenceB.guard(writerB), insertSwitch('by-b')]);
  t.is(fenceA.current(), 5);
  t.is(await nb.nbctl('--bare', '--columns=name', 'find', 'Logical_Switch', 'name=by-a-late'), '', 'nothing of the refused transaction was written');
  t.is(await nb.nbctl('get', 'NB_Global', '.', 'external_ids:"novanet:writer:novanet"'), '"5 engine-b"');
  // Other keys of NB_Global are kept (operators' and ovn-northd's marks).
  await nb.nbctl('set', 'NB_Global', '.', 'external_ids:other=kept');
  t.true(await fenceA.claim({ token: 9, holder: 'engine-a' }));
  t.is(await nb.nbctl('get', 'NB_Global', '.', 'external_ids:other'), 'kept');
  t.false(fenceB.fencedOut(new Error('disconnected')));
});
