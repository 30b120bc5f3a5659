import test from 'ava';
import { OUTSIDE, plugVm, providerOutside, startStack } from '../support/stack.js';
import type { Stack } from '../support/stack.js';

/**
 * A machine with two NICs, as a multi-NIC VM is: one namespace, two veths, on two subnets of
 * one VPC (10.0.1.0/24 and 10.0.2.0/24). Its first port (eth0, subnet 1) is created with
 * primary: false, its second (eth1, subnet 2) is its primary. A peer on subnet 1 and the
 * "outside" namespace (the provider network, 172.16.0.1) look at it.
 */

const BLOCKED = { timeoutMs: 1500 };
type Result = Record<string, { id: string; address?: string; gatewayIp?: string }>;

test('dataplane - a two-NIC machine: both NICs get their leases, one default route via the primary, its external IP on the primary; detach unbinds a NIC and attach binds it again', async (t) => {
  const stack: Stack = await startStack({ chassis: true });
  t.teardown(() => stack.stop());
  const { client } = stack;
  const { outside } = await providerOutside(stack);
  const scope = { org: 'multinic', project: 'p1' };
  const result = async (s: { org: string; project: string }, op: string, payload: Record<string, unknown>) => (await client.call(s, op, payload)).result as Result;
  const settle = () => stack.northbound.nbctl('--timeout=60', '--wait=hv', 'sync');

  const vpc = (await result(scope, 'vpc.create', { name: 'main', cidr: '10.0.0.0/16' })).vpc!;
  const s1 = (await result(scope, 'subnet.create', { vpcId: vpc.id, name: 's1', cidr: '10.0.1.0/24' })).subnet!;
  const s2 = (await result(scope, 'subnet.create', { vpcId: vpc.id, name: 's2', cidr: '10.0.2.0/24' })).subnet!;
  const open = (await result(scope, 'securitygroup.create', { vpcId: vpc.id, name: 'open', ingressRules: [{ protocol: 'all', remote: { cidr: '0.0.0.0/0' } }] })).securityGroup!;
  const gateway = (await result(scope, 'natgateway.create', { vpcId: vpc.id })).natGateway!;

  const secondary = await plugVm(stack, scope, 'machine', { subnetId: s1.id, primary: false, securityGroupIds: [open.id] });
  const primary = await plugVm(stack, scope, 'machine', { subnetId: s2.id, primary: true, securityGroupIds: [open.id] }, stack.chassis!, { into: secondary.ns, ifname: 'eth1' });
  const peer = await plugVm(stack, scope, 'peer', { subnetId: s1.id, securityGroupIds: [open.id] });
  await client.waitFor(scope, 'natgateway', gateway.id, (s) => s.phase === 'Ready');
  t.like(await client.waitFor(scope, 'port', secondary.id, (s) => s.bound === true), { primary: false, deviceId: 'machine' });
  t.like(await client.waitFor(scope, 'port', primary.id, (s) => s.bound === true), { primary: true, deviceId: 'machine' });
  await settle();

  const secondaryLease = await secondary.ns.dhcp({ timeoutMs: 30_000 });
  const primaryLease = await primary.ns.dhcp({ timeoutMs: 30_000 });
  t.is((await peer.ns.dhcp({ timeoutMs: 30_000 })).address, peer.ip);
  t.like(secondaryLease, { address: secondary.ip, prefixLength: 24 }, 'the secondary NIC gets its lease');
  t.is(secondaryLease.router, undefined, 'without a router');
  t.like(primaryLease, { address: primary.ip, prefixLength: 24, router: s2.gatewayIp }, 'the primary gets its lease and the gateway');
  const defaults = (await secondary.ns.exec(['ip', '-4', 'route', 'show', 'default'])).stdout.trim().split('\n').filter((l) => l !== '');
  t.deepEqual(defaults, [`default via ${s2.gatewayIp} dev eth1`], 'exactly one default route, via the primary\'s gateway');

  // The secondary NIC carries its own network's traffic. (The peer reaching the primary's address
  // would not tell much: the machine answers it through its secondary, the connected route to
  // the peer's subnet, and port security rightly drops a reply from the primary's address there.)
  t.true(await peer.ns.ping(secondary.ip, { timeoutMs: 10_000 }), 'the peer reaches the secondary NIC on their subnet');

  // Its traffic to the outside leaves by the primary, under the NAT gateway's address (SNAT).
  await outside.tcpListen(80);
  t.regex((await secondary.ns.exec(['ip', '-4', 'route', 'get', OUTSIDE])).stdout, new RegExp(`dev eth1 src ${primary.ip.replace(/\./g, '\\.')}`), 'the host sends by its primary');
  t.deepEqual(await primary.ns.tcpConnect(OUTSIDE, 80, { timeoutMs: 10_000 }), { ok: true, reply: `${outside.name} ${gateway.address}` }, 'SNAT to the gateway\'s address');

  // The device's external IP binds its primary (not its first port), and its traffic leaves by the primary.
  const fip = (await result(scope, 'externalip.allocate', {})).externalIp!;
  const attachment = (await result(scope, 'externalipattachment.create', { externalIpId: fip.id, target: { deviceId: 'machine' } })).externalIpAttachment!;
  t.like(await client.waitFor(scope, 'externalipattachment', attachment.id, (s) => s.phase === 'Ready'), { portId: primary.id });
  await settle();
  t.deepEqual(await primary.ns.tcpConnect(OUTSIDE, 80, { timeoutMs: 10_000 }), { ok: true, reply: `${outside.name} ${fip.address}` }, 'the outside sees the primary\'s external IP');
  t.deepEqual(await peer.ns.tcpConnect(OUTSIDE, 80, { timeoutMs: 10_000 }), { ok: true, reply: `${outside.name} ${gateway.address}` }, 'control: the peer leaves with the gateway\'s address');
  await primary.ns.tcpListen(22);
  t.deepEqual(await outside.tcpConnect(fip.address!, 22, { timeoutMs: 10_000 }), { ok: true, reply: `${primary.ns.name} ${OUTSIDE}` }, 'and reaches the machine at it');

  // Detach: the plugged NIC stops working, its neighbour NIC in the same machine goes on.
  const unbound = async (seq: number) => client.waitFor(scope, 'port', secondary.id, (s) => s.observedSeq >= seq && s.bound === false, 60_000);
  const bound = async (seq: number) => client.waitFor(scope, 'port', secondary.id, (s) => s.observedSeq >= seq && s.bound === true, 60_000);
  const detachStarted = Date.now();
  const detached = await client.call(scope, 'port.detach', { portId: secondary.id });
  t.like((detached.result as { port: object }).port, { deviceId: null, ipAddress: secondary.ip });
  await unbound(detached.seq);
  t.log(`port.detach to unbound: ${Date.now() - detachStarted} ms`);
  t.false(await peer.ns.ping(secondary.ip, BLOCKED), 'detached: the NIC is not bound');
  t.true((await outside.tcpConnect(fip.address!, 22, { timeoutMs: 10_000 })).ok, 'control: the machine\'s primary NIC still answers');

  // Attached to another device, the stale plug (whose iface-id-ver names "machine") cannot take it.
  const elsewhere = await client.call(scope, 'port.attach', { portId: secondary.id, deviceId: 'another' });
  await client.waitFor(scope, 'port', secondary.id, (s) => s.observedSeq >= elsewhere.seq);
  await settle();
  t.false(await peer.ns.ping(secondary.ip, BLOCKED), 'a stale plug cannot use a port given to another device');
  t.false((await client.waitFor(scope, 'port', secondary.id, (s) => s.observedSeq >= elsewhere.seq)).bound);

  const back = await client.call(scope, 'port.detach', { portId: secondary.id });
  await client.waitFor(scope, 'port', secondary.id, (s) => s.observedSeq >= back.seq);
  const attachStarted = Date.now();
  const reattached = await client.call(scope, 'port.attach', { portId: secondary.id, deviceId: 'machine' });
  await bound(reattached.seq);
  t.log(`port.attach to bound again: ${Date.now() - attachStarted} ms`);
  t.true(await peer.ns.ping(secondary.ip, { timeoutMs: 20_000 }), 'attached again: the same plug works again, with the address it kept');
});
