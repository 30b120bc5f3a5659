import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { hostIfname } from '../../src/agent/attachments.js';
import { cniEnv, installPlugin, podNamespace, runPlugin, startAgentProcess } from '../support/cni.js';
import type { AgentProcess, CniOutcome } from '../support/cni.js';
import { startStack } from '../support/stack.js';
import type { Stack } from '../support/stack.js';

/**
 * What a runtime does around a pod besides ADD: errors, DEL in every state, the agent
 * restarting, GC, STATUS, CHECK, and the reference plugins chained after novanet.
 */

const run = promisify(execFile);
const tenant = { org: 'life', project: 'p1' };

interface Setup {
  stack: Stack;
  binary: string;
  agent: AgentProcess;
  conf: (extra?: Record<string, unknown>) => Record<string, unknown>;
  subnet: { id: string; gatewayIp: string };
}

async function setUp(t: ExecutionContext): Promise<Setup> {
  const stack = await startStack({ chassis: true });
  t.teardown(() => stack.stop());
  const vpc = (await stack.client.call(tenant, 'vpc.create', { name: 'main' })).result.vpc as { id: string };
  const subnet = (await stack.client.call(tenant, 'subnet.create', { vpcId: vpc.id, name: 'pods', cidr: '10.0.3.0/24' })).result.subnet as { id: string; gatewayIp: string };
  const binary = await installPlugin(stack);
  const agent = await startAgentProcess(stack);
  const setup: Setup = {
    stack, binary, agent, subnet,
    conf: (extra = {}) => ({ cniVersion: '1.1.0', name: 'pods', type: 'novanet', org: tenant.org, project: tenant.project, subnet: 'pods', agentSocket: agent.socket, ...extra }),
  };
  t.teardown(() => setup.agent.stop());
  return setup;
}

async function pod(t: ExecutionContext, s: Setup, name: string) {
  const p = await podNamespace(s.stack, name);
  t.teardown(() => p.ns.remove());
  return { ...p, containerId: `ctr-${name}` };
}

/** No port, no br-int interface and no host veth left for the container. */
async function nothingLeft(s: Setup, containerId: string): Promise<boolean> {
  const ports = (await s.stack.client.call(tenant, 'port.list', { deviceId: containerId })).result.ports as unknown[];
  const ifaces = await s.stack.chassis!.vsctl('--bare', '--columns=name', 'find', 'Interface', `external_ids:"novanet:container-id"="${containerId}"`);
  const veth = await run('ip', ['-n', s.stack.chassis!.hostNamespace, 'link', 'show', hostIfname(containerId, 'eth0')]).then(() => true, () => false);
  return ports.length === 0 && ifaces === '' && !veth;
}

