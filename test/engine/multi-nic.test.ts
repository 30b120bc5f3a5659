import test from 'ava';
import { PROVIDER_SCOPE } from '../../events/mod.js';
import { nbRows, startStack } from '../support/stack.js';
import type { Stack } from '../support/stack.js';

/**
 * Multi-NIC devices, attach/detach and external IPs on cluster endpoints through the engine:
 * real NATS and a real Northbound, no chassis (the packets are test/dataplane's).
 */

let stack: Stack;
test.before(async () => {
  stack = await startStack();
  const network = (await stack.client.call(PROVIDER_SCOPE, 'externalnetwork.create', {
    name: 'ext', cidr: '172.16.0.0/24', gatewayIp: '172.16.0.1', physicalNetwork: 'physnet1', gatewayChassis: [{ name: 'gw', priority: 1 }],
  })).result.externalNetwork as { id: string };
  await stack.client.call(PROVIDER_SCOPE, 'externalippool.create', { externalNetworkId: network.id, name: 'p', ranges: [{ first: '172.16.0.10', last: '172.16.0.200' }] });
});
test.after.always(async () => { await stack?.stop(); });

interface Created { id: string; gatewayIp?: string; address?: string }
type Reply = { seq: number } & { [key: string]: Created | undefined };
const owned = (id: string) => [`external_ids:"novanet:id"="${id}"`];

async function tenant(org: string) {
  const scope = { org, project: 'p1' };
  const call = async (op: string, payload: Record<string, unknown>) => {
    const reply = await stack.client.call(scope, op, payload);
    return { ...(reply.result as Record<string, Created>), seq: reply.seq } as unknown as Reply;
  };
  const vpc = (await call('vpc.create', { name: 'main', cidr: '10.0.0.0/16' })).vpc!;
  const s1 = (await call('subnet.create', { vpcId: vpc.id, name: 's1', cidr: '10.0.1.0/24' })).subnet!;
  const s2 = (await call('subnet.create', { vpcId: vpc.id, name: 's2', cidr: '10.0.2.0/24' })).subnet!;
  return { scope, call, vpc, s1, s2 };
}

async function withGateway(org: string) {
  const t = await tenant(org);
  await t.call('natgateway.create', { vpcId: t.vpc.id });
  return t;
}

test('multi-NIC - the secondary port\'s switch port points at DHCP options without a router; the primary\'s at the subnet\'s', async (t) => {
  const { scope, call, s1, s2 } = await tenant('mnic-dhcp');
  const first = (await call('port.create', { subnetId: s1.id, deviceId: 'vm', primary: false })).port!;
  const second = await call('port.create', { subnetId: s2.id, deviceId: 'vm', primary: true });
  const primary = second.port!;
  t.like(await stack.client.waitFor(scope, 'port', first.id, (s) => s.phase === 'Ready'), { primary: false, deviceId: 'vm' });
  t.like(await stack.client.waitFor(scope, 'port', primary.id, (s) => s.phase === 'Ready' && s.observedSeq >= second.seq), { primary: true, deviceId: 'vm' });
  const subnet = await stack.client.waitFor(scope, 'subnet', s1.id, (s) => (s.ovn as Record<string, string>).secondaryDhcpOptions !== undefined);
  const { dhcpOptions, secondaryDhcpOptions } = subnet.ovn as Record<string, string>;
  t.truthy(secondaryDhcpOptions);
  const [rows] = [await nbRows(stack.northbound, 'DHCP_Options', ['_uuid', 'options'], owned(s1.id))];
  const options = Object.fromEntries(rows.map((r) => [r._uuid as string, r.options as Record<string, string>]));
  t.is(options[dhcpOptions!]!.router, s1.gatewayIp);
  t.is(options[secondaryDhcpOptions!]!.router, undefined, 'no router for secondary NICs');
  const [lsp1] = await nbRows(stack.northbound, 'Logical_Switch_Port', ['dhcpv4_options', 'options'], owned(first.id));
  const [lsp2] = await nbRows(stack.northbound, 'Logical_Switch_Port', ['dhcpv4_options', 'options'], owned(primary.id));
  t.like(lsp1, { dhcpv4_options: secondaryDhcpOptions, options: { 'iface-id-ver': 'vm' } });
  t.like(lsp2, { dhcpv4_options: ((await stack.client.waitFor(scope, 'subnet', s2.id, (s) => s.phase === 'Ready')).ovn as Record<string, string>).dhcpOptions });

  // The last secondary port gone, the second set of options goes too.
  const deleted = await call('port.delete', { portId: first.id });
  const after = await stack.client.waitFor(scope, 'subnet', s1.id, (s) => s.observedSeq >= deleted.seq);
  t.is((after.ovn as Record<string, string>).secondaryDhcpOptions, undefined);
  t.is((await nbRows(stack.northbound, 'DHCP_Options', ['_uuid'], owned(s1.id))).length, 1);
});

