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

  // Other tests in this file append too: look at this test's two tenants only.
  const all = (await novanet('log')).trim().split('\n').map((line) => JSON.parse(line))
    .filter((c) => ['cli', 'other'].includes(c.scope.org));
  t.deepEqual(all.map((c) => [c.scope.org, c.operation]), [['cli', 'vpc.create'], ['other', 'vpc.create'], ['cli', 'vpc.delete']]);
  t.is(all[0].commandId, created.commandId);
  t.deepEqual(all[0].result, created.result);

  const ours = (await novanet('log', '--org', 'cli', '--from', String(all[1].seq))).trim().split('\n').map((line) => JSON.parse(line));
  t.deepEqual(ours.map((c) => [c.seq, c.operation]), [[all[2].seq, 'vpc.delete']]);
});

test('cli - a refused command prints the structured error and exits non-zero', async (t) => {
  const err = await t.throwsAsync(novanet('--org', 'cli', '--project', 'p1', 'subnet', 'create', '--vpc-id', '00000000-0000-4000-8000-000000000000', '--name', 'x'));
  const stdout = (err as Error & { stdout: string; code: number }).stdout;
  t.is((err as Error & { code: number }).code, 1);
  t.is(JSON.parse(stdout).error.code, 'NOT_FOUND');
});

test('cli - flags become typed payload fields: lists split on commas, null clears', async (t) => {
  const tenant = ['--org', 'cli-update', '--project', 'p1'];
  const vpc = JSON.parse(await novanet(...tenant, 'vpc', 'create', '--name', 'demo')).result.vpc;
  const subnet = JSON.parse(await novanet(...tenant, 'subnet', 'create', '--vpc-id', vpc.id, '--name', 'app', '--mtu', '1400')).result.subnet;
  t.is(subnet.mtu, 1400);
  const updated = JSON.parse(await novanet(...tenant, 'subnet', 'update', subnet.id, '--mtu', 'null', '--dns-servers', '1.1.1.1,9.9.9.9'));
  t.like(updated, { ok: true, result: { subnet: { id: subnet.id, dnsServers: ['1.1.1.1', '9.9.9.9'] } } });
  t.false('mtu' in updated.result.subnet);

  // A typo is refused by the schema, never turned into null or true.
  for (const flags of [['--mtu', '15OO'], ['--dhcp-enabled', 'flase']]) {
    const err = await t.throwsAsync(novanet(...tenant, 'subnet', 'update', subnet.id, ...flags)) as Error & { stdout: string };
    t.is(JSON.parse(err.stdout).error.code, 'VALIDATION_FAILED', flags.join(' '));
  }
});

test('cli - log stops at the end of the log even when --to is past it, and refuses a bad sequence', async (t) => {
  const lines = (await novanet('log', '--from', '1', '--to', '999999')).trim().split('\n');
  t.true(lines.length >= 1);
  await t.throwsAsync(novanet('log', '--from', 'abc'));
});

test('cli - serve refuses a reply prefix that could reach a stream or the JetStream API', async (t) => {
  // Should the check ever go, serve would run: the timeout ends it and the test fails.
  const err = await t.throwsAsync(run(process.execPath, [cli, '--nats', stack.nats.url, 'serve', '--reply-prefixes', '_INBOX.,$JS.API.'], { timeout: 10_000 })) as Error & { code: number; stderr: string };
  t.is(err.code, 1);
  t.regex(err.stderr, /reply prefix '\$JS\.API\.' could reach a stream or the JetStream API/);
  // Positive control: an inbox prefix is accepted (and is no payload field of a client command).
  t.true(JSON.parse(await novanet('--reply-prefixes', '_INBOX.', '--org', 'cli', '--project', 'p1', 'vpc', 'list')).ok);
});

type Failed = Error & { code: number; stdout: string; stderr: string };