test('cni - errors carry the spec\'s codes, and a failed ADD leaves nothing', async (t) => {
  const s = await setUp(t);
  const p = await pod(t, s, 'e1');
  const env = cniEnv('ADD', { containerId: p.containerId, netns: p.path });

  const version = await runPlugin(s.binary, { CNI_COMMAND: 'VERSION' }, { cniVersion: '1.0.0' });
  t.deepEqual([version.code, version.output], [0, { cniVersion: '1.0.0', supportedVersions: ['0.4.0', '1.0.0', '1.1.0'] }]);

  const codeOf = async (e: Record<string, string>, config: unknown) => {
    const o = await runPlugin(s.binary, e, config);
    t.is(o.code, 1);
    return o.output as { cniVersion: string; code: number; msg: string; details?: string };
  };
  t.is((await codeOf(env, s.conf({ subent: 'pods' }))).code, 7, 'a misspelt field is an invalid config');
  t.is((await codeOf(env, s.conf({ org: 'Not A Tenant' }))).code, 7);
  t.is((await codeOf(env, s.conf({ cniVersion: '0.3.1' }))).code, 1, 'an unsupported version');
  t.is((await codeOf(env, '{"cniVersion":')).code, 6, 'a config that is not JSON');
  const { CNI_CONTAINERID: _dropped, ...noContainer } = env;
  t.is((await codeOf(noContainer, s.conf())).code, 4, 'no CNI_CONTAINERID');
  t.is((await codeOf({ ...env, CNI_COMMAND: 'FROB' }, s.conf())).code, 4, 'an unknown command');
  const noSubnet = await codeOf(env, s.conf({ subnet: 'nope' }));
  t.is(noSubnet.code, 100);
  t.is((JSON.parse(noSubnet.details!) as { code: string }).code, 'NOT_FOUND', 'carrying novanet\'s code');
  const noGroup = await codeOf(env, s.conf({ securityGroups: ['nope'] }));
  t.is(noGroup.code, 100);
  t.is((JSON.parse(noGroup.details!) as { code: string }).code, 'SECURITY_GROUP_NOT_FOUND');
  t.true(await nothingLeft(s, p.containerId), 'the failed ADDs left no port, interface or veth');
  t.is((await p.ns.exec(['ip', 'link', 'show', 'eth0'])).code, 1, 'and no eth0 in the pod');
  t.is((await codeOf(cniEnv('STATUS', { containerId: 'x' }), s.conf({ cniVersion: '1.0.0' }))).code, 1, 'STATUS is a 1.1.0 command');

  // ovn-controller stalled: the ADD is bounded, answers 11 and takes back what it made.
  const impatient = await startAgentProcess(s.stack, { name: 'impatient', extra: ['--ovn-installed-timeout-ms', '1500'] });
  t.teardown(() => impatient.stop());
  const controller = await ovnControllerPid(s.stack.chassis!.pids);
  process.kill(controller, 'SIGSTOP');
  let stalled;
  try {
    stalled = await codeOf(env, s.conf({ agentSocket: impatient.socket }));
  } finally {
    process.kill(controller, 'SIGCONT');
  }
  t.is(stalled.code, 11, stalled.msg);
  t.regex(stalled.msg, /ovn-installed/);
  t.true(await nothingLeft(s, p.containerId), 'the timed-out ADD left nothing either');
  t.is((await runPlugin(s.binary, env, s.conf({ agentSocket: impatient.socket }))).code, 0, 'and the retry works once ovn-controller runs');
});

/** The agent hears of a dropped Open_vSwitch connection when its socket closes: asks until it has. */
async function eventuallyOutcome(ask: () => Promise<CniOutcome>, done: (o: CniOutcome) => boolean): Promise<CniOutcome> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const outcome = await ask();
    if (done(outcome) || Date.now() > deadline) return outcome;
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function ovnControllerPid(pids: readonly number[]): Promise<number> {
  for (const pid of pids) {
    if ((await readFile(`/proc/${pid}/cmdline`, 'utf8')).startsWith('ovn-controller')) return pid;
  }
  throw new Error('no ovn-controller among the chassis daemons');
}

