import test from 'ava';
import { PROVIDER_SCOPE } from '../../events/mod.js';
import { NovanetClient } from '../../src/bus/client.js';
import { DEFAULT_REPLY_PREFIXES } from '../../src/engine/config.js';
import { startTenantsStack } from '../support/tenants.js';

test('cni - with deploy/nats/tenants.conf a node agent\'s user does what a pod\'s ADD, DEL, GC and STATUS need, and nothing else', async (t) => {
  const { login } = await startTenantsStack(t, { config: { replyPrefixes: [...DEFAULT_REPLY_PREFIXES, '_INBOX_node_'] } });
  const acme = new NovanetClient(await login('acme-web', 'change-me-acme'), 'novanet', 3000);
  const node = new NovanetClient(await login('node-1', 'change-me-node-1'), 'novanet', 3000);
  const scope = { org: 'acme', project: 'web' };
  const vpc = (await acme.call(scope, 'vpc.create', { name: 'main' })).result.vpc as { id: string };
  const subnet = (await acme.call(scope, 'subnet.create', { vpcId: vpc.id, name: 'pods' })).result.subnet as { id: string };

  // What the agent sends, answered in its private inbox.
  t.is(((await node.call(scope, 'vpc.list', { name: 'main' })).result.vpcs as unknown[]).length, 1);
  t.is(((await node.call(scope, 'subnet.list', { name: 'pods', vpcId: vpc.id })).result.subnets as unknown[]).length, 1);
  await node.call(scope, 'subnet.get', { subnetId: subnet.id });
  t.is(((await node.call(scope, 'securitygroup.list', { vpcId: vpc.id, name: 'default' })).result.securityGroups as unknown[]).length, 1);
  const port = (await node.call(scope, 'port.create', { commandId: 'cni-add:x', subnetId: subnet.id, deviceId: 'ctr-1', name: 'default/pod' })).result.port as { id: string };
  await node.call(scope, 'port.get', { portId: port.id });
  t.is(((await node.call(scope, 'port.list', { deviceId: 'ctr-1' })).result.ports as unknown[]).length, 1);
  await node.call(scope, 'port.delete', { commandId: `cni-del:${port.id}`, portId: port.id });
  await node.call(scope, 'quota.get', {});

  // Everything else is refused by NATS.
  await t.throwsAsync(node.request(scope, 'vpc.create', { name: 'other' }), undefined, 'no VPCs');
  await t.throwsAsync(node.request(scope, 'securitygroup.create', { vpcId: vpc.id, name: 'open' }), undefined, 'no security groups');
  await t.throwsAsync(node.request(scope, 'subnet.update', { subnetId: subnet.id, name: 'x' }), undefined, 'no subnet changes');
  await t.throwsAsync(node.request(PROVIDER_SCOPE, 'externalnetwork.list', {}), undefined, 'no provider subjects');
  await t.throwsAsync(node.watch(scope, 'vpc', vpc.id, () => t.fail('read a status')), undefined, 'no statuses');
  t.is(((await acme.call(scope, 'vpc.list', {})).result.vpcs as unknown[]).length, 1, 'nothing the refused requests asked for happened');
});