test('multi-NIC - a device\'s external IP follows its primary: Ready on it, Pending once it is detached, Ready again on attach', async (t) => {
  const { scope, call, s1, s2 } = await withGateway('mnic-fip');
  const secondary = (await call('port.create', { subnetId: s1.id, deviceId: 'vm', primary: false })).port!;
  const primary = (await call('port.create', { subnetId: s2.id, deviceId: 'vm', primary: true })).port!;
  const ip = (await call('externalip.allocate', {})).externalIp!;
  const attachment = (await call('externalipattachment.create', { externalIpId: ip.id, target: { deviceId: 'vm' } })).externalIpAttachment!;
  t.like(await stack.client.waitFor(scope, 'externalipattachment', attachment.id, (s) => s.phase === 'Ready'), { portId: primary.id, target: { deviceId: 'vm' } });
  t.not(secondary.id, primary.id);

  const detached = await call('port.detach', { portId: primary.id });
  const pending = await stack.client.waitFor(scope, 'externalipattachment', attachment.id, (s) => s.observedSeq >= detached.seq);
  t.like(pending, { phase: 'Pending', portId: null, message: 'device "vm" has no primary port' });
  t.like(await stack.client.waitFor(scope, 'port', primary.id, (s) => s.observedSeq >= detached.seq), { deviceId: null, primary: true });
  t.like((await nbRows(stack.northbound, 'Logical_Switch_Port', ['options'], owned(primary.id)))[0], { options: { 'iface-id-ver': 'novanet:unattached' } });
  t.deepEqual(await nbRows(stack.northbound, 'NAT', ['_uuid'], owned(attachment.id)), [], 'its NAT rule is gone');

  const attached = await call('port.attach', { portId: primary.id, deviceId: 'vm' });
  t.like(await stack.client.waitFor(scope, 'externalipattachment', attachment.id, (s) => s.observedSeq >= attached.seq), { phase: 'Ready', portId: primary.id });
  t.like((await nbRows(stack.northbound, 'NAT', ['logical_ip'], owned(attachment.id)))[0], { logical_ip: '10.0.2.2' });
});

test('cluster endpoint - the attachment is Pending until the endpoint\'s load balancer exists, then a Load_Balancer at the external IP follows its members', async (t) => {
  const { scope, call, s1 } = await withGateway('mnic-lb');
  const m1 = (await call('port.create', { subnetId: s1.id, deviceId: 'cp-1' })).port!;
  const m2 = (await call('port.create', { subnetId: s1.id, deviceId: 'cp-2' })).port!;
  const ip = (await call('externalip.allocate', {})).externalIp!;
  const attachment = (await call('externalipattachment.create', { externalIpId: ip.id, target: { clusterId: 'c1', endpoint: 'ingress' } })).externalIpAttachment!;
  t.like(await stack.client.waitFor(scope, 'externalipattachment', attachment.id, (s) => s.phase === 'Pending'), { loadBalancerId: null });

  const created = await call('loadbalancer.create', { subnetId: s1.id, name: 'ingress', listeners: [{ port: 443 }, { port: 80 }], memberPortIds: [m1.id, m2.id], endpoint: { clusterId: 'c1', role: 'ingress' } });
  const lb = created.loadBalancer!;
  const ready = await stack.client.waitFor(scope, 'externalipattachment', attachment.id, (s) => s.observedSeq >= created.seq && s.phase === 'Ready');
  t.like(ready, { loadBalancerId: lb.id, portId: null });
  const row = async () => (await nbRows(stack.northbound, 'Load_Balancer', ['name', 'vips'], owned(attachment.id)))[0];
  t.like(await row(), { name: `eip-${attachment.id}`, vips: { [`${ip.address}:443`]: '10.0.1.2:443,10.0.1.3:443', [`${ip.address}:80`]: '10.0.1.2:80,10.0.1.3:80' } });

  const one = await call('loadbalancer.update', { loadBalancerId: lb.id, memberPortIds: [m2.id] });
  await stack.client.waitFor(scope, 'externalipattachment', attachment.id, (s) => s.observedSeq >= one.seq);
  t.like(await row(), { vips: { [`${ip.address}:443`]: '10.0.1.3:443' } });

  const gone = await call('loadbalancer.delete', { loadBalancerId: lb.id });
  t.like(await stack.client.waitFor(scope, 'externalipattachment', attachment.id, (s) => s.observedSeq >= gone.seq), { phase: 'Pending', loadBalancerId: null });
  t.is(await row(), undefined);
});
