import test from 'ava';
import { PROVIDER_SCOPE } from '../../events/mod.js';
import { asList, eventually, nbRows, startStack } from '../support/stack.js';
import type { Stack } from '../support/stack.js';

let stack: Stack;
test.before(async () => { stack = await startStack(); });
test.after.always(async () => { await stack?.stop(); });

const network = { name: 'ext', cidr: '172.16.0.0/24', gatewayIp: '172.16.0.1', physicalNetwork: 'physnet1', gatewayChassis: [{ name: 'gw-1', priority: 20 }, { name: 'gw-2', priority: 10 }] };

test.serial('provider - provider operations only on admin subjects, tenant operations only on tenant subjects', async (t) => {
  const raw = async (subject: string, body: object) => (await stack.nc.request(subject, JSON.stringify(body), { timeout: 5000 })).json<{ ok: boolean; error?: { code: string } }>();
  t.like(await raw('novanet.cmd.acme.p1.externalnetwork.create', { commandId: 'x', ...network }), { ok: false, error: { code: 'FORBIDDEN' } });
  t.like(await raw('novanet.cmd.acme.p1.externalippool.create', { commandId: 'y', externalNetworkId: '00000000-0000-4000-8000-000000000000', name: 'p', ranges: [] }), { ok: false, error: { code: 'FORBIDDEN' } });
  t.like(await raw('novanet.admin.cmd.vpc.create', { commandId: 'z', name: 'v' }), { ok: false, error: { code: 'FORBIDDEN' } });
  t.like(await raw('novanet.admin.cmd.nothing.here', { commandId: 'w' }), { ok: false, error: { code: 'UNKNOWN_OPERATION' } });
});

test.serial('provider - an external network becomes a switch with a localnet port; external IPs are never handed out twice across tenants', async (t) => {
  const { client, northbound } = stack;
  const created = await client.call(PROVIDER_SCOPE, 'externalnetwork.create', { ...network, vlanId: 100 });
  const net = created.result.externalNetwork as { id: string };
  const status = await client.waitFor(PROVIDER_SCOPE, 'externalnetwork', net.id, (s) => s.phase === 'Ready');
  t.like(status, { org: '_provider', ovn: { logicalSwitch: net.id } });
  const [localnet] = await nbRows(northbound, 'Logical_Switch_Port', ['type', 'options', 'tag', 'addresses'], [`external_ids:"novanet:id"="${net.id}"`]);
  t.like(localnet, { type: 'localnet', options: { network_name: 'physnet1' }, tag: 100, addresses: 'unknown' });

  await client.call(PROVIDER_SCOPE, 'externalippool.create', { externalNetworkId: net.id, name: 'small', ranges: [{ first: '172.16.0.10', last: '172.16.0.24' }] });
  const replies = await Promise.all(['ta', 'tb'].flatMap((org) => Array.from({ length: 10 }, () => client.request({ org, project: 'p1' }, 'externalip.allocate', {}))));
  const addresses = replies.flatMap((r) => (r.ok ? [(r.result.externalIp as { address: string }).address] : []));
  t.is(addresses.length, 15);
  t.is(new Set(addresses).size, 15, 'never the same address twice');
  t.true(replies.filter((r) => !r.ok).every((r) => !r.ok && r.error.code === 'POOL_EXHAUSTED'));
});

