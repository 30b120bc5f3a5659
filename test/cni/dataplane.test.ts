import test from 'ava';
import { cniEnv, installPlugin, podNamespace, runPlugin, startAgentProcess } from '../support/cni.js';
import type { CniOutcome } from '../support/cni.js';
import { startStack } from '../support/stack.js';
import type { Stack } from '../support/stack.js';

/**
 * Pods through novanet-cni and the node agent, with real packets: a runtime's calls (CNI_*
 * environment, config on stdin) against a real engine, OVN chassis and network namespaces.
 *   acme/web:   a1, a2 in subnet "front" (10.1.1.0/24, DNS, MTU 1400), a3 in "back" (10.1.2.0/24),
 *               w1 in "front" with security group "web" (tcp 8080 only) named in its config
 *   globex/web: b1 in a subnet of the same range (10.1.1.0/24), mapped from its Kubernetes namespace
 */

const BLOCKED = { timeoutMs: 1500 };
const acme = { org: 'acme', project: 'web' };
const globex = { org: 'globex', project: 'web' };

interface AddResult {
  cniVersion: string;
  interfaces: { name: string; mac: string; mtu?: number; sandbox?: string }[];
  ips: { address: string; gateway: string; interface: number }[];
  routes: { dst: string; gw: string }[];
  dns?: { nameservers: string[]; domain?: string };
}

