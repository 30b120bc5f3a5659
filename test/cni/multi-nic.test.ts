import test from 'ava';
import { cniEnv, installPlugin, podNamespace, runPlugin, startAgentProcess } from '../support/cni.js';
import { startStack } from '../support/stack.js';
import type { Stack } from '../support/stack.js';

/**
 * A pod with two interfaces (a second CNI network, as Multus adds one), on two subnets of one
 * VPC: its ports are one device's (the container), its first is the primary, and only the
 * primary carries the default route, in the pod and in the CNI result.
 */

const acme = { org: 'acme', project: 'web' };
interface AddResult { ips: { address: string }[]; routes: { dst: string; gw: string }[] }

test('cni - a pod\'s second interface is not its primary: one default route, via the first interface\'s gateway', async (t) => {
  const stack: Stack = await startStack({ chassis: true });
  t.teardown(() => stack.stop());
  const { client } = stack;
  const vpc = (await client.call(acme, 'vpc.create', { name: 'main', cidr: '10.1.0.0/16' })).result.vpc as { id: string };
  const front = (await client.call(acme, 'subnet.create', { vpcId: vpc.id, name: 'front', cidr: '10.1.1.0/24' })).result.subnet as { gatewayIp: string };
  const back = (await client.call(acme, 'subnet.create', { vpcId: vpc.id, name: 'back', cidr: '10.1.2.0/24' })).result.subnet as { gatewayIp: string };
  const binary = await installPlugin(stack);
  const agent = await startAgentProcess(stack);
  t.teardown(() => agent.stop());
  const conf = (subnet: string) => ({ cniVersion: '1.1.0', name: subnet, type: 'novanet', agentSocket: agent.socket, org: acme.org, project: acme.project, subnet });

  const pod = await podNamespace(stack, 'multi');
  t.teardown(() => pod.ns.remove());
  const eth0 = await runPlugin(binary, cniEnv('ADD', { containerId: 'ctr-multi', netns: pod.path, ifname: 'eth0' }), conf('front'));
  const net1 = await runPlugin(binary, cniEnv('ADD', { containerId: 'ctr-multi', netns: pod.path, ifname: 'net1' }), conf('back'));
  t.is(eth0.code, 0, `${JSON.stringify(eth0.output)} ${agent.log()}`);
  t.is(net1.code, 0, `${JSON.stringify(net1.output)} ${agent.log()}`);
  t.deepEqual((eth0.output as unknown as AddResult).routes, [{ dst: '0.0.0.0/0', gw: front.gatewayIp }], 'the primary carries the default route');
  t.deepEqual((net1.output as unknown as AddResult).routes, [], 'the second interface none');

  const ports = (await client.call(acme, 'port.list', { deviceId: 'ctr-multi' })).result.ports as { ipAddress: string; primary: boolean }[];
  t.deepEqual(ports.map((p) => p.primary).sort(), [false, true], 'one device, one primary');
  const defaults = (await pod.ns.exec(['ip', '-4', 'route', 'show', 'default'])).stdout.trim().split('\n').filter((l) => l !== '');
  t.deepEqual(defaults, [`default via ${front.gatewayIp} dev eth0`], 'exactly one default route in the pod');
  const secondIp = (net1.output as unknown as AddResult).ips[0]!.address.split('/')[0]!;
  t.true(await pod.ns.ping(back.gatewayIp, { timeoutMs: 10_000, source: secondIp }), 'the second interface reaches its own gateway');
});
