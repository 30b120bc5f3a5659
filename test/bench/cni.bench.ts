import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { Links } from '../../src/agent/links.js';
import { NodeSwitch } from '../../src/agent/switch.js';
import { cniEnv, installPlugin, podNamespace, runPlugin, startAgentProcess } from '../support/cni.js';
import { startStack } from '../support/stack.js';
import type { Cleanup } from './infra.js';
import { fmt, percentile, section, timed } from './report.js';
import type { Row } from './report.js';

const PODS = 50;
const scope = { org: 'bench', project: 'cni' };

/**
 * A burst of PODS CNI ADDs on one node, all at once as a node starting a deployment sees
 * them: each is the installed plugin executed by the runtime's rules (env + stdin), through
 * the agent (subnet lookup, port.create and its check over NATS, veth, br-int record and
 * bind, pod configuration) until the result, which waits for ovn-installed. Floor: the same
 * burst of veth + br-int plug + wait for ovn-installed, done in this process with the agent's
 * own building blocks on ports created beforehand (their rows already in the Northbound):
 * what any CNI must pay on this chassis. The namespaces exist before either is timed, as a
 * runtime creates them before ADD.
 */
export async function benchCni(cleanup: Cleanup): Promise<Row[]> {
  const stack = await startStack({ chassis: true });
  cleanup.defer(() => stack.stop());
  const chassis = stack.chassis!;
  const vpc = (await stack.client.call(scope, 'vpc.create', { name: 'bench', cidr: '10.20.0.0/16' })).result.vpc as { id: string };
  const subnet = (await stack.client.call(scope, 'subnet.create', { vpcId: vpc.id, name: 'pods', cidr: '10.20.0.0/22' })).result.subnet as { id: string; cidr: string; gatewayIp: string };

  // Floor first, on pre-created ports.
  const ports = await Promise.all(Array.from({ length: PODS }, async (_, i) => {
    const created = await stack.client.call(scope, 'port.create', { subnetId: subnet.id, deviceId: `floor-${i}` });
    const port = created.result.port as { id: string; macAddress: string; ipAddress: string };
    await stack.client.waitFor(scope, 'port', port.id, (s) => s.observedSeq >= created.seq && s.phase === 'Ready', 60_000);
    return port;
  }));
  const floorPods = await Promise.all(ports.map((_, i) => podNamespace(stack, `f${i}`)));
  const links = new Links(chassis.hostNamespace);
  const nodeSwitch = await NodeSwitch.connect(`unix:${chassis.dir}/conf.sock`, 'br-int', pino({ level: 'silent' }));
  cleanup.defer(() => nodeSwitch.close());
  const prefixLength = Number(subnet.cidr.split('/')[1]);
  const floor = await Promise.all(ports.map((port, i) => timed(async () => {
    const pod = { netns: floorPods[i]!.path, ifname: 'eth0' };
    const host = `nvf${randomBytes(4).toString('hex')}`;
    await links.create(host, '02:00:00:00:00:01', pod, 1442);
    await nodeSwitch.record(host, { containerId: `floor-${i}`, ifname: 'eth0', network: 'floor', netns: pod.netns, org: scope.org, project: scope.project, node: chassis.name });
    const recorded = nodeSwitch.find(`floor-${i}`, 'eth0')!;
    await Promise.all([
      nodeSwitch.bind(recorded, port.id, port.macAddress),
      links.configure({ ...pod, mac: port.macAddress, address: port.ipAddress, prefixLength, gateway: subnet.gatewayIp }),
      links.offloadOff(host, pod),
    ]);
    if (!(await nodeSwitch.installed(recorded.uuid, 120_000))) throw new Error(`floor pod ${i} never ovn-installed`);
  })));
  await Promise.all(floorPods.map((p) => p.ns.remove()));

  // The same burst through novanet-cni and the agent.
  const binary = await installPlugin(stack);
  const agent = await startAgentProcess(stack, { extra: ['--ovn-installed-timeout-ms', '120000'] });
  cleanup.defer(() => agent.stop());
  const pods = await Promise.all(Array.from({ length: PODS }, (_, i) => podNamespace(stack, `p${i}`)));
  cleanup.defer(() => Promise.all(pods.map((p) => p.ns.remove())));
  const conf = { cniVersion: '1.1.0', name: 'bench', type: 'novanet', org: scope.org, project: scope.project, subnet: 'pods', agentSocket: agent.socket };
  const adds = await Promise.all(pods.map((pod, i) => (async () => {
    let code = -1;
    const ms = await timed(async () => {
      code = (await runPlugin(binary, cniEnv('ADD', { containerId: `bench-${i}`, netns: pod.path, k8s: { namespace: 'bench', name: `p${i}` } }), conf)).code;
    });
    if (code !== 0) throw new Error(`ADD ${i} failed (${code}): ${agent.log().slice(-2000)}`);
    return ms;
  })()));
  // The agent logs each request's time from its socket's view: what the plugin process adds is the rest.
  const inAgent = agent.log().split('\n').filter((l) => l.includes('"cni request done"') && l.includes('"command":"ADD"'))
    .map((l) => (JSON.parse(l) as { ms: number }).ms);
  const plugin = await timed(async () => { await runPlugin(binary, { CNI_COMMAND: 'VERSION' }, conf); });

  const [p50, p99, f50, f99] = [percentile(adds, 50), percentile(adds, 99), percentile(floor, 50), percentile(floor, 99)];
  section(`CNI ADD, a burst of ${PODS} pods on one node (ovn-installed included)`, [
    `novanet-cni ADD: p50 ${fmt(p50)} ms, p99 ${fmt(p99)} ms`,
    `floor (veth + br-int plug + ovn-installed on pre-created ports): p50 ${fmt(f50)} ms, p99 ${fmt(f99)} ms`,
    `p99 / floor p99: ${(p99 / f99).toFixed(2)}x (goal ≤ 2x)`,
    `inside the agent (socket in to answer out): p50 ${fmt(percentile(inAgent, 50))} ms, p99 ${fmt(percentile(inAgent, 99))} ms, ${inAgent.length} ADDs`,
    `one plugin process alone (VERSION, no agent): ${fmt(plugin)} ms`,
  ]);
  return [
    { name: `cni ADD p50 (burst of ${PODS})`, unit: 'ms', value: p50, baseline: f50, ratio: p50 / f50, reads: 'ADD / floor (lower is better)' },
    { name: `cni ADD p99 (burst of ${PODS})`, unit: 'ms', value: p99, baseline: f99, ratio: p99 / f99, reads: 'ADD / floor (lower is better; goal ≤ 2)' },
  ];
}
