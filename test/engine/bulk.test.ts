import { jetstreamManager } from '@nats-io/jetstream';
import test from 'ava';
import { streamNames } from '../../events/mod.js';
import { startSmallPayloadEngine } from '../support/small-payload.js';
import { eventually, nbRows, startStack, storedStatus } from '../support/stack.js';
import type { Stack } from '../support/stack.js';

/** port.create with `ports` through the real intake, log and reconciler: one commit, every port Ready and in the Northbound. */

let stack: Stack;
test.before(async () => { stack = await startStack(); });
test.after.always(async () => { await stack?.stop(); });

interface PortResult { id: string; ipAddress: string; macAddress: string }

test('bulk - 1,000 ports in one command: one commit, a repeat answers the same, every port Ready and in the Northbound', async (t) => {
  const scope = { org: 'bulk', project: 'p1' };
  const { client, nc, northbound } = stack;
  const jsm = await jetstreamManager(nc);
  const lastSeq = async () => (await jsm.streams.info(streamNames('novanet').events)).state.last_seq;
  const vpc = (await client.call(scope, 'vpc.create', { name: 'b' })).result.vpc as { id: string };
  const subnet = (await client.call(scope, 'subnet.create', { vpcId: vpc.id, name: 's', cidr: '10.0.0.0/22' })).result.subnet as { id: string };

  // One bad port refuses the whole command, naming it; nothing is appended.
  const before = await lastSeq();
  const refused = await client.request(scope, 'port.create', { ports: [...Array.from({ length: 999 }, () => ({ subnetId: subnet.id })), { subnetId: subnet.id, ipAddress: '10.0.0.2' }] });
  t.like(refused, { ok: false, error: { code: 'IP_ALREADY_ALLOCATED', details: { index: 999, ipAddress: '10.0.0.2' } } });
  t.is(await lastSeq(), before);

  const payload = { commandId: 'bulk-1', ports: Array.from({ length: 1000 }, () => ({ subnetId: subnet.id })) };
  const reply = await client.request(scope, 'port.create', payload);
  if (!reply.ok) throw new Error(`${reply.error.code}: ${reply.error.message}`);
  t.is(await lastSeq(), before + 1, 'one commit');
  const ports = reply.result.ports as PortResult[];
  t.is(ports.length, 1000);
  t.is(new Set(ports.map((p) => p.ipAddress)).size, 1000);
  t.is(new Set(ports.map((p) => p.macAddress)).size, 1000);
  t.deepEqual(await client.request(scope, 'port.create', payload), reply, 'a repeat gets the first reply');
  t.is(await lastSeq(), before + 1, 'and appends nothing');

  const lsps = await eventually(async () => {
    const rows = await nbRows(northbound, 'Logical_Switch_Port', ['name', 'addresses'], ['external_ids:"novanet:org"=bulk', 'external_ids:"novanet:kind"=port']);
    return rows.length === 1000 ? rows : undefined;
  }, 30_000, '1,000 switch ports');
  const addresses = new Map(lsps.map((r) => [r.name as string, r.addresses]));
  t.true(ports.every((p) => addresses.get(p.id) === `${p.macAddress} ${p.ipAddress}`));
  await eventually(async () => {
    const statuses = await Promise.all(ports.map((p) => storedStatus(jsm, 'novanet', scope, 'port', p.id)));
    return statuses.every((s) => s?.phase === 'Ready' && s.observedSeq >= reply.seq);
  }, 30_000, '1,000 Ready statuses');
  t.pass();
});

test('bulk - a commit larger than the NATS server carries is PAYLOAD_TOO_LARGE, appends nothing, and the engine goes on deciding', async (t) => {
  // Above the 64 KiB a request may have, below a 1,000-port commit (~720 KB).
  const { nc, client } = await startSmallPayloadEngine(t, 262144, 10_000);
  const scope = { org: 'big', project: 'p1' };
  const vpc = (await client.call(scope, 'vpc.create', { name: 'v' })).result.vpc as { id: string };
  const subnet = (await client.call(scope, 'subnet.create', { vpcId: vpc.id, name: 's', cidr: '10.0.0.0/22' })).result.subnet as { id: string };
  const ports = (n: number) => Array.from({ length: n }, () => ({ subnetId: subnet.id }));
  const jsm = await jetstreamManager(nc);
  const lastSeq = async () => (await jsm.streams.info(streamNames('novanet').events)).state.last_seq;
  const before = await lastSeq();
  // Sent together: the one behind the refused commit was decided on a view holding it, and is decided again.
  const [big, small] = await Promise.all([client.request(scope, 'port.create', { ports: ports(1000) }), client.request(scope, 'port.create', { ports: ports(100) })]);
  t.like(big, { ok: false, error: { code: 'PAYLOAD_TOO_LARGE' } });
  t.like(small, { ok: true, seq: before + 1 });
  t.is(await lastSeq(), before + 1);
  // The first 100 addresses went to the small command, as if the big one had never been.
  t.is(((small.ok ? small.result.ports : []) as PortResult[])[0]?.ipAddress, '10.0.0.2');
});
