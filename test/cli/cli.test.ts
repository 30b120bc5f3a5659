import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import test from 'ava';
import { startStack } from '../support/stack.js';
import type { Stack } from '../support/stack.js';

const cli = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const run = promisify(execFile);

let stack: Stack;
test.before(async () => { stack = await startStack(); });
test.after.always(async () => { await stack?.stop(); });

async function novanet(...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [cli, '--nats', stack.nats.url, ...args]);
  return stdout;
}

test('cli - creates, lists and deletes through the wire contract, and reads the audit log', async (t) => {
  const created = JSON.parse(await novanet('--org', 'cli', '--project', 'p1', 'vpc', 'create', '--name', 'demo', '--cidr', '10.9.0.0/16'));
  t.true(created.ok);
  const vpcId: string = created.result.vpc.id;
  await novanet('--org', 'other', '--project', 'p1', 'vpc', 'create', '--name', 'elsewhere');

  const listed = JSON.parse(await novanet('--org', 'cli', '--project', 'p1', 'vpc', 'list'));
  t.deepEqual(listed.result.vpcs.map((v: { id: string }) => v.id), [vpcId]);

  const deleted = JSON.parse(await novanet('--org', 'cli', '--project', 'p1', 'vpc', 'delete', vpcId));
  t.true(deleted.ok);

  const all = (await novanet('log')).trim().split('\n').map((line) => JSON.parse(line));
  t.deepEqual(all.map((c) => c.operation), ['vpc.create', 'vpc.create', 'vpc.delete']);
  t.deepEqual(all.map((c) => c.seq), [1, 2, 3]);

  const ours = (await novanet('log', '--org', 'cli', '--from', '2')).trim().split('\n').map((line) => JSON.parse(line));
  t.deepEqual(ours.map((c) => [c.seq, c.operation, c.scope.org]), [[3, 'vpc.delete', 'cli']]);
});

test('cli - a refused command prints the structured error and exits non-zero', async (t) => {
  const err = await t.throwsAsync(novanet('--org', 'cli', '--project', 'p1', 'subnet', 'create', '--vpc-id', '00000000-0000-4000-8000-000000000000', '--name', 'x'));
  const stdout = (err as Error & { stdout: string; code: number }).stdout;
  t.is((err as Error & { code: number }).code, 1);
  t.is(JSON.parse(stdout).error.code, 'NOT_FOUND');
});