test.serial('provider - a NAT gateway is a gateway port on the external network, a default route and SNAT for every subnet, new ones too', async (t) => {
  const { client, northbound } = stack;
  const scope = { org: 'natrows', project: 'p1' };
  const ip = (await client.call(PROVIDER_SCOPE, 'externalnetwork.list')).result.externalNetworks as { id: string }[];
  await client.call(PROVIDER_SCOPE, 'externalippool.create', { externalNetworkId: ip[0]!.id, name: 'more', ranges: [{ first: '172.16.0.100', last: '172.16.0.120' }] });
  const vpc = (await client.call(scope, 'vpc.create', { name: 'v' })).result.vpc as { id: string };
  await client.call(scope, 'subnet.create', { vpcId: vpc.id, name: 's1', cidr: '10.0.1.0/24' });
  const gateway = (await client.call(scope, 'natgateway.create', { vpcId: vpc.id })).result.natGateway as { id: string; address: string };
  await client.call(scope, 'subnet.create', { vpcId: vpc.id, name: 's2', cidr: '10.0.2.0/24' });
  t.like(await client.request(scope, 'natgateway.create', { vpcId: vpc.id }), { ok: false, error: { code: 'ALREADY_EXISTS' } });

  const owned = [`external_ids:"novanet:id"="${gateway.id}"`];
  const snats = await eventually(async () => {
    const rows = await nbRows(northbound, 'NAT', ['type', 'external_ip', 'logical_ip'], owned);
    return rows.length === 2 ? rows : undefined;
  }, 10_000, 'two SNAT rules');
  t.deepEqual(snats.map((r) => `${r.type} ${r.external_ip} ${r.logical_ip}`).sort(), [`snat ${gateway.address} 10.0.1.0/24`, `snat ${gateway.address} 10.0.2.0/24`]);
  const [lrp] = await nbRows(northbound, 'Logical_Router_Port', ['networks', 'gateway_chassis'], owned);
  t.is(lrp!.networks, `${gateway.address}/24`);
  t.is(asList(lrp!.gateway_chassis).length, 2);
  const chassis = await nbRows(northbound, 'Gateway_Chassis', ['chassis_name', 'priority'], owned);
  t.deepEqual(chassis.map((c) => `${c.chassis_name}:${c.priority}`).sort(), ['gw-1:20', 'gw-2:10']);
  const [route] = await nbRows(northbound, 'Logical_Router_Static_Route', ['ip_prefix', 'nexthop', 'output_port'], owned);
  t.like(route, { ip_prefix: '0.0.0.0/0', nexthop: '172.16.0.1', output_port: `lrp-gw-${gateway.id}` });
  const [peer] = await nbRows(northbound, 'Logical_Switch_Port', ['type', 'options'], owned);
  t.like(peer, { type: 'router', options: { 'nat-addresses': 'router', 'router-port': `lrp-gw-${gateway.id}` } });

  await client.call(scope, 'natgateway.delete', { natGatewayId: gateway.id });
  await eventually(async () => (await nbRows(northbound, 'NAT', ['type'], owned)).length === 0, 10_000, 'SNAT removed');
  t.deepEqual(await nbRows(northbound, 'Logical_Router_Port', ['name'], owned), []);
  t.deepEqual(await nbRows(northbound, 'Logical_Router_Static_Route', ['ip_prefix'], owned), []);
});

test.serial('provider - moving a network\'s gateway chassis moves every NAT gateway on it', async (t) => {
  const { client, northbound } = stack;
  const scope = { org: 'natmove', project: 'p1' };
  const [net] = (await client.call(PROVIDER_SCOPE, 'externalnetwork.list')).result.externalNetworks as { id: string }[];
  const vpc = (await client.call(scope, 'vpc.create', { name: 'v' })).result.vpc as { id: string };
  const gateway = (await client.call(scope, 'natgateway.create', { vpcId: vpc.id })).result.natGateway as { id: string };
  const chassisOf = async () => (await nbRows(northbound, 'Gateway_Chassis', ['chassis_name', 'priority'], [`external_ids:"novanet:id"="${gateway.id}"`]))
    .map((c) => `${c.chassis_name}:${c.priority}`).sort().join(',');
  await eventually(async () => (await chassisOf()) === 'gw-1:20,gw-2:10', 10_000, 'gateway on the first chassis');
  const moved = await client.call(PROVIDER_SCOPE, 'externalnetwork.update', { externalNetworkId: net!.id, gatewayChassis: [{ name: 'gw-3', priority: 30 }] });
  await client.waitFor(scope, 'natgateway', gateway.id, (s) => s.observedSeq >= moved.seq && s.phase === 'Ready');
  t.is(await chassisOf(), 'gw-3:30');
});

test.serial('provider - the operator sets a tenant\'s quota on the admin subjects; the tenant reads it and hits it, others do not', async (t) => {
  const { client } = stack;
  const raw = async (subject: string, body: object) => (await stack.nc.request(subject, JSON.stringify(body), { timeout: 5000 })).json<{ ok: boolean; error?: { code: string } }>();
  const tenant = { org: 'quota', project: 'p1' };
  t.like(await raw('novanet.cmd.quota.p1.tenantquota.set', { commandId: 'q0', tenant, limits: { vpcs: 100 } }), { ok: false, error: { code: 'FORBIDDEN' } });

  const set = await client.call(PROVIDER_SCOPE, 'tenantquota.set', { tenant, limits: { vpcs: 1 } });
  t.like(set.result, { quota: { org: 'quota', limits: { vpcs: 1, ports: null } } });
  await client.call(tenant, 'vpc.create', { name: 'first' });
  t.like(await client.request(tenant, 'vpc.create', { commandId: 'second', name: 'second' }), { ok: false, error: { code: 'QUOTA_EXCEEDED', details: { kind: 'vpcs', limit: 1, used: 1 } } });
  t.like((await client.call(tenant, 'quota.get')).result, { quota: { limits: { vpcs: 1 }, usage: { vpcs: 1, securityGroups: 1 } } });
  t.true((await client.request({ org: 'quota', project: 'p2' }, 'vpc.create', { commandId: 'other', name: 'second' })).ok, 'another project of the same org has no quota');

  await client.call(PROVIDER_SCOPE, 'tenantquota.set', { tenant, limits: { vpcs: null } });
  t.true((await client.request(tenant, 'vpc.create', { commandId: 'third', name: 'third' })).ok, 'the limit lifted');
});