test('cni - DEL twice, after the netns is gone and of a never-added container all succeed and leave nothing', async (t) => {
  const s = await setUp(t);
  const [p1, p2] = await Promise.all([pod(t, s, 'd1'), pod(t, s, 'd2')]);
  for (const p of [p1, p2]) t.is((await runPlugin(s.binary, cniEnv('ADD', { containerId: p.containerId, netns: p.path }), s.conf())).code, 0);
  t.false(await nothingLeft(s, p1.containerId));

  for (const attempt of [1, 2]) {
    const del = await runPlugin(s.binary, cniEnv('DEL', { containerId: p1.containerId, netns: p1.path }), s.conf());
    t.deepEqual([del.code, del.output], [0, undefined], `DEL ${attempt}`);
  }
  t.true(await nothingLeft(s, p1.containerId));

  await p2.ns.remove();
  const gone = await runPlugin(s.binary, cniEnv('DEL', { containerId: p2.containerId, netns: p2.path }), s.conf());
  t.is(gone.code, 0, `DEL after the netns went: ${JSON.stringify(gone.output)}`);
  const noNetns = await runPlugin(s.binary, cniEnv('DEL', { containerId: p2.containerId }), s.conf());
  t.is(noNetns.code, 0, 'and again without CNI_NETNS');
  t.true(await nothingLeft(s, p2.containerId));

  const never = await runPlugin(s.binary, cniEnv('DEL', { containerId: 'ctr-never' }), s.conf());
  t.is(never.code, 0, 'DEL of a container never added');
  const { org: _org, project: _project, ...mappedOnly } = s.conf({ namespaces: { apps: tenant } });
  const unmapped = await runPlugin(s.binary, cniEnv('DEL', { containerId: 'ctr-unmapped', k8s: { namespace: 'elsewhere', name: 'x' } }), mappedOnly);
  t.is(unmapped.code, 0, 'DEL of a pod whose namespace the config maps to no tenant (its ADD was refused)');

  // The same container again after its DEL (a runtime retrying a failed sandbox): a new port.
  const again = await runPlugin(s.binary, cniEnv('ADD', { containerId: p1.containerId, netns: p1.path }), s.conf());
  t.is(again.code, 0, JSON.stringify(again.output));
  t.is(((await s.stack.client.call(tenant, 'port.list', { deviceId: p1.containerId })).result.ports as unknown[]).length, 1);

  // A host end left by an agent that died before recording it is replaced, not an error.
  const p3 = await pod(t, s, 'd3');
  await run('ip', ['-n', s.stack.chassis!.hostNamespace, 'link', 'add', hostIfname(p3.containerId, 'eth0'), 'type', 'veth', 'peer', 'name', 'leftover']);
  const over = await runPlugin(s.binary, cniEnv('ADD', { containerId: p3.containerId, netns: p3.path }), s.conf());
  t.is(over.code, 0, JSON.stringify(over.output));
  t.true(await p3.ns.ping(s.subnet.gatewayIp, { timeoutMs: 10_000 }));
});

test('cni - an agent restart finds the pods it plugged: no duplicate, no leak; GC removes the ports of pods that are gone; STATUS and CHECK', async (t) => {
  const s = await setUp(t);
  const [p1, p2, p3] = await Promise.all([pod(t, s, 'r1'), pod(t, s, 'r2'), pod(t, s, 'r3')]);
  const add = (p: typeof p1) => runPlugin(s.binary, cniEnv('ADD', { containerId: p.containerId, netns: p.path }), s.conf());
  const first = await add(p1);
  t.is(first.code, 0);
  const ip1 = (first.output as { ips: { address: string }[] }).ips[0]!.address.split('/')[0]!;

  await s.agent.stop();
  const down = await runPlugin(s.binary, cniEnv('STATUS', { containerId: 'x' }), s.conf());
  t.is((down.output as { code: number }).code, 50, 'STATUS without an agent');
  s.agent = await startAgentProcess(s.stack);
  t.regex(s.agent.log(), /"plugged":1/, 'the restarted agent found r1 on br-int');

  const repeated = await add(p1);
  t.is(repeated.code, 0, JSON.stringify(repeated.output));
  t.is((repeated.output as { ips: { address: string }[] }).ips[0]!.address.split('/')[0], ip1, 'a repeated ADD after the restart gets the same port');
  t.is(((await s.stack.client.call(tenant, 'port.list', { deviceId: p1.containerId })).result.ports as unknown[]).length, 1, 'not a second one');
  const second = await add(p2);
  t.is(second.code, 0);
  t.true(await p2.ns.ping(ip1, { timeoutMs: 10_000 }), 'a pod added after the restart reaches one added before');
  t.is((await add(p3)).code, 0);

  const prevResult = second.output!;
  const check = await runPlugin(s.binary, cniEnv('CHECK', { containerId: p2.containerId, netns: p2.path }), s.conf({ prevResult }));
  t.deepEqual([check.code, check.output], [0, undefined], 'CHECK of a healthy pod');
  await p2.ns.exec(['ip', 'addr', 'flush', 'dev', 'eth0']);
  const broken = await runPlugin(s.binary, cniEnv('CHECK', { containerId: p2.containerId, netns: p2.path }), s.conf({ prevResult }));
  t.is((broken.output as { code: number }).code, 102, 'CHECK of a pod whose address went');

  // r3's pod is gone; the runtime lists r1 and r2 as valid.
  await p3.ns.remove();
  const gc = await runPlugin(s.binary, cniEnv('GC', { containerId: 'x' }), s.conf({
    'cni.dev/valid-attachments': [{ containerID: p1.containerId, ifname: 'eth0' }, { containerID: p2.containerId, ifname: 'eth0' }],
  }));
  t.deepEqual([gc.code, gc.output], [0, undefined]);
  t.true(await nothingLeft(s, p3.containerId), 'GC removed the port of the pod that is gone');
  t.false(await nothingLeft(s, p1.containerId), 'and kept the valid ones');
  t.true(await p1.ns.ping(s.subnet.gatewayIp, { timeoutMs: 10_000 }), 'which still forward');

  const status = await runPlugin(s.binary, cniEnv('STATUS', { containerId: 'x' }), s.conf());
  t.deepEqual([status.code, status.output], [0, undefined], 'STATUS with NATS, the engine and OVS up');
  // Last: the stack's teardown stops the engine, NATS and the chassis again, which is harmless.
  await s.stack.engine.stop();
  const noEngine = await runPlugin(s.binary, cniEnv('STATUS', { containerId: 'x' }), s.conf());
  t.like(noEngine.output, { code: 50, msg: 'the engine does not answer' });
  await s.stack.nats.stop();
  const noNats = await runPlugin(s.binary, cniEnv('STATUS', { containerId: 'x' }), s.conf());
  t.like(noNats.output, { code: 50, msg: 'the agent cannot reach NATS' });
  await s.stack.chassis!.stop();
  const noOvs = await eventuallyOutcome(() => runPlugin(s.binary, cniEnv('STATUS', { containerId: 'x' }), s.conf()), (o) => (o.output as { msg?: string } | undefined)?.msg?.includes('Open_vSwitch') === true);
  t.like(noOvs.output, { code: 50, msg: 'the agent has lost its Open_vSwitch connection' });
});

