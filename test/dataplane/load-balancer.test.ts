import test from 'ava';
import { plugVm, startStack } from '../support/stack.js';
import type { Vm } from '../support/stack.js';

/**
 * An internal load balancer with real connections, in one VPC:
 *   app subnet  client, b1   (the VIP is taken from this subnet)
 *   db subnet   client2, b2
 * b1 and b2 serve tcp 8080; the load balancer listens on VIP:80.
 */


test('dataplane - a load balancer spreads connections to its VIP over its members, from any subnet, and follows member changes', async (t) => {
  const stack = await startStack({ chassis: true });
  t.teardown(() => stack.stop());
  const { client } = stack;
  const scope = { org: 'lbdp', project: 'p1' };
  const vpc = (await client.call(scope, 'vpc.create', { name: 'v', cidr: '10.0.0.0/16' })).result.vpc as { id: string };
  const app = (await client.call(scope, 'subnet.create', { vpcId: vpc.id, name: 'app', cidr: '10.0.1.0/24' })).result.subnet as { id: string };
  const db = (await client.call(scope, 'subnet.create', { vpcId: vpc.id, name: 'db', cidr: '10.0.2.0/24' })).result.subnet as { id: string };
  const plug = async (name: string, subnetId: string): Promise<Vm> => {
    const vm = await plugVm(stack, scope, `lb-${name}`, { subnetId });
    await vm.ns.dhcp({ timeoutMs: 30_000 });
    return vm;
  };
  const [clientVm, client2, b1, b2] = await Promise.all([plug('client', app.id), plug('client2', db.id), plug('b1', app.id), plug('b2', db.id)]);
  await Promise.all([b1.ns.tcpListen(8080), b2.ns.tcpListen(8080)]);

  const created = await client.call(scope, 'loadbalancer.create', {
    subnetId: app.id, name: 'web', listeners: [{ port: 80, targetPort: 8080 }], memberPortIds: [b1.id, b2.id],
  });
  const lb = created.result.loadBalancer as { id: string; vipAddress: string };
  await client.waitFor(scope, 'loadbalancer', lb.id, (s) => s.phase === 'Ready' && s.observedSeq >= created.seq);
  const settled = async (seq: number) => client.waitFor(scope, 'loadbalancer', lb.id, (s) => s.observedSeq >= seq);

  /** Who answered each of `n` connections to the VIP (the listener answers '<namespace> <client address>'). */
  const answers = async (from: Vm, n: number): Promise<string[]> => {
    const seen = new Set<string>();
    for (let i = 0; i < n; i++) {
      const r = await from.ns.tcpConnect(lb.vipAddress, 80, { timeoutMs: 5000 });
      seen.add(r.ok ? r.reply! : `error ${r.error}`);
    }
    return [...seen].sort();
  };
  // 24 connections from varying source ports: both members are picked unless the hash is very unlucky (2^-23).
  t.deepEqual(await answers(clientVm, 24), [`${b1.ns.name} ${clientVm.ip}`, `${b2.ns.name} ${clientVm.ip}`], 'both members answer, and see the client\'s own address');
  t.deepEqual(await answers(client2, 24), [`${b1.ns.name} ${client2.ip}`, `${b2.ns.name} ${client2.ip}`], 'from another subnet too');

  const one = await client.call(scope, 'loadbalancer.update', { loadBalancerId: lb.id, memberPortIds: [b2.id] });
  await settled(one.seq);
  t.deepEqual(await answers(clientVm, 8), [`${b2.ns.name} ${clientVm.ip}`], 'a removed member gets no new connections');

  const none = await client.call(scope, 'loadbalancer.update', { loadBalancerId: lb.id, memberPortIds: [] });
  await settled(none.seq);
  const refused = await clientVm.ns.tcpConnect(lb.vipAddress, 80, { timeoutMs: 3000 });
  t.false(refused.ok, 'no members: refused');

  const deleted = await client.call(scope, 'loadbalancer.delete', { loadBalancerId: lb.id });
  await client.waitFor(scope, 'loadbalancer', lb.id, (s) => s.phase === 'Deleted' && s.observedSeq >= deleted.seq);
  t.false((await clientVm.ns.tcpConnect(lb.vipAddress, 80, { timeoutMs: 2000 })).ok, 'deleted: the VIP is gone');
});
