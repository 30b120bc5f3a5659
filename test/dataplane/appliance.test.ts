import test from 'ava';
import type { Namespace } from '../../src/sandbox/mod.js';
import { plugVm, startStack } from '../support/stack.js';
import type { Vm } from '../support/stack.js';

/**
 * Static routes and allowed address pairs with real packets, in one VPC:
 *   app subnet   vm, a, b      (a and b take turns holding the VIP, the address of port vip,
 *                              which nothing plugs: it reserves the address, as in Neutron)
 *   edge subnet  appliance     (holds 192.168.50.1, the network behind it)
 */

const BLOCKED = { timeoutMs: 2000 };


test('dataplane - a VPC route reaches a network behind an appliance; a VIP moves between the ports allowed to hold it', async (t) => {
  const stack = await startStack({ chassis: true });
  t.teardown(() => stack.stop());
  const { client } = stack;
  const scope = { org: 'appliance', project: 'p1' };
  const vpc = (await client.call(scope, 'vpc.create', { name: 'v', cidr: '10.0.0.0/16' })).result.vpc as { id: string };
  const app = (await client.call(scope, 'subnet.create', { vpcId: vpc.id, name: 'app', cidr: '10.0.1.0/24' })).result.subnet as { id: string };
  const edge = (await client.call(scope, 'subnet.create', { vpcId: vpc.id, name: 'edge', cidr: '10.0.2.0/24' })).result.subnet as { id: string };
  const plug = async (name: string, subnetId: string, extra: Record<string, unknown> = {}): Promise<Vm> => {
    const vm = await plugVm(stack, scope, `appl-${name}`, { subnetId, ...extra });
    await vm.ns.dhcp({ timeoutMs: 30_000 });
    return vm;
  };
  const vip = (await client.call(scope, 'port.create', { subnetId: app.id, name: 'vip' })).result.port as { id: string; ipAddress: string };
  const VIP = vip.ipAddress;
  const [vm, a, b, appliance] = await Promise.all([
    plug('vm', app.id),
    plug('a', app.id, { allowedAddressPairs: [{ ipAddress: VIP }] }),
    plug('b', app.id),
    plug('appliance', edge.id),
  ]);
  const sh = async (ns: Namespace, ...argv: string[]) => {
    const r = await ns.exec(argv);
    if (r.code !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
  };
  /** Until the resource the command changed reports the command's seq as observed: it is in OVN. */
  const settled = (seq: number, kind: string, id: string) => client.waitFor(scope, kind, id, (s) => s.observedSeq >= seq);

  // --- a static route to the network behind the appliance --------------------
  await sh(appliance.ns, 'ip', 'addr', 'add', '192.168.50.1/32', 'dev', 'lo');
  t.false(await vm.ns.ping('192.168.50.1', BLOCKED), 'no route yet: the VPC router has nowhere to send it');

  const routed = await client.call(scope, 'vpc.route.add', { vpcId: vpc.id, destination: '192.168.50.0/24', nextHop: appliance.ip });
  await settled(routed.seq, 'vpc', vpc.id);
  t.false(await vm.ns.ping('192.168.50.1', BLOCKED), 'routed, but port security keeps 192.168.50.0/24 off the appliance port');

  const allowed = await client.call(scope, 'port.update', { portId: appliance.id, allowedAddressPairs: [{ ipAddress: '192.168.50.0/24' }] });
  await settled(allowed.seq, 'port', appliance.id);
  t.true(await vm.ns.ping('192.168.50.1', { timeoutMs: 10_000 }), 'route plus allowed address pair: the network behind the appliance answers');

  const unrouted = await client.call(scope, 'vpc.route.remove', { vpcId: vpc.id, routeId: (routed.result.vpc as { routes: { id: string }[] }).routes[0]!.id });
  await settled(unrouted.seq, 'vpc', vpc.id);
  t.false(await vm.ns.ping('192.168.50.1', BLOCKED), 'route removed: unreachable again');

  // --- a VIP held by whichever allowed port announces it ---------------------
  // OVN does not answer ARP for the VIP port itself (type virtual): the holder does.
  await sh(a.ns, 'ip', 'addr', 'add', `${VIP}/24`, 'dev', a.ns.ifname);
  await sh(a.ns, 'busybox', 'arping', '-U', '-c', '1', '-I', a.ns.ifname, '-s', VIP, VIP);
  t.true(await vm.ns.ping(VIP, { timeoutMs: 10_000 }), 'a holds the VIP and is allowed to');

  // Failover to b, which is not allowed to hold it yet.
  await sh(a.ns, 'ip', 'addr', 'del', `${VIP}/24`, 'dev', a.ns.ifname);
  await sh(b.ns, 'ip', 'addr', 'add', `${VIP}/24`, 'dev', b.ns.ifname);
  await sh(vm.ns, 'ip', 'neigh', 'flush', 'dev', vm.ns.ifname);
  t.false(await vm.ns.ping(VIP, BLOCKED), 'b claims the VIP without the pair: port security drops its answers');

  const failover = await client.call(scope, 'port.update', { portId: b.id, allowedAddressPairs: [{ ipAddress: VIP }] });
  await settled(failover.seq, 'port', b.id);
  await settled(failover.seq, 'port', vip.id);
  await sh(b.ns, 'busybox', 'arping', '-U', '-c', '1', '-I', b.ns.ifname, '-s', VIP, VIP);
  await sh(vm.ns, 'ip', 'neigh', 'flush', 'dev', vm.ns.ifname);
  t.true(await vm.ns.ping(VIP, { timeoutMs: 10_000 }), 'b holds the VIP once it is allowed to');
});
