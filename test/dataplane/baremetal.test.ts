import test from 'ava';
import { PROVIDER_SCOPE } from '../../events/mod.js';
import { asList, nbRows, plugVm, startStack } from '../support/stack.js';
import type { Stack } from '../support/stack.js';

/**
 * Bare-metal hosts on tenant subnets, and class defaults, with real packets. The provider
 * bridge br-ex (physnet1) carries the external network untagged (the "outside" namespace,
 * 172.16.0.1) and the bare-metal VLANs 100-199. A host is a namespace on an access port of
 * br-ex in its subnet's VLAN, with the port's `interface` as its MAC.
 * Tenant a (class "metal", the default): VPC with subnet "default" (v1 and host1) and "other" (v2).
 * Tenant b: the same class; host2 on its own subnet's VLAN.
 * Tenant c (class "auto": defaultSubnet and natGateway): only vpc.create and port.create.
 */

const BLOCKED = { timeoutMs: 1500 };
const OUTSIDE = '172.16.0.1';
const HOST1_MAC = '52:54:00:00:aa:01';
const HOST2_MAC = '52:54:00:00:bb:01';

type Result = Record<string, Record<string, unknown> & { id: string }>;

test('dataplane - a bare-metal host on a tenant subnet: DHCP, its VMs, its security groups, its external IP, and nothing of another tenant', async (t) => {
  const stack: Stack = await startStack({ chassis: true });
  t.teardown(() => stack.stop());
  const { client } = stack;
  const chassis = stack.chassis!;
  const outside = await chassis.addProviderNetwork({ physnet: 'physnet1', bridge: 'br-ex', outside: { namespace: 'outside', address: `${OUTSIDE}/24` } });
  const result = async (scope: { org: string; project: string }, op: string, payload: Record<string, unknown>) => (await client.call(scope, op, payload)).result as Result;
  const settle = () => stack.northbound.nbctl('--timeout=60', '--wait=hv', 'sync');

  const network = (await result(PROVIDER_SCOPE, 'externalnetwork.create', {
    name: 'ext', cidr: '172.16.0.0/24', gatewayIp: OUTSIDE, physicalNetwork: 'physnet1', gatewayChassis: [{ name: chassis.name, priority: 10 }],
  })).externalNetwork!;
  await result(PROVIDER_SCOPE, 'externalippool.create', { externalNetworkId: network.id, name: 'public', ranges: [{ first: '172.16.0.10', last: '172.16.0.50' }] });
  const metal = (await result(PROVIDER_SCOPE, 'networkclass.create', {
    name: 'metal', externalNetworkId: network.id,
    baremetal: { physicalNetwork: 'physnet1', vlanRange: { first: 100, last: 199 }, chassis: [{ name: chassis.name, priority: 10 }] },
  })).networkClass!;
  t.like(metal, { isDefault: true, capabilities: { baremetal: true, externalIps: true, natGateway: true } });
  await client.waitFor(PROVIDER_SCOPE, 'networkclass', metal.id, (s) => s.phase === 'Ready');

  const a = { org: 'tenant-a', project: 'p1' };
  const vpc = (await result(a, 'vpc.create', { name: 'main', scope: 'cluster' })).vpc!;
  const vpcStatus = await client.waitFor(a, 'vpc', vpc.id, (s) => s.phase === 'Ready');
  t.like(vpcStatus, { networkClassId: metal.id, vpcScope: 'cluster', capabilities: { baremetal: true } });
  const subnets = (await result(a, 'subnet.list', { vpcId: vpc.id })).subnets as unknown as { id: string; name: string; gatewayIp: string }[];
  const main = subnets.find((s) => s.name === 'default')!;
  t.truthy(main, 'the class gave the VPC its "default" subnet');
  const other = (await result(a, 'subnet.create', { vpcId: vpc.id, name: 'other' })).subnet!;
  const open = (await result(a, 'securitygroup.create', { vpcId: vpc.id, name: 'open', ingressRules: [{ protocol: 'all', remote: { cidr: '0.0.0.0/0' } }] })).securityGroup!;
  const hostGroup = (await result(a, 'securitygroup.create', {
    vpcId: vpc.id, name: 'host',
    ingressRules: [{ protocol: 'tcp', portRange: { min: 22, max: 22 }, remote: { cidr: '0.0.0.0/0' } }, { protocol: 'icmp', remote: { cidr: '0.0.0.0/0' } }],
  })).securityGroup!;

  const [v1, v2] = await Promise.all([
    plugVm(stack, a, 'v1', { subnetId: main.id, securityGroupIds: [open.id] }),
    plugVm(stack, a, 'v2', { subnetId: other.id, securityGroupIds: [open.id] }),
  ]);
  const hostPort = (await result(a, 'port.create', { subnetId: main.id, vnicType: 'baremetal', interface: HOST1_MAC, securityGroupIds: [hostGroup.id] })).port!;
  t.like(hostPort, { vnicType: 'baremetal', interface: HOST1_MAC, macAddress: HOST1_MAC });
  const subnetStatus = await client.waitFor(a, 'subnet', main.id, (s) => s.phase === 'Ready' && typeof s.vlanId === 'number');
  const vlan = subnetStatus.vlanId as number;
  t.is(vlan, 100, 'the first VLAN of the class\'s range');
  const [localnet] = await nbRows(stack.northbound, 'Logical_Switch_Port', ['type', 'tag', 'options'], [`name=ln-${main.id}`]);
  t.like(localnet, { type: 'localnet', tag: vlan, options: { network_name: 'physnet1' } });
  const [external] = await nbRows(stack.northbound, 'Logical_Switch_Port', ['type', 'ha_chassis_group'], [`name=${hostPort.id}`]);
  t.is(external?.type, 'external');
  t.is(asList(external?.ha_chassis_group).length, 1, 'bound to the class\'s HA chassis group');
  await client.waitFor(a, 'port', hostPort.id, (s) => s.phase === 'Ready');

  const plugged = Date.now();
  const host1 = await chassis.plugHost({ bridge: 'br-ex', namespace: 'host1', mac: HOST1_MAC, vlan });
  await settle();
  const lease = await host1.dhcp({ timeoutMs: 30_000 });
  t.log(`bare-metal host: plugged to lease in ${Date.now() - plugged} ms`);
  t.is(lease.address, hostPort.ipAddress as string, 'OVN answers the host\'s DHCP with exactly its address');
  t.is(lease.router, main.gatewayIp);
  for (const v of [v1, v2]) t.is((await v.ns.dhcp({ timeoutMs: 20_000 })).address, v.ip);

  t.true(await host1.ping(v1.ip, { timeoutMs: 10_000 }), 'host reaches a VM on its subnet');
  t.true(await host1.ping(v2.ip, { timeoutMs: 10_000 }), 'and one on another subnet of the VPC');
  await host1.tcpListen(22);
  await host1.tcpListen(80);
  t.deepEqual(await v1.ns.tcpConnect(hostPort.ipAddress as string, 22, { timeoutMs: 10_000 }), { ok: true, reply: `${host1.name} ${v1.ip}` }, 'its group admits tcp 22');
  t.false((await v1.ns.tcpConnect(hostPort.ipAddress as string, 80, BLOCKED)).ok, 'and nothing else');
  t.true((await v2.ns.tcpConnect(hostPort.ipAddress as string, 22, { timeoutMs: 10_000 })).ok, 'routed too');

  // Its external IP: the outside reaches it and it leaves with it.
  await result(a, 'natgateway.create', { vpcId: vpc.id });
  const fip = (await result(a, 'externalip.allocate', {})).externalIp!;
  const attachment = (await result(a, 'externalipattachment.create', { externalIpId: fip.id, target: { portId: hostPort.id } })).externalIpAttachment!;
  await client.waitFor(a, 'externalipattachment', attachment.id, (s) => s.phase === 'Ready');
  await settle();
  t.deepEqual(await outside.tcpConnect(fip.address as string, 22, { timeoutMs: 15_000 }), { ok: true, reply: `${host1.name} ${OUTSIDE}` }, 'the outside reaches the host at its external IP');
  t.false((await outside.tcpConnect(fip.address as string, 80, BLOCKED)).ok, 'within its groups');

  // Another tenant's host, on its own subnet's VLAN, reaches none of it.
  const b = { org: 'tenant-b', project: 'p1' };
  const vpcB = (await result(b, 'vpc.create', { name: 'main' })).vpc!;
  t.not(vpcB.cidr, vpc.cidr, 'pooled VPC ranges do not overlap across tenants');
  const subnetB = ((await result(b, 'subnet.list', { vpcId: vpcB.id })).subnets as unknown as { id: string; gatewayIp: string }[])[0]!;
  const open2 = (await result(b, 'securitygroup.create', { vpcId: vpcB.id, name: 'open', ingressRules: [{ protocol: 'all', remote: { cidr: '0.0.0.0/0' } }] })).securityGroup!;
  const host2Port = (await result(b, 'port.create', { subnetId: subnetB.id, vnicType: 'baremetal', interface: HOST2_MAC, securityGroupIds: [open2.id] })).port!;
  const vlanB = (await client.waitFor(b, 'subnet', subnetB.id, (s) => s.phase === 'Ready' && typeof s.vlanId === 'number')).vlanId as number;
  t.not(vlanB, vlan);
  await client.waitFor(b, 'port', host2Port.id, (s) => s.phase === 'Ready');
  const host2 = await chassis.plugHost({ bridge: 'br-ex', namespace: 'host2', mac: HOST2_MAC, vlan: vlanB });
  await settle();
  t.is((await host2.dhcp({ timeoutMs: 30_000 })).address, host2Port.ipAddress as string, 'tenant b\'s host gets its own lease');
  t.true(await host2.ping(subnetB.gatewayIp, { timeoutMs: 10_000 }), 'and reaches its own gateway (the positive control)');
  for (const target of [hostPort.ipAddress as string, v1.ip, v2.ip]) t.false(await host2.ping(target, BLOCKED), `tenant b's host cannot reach ${target}`);
  t.false((await host2.tcpConnect(hostPort.ipAddress as string, 22, BLOCKED)).ok);
  // Even with an address inside tenant a's subnet, its VLAN is another L2 segment.
  await host2.exec(['ip', 'addr', 'add', `${main.gatewayIp.replace(/\.1$/, '.200')}/24`, 'dev', 'eth0']);
  t.false(await host2.ping(hostPort.ipAddress as string, BLOCKED), 'no path on L2 either');
});

