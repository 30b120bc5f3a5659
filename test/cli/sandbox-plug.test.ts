import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import test from 'ava';
import { startChassis } from '../../src/sandbox/mod.js';
import { startStack } from '../support/stack.js';

const cli = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const run = promisify(execFile);

type PortResult = { id: string; ipAddress: string; macAddress: string };

test('cli - sandbox plug puts a namespace on a port of the sandbox chassis with its DHCP lease, and Ctrl-C takes it away', async (t) => {
  const stack = await startStack({ chassis: true });
  t.teardown(() => stack.stop());
  const scope = { org: 'plug', project: 'p1' };
  const tenant = ['--nats', stack.nats.url, '--org', scope.org, '--project', scope.project];
  const { client } = stack;
  const vpc = (await client.call(scope, 'vpc.create', { name: 'demo' })).result.vpc as { id: string };
  const subnet = (await client.call(scope, 'subnet.create', { vpcId: vpc.id, name: 'app', cidr: '10.0.8.0/24' })).result.subnet as { id: string };
  const [a, b] = await Promise.all(['a', 'b'].map(async (name) =>
    (await client.call(scope, 'port.create', { subnetId: subnet.id, deviceId: `vm-${name}` })).result.port as PortResult));

  // stack.dir is laid out as the sandbox's: the chassis runs in <dir>/chassis.
  const plug = spawn(process.execPath, [cli, ...tenant, 'sandbox', 'plug', a!.id, '--namespace', 'demo', '--dir', stack.dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => { if (plug.exitCode === null && plug.signalCode === null) plug.kill('SIGKILL'); });
  const exited = once(plug, 'exit') as Promise<[number | null, string | null]>;
  let stderr = '';
  plug.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const [line] = await Promise.race([once(createInterface({ input: plug.stdout }), 'line'), exited.then(() => { throw new Error(`plug exited: ${stderr}`); })]) as [string];
  const plugged = JSON.parse(line) as { namespace: string; portId: string; lease: { address: string; prefixLength: number } };
  t.is(plugged.portId, a!.id);
  t.like(plugged.lease, { address: a!.ipAddress, prefixLength: 24 }, 'the namespace holds the address the engine allocated, from OVN DHCP');
  t.true((await run('ip', ['netns', 'list'])).stdout.includes(plugged.namespace));

  // A neighbour plugged by the test reaches it: the namespace is on the dataplane, not just configured.
  const neighbour = await stack.chassis!.plug({ iface: b!.id, namespace: 'neighbour', mac: b!.macAddress, ifaceIdVer: 'vm-b' });
  await client.waitFor(scope, 'port', b!.id, (s) => s.bound === true, 60_000);
  await neighbour.dhcp({ timeoutMs: 30_000 });
  t.true(await neighbour.ping(a!.ipAddress, { timeoutMs: 10_000 }), 'the neighbour reaches the plugged namespace');

  plug.kill('SIGINT');
  t.deepEqual(await exited, [0, null]);
  t.false((await run('ip', ['netns', 'list'])).stdout.includes(plugged.namespace), 'Ctrl-C deleted the namespace');
  t.is(await stack.chassis!.vsctl('--bare', '--columns=name', 'find', 'Interface', `external_ids:iface-id=${a!.id}`), '', 'and took its interface off br-int');
  t.false(await neighbour.ping(a!.ipAddress, { count: 2, timeoutMs: 2000 }), 'the address is gone from the dataplane');
});

test('cli - sandbox plug refuses a port the tenant does not have, a port without a device, and a dir without a running chassis', async (t) => {
  const stack = await startStack();
  t.teardown(() => stack.stop());
  const scope = { org: 'plug', project: 'p2' };
  const tenant = ['--nats', stack.nats.url, '--org', scope.org, '--project', scope.project];
  const vpc = (await stack.client.call(scope, 'vpc.create', { name: 'demo' })).result.vpc as { id: string };
  const subnet = (await stack.client.call(scope, 'subnet.create', { vpcId: vpc.id, name: 'app' })).result.subnet as { id: string };
  const port = (await stack.client.call(scope, 'port.create', { subnetId: subnet.id, deviceId: 'vm' })).result.port as PortResult;
  const detached = (await stack.client.call(scope, 'port.create', { subnetId: subnet.id })).result.port as PortResult;
  const empty = await mkdtemp(join(tmpdir(), 'novanet-plug-'));
  t.teardown(() => rm(empty, { recursive: true, force: true }));

  const unknown = await t.throwsAsync(run(process.execPath, [cli, ...tenant, 'sandbox', 'plug', '00000000-0000-4000-8000-000000000000', '--dir', empty])) as Error & { code: number; stdout: string };
  t.is(unknown.code, 1);
  t.is(JSON.parse(unknown.stdout).error.code, 'NOT_FOUND');

  // A port without a device: no plug binds it (its switch port's iface-id-ver is none a plug sets).
  const unattached = await t.throwsAsync(run(process.execPath, [cli, ...tenant, 'sandbox', 'plug', detached.id, '--dir', empty])) as Error & { code: number; stderr: string };
  t.is(unattached.code, 1);
  t.regex(unattached.stderr, /has no device.*port attach/);

  // The port exists (positive control for the lookup): what is missing is the chassis.
  const noChassis = await t.throwsAsync(run(process.execPath, [cli, ...tenant, 'sandbox', 'plug', port.id, '--dir', empty])) as Error & { code: number; stderr: string };
  t.is(noChassis.code, 1);
  t.regex(noChassis.stderr, /no chassis is running in .*novanet-plug-.*\/chassis/);
});

test('cli - sandbox plug --chassis-index puts the namespace on another chassis of the sandbox, which joined the first one\'s Southbound', async (t) => {
  const stack = await startStack({ chassis: true });
  t.teardown(() => stack.stop());
  // Laid out as `novanet sandbox --chassis-count 2` does: the second chassis runs in <dir>/chassis-2.
  const second = await startChassis({ dir: join(stack.dir, 'chassis-2'), joins: stack.chassis!, name: 'sandbox-2' });
  t.teardown(() => second.stop());
  const scope = { org: 'plug', project: 'p3' };
  const tenant = ['--nats', stack.nats.url, '--org', scope.org, '--project', scope.project];
  const vpc = (await stack.client.call(scope, 'vpc.create', { name: 'demo' })).result.vpc as { id: string };
  const subnet = (await stack.client.call(scope, 'subnet.create', { vpcId: vpc.id, name: 'app', cidr: '10.0.9.0/24' })).result.subnet as { id: string };
  const [a, b] = await Promise.all(['a', 'b'].map(async (name) =>
    (await stack.client.call(scope, 'port.create', { subnetId: subnet.id, deviceId: `vm-${name}` })).result.port as PortResult));

  const plug = spawn(process.execPath, [cli, ...tenant, 'sandbox', 'plug', a!.id, '--chassis-index', '2', '--dir', stack.dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => { if (plug.exitCode === null && plug.signalCode === null) plug.kill('SIGKILL'); });
  const exited = once(plug, 'exit') as Promise<[number | null, string | null]>;
  let stderr = '';
  plug.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const [line] = await Promise.race([once(createInterface({ input: plug.stdout }), 'line'), exited.then(() => { throw new Error(`plug exited: ${stderr}`); })]) as [string];
  const plugged = JSON.parse(line) as { namespace: string; lease: { address: string } };
  t.like(plugged.lease, { address: a!.ipAddress });
  t.true(plugged.namespace.startsWith(second.hostNamespace.replace(/-host$/, '')), 'the namespace is the second chassis\'s');
  const bound = await stack.chassis!.sbctl('--bare', '--columns=chassis', 'find', 'Port_Binding', `logical_port=${a!.id}`);
  t.is(await stack.chassis!.sbctl('--bare', '--columns=name', 'list', 'Chassis', bound), 'sandbox-2');

  // A neighbour on the first chassis reaches it across the tunnel.
  const neighbour = await stack.chassis!.plug({ iface: b!.id, namespace: 'neighbour', mac: b!.macAddress, ifaceIdVer: 'vm-b' });
  await stack.client.waitFor(scope, 'port', b!.id, (s) => s.bound === true, 60_000);
  await neighbour.dhcp({ timeoutMs: 30_000 });
  t.true(await neighbour.ping(a!.ipAddress, { timeoutMs: 10_000 }), 'the neighbour on the first chassis reaches it');
  plug.kill('SIGINT');
  t.deepEqual(await exited, [0, null]);
});
