import test from 'ava';
import { isSandboxCommandError, SandboxToolMissingError, startChassis, startNorthbound } from '../../src/sandbox/mod.js';
import { createDhcpNetwork, isAlive, leftovers, Net, netnsNames, nothingLeft, prefixOf, processesMentioning, tempDir, tracesFound, waitUp } from './helpers.js';

test('dataplane - namespaces on one switch get their DHCP leases, reach each other and the gateway over ICMP, TCP and UDP', async (t) => {
  const dir = await tempDir(t);
  const nb = await startNorthbound({ dir });
  t.teardown(() => nb.stop());
  const chassis = await startChassis({ dir, northbound: nb });
  t.teardown(() => chassis.stop());
  const prefix = prefixOf(chassis);

  await createDhcpNetwork(nb);
  const [vm1, vm2] = await Promise.all([
    chassis.plug({ iface: Net.vm1.lsp, namespace: 'vm1', mac: Net.vm1.mac }),
    chassis.plug({ iface: Net.vm2.lsp, namespace: 'vm2', mac: Net.vm2.mac }),
  ]);
  t.is(vm1.name, `${prefix}-vm1`);
  await Promise.all([waitUp(nb, Net.vm1.lsp), waitUp(nb, Net.vm2.lsp)]);

  const [lease1, lease2] = await Promise.all([vm1.dhcp(), vm2.dhcp()]);
  const common = { prefixLength: 24, router: Net.gateway, dns: ['10.9.0.53', '10.9.0.54'], mtu: 1400, leaseTime: 3600 };
  t.deepEqual(lease1, { address: Net.vm1.ip, ...common });
  t.deepEqual(lease2, { address: Net.vm2.ip, ...common });
  // The lease is applied, not just reported.
  t.regex((await vm1.exec(['ip', '-o', 'addr', 'show', 'dev', 'eth0'])).stdout, /inet 10\.9\.0\.11\/24/);
  t.regex((await vm1.exec(['ip', 'link', 'show', 'dev', 'eth0'])).stdout, /mtu 1400/);
  t.regex((await vm1.exec(['ip', 'route', 'show', 'default'])).stdout, /default via 10\.9\.0\.1 dev eth0/);

  t.true(await vm1.ping(Net.vm2.ip));
  t.true(await vm2.ping(Net.vm1.ip));
  t.true(await vm1.ping(Net.gateway));

  const tcp = await vm2.tcpListen(8080);
  t.deepEqual(await vm1.tcpConnect(Net.vm2.ip, 8080), { ok: true, reply: `${vm2.name} ${Net.vm1.ip}` });
  t.deepEqual(await vm1.tcpConnect(Net.vm2.ip, 8081), { ok: false, error: 'ECONNREFUSED' });
  await tcp.stop();
  t.deepEqual(await vm1.tcpConnect(Net.vm2.ip, 8080), { ok: false, error: 'ECONNREFUSED' });

  const udp = await vm1.udpListen(5353);
  t.deepEqual(await vm2.udpSend(Net.vm1.ip, 5353, 'hello'), { ok: true, reply: `${vm1.name} ${Net.vm2.ip}` });
  t.like(await udp.next(), { data: 'hello', from: Net.vm2.ip });

  // Nothing of the chassis lives in our own namespace.
  t.deepEqual(leftovers(prefix, dir).links, []);
  t.true(tracesFound(prefix, dir), 'while its namespaces and processes show');

  const pids = [...chassis.pids, nb.pid];
  t.true(pids.every(isAlive));
  await chassis.stop();
  await nb.stop();
  t.deepEqual(pids.filter(isAlive), []);
  t.deepEqual(leftovers(prefix, dir), nothingLeft);
});

test('dataplane - a port without DHCP options gets no lease: dhcp() rejects with the client output', async (t) => {
  const dir = await tempDir(t);
  const nb = await startNorthbound({ dir });
  t.teardown(() => nb.stop());
  const chassis = await startChassis({ dir, northbound: nb });
  t.teardown(() => chassis.stop());
  await nb.nbctl('ls-add', 'sw0', '--', 'lsp-add', 'sw0', 'nodhcp', '--', 'lsp-set-addresses', 'nodhcp', `${Net.vm1.mac} ${Net.vm1.ip}`);
  const vm = await chassis.plug({ iface: 'nodhcp', namespace: 'vm', mac: Net.vm1.mac });
  await waitUp(nb, 'nodhcp');
  const err = await t.throwsAsync(vm.dhcp({ timeoutMs: 2000 }));
  t.true(isSandboxCommandError(err));
  t.regex(err?.message ?? '', /udhcpc/);

  const dhcp = await nb.nbctl('create', 'DHCP_Options', `cidr="${Net.cidr}"`);
  await nb.nbctl('dhcp-options-set-options', dhcp, `server_id=${Net.gateway}`, `server_mac=${Net.gatewayMac}`, 'lease_time=3600');
  await nb.nbctl('lsp-set-dhcpv4-options', 'nodhcp', dhcp);
  await nb.nbctl('--timeout=20', '--wait=hv', 'sync');
  t.like(await vm.dhcp(), { address: Net.vm1.ip }, 'the same client gets a lease once the port has DHCP options');
});

test('dataplane - a program that is not installed throws SandboxToolMissingError instead of reading as no answer', async (t) => {
  const dir = await tempDir(t);
  const nb = await startNorthbound({ dir });
  t.teardown(() => nb.stop());
  const chassis = await startChassis({ dir, northbound: nb });
  t.teardown(() => chassis.stop());
  const vm = await chassis.plug({ iface: 'lsp-vm1', namespace: 'vm', mac: Net.vm1.mac });
  t.true(await vm.ping('127.0.0.1'), 'busybox ping runs');
  t.is((await vm.exec(['busybox', 'true'])).code, 0);
  t.like(await t.throwsAsync(vm.exec(['novanet-no-such-tool']), { instanceOf: SandboxToolMissingError }), { tool: 'novanet-no-such-tool' });
  t.like(await t.throwsAsync(vm.exec(['busybox', 'novanet-no-such-applet']), { instanceOf: SandboxToolMissingError }), { tool: 'busybox novanet-no-such-applet' });
});

test('dataplane - removing a namespace unplugs its port and deletes it', async (t) => {
  const dir = await tempDir(t);
  const nb = await startNorthbound({ dir });
  t.teardown(() => nb.stop());
  const chassis = await startChassis({ dir, northbound: nb });
  t.teardown(() => chassis.stop());

  await createDhcpNetwork(nb);
  const vm1 = await chassis.plug({ iface: Net.vm1.lsp, namespace: 'vm1', mac: Net.vm1.mac });
  await waitUp(nb, Net.vm1.lsp);
  t.not(await chassis.vsctl('list-ports', 'br-int'), '');
  await vm1.tcpListen(8080);
  t.true(netnsNames().includes(vm1.name));
  t.not(processesMentioning(vm1.name).length, 0, 'the listener runs in it');

  await vm1.remove();
  t.is(await chassis.vsctl('list-ports', 'br-int'), '');
  await nb.nbctl('--timeout=20', 'wait-until', 'Logical_Switch_Port', Net.vm1.lsp, 'up=false');
  t.false(netnsNames().includes(vm1.name));
  t.deepEqual(processesMentioning(vm1.name), [], 'the listener went with its namespace');
});