test('cni - the result is accepted as prevResult by the reference plugins (tuning chained after novanet), in every version', async (t) => {
  const s = await setUp(t);
  for (const cniVersion of ['0.4.0', '1.0.0'] as const) {
    const p = await pod(t, s, `c${cniVersion.replace(/\./g, '')}`);
    // The conflist's plugins as a runtime runs them: each gets the network's name and version, the next the previous result.
    const network = { cniVersion, name: 'chained' };
    const added = await runPlugin(s.binary, cniEnv('ADD', { containerId: p.containerId, netns: p.path }), { ...s.conf(), ...network });
    t.is(added.code, 0, JSON.stringify(added.output));
    if (cniVersion === '0.4.0') t.is((added.output as { ips: { version: string }[] }).ips[0]!.version, '4');
    const tuning = await runPlugin('/usr/lib/cni/tuning', cniEnv('ADD', { containerId: p.containerId, netns: p.path }), { ...network, type: 'tuning', mtu: 1300, prevResult: added.output });
    t.is(tuning.code, 0, `tuning: ${JSON.stringify(tuning.output)} ${tuning.stderr}`);
    t.deepEqual((tuning.output as { ips: unknown }).ips, (added.output as { ips: unknown }).ips, 'tuning passed novanet\'s addresses on');
    t.regex((await p.ns.exec(['ip', 'link', 'show', 'eth0'])).stdout, /mtu 1300/, 'and tuned the interface novanet made');
    t.true(await p.ns.ping(s.subnet.gatewayIp, { timeoutMs: 10_000 }));
    // DEL runs the plugins in reverse.
    const tuningDel = await runPlugin('/usr/lib/cni/tuning', cniEnv('DEL', { containerId: p.containerId, netns: p.path }), { ...network, type: 'tuning', mtu: 1300, prevResult: added.output });
    t.is(tuningDel.code, 0, JSON.stringify(tuningDel.output));
    t.is((await runPlugin(s.binary, cniEnv('DEL', { containerId: p.containerId, netns: p.path }), { ...s.conf(), ...network })).code, 0);
    t.true(await nothingLeft(s, p.containerId));
  }
});
