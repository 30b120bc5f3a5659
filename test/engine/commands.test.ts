import test from 'ava';
import { startStack } from '../support/stack.js';
import type { Stack } from '../support/stack.js';

let stack: Stack;
test.before(async () => { stack = await startStack(); });
test.after.always(async () => { await stack?.stop(); });

const tenant = (org: string) => ({ org, project: 'p1' });

test('commands - create a VPC, a subnet and a port over NATS; reads see them', async (t) => {
  const scope = tenant('create');
  const { client } = stack;
  const vpc = await client.call(scope, 'vpc.create', { name: 'main' });
  t.like(vpc.result, { vpc: { name: 'main', cidr: '10.0.0.0/16', org: 'create', project: 'p1' } });
  t.true(vpc.seq > 0);
  const vpcId = (vpc.result.vpc as { id: string }).id;
  const subnet = await client.call(scope, 'subnet.create', { vpcId, name: 'app', dnsServers: ['1.1.1.1'] });
  t.like(subnet.result, { subnet: { vpcId, cidr: '10.0.0.0/24', gatewayIp: '10.0.0.1', dhcpEnabled: true, leaseTime: 43200, dnsServers: ['1.1.1.1'] } });
  t.true(subnet.seq > vpc.seq);
  const subnetId = (subnet.result.subnet as { id: string }).id;
  const port = await client.call(scope, 'port.create', { subnetId, deviceId: 'vm-1' });
  const p = port.result.port as { id: string; ipAddress: string; macAddress: string };
  t.is(p.ipAddress, '10.0.0.2');
  t.regex(p.macAddress, /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
  t.is(parseInt(p.macAddress.slice(0, 2), 16) & 3, 2, 'locally administered unicast');

  t.like((await client.call(scope, 'vpc.get', { vpcId })).result, { vpc: { id: vpcId } });
  t.is(((await client.call(scope, 'subnet.list', { vpcId })).result.subnets as unknown[]).length, 1);
  t.like((await client.call(scope, 'port.get', { portId: p.id })).result, { port: { ipAddress: '10.0.0.2', deviceId: 'vm-1' } });
  t.is(((await client.call(scope, 'port.list', { deviceId: 'vm-1' })).result.ports as unknown[]).length, 1);

  // Deleting in reverse order frees everything; IN_USE guards the order.
  t.like(await client.request(scope, 'subnet.delete', { subnetId }), { ok: false, error: { code: 'IN_USE' } });
  await client.call(scope, 'port.delete', { portId: p.id });
  await client.call(scope, 'subnet.delete', { subnetId });
  await client.call(scope, 'vpc.delete', { vpcId });
  t.deepEqual((await client.call(scope, 'vpc.list')).result.vpcs, []);
});

test('commands - tenants are isolated: another tenant\'s ids are NOT_FOUND and ranges may repeat', async (t) => {
  const a = tenant('iso-a');
  const b = tenant('iso-b');
  const { client } = stack;
  const va = (await client.call(a, 'vpc.create', { name: 'same', cidr: '10.50.0.0/16' })).result.vpc as { id: string };
  const vb = (await client.call(b, 'vpc.create', { name: 'same', cidr: '10.50.0.0/16' })).result.vpc as { id: string };
  t.not(va.id, vb.id);
  t.like(await client.request(b, 'vpc.get', { vpcId: va.id }), { ok: false, error: { code: 'NOT_FOUND' } });
  t.like(await client.request(b, 'subnet.create', { vpcId: va.id, name: 'x' }), { ok: false, error: { code: 'NOT_FOUND' } });
  t.like(await client.request(b, 'vpc.delete', { vpcId: va.id }), { ok: false, error: { code: 'NOT_FOUND' } });
  t.deepEqual(((await client.call(b, 'vpc.list')).result.vpcs as { id: string }[]).map((v) => v.id), [vb.id]);
});

test('commands - bad input gets a structured error, appends nothing, and the engine keeps serving', async (t) => {
  const { nc, client } = stack;
  const scope = tenant('bad');
  const raw = async (subject: string, data: string | Uint8Array) => (await nc.request(subject, data, { timeout: 5000 })).json<{ ok: boolean; error: { code: string; message: string; details?: unknown } }>();

  t.like(await raw('novanet.cmd.bad.p1.vpc.create', '{"name": '), { ok: false, error: { code: 'VALIDATION_FAILED' } });
  t.like(await raw('novanet.cmd.bad.p1.vpc.create', '[1,2]'), { ok: false, error: { code: 'VALIDATION_FAILED' } });
  t.like(await raw('novanet.cmd.bad.p1.vpc.create', new Uint8Array([0x7b, 0xff, 0x7d])), { ok: false, error: { code: 'VALIDATION_FAILED' } });
  const wrongType = await raw('novanet.cmd.bad.p1.vpc.create', JSON.stringify({ commandId: 'x1', name: 7 }));
  t.like(wrongType, { ok: false, error: { code: 'VALIDATION_FAILED' } });
  t.true(Array.isArray((wrongType.error.details as { issues: unknown[] }).issues), 'zod issues in details');
  t.like(await raw('novanet.cmd.bad.p1.vpc.create', JSON.stringify({ name: 'no-command-id' })), { ok: false, error: { code: 'VALIDATION_FAILED' } });
  t.like(await raw('novanet.cmd.bad.p1.vpc.explode', JSON.stringify({ commandId: 'x2' })), { ok: false, error: { code: 'UNKNOWN_OPERATION' } });
  t.like(await raw('novanet.cmd.bad.p1.vpc', JSON.stringify({ commandId: 'x3' })), { ok: false, error: { code: 'UNKNOWN_OPERATION' } });
  t.like(await raw('novanet.cmd.BAD.p1.vpc.create', JSON.stringify({ commandId: 'x4', name: 'n' })), { ok: false, error: { code: 'VALIDATION_FAILED' } });
  t.like(await raw('novanet.cmd.bad.p1.vpc.create', JSON.stringify({ commandId: 'x5', name: 'n', org: 'someone-else' })), { ok: false, error: { code: 'FORBIDDEN' } });
  t.like(await raw('novanet.cmd.bad.p1.vpc.create', JSON.stringify({ commandId: 'x6', name: 'n', cidr: '10.0.0.1/16' })), { ok: false, error: { code: 'INVALID_CIDR' } });
  t.like(await raw('novanet.cmd.bad.p1.vpc.create', JSON.stringify({ commandId: 'x'.repeat(129), name: 'n' })), { ok: false, error: { code: 'VALIDATION_FAILED' } });
  t.like(await raw('novanet.cmd.bad.p1.vpc.create', JSON.stringify({ commandId: 'x7', name: 'n'.repeat(70 * 1024) })), { ok: false, error: { code: 'PAYLOAD_TOO_LARGE' } });

  t.deepEqual((await client.call(scope, 'vpc.list')).result.vpcs, [], 'nothing appended');
  t.like(await client.request(scope, 'vpc.create', { name: 'still-serving', org: 'bad', project: 'p1' }), { ok: true });
});