test('cli - tables for people: a list as columns, one resource as fields, a refusal as one line with its code', async (t) => {
  const tenant = ['--org', 'cli-table', '--project', 'p1'];
  const vpc = JSON.parse(await novanet(...tenant, 'vpc', 'create', '--name', 'shown', '--cidr', '10.7.0.0/16')).result.vpc;
  const listed = (await novanet(...tenant, '-o', 'table', 'vpc', 'list')).trim().split('\n');
  t.regex(listed[0]!, /^ID\s+NAME\s+CIDR\s+/);
  t.regex(listed[1]!, new RegExp(`^${vpc.id}\\s+shown\\s+10\\.7\\.0\\.0/16`));
  t.regex(await novanet(...tenant, '-o', 'table', 'vpc', 'get', vpc.id), /^name\s+shown$/m);

  const err = await t.throwsAsync(novanet(...tenant, '-o', 'table', 'vpc', 'get', '00000000-0000-4000-8000-000000000000')) as Failed;
  t.is(err.code, 1);
  t.is(err.stdout, '');
  t.regex(err.stderr, /^novanet: NOT_FOUND: .+\n$/);
});

test('cli - an unknown command, verb, option or resource kind prints usage and exits 2; help is per command', async (t) => {
  for (const args of [['bogus'], ['vpc', 'bogus'], ['vpc', 'create', '--nmae', 'x'], ['watch', 'bogus/1'], ['request', 'bogus.create'], ['vpc']]) {
    const err = await t.throwsAsync(novanet(...args)) as Failed;
    t.is(err.code, 2, args.join(' '));
    t.regex(err.stderr, /Usage: novanet|novanet --help/, args.join(' '));
  }
  const help = await novanet('subnet', 'create', '--help');
  t.regex(help, /Usage: novanet subnet create/);
  t.regex(help, /--vpc-id <value>\s+text \(required\)/);
  t.regex(help, /--host-routes <value>\s+JSON/);
  // port.create is one port or `ports`: both forms' fields are flags, neither required.
  const portHelp = await novanet('port', 'create', '--help');
  t.regex(portHelp, /--subnet-id <value>\s+text\n/);
  t.regex(portHelp, /--ports <value>\s+JSON/);
});

test('cli - --config reads a TOML file; flags and the environment win over it, and a bad file is one line and exit 1', async (t) => {
  const { mkdtemp, rm, writeFile } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = await mkdtemp(join(tmpdir(), 'novanet-cli-config-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const good = join(dir, 'novanet.toml');
  await writeFile(good, `nats_url = "${stack.nats.url}"\n`);
  const bare = (...args: string[]) => run(process.execPath, [cli, ...args]);
  t.true(JSON.parse((await bare('--config', good, '--org', 'cli', '--project', 'p1', 'vpc', 'list')).stdout).ok, 'NATS from the file');
  const wrong = join(dir, 'wrong.toml');
  await writeFile(wrong, 'nats_url = "nats://127.0.0.1:1"\n');
  t.true(JSON.parse((await bare('--config', wrong, '--nats', stack.nats.url, '--org', 'cli', '--project', 'p1', 'vpc', 'list')).stdout).ok, 'the flag wins');
  const bad = join(dir, 'bad.toml');
  await writeFile(bad, 'natsurl = "x"\n');
  const err = await t.throwsAsync(bare('--config', bad, '-o', 'table', 'vpc', 'list')) as Failed;
  t.is(err.code, 1);
  t.regex(err.stderr, /^novanet: INVALID_CONFIGURATION: config file .*bad\.toml: unknown setting 'natsurl'/);
});

test('cli - sandbox refuses a chassis count or index that is not a whole number from 1, before it starts or plugs anything', async (t) => {
  for (const args of [['sandbox', '--chassis-count', '0'], ['sandbox', '--chassis-count', 'two'], ['sandbox', 'plug', 'some-port', '--chassis-index', '1.5']]) {
    const err = await t.throwsAsync(novanet(...args, '--dir', '/nonexistent/novanet')) as Error & { code: number; stderr: string };
    t.is(err.code, 2, 'a malformed argument is usage');
    t.regex(err.stderr, /--chassis-(count|index) takes a whole number from 1/);
  }
});