test('cni - pods of a VPC reach each other and their gateways, another tenant with the same ranges reaches none, security groups named in the config apply', async (t) => {
  const stack: Stack = await startStack({ chassis: true });
  t.teardown(() => stack.stop());
  const { client } = stack;
  const vpc = (await client.call(acme, 'vpc.create', { name: 'main', cidr: '10.1.0.0/16' })).result.vpc as { id: string };
  const front = (await client.call(acme, 'subnet.create', { vpcId: vpc.id, name: 'front', cidr: '10.1.1.0/24', dnsServers: ['10.1.1.53'], domainName: 'acme.test', mtu: 1400 })).result.subnet as { id: string; gatewayIp: string };
  const back = (await client.call(acme, 'subnet.create', { vpcId: vpc.id, name: 'back', cidr: '10.1.2.0/24' })).result.subnet as { id: string; gatewayIp: string };
  await client.call(acme, 'securitygroup.create', {
    vpcId: vpc.id, name: 'web', ingressRules: [{ protocol: 'tcp', portRange: { min: 8080, max: 8080 }, remote: { cidr: '0.0.0.0/0' } }],
  });
  const otherVpc = (await client.call(globex, 'vpc.create', { name: 'main', cidr: '10.1.0.0/16' })).result.vpc as { id: string };
  const otherSubnet = (await client.call(globex, 'subnet.create', { vpcId: otherVpc.id, name: 'front', cidr: '10.1.1.0/24' })).result.subnet as { gatewayIp: string };

  const binary = await installPlugin(stack);
  const agent = await startAgentProcess(stack);
  t.teardown(() => agent.stop());
  const conf = (extra: Record<string, unknown>) => ({ cniVersion: '1.1.0', name: 'pods', type: 'novanet', agentSocket: agent.socket, ...extra });

  const add = async (name: string, config: Record<string, unknown>, k8sNamespace = 'default') => {
    const pod = await podNamespace(stack, name);
    t.teardown(() => pod.ns.remove());
    const outcome = await runPlugin(binary, cniEnv('ADD', { containerId: `ctr-${name}`, netns: pod.path, k8s: { namespace: k8sNamespace, name } }), config);
    return { ...pod, outcome };
  };
  const [a1, a2, a3, w1, b1] = await Promise.all([
    add('a1', conf({ org: 'acme', project: 'web', subnet: 'front' })),
    add('a2', conf({ org: 'acme', project: 'web', subnet: front.id })),
    add('a3', conf({ org: 'acme', project: 'web', subnet: 'back', vpc: 'main' })),
    add('w1', conf({ org: 'acme', project: 'web', subnet: 'front', securityGroups: ['web'] })),
    // The tenant from the pod's Kubernetes namespace.
    add('b1', conf({ namespaces: { 'globex-apps': globex }, subnet: 'front' }), 'globex-apps'),
  ]);
  for (const pod of [a1, a2, a3, w1, b1]) t.is(pod.outcome.code, 0, `${pod.ns.name}: ${JSON.stringify(pod.outcome.output)} ${agent.log()}`);
  const result = (o: CniOutcome) => o.output as unknown as AddResult;
  const ip = (o: CniOutcome) => result(o).ips[0]!.address.split('/')[0]!;

  // The result: the subnet's prefix and gateway, the port's MAC, the subnet's MTU and DNS.
  const r1 = result(a1.outcome);
  t.is(r1.cniVersion, '1.1.0');
  t.regex(r1.ips[0]!.address, /^10\.1\.1\.\d+\/24$/);
  t.is(r1.ips[0]!.gateway, front.gatewayIp);
  t.is(r1.ips[0]!.interface, 1);
  t.like(r1.interfaces[1], { name: 'eth0', mtu: 1400, sandbox: a1.path });
  t.deepEqual(r1.routes, [{ dst: '0.0.0.0/0', gw: front.gatewayIp }]);
  t.deepEqual(r1.dns, { nameservers: ['10.1.1.53'], domain: 'acme.test', search: ['acme.test'] });
  t.is(result(a3.outcome).dns, undefined, 'a subnet without DNS servers gives no dns');
  t.is(result(a3.outcome).interfaces[1]!.mtu, 1442, 'a subnet without an MTU gets the overlay\'s');
  const ports = (await client.call(acme, 'port.list', { deviceId: 'ctr-a1' })).result.ports as { id: string; name: string; macAddress: string }[];
  t.is(ports.length, 1);
  t.is(ports[0]!.name, 'default/a1', 'the port is named namespace/pod');
  t.is(ports[0]!.macAddress, r1.interfaces[1]!.mac);
  const inside = await a1.ns.exec(['ip', '-j', 'addr', 'show', 'dev', 'eth0']);
  t.true(inside.stdout.includes(`"mtu":1400`) && inside.stdout.includes(`"address":"${r1.interfaces[1]!.mac}"`), inside.stdout);

  // Answered only once ovn-installed: the very first packet may go at once.
  t.true(await a1.ns.ping(front.gatewayIp, { timeoutMs: 10_000 }), 'a1 reaches its gateway');
  t.true(await a1.ns.ping(ip(a2.outcome)), 'a1 reaches a2 in its subnet');
  t.true(await a1.ns.ping(ip(a3.outcome)), 'a1 reaches a3 in the other subnet');
  t.true(await a3.ns.ping(back.gatewayIp), 'a3 reaches its gateway');
  t.true(await a3.ns.ping(ip(a2.outcome)), 'a3 reaches a2');

  // Another tenant, same ranges: its own gateway answers, acme's pods do not.
  t.is(result(b1.outcome).ips[0]!.gateway, otherSubnet.gatewayIp);
  t.true(await b1.ns.ping(otherSubnet.gatewayIp, { timeoutMs: 10_000 }), 'b1 reaches its own gateway (positive control)');
  // b1 holds an address one of acme's pods holds too (the first of the range): TCP to a port b1
  // does not serve tells them apart, and pings go only to addresses b1 does not have.
  for (const a of [a1, a2, a3]) await a.ns.tcpListen(7000);
  t.true((await a1.ns.tcpConnect(ip(a2.outcome), 7000)).ok, 'a1 connects to a2 (positive control)');
  t.true((await a1.ns.tcpConnect(ip(a3.outcome), 7000)).ok, 'a1 connects to a3 (positive control)');
  t.true((await a2.ns.tcpConnect(ip(a1.outcome), 7000)).ok, 'a2 connects to a1 (positive control)');
  for (const [name, a] of [['a1', a1], ['a2', a2], ['a3', a3]] as const) {
    t.false((await b1.ns.tcpConnect(ip(a.outcome), 7000, BLOCKED)).ok, `b1 does not reach ${name}`);
    if (ip(a.outcome) !== ip(b1.outcome)) t.false(await b1.ns.ping(ip(a.outcome), BLOCKED), `nor pings ${name}`);
  }

  // w1's group from its config: tcp 8080 in, nothing else (a2 is in the VPC's default group).
  await w1.ns.tcpListen(8080);
  await w1.ns.tcpListen(9090);
  t.true((await a1.ns.tcpConnect(ip(w1.outcome), 8080)).ok, 'tcp 8080 admitted by the web group');
  t.false((await a1.ns.tcpConnect(ip(w1.outcome), 9090, BLOCKED)).ok, 'tcp 9090 is not');
  t.true((await w1.ns.tcpConnect('127.0.0.1', 9090)).ok, 'though its listener answers');
});