test('dataplane - a VPC of a class with a default subnet and a NAT gateway reaches the outside with vpc.create and port.create alone', async (t) => {
  const stack: Stack = await startStack({ chassis: true });
  t.teardown(() => stack.stop());
  const { client } = stack;
  const chassis = stack.chassis!;
  const outside = await chassis.addProviderNetwork({ physnet: 'physnet1', bridge: 'br-ex', outside: { namespace: 'outside', address: `${OUTSIDE}/24` } });
  const result = async (scope: { org: string; project: string }, op: string, payload: Record<string, unknown>) => (await client.call(scope, op, payload)).result as Result;
  const network = (await result(PROVIDER_SCOPE, 'externalnetwork.create', {
    name: 'ext', cidr: '172.16.0.0/24', gatewayIp: OUTSIDE, physicalNetwork: 'physnet1', gatewayChassis: [{ name: chassis.name, priority: 10 }],
  })).externalNetwork!;
  await result(PROVIDER_SCOPE, 'externalippool.create', { externalNetworkId: network.id, name: 'public', ranges: [{ first: '172.16.0.10', last: '172.16.0.50' }] });
  await result(PROVIDER_SCOPE, 'networkclass.create', { name: 'auto', externalNetworkId: network.id, defaults: { natGateway: true } });

  const c = { org: 'tenant-c', project: 'p1' };
  const vpc = (await result(c, 'vpc.create', { name: 'main' })).vpc!;
  // Reads are not commands: the default subnet and the NAT gateway came with the VPC.
  const subnet = ((await result(c, 'subnet.list', { vpcId: vpc.id })).subnets as unknown as { id: string }[])[0]!;
  const gateway = ((await result(c, 'natgateway.list', { vpcId: vpc.id })).natGateways as unknown as { id: string; address: string }[])[0]!;
  await client.waitFor(c, 'natgateway', gateway.id, (s) => s.phase === 'Ready');
  const vm = await plugVm(stack, c, 'vm', { subnetId: subnet.id });
  await stack.northbound.nbctl('--timeout=60', '--wait=hv', 'sync');
  t.is((await vm.ns.dhcp({ timeoutMs: 20_000 })).address, vm.ip);
  await outside.tcpListen(80);
  t.deepEqual(await vm.ns.tcpConnect(OUTSIDE, 80, { timeoutMs: 15_000 }), { ok: true, reply: `${outside.name} ${gateway.address}` }, 'out through the class\'s NAT gateway');
});
