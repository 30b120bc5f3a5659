import test from 'ava';
import { startChassis, startNorthbound } from '../../src/sandbox/mod.js';
import { createDhcpNetwork, Net, netnsNames, tempDir, waitUp } from './helpers.js';

test('dataplane - a second NIC plugged into a namespace: both bind and lease; removing it leaves the namespace and its first NIC', async (t) => {
  const dir = await tempDir(t);
  const nb = await startNorthbound({ dir });
  t.teardown(() => nb.stop());
  const chassis = await startChassis({ dir, northbound: nb });
  t.teardown(() => chassis.stop());

  await createDhcpNetwork(nb);
  const eth0 = await chassis.plug({ iface: Net.vm1.lsp, namespace: 'vm', mac: Net.vm1.mac });
  const eth1 = await chassis.plug({ iface: Net.vm2.lsp, namespace: 'ignored', mac: Net.vm2.mac, ifname: 'eth1', into: eth0 });
  t.is(eth1.name, eth0.name, 'the same network namespace');
  t.is(eth1.ifname, 'eth1');
  t.false(netnsNames().some((n) => n.endsWith('-ignored')), 'no namespace of its own');
  await Promise.all([waitUp(nb, Net.vm1.lsp), waitUp(nb, Net.vm2.lsp)]);
  t.is((await eth0.dhcp()).address, Net.vm1.ip);
  t.is((await eth1.dhcp()).address, Net.vm2.ip);

  await eth1.remove();
  await nb.nbctl('--timeout=20', 'wait-until', 'Logical_Switch_Port', Net.vm2.lsp, 'up=false');
  t.true(netnsNames().includes(eth0.name), 'the namespace stays');
  t.notRegex((await eth0.exec(['ip', '-o', 'link'])).stdout, /eth1/, 'without the removed NIC');
  t.true(await eth0.ping(Net.gateway, { timeoutMs: 10_000 }), 'the first NIC still works');
  await eth0.remove();
  t.false(netnsNames().includes(eth0.name));
});

test('dataplane - a port with options:iface-id-ver binds only the plug with the same iface-id-ver', async (t) => {
  const dir = await tempDir(t);
  const nb = await startNorthbound({ dir });
  t.teardown(() => nb.stop());
  const chassis = await startChassis({ dir, northbound: nb });
  t.teardown(() => chassis.stop());

  await createDhcpNetwork(nb);
  await nb.nbctl('set', 'Logical_Switch_Port', Net.vm1.lsp, 'options:iface-id-ver=vm-a');
  await nb.nbctl('set', 'Logical_Switch_Port', Net.vm2.lsp, 'options:iface-id-ver=vm-b');
  const right = await chassis.plug({ iface: Net.vm1.lsp, namespace: 'right', mac: Net.vm1.mac, ifaceIdVer: 'vm-a' });
  const wrong = await chassis.plug({ iface: Net.vm2.lsp, namespace: 'wrong', mac: Net.vm2.mac, ifaceIdVer: 'vm-a' });
  await waitUp(nb, Net.vm1.lsp);
  t.is((await right.dhcp()).address, Net.vm1.ip, 'the matching plug is bound');
  await t.throwsAsync(wrong.dhcp({ timeoutMs: 3000 }), undefined, 'the other one is not');
  t.is(await nb.nbctl('get', 'Logical_Switch_Port', Net.vm2.lsp, 'up'), 'false');
});
