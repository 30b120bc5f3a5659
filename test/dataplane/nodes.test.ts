import { join } from 'node:path';
import test from 'ava';
import { PROVIDER_SCOPE } from '../../events/mod.js';
import { startChassis } from '../../src/sandbox/mod.js';
import type { Chassis } from '../../src/sandbox/mod.js';
import { boundOn } from '../sandbox/helpers.js';
import { eventually, plugVm, startStack } from '../support/stack.js';

/**
 * Nodes of one OVN: the stack's chassis (it runs the Southbound) and chassis that join it,
 * tunnelling Geneve over the sandbox's underlay. The first two are the NAT gateway's chassis
 * (priorities 10 and 20) and reach the provider network (172.16.0.0/24; the outside namespace
 * is 172.16.0.1); the third is a compute node only. One VPC 10.0.0.0/16 with subnets
 * 10.0.1.0/24 and 10.0.2.0/24: a1 on the first node, b1 and b2 on the second, c1 on the third.
 *
 * Why a third node: a gateway chassis takes over from a higher-priority one whose BFD session
 * went down only while it still has a BFD session up with a chassis that uses the gateway
 * (ovn-controller's ha-chassis.c); otherwise it cannot tell a dead peer from its own isolation.
 * With two chassis, the survivor of a crash never claims the gateway.
 */

const BLOCKED = { timeoutMs: 1500 };
const OUTSIDE = '172.16.0.1';

type Result = Record<string, { id: string; address?: string }>;

/** Every Geneve tunnel of the chassis (one per other chassis) runs BFD and hears its peer. */
async function bfdUp(chassis: Chassis): Promise<boolean> {
  const sessions = (await chassis.vsctl('--bare', '--columns=bfd_status', 'find', 'Interface', 'type=geneve')).split('\n').filter((line) => line !== '');
  return sessions.length === 2 && sessions.every((session) => session.includes('forwarding=true'));
}

