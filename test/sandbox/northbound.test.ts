import test from 'ava';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { startNorthbound } from '../../src/sandbox/mod.js';
import { isAlive, tempDir } from './helpers.js';

test('northbound - serves ovn-nbctl and stops', async (t) => {
  const dir = await tempDir(t);
  const nb = await startNorthbound({ dir });
  t.teardown(() => nb.stop());
  t.is(nb.remote, `unix:${join(dir, 'ovnnb_db.sock')}`);
  await nb.nbctl('ls-add', 'sw0');
  t.regex(await nb.nbctl('show'), /switch [0-9a-f-]+ \(sw0\)/);
  await nb.stop();
  t.false(isAlive(nb.pid));
  await t.throwsAsync(nb.nbctl('--timeout=2', 'show'));
});

test('northbound - reuses the db file on the same dir', async (t) => {
  const dir = await tempDir(t);
  const first = await startNorthbound({ dir });
  t.teardown(() => first.stop());
  await first.nbctl('ls-add', 'kept');
  await first.stop();
  await access(join(dir, 'ovnnb_db.db'));

  const second = await startNorthbound({ dir });
  t.teardown(() => second.stop());
  t.is(await second.nbctl('--bare', '--columns=name', 'list', 'Logical_Switch'), 'kept');
});

test('northbound - refuses a socket another server is serving', async (t) => {
  const dir = await tempDir(t);
  const nb = await startNorthbound({ dir });
  t.teardown(() => nb.stop());
  const err = await t.throwsAsync(startNorthbound({ dir }));
  t.is(err?.name, 'SandboxStartError');
  t.is(await nb.nbctl('--bare', '--columns=name', 'list', 'Logical_Switch'), '');
});
