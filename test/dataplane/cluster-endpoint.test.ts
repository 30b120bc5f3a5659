import test from 'ava';
import { OUTSIDE, plugVm, providerOutside, startStack } from '../support/stack.js';
import type { Stack, Vm } from '../support/stack.js';

/**
 * An external IP on a cluster's API endpoint, attached before the cluster exists (as OSAC's
 * cluster workflow does): two control-plane members in one subnet serve tcp 6443, the load
 * balancer that becomes the endpoint appears later, and the "outside" namespace (the provider
 * network, 172.16.0.1) connects to the external IP.
 */

const BLOCKED = { timeoutMs: 1500 };
type Result = Record<string, { id: string; address?: string }>;

test('dataplane - an external IP attached to a cluster endpoint is Pending until the endpoint\'s load balancer exists, then the outside reaches both members at it', async (t) => {
  const stack: Stack = await startStack({ chassis: true });
  t.teardown(() => stack.stop());
  const { client } = stack;
  const { outside } = await providerOutside(stack);
  const scope = { org: 'cluster', project: 'p1' };
  const result = async (s: { org: string; project: string }, op: string, payload: Record<string, unknown>) => (await client.call(s, op, payload)).result as Result;
  const settle = () => stack.northbound.nbctl('--timeout=60', '--wait=hv', 'sync');

  const vpc = (await result(scope, 'vpc.create', { name: 'main', cidr: '10.0.0.0/16' })).vpc!;
  const subnet = (await result(scope, 'subnet.create', { vpcId: vpc.id, name: 'nodes', cidr: '10.0.1.0/24' })).subnet!;
  const open = (await result(scope, 'securitygroup.create', { vpcId: vpc.id, name: 'api', ingressRules: [{ protocol: 'tcp', portRange: { min: 6443, max: 6443 }, remote: { cidr: '0.0.0.0/0' } }] })).securityGroup!;
  const gateway = (await result(scope, 'natgateway.create', { vpcId: vpc.id })).natGateway!;

  // The attachment comes first, before any member or load balancer.
  const apiIp = (await result(scope, 'externalip.allocate', {})).externalIp!;
  const attachment = (await result(scope, 'externalipattachment.create', { externalIpId: apiIp.id, target: { clusterId: 'c1', endpoint: 'api' } })).externalIpAttachment!;
  const waiting = await client.waitFor(scope, 'externalipattachment', attachment.id, (s) => s.phase === 'Pending');
  t.regex(String(waiting.message), /cluster c1's api endpoint/);

  const plug = async (name: string): Promise<Vm> => {
    const vm = await plugVm(stack, scope, name, { subnetId: subnet.id, securityGroupIds: [open.id] });
    await vm.ns.dhcp({ timeoutMs: 30_000 });
    await vm.ns.tcpListen(6443);
    return vm;
  };
  const [m1, m2] = await Promise.all([plug('cp-1'), plug('cp-2')]);
  await client.waitFor(scope, 'natgateway', gateway.id, (s) => s.phase === 'Ready');
  await settle();
  t.false((await outside.tcpConnect(apiIp.address!, 6443, BLOCKED)).ok, 'Pending: nothing answers at the external IP yet');

  const lbStarted = Date.now();
  const created = await client.call(scope, 'loadbalancer.create', {
    subnetId: subnet.id, name: 'c1-api', listeners: [{ port: 6443 }], memberPortIds: [m1.id, m2.id], endpoint: { clusterId: 'c1', role: 'api' },
  });
  const lb = (created.result as { loadBalancer: { id: string; endpoint: unknown } }).loadBalancer;
  t.deepEqual(lb.endpoint, { clusterId: 'c1', role: 'api' });
  t.like(await client.waitFor(scope, 'loadbalancer', lb.id, (s) => s.phase === 'Ready' && s.observedSeq >= created.seq), { endpoint: { clusterId: 'c1', role: 'api' } });
  t.like(await client.waitFor(scope, 'externalipattachment', attachment.id, (s) => s.phase === 'Ready' && s.observedSeq >= created.seq), { loadBalancerId: lb.id, portId: null });
  await settle();
  t.log(`loadbalancer.create to the attachment Ready and in the dataplane (hv sync): ${Date.now() - lbStarted} ms`);

  // 24 connections from varying source ports: both members are picked unless the hash is very unlucky (2^-23).
  // A TCP connection to the external IP only completes if the replies come back from it.
  const seen = new Set<string>();
  for (let i = 0; i < 24; i++) {
    const r = await outside.tcpConnect(apiIp.address!, 6443, { timeoutMs: 10_000 });
    seen.add(r.ok ? r.reply! : `error ${r.error}`);
  }
  t.deepEqual([...seen].sort(), [`${m1.ns.name} ${OUTSIDE}`, `${m2.ns.name} ${OUTSIDE}`].sort(), 'the outside reaches both members at the external IP, which see its own address');
  t.false((await outside.tcpConnect(gateway.address!, 6443, BLOCKED)).ok, 'control: the NAT gateway\'s address does not lead to the cluster');

  // Taking the endpoint's load balancer away puts the attachment back to Pending, and the address goes quiet.
  const removed = await client.call(scope, 'loadbalancer.delete', { loadBalancerId: lb.id });
  await client.waitFor(scope, 'externalipattachment', attachment.id, (s) => s.phase === 'Pending' && s.observedSeq >= removed.seq);
  await settle();
  t.false((await outside.tcpConnect(apiIp.address!, 6443, BLOCKED)).ok, 'no endpoint, no answer');
});