test('dataplane - chassis on three nodes: one subnet and a VPC across nodes over Geneve, and a NAT gateway failing over by priority', async (t) => {
  const started = Date.now();
  const stack = await startStack({ chassis: true });
  t.teardown(() => stack.stop());
  const first = stack.chassis!;
  const node = (n: number) => startChassis({ dir: join(stack.dir, `chassis${n}`), joins: first });
  const [second, third] = await Promise.all([node(2), node(3)]);
  t.teardown(() => third.stop());
  t.teardown(() => second.stop());
  const { client } = stack;
  const outside = await first.addProviderNetwork({ physnet: 'physnet1', bridge: 'br-ex', outside: { namespace: 'outside', address: `${OUTSIDE}/24` } });
  t.is(await second.addProviderNetwork({ physnet: 'physnet1', bridge: 'br-ex' }), outside, 'both nodes share one provider segment');
  const result = async (scope: { org: string; project: string }, op: string, payload: Record<string, unknown>) => (await client.call(scope, op, payload)).result as Result;
  const settle = () => stack.northbound.nbctl('--timeout=60', '--wait=hv', 'sync');

  // Each node has its own tunnel endpoint on the underlay.
  const encaps = (await first.sbctl('--bare', '--columns=ip', 'find', 'Encap', 'type=geneve')).split('\n').filter((l) => l !== '').sort();
  t.deepEqual(encaps, ['100.64.0.1', '100.64.0.2', '100.64.0.3']);

  const network = (await result(PROVIDER_SCOPE, 'externalnetwork.create', {
    name: 'ext', cidr: '172.16.0.0/24', gatewayIp: OUTSIDE, physicalNetwork: 'physnet1',
    gatewayChassis: [{ name: first.name, priority: 10 }, { name: second.name, priority: 20 }],
  })).externalNetwork!;
  await result(PROVIDER_SCOPE, 'externalippool.create', { externalNetworkId: network.id, name: 'public', ranges: [{ first: '172.16.0.10', last: '172.16.0.50' }] });

  const scope = { org: 'tenant-a', project: 'p1' };
  const vpc = (await result(scope, 'vpc.create', { name: 'main', cidr: '10.0.0.0/16' })).vpc!;
  const [s1, s2] = await Promise.all(['10.0.1.0/24', '10.0.2.0/24'].map(async (cidr, i) => (await result(scope, 'subnet.create', { vpcId: vpc.id, name: `s${i}`, cidr })).subnet!));
  const open = (await result(scope, 'securitygroup.create', { vpcId: vpc.id, name: 'open', ingressRules: [{ protocol: 'all', remote: { cidr: '0.0.0.0/0' } }] })).securityGroup!;
  const vm = (name: string, subnetId: string, on: Chassis) => plugVm(stack, scope, name, { subnetId, securityGroupIds: [open.id] }, on);
  const [a1, b1, b2, c1] = await Promise.all([vm('a1', s1!.id, first), vm('b1', s1!.id, second), vm('b2', s2!.id, second), vm('c1', s1!.id, third)]);
  t.is(await boundOn(first, `logical_port=${a1.id}`), first.name, 'a1 runs on the first node');
  t.is(await boundOn(first, `logical_port=${b1.id}`), second.name, 'b1 runs on the second node');
  t.is(await boundOn(first, `logical_port=${c1.id}`), third.name, 'c1 runs on the third node');
  await settle();
  for (const v of [a1, b1, b2, c1]) t.is((await v.ns.dhcp({ timeoutMs: 20_000 })).address, v.ip, 'OVN DHCP answers on either node');

  t.true(await a1.ns.ping(b1.ip), 'a1 reaches b1 on the other node in its subnet');
  t.true(await b1.ns.ping(a1.ip), 'and back');
  t.true(await c1.ns.ping(b1.ip), 'c1 reaches b1: the third node tunnels to the second');
  t.true(await a1.ns.ping(b2.ip), 'a1 reaches b2 in the other subnet on the other node');
  await b2.ns.tcpListen(8080);
  t.deepEqual(await a1.ns.tcpConnect(b2.ip, 8080), { ok: true, reply: `${b2.ns.name} ${a1.ip}` }, 'TCP across nodes and subnets');

  // The NAT gateway is active on the higher-priority chassis.
  t.false(await a1.ns.ping(OUTSIDE, BLOCKED), 'no way out before the NAT gateway');
  const gateway = (await result(scope, 'natgateway.create', { vpcId: vpc.id })).natGateway!;
  await client.waitFor(scope, 'natgateway', gateway.id, (s) => s.phase === 'Ready');
  await settle();
  // Until every BFD session is up the chassis disagree on who is alive, and the gateway port
  // moves back and forth between them (seen: first, second, first, second within 0.7 s).
  await eventually(async () => (await Promise.all([first, second, third].map(bfdUp))).every(Boolean), 30_000, 'BFD up on every tunnel');
  await eventually(async () => (await boundOn(first, 'type=chassisredirect')) === second.name, 30_000, 'the gateway port to be bound on the priority-20 chassis');
  t.log(`gateway port bound on ${await boundOn(first, 'type=chassisredirect')} (priority 20: ${second.name})`);
  await outside.tcpListen(80);
  const snat = { ok: true, reply: `${outside.name} ${gateway.address}` };
  t.deepEqual(await a1.ns.tcpConnect(OUTSIDE, 80, { timeoutMs: 10_000 }), snat, 'a1 leaves through the gateway on the other node with the gateway IP');
  t.deepEqual(await b1.ns.tcpConnect(OUTSIDE, 80), snat, 'b1 leaves through its own node');
  t.deepEqual(await c1.ns.tcpConnect(OUTSIDE, 80), snat, 'c1 leaves through the second node');

  // The gateway's node goes away (ovn-controller and ovs-vswitchd stop; its Chassis row stays, as after a crash).
  const stopped = Date.now();
  await second.stop();
  await eventually(async () => (await boundOn(first, 'type=chassisredirect')) === first.name, 30_000, 'the gateway port to move to the first chassis').catch(async (err: unknown) => {
    t.log('BFD as the first chassis sees it:', await first.vsctl('--columns=name,bfd_status', 'find', 'Interface', 'type=geneve'));
    throw err;
  });
  const movedMs = Date.now() - stopped;
  t.log(`after ${second.name} stopped, gateway port bound on ${await boundOn(first, 'type=chassisredirect')} (priority 10: ${first.name})`);
  t.regex(await first.sbctl('--bare', '--columns=name', 'list', 'Chassis'), new RegExp(second.name), 'the stopped chassis is still registered: BFD, not its goodbye, moved the gateway');
  t.deepEqual(await a1.ns.tcpConnect(OUTSIDE, 80, { timeoutMs: 15_000 }), snat, 'SNAT works again through the priority-10 chassis');
  t.deepEqual(await c1.ns.tcpConnect(OUTSIDE, 80, { timeoutMs: 15_000 }), snat, 'from the third node too, now tunnelled to the first');
  t.log(`gateway failover: Port_Binding moved ${movedMs} ms after the second chassis stopped, SNAT again after ${Date.now() - stopped} ms; test ${Date.now() - started} ms`);
});
