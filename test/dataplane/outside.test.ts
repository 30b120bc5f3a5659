import test from 'ava';
import { PROVIDER_SCOPE } from '../../events/mod.js';
import { plugVm, startStack } from '../support/stack.js';
import type { Stack } from '../support/stack.js';

/**
 * Routing and the outside world with real packets. The "outside" namespace stands for
 * the provider network (172.16.0.0/24, its own address 172.16.0.1 is the upstream gateway).
 * Tenant a: VPC 10.0.0.0/16 with subnets 10.0.1.0/24 and 10.0.2.0/24.
 * Tenant b: the identical VPC and 10.0.1.0/24, at the same time.
 */

const BLOCKED = { timeoutMs: 1500 };
const OUTSIDE = '172.16.0.1';

type Result = Record<string, { id: string; address?: string; externalIpId?: string }>;

test('dataplane - VPC routing, tenant isolation with identical ranges, NAT gateway, floating IPs and port forwards', async (t) => {
  const stack: Stack = await startStack({ chassis: true });
  t.teardown(() => stack.stop());
  const { client } = stack;
  const chassis = stack.chassis!;
  const outside = await chassis.addProviderNetwork({ physnet: 'physnet1', bridge: 'br-ex', outside: { namespace: 'outside', address: `${OUTSIDE}/24` } });
  const call = async (scope: { org: string; project: string }, op: string, payload: Record<string, unknown>) => (await client.call(scope, op, payload));
  const result = async (scope: { org: string; project: string }, op: string, payload: Record<string, unknown>) => (await call(scope, op, payload)).result as Result;
  const settle = () => stack.northbound.nbctl('--timeout=60', '--wait=hv', 'sync');

  const network = (await result(PROVIDER_SCOPE, 'externalnetwork.create', {
    name: 'ext', cidr: '172.16.0.0/24', gatewayIp: OUTSIDE, physicalNetwork: 'physnet1', gatewayChassis: [{ name: chassis.name, priority: 10 }],
  })).externalNetwork!;
  await result(PROVIDER_SCOPE, 'externalippool.create', { externalNetworkId: network.id, name: 'public', ranges: [{ first: '172.16.0.10', last: '172.16.0.50' }] });

  const a = { org: 'tenant-a', project: 'p1' };
  const b = { org: 'tenant-b', project: 'p1' };
  const tenant = async (scope: typeof a, subnetCidrs: string[]) => {
    const vpc = (await result(scope, 'vpc.create', { name: 'main', cidr: '10.0.0.0/16' })).vpc!;
    const subnets = await Promise.all(subnetCidrs.map(async (cidr, i) => (await result(scope, 'subnet.create', { vpcId: vpc.id, name: `s${i}`, cidr })).subnet!));
    const open = (await result(scope, 'securitygroup.create', { vpcId: vpc.id, name: 'open', ingressRules: [{ protocol: 'all', remote: { cidr: '0.0.0.0/0' } }] })).securityGroup!;
    return { vpc, subnets, open };
  };
  const ta = await tenant(a, ['10.0.1.0/24', '10.0.2.0/24']);
  const tb = await tenant(b, ['10.0.1.0/24']);
  const vm = (scope: typeof a, subnetId: string, name: string, groupId: string) => plugVm(stack, scope, name, { subnetId, securityGroupIds: [groupId] });
  const [a1, a2, b1, b2] = await Promise.all([
    vm(a, ta.subnets[0]!.id, 'a1', ta.open.id), vm(a, ta.subnets[1]!.id, 'a2', ta.open.id),
    vm(b, tb.subnets[0]!.id, 'b1', tb.open.id), vm(b, tb.subnets[0]!.id, 'b2', tb.open.id),
  ]);
  await settle();
  for (const v of [a1, a2, b1, b2]) t.is((await v.ns.dhcp({ timeoutMs: 20_000 })).address, v.ip);
  t.is(a1.ip, b1.ip, 'both tenants use the same address at the same time');

  // Routing between the subnets of a VPC; the other tenant is a separate world.
  t.true(await a1.ns.ping(a2.ip), 'a1 reaches a2 in another subnet of its VPC');
  t.true(await b1.ns.ping(b2.ip), 'b1 reaches b2');
  t.false(await b1.ns.ping(a2.ip, BLOCKED), 'b1 cannot reach tenant a');
  t.false(await a1.ns.ping(OUTSIDE, BLOCKED), 'no way out before a NAT gateway');

  // NAT gateway: outbound traffic leaves with the gateway's external IP.
  const gateway = (await result(a, 'natgateway.create', { vpcId: ta.vpc.id })).natGateway!;
  await client.waitFor(a, 'natgateway', gateway.id, (s) => s.phase === 'Ready');
  await settle();
  t.true(await a1.ns.ping(OUTSIDE, { timeoutMs: 10_000 }), 'with it the same ping gets out');
  await outside.tcpListen(80);
  t.deepEqual(await a1.ns.tcpConnect(OUTSIDE, 80, { timeoutMs: 10_000 }), { ok: true, reply: `${outside.name} ${gateway.address}` }, 'SNAT to the gateway IP');
  t.deepEqual(await a2.ns.tcpConnect(OUTSIDE, 80), { ok: true, reply: `${outside.name} ${gateway.address}` }, 'from the other subnet too');
  t.false((await b1.ns.tcpConnect(OUTSIDE, 80, BLOCKED)).ok, 'tenant b has no gateway');

  // Floating IP on a2: inbound to the external IP, and a2's outbound traffic carries it.
  const fip = (await result(a, 'externalip.allocate', {})).externalIp!;
  const attachment = (await result(a, 'externalipattachment.create', { externalIpId: fip.id, target: { portId: a2.id } })).externalIpAttachment!;
  await client.waitFor(a, 'externalipattachment', attachment.id, (s) => s.phase === 'Ready');
  await settle();
  await a2.ns.tcpListen(22);
  t.deepEqual(await outside.tcpConnect(fip.address!, 22, { timeoutMs: 10_000 }), { ok: true, reply: `${a2.ns.name} ${OUTSIDE}` }, 'outside reaches a2 at its external IP');
  t.deepEqual(await a2.ns.tcpConnect(OUTSIDE, 80), { ok: true, reply: `${outside.name} ${fip.address}` }, 'a2 leaves with its external IP');

  // An attachment to a device that has no port yet is Pending, and works once the port exists.
  const late = (await result(a, 'externalip.allocate', {})).externalIp!;
  const pending = (await result(a, 'externalipattachment.create', { externalIpId: late.id, target: { deviceId: 'a3' } })).externalIpAttachment!;
  const waiting = await client.waitFor(a, 'externalipattachment', pending.id, (s) => s.phase === 'Pending');
  t.regex(String(waiting.message), /a3/);
  const a3 = await vm(a, ta.subnets[0]!.id, 'a3', ta.open.id);
  await client.waitFor(a, 'externalipattachment', pending.id, (s) => s.phase === 'Ready');
  await client.waitFor(a, 'port', a3.id, (s) => s.bound === true, 60_000);
  await settle();
  t.is((await a3.ns.dhcp({ timeoutMs: 20_000 })).address, a3.ip);
  await a3.ns.tcpListen(22);
  t.deepEqual(await outside.tcpConnect(late.address!, 22, { timeoutMs: 10_000 }), { ok: true, reply: `${a3.ns.name} ${OUTSIDE}` }, 'pending attachment works once its port exists');

  // Port forward: the gateway's IP, port 8080, to a1:80.
  await a1.ns.tcpListen(80);
  const forward = (await result(a, 'portforward.create', { externalIpId: gateway.externalIpId, protocol: 'tcp', externalPort: 8080, portId: a1.id, internalPort: 80 })).portForward!;
  await client.waitFor(a, 'portforward', forward.id, (s) => s.phase === 'Ready');
  await settle();
  const forwarded = await outside.tcpConnect(gateway.address!, 8080, { timeoutMs: 10_000 });
  t.true(forwarded.ok, 'outside reaches a1:80 through gateway:8080');
  t.regex(forwarded.reply ?? '', new RegExp(`^${a1.ns.name} `));

  // Removing each of these stops its traffic.
  await call(a, 'portforward.delete', { portForwardId: forward.id });
  await client.waitFor(a, 'portforward', forward.id, (s) => s.phase === 'Deleted');
  await settle();
  t.false((await outside.tcpConnect(gateway.address!, 8080, BLOCKED)).ok, 'port forward removed');
  await call(a, 'externalipattachment.delete', { attachmentId: attachment.id });
  await client.waitFor(a, 'externalipattachment', attachment.id, (s) => s.phase === 'Deleted');
  await settle();
  t.false((await outside.tcpConnect(fip.address!, 22, BLOCKED)).ok, 'floating IP removed');
  await call(a, 'externalipattachment.delete', { attachmentId: pending.id });
  await call(a, 'natgateway.delete', { natGatewayId: gateway.id });
  await client.waitFor(a, 'natgateway', gateway.id, (s) => s.phase === 'Deleted');
  await settle();
  t.false((await a1.ns.tcpConnect(OUTSIDE, 80, BLOCKED)).ok, 'NAT gateway removed');
});
