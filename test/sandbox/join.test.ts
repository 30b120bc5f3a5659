import test from 'ava';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SandboxArgumentError, startChassis, startNorthbound } from '../../src/sandbox/mod.js';
import { boundOn, createDhcpNetwork, leftovers, Net, nothingLeft, prefixOf, tempDir, tracesFound, waitUp } from './helpers.js';

test('join - a chassis joining another one\'s Southbound tunnels Geneve to it: one logical switch spans both, and both reach one outside namespace', async (t) => {
  const dir = await tempDir(t);
  const nb = await startNorthbound({ dir });
  t.teardown(() => nb.stop());
  const first = await startChassis({ dir: join(dir, 'first'), northbound: nb });
  t.teardown(() => first.stop());
  t.is(await first.vsctl('get', 'Open_vSwitch', '.', 'external_ids:ovn-encap-ip'), '"127.0.0.1"', 'alone, it tunnels to nobody');
  const second = await startChassis({ dir: join(dir, 'second'), joins: first });
  t.teardown(() => second.stop());
  t.is(second.pids.length, 3, 'no SB and no ovn-northd of its own: OVS db, ovs-vswitchd, ovn-controller');
  t.is(await first.vsctl('get', 'Open_vSwitch', '.', 'external_ids:ovn-encap-ip'), '"100.64.0.1"', 'the first join moved the first chassis onto the underlay');
  t.is(await second.vsctl('get', 'Open_vSwitch', '.', 'external_ids:ovn-encap-ip'), '"100.64.0.2"');
  t.regex(await first.sbctl('--bare', '--columns=name', 'list', 'Chassis'), new RegExp(second.name), 'the second chassis registered in the first one\'s SB');

  await createDhcpNetwork(nb);
  const [vm1, vm2] = await Promise.all([
    first.plug({ iface: Net.vm1.lsp, namespace: 'vm1', mac: Net.vm1.mac }),
    second.plug({ iface: Net.vm2.lsp, namespace: 'vm2', mac: Net.vm2.mac }),
  ]);
  await Promise.all([waitUp(nb, Net.vm1.lsp), waitUp(nb, Net.vm2.lsp)]);
  t.like(await vm1.dhcp(), { address: Net.vm1.ip });
  t.like(await vm2.dhcp(), { address: Net.vm2.ip, mtu: 1400 });
  await vm2.tcpListen(8080);
  t.deepEqual(await vm1.tcpConnect(Net.vm2.ip, 8080), { ok: true, reply: `${vm2.name} ${Net.vm1.ip}` }, 'TCP between the nodes');
  // A full 1500-byte packet plus Geneve's overhead crosses: the underlay's MTU is above any VM's.
  t.true(await vm2.ping(Net.vm1.ip), 'a small ping crosses (the control of the next check)');
  for (const vm of [vm1, vm2]) await vm.exec(['ip', 'link', 'set', vm.ifname, 'mtu', '1500']);
  t.is((await vm2.exec(['busybox', 'ping', '-c', '1', '-W', '2', '-s', '1472', Net.vm1.ip])).code, 0, 'a 1500-byte packet crosses');
  const tunnels = await first.vsctl('--bare', '--columns=options', 'find', 'Interface', 'type=geneve');
  t.regex(tunnels, /remote_ip="?100\.64\.0\.2/, 'through a Geneve tunnel to the second chassis');

  const outside = await first.addProviderNetwork({ physnet: 'physnet', bridge: 'br-ex', outside: { namespace: 'outside', address: '172.16.0.1/24' } });
  t.is(await second.addProviderNetwork({ physnet: 'physnet', bridge: 'br-ex' }), outside, 'the second chassis shares the physnet\'s outside namespace');
  t.is(await second.vsctl('get', 'Open_vSwitch', '.', 'external_ids:ovn-bridge-mappings'), '"physnet:br-ex"');
  await t.throwsAsync(second.addProviderNetwork({ physnet: 'other', bridge: 'br-other' }), { instanceOf: SandboxArgumentError }, 'a new physnet needs its outside namespace');
  await t.throwsAsync(second.addProviderNetwork({ physnet: 'physnet', bridge: 'br-ex2', outside: { namespace: 'outside2', address: '172.16.0.2/24' } }), { instanceOf: SandboxArgumentError }, 'a physnet has one outside namespace');

  const prefixes = [prefixOf(first), prefixOf(second)];
  t.true(tracesFound(prefixes[0]!, join(dir, 'first')) && tracesFound(prefixes[1]!, join(dir, 'second')));
  await nb.nbctl('--timeout=10', '--wait=hv', 'sync');
  await second.stop();
  await t.throwsAsync(nb.nbctl('--timeout=2', '--wait=hv', 'sync'), undefined, 'a stopped chassis stays registered: --wait=hv waits for it in vain');
  await first.stop();
  await t.throwsAsync(startChassis({ dir: join(dir, 'third'), joins: first }), { instanceOf: SandboxArgumentError }, 'nothing to join once the SB\'s chassis stopped');
  await nb.stop();
  t.deepEqual(leftovers(prefixes[0]!, join(dir, 'first')), nothingLeft);
  t.deepEqual(leftovers(prefixes[1]!, join(dir, 'second')), nothingLeft);
});

test('join - with only its two gateway chassis, the survivor of the active one never claims the gateway port; once a third chassis uses it, it does', async (t) => {
  const dir = await tempDir(t);
  const nb = await startNorthbound({ dir });
  t.teardown(() => nb.stop());
  const first = await startChassis({ dir: join(dir, 'first'), northbound: nb });
  t.teardown(() => first.stop());
  const second = await startChassis({ dir: join(dir, 'second'), joins: first });
  t.teardown(() => second.stop());
  const outsideIp = '172.16.0.1';
  const externalIp = '172.16.0.100';
  const outside = await first.addProviderNetwork({ physnet: 'physnet', bridge: 'br-ex', outside: { namespace: 'outside', address: `${outsideIp}/24` } });
  await second.addProviderNetwork({ physnet: 'physnet', bridge: 'br-ex' });
  await createDhcpNetwork(nb);
  await nb.nbctl('ls-add', 'ext', '--',
    'lsp-add', 'ext', 'ext-ln', '--', 'lsp-set-type', 'ext-ln', 'localnet', '--',
    'lsp-set-addresses', 'ext-ln', 'unknown', '--', 'lsp-set-options', 'ext-ln', 'network_name=physnet', '--',
    'lrp-add', 'lr0', 'lr0-ext', '02:00:ac:10:00:64', `${externalIp}/24`, '--',
    'lrp-set-gateway-chassis', 'lr0-ext', first.name, '10', '--',
    'lrp-set-gateway-chassis', 'lr0-ext', second.name, '20', '--',
    'lsp-add', 'ext', 'ext-lr0', '--', 'lsp-set-type', 'ext-lr0', 'router', '--',
    'lsp-set-addresses', 'ext-lr0', 'router', '--', 'lsp-set-options', 'ext-lr0', 'router-port=lr0-ext', 'nat-addresses=router', '--',
    'lr-nat-add', 'lr0', 'snat', externalIp, Net.cidr, '--',
    'lr-route-add', 'lr0', '0.0.0.0/0', outsideIp);
  const vm1 = await first.plug({ iface: Net.vm1.lsp, namespace: 'vm1', mac: Net.vm1.mac });
  await waitUp(nb, Net.vm1.lsp);
  await nb.nbctl('--timeout=20', '--wait=hv', 'sync');
  t.like(await vm1.dhcp(), { address: Net.vm1.ip });
  const gatewayPort = 'logical_port=cr-lr0-ext';
  const holder = async (name: string, timeoutMs: number) => {
    for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(200)) if ((await boundOn(first, gatewayPort)) === name) return true;
    return false;
  };
  t.true(await holder(second.name, 20_000), 'the priority-20 chassis holds the gateway port');
  await outside.tcpListen(8080);
  t.deepEqual(await vm1.tcpConnect(outsideIp, 8080, { timeoutMs: 10_000 }), { ok: true, reply: `${outside.name} ${externalIp}` }, 'SNAT through it');

  await second.stop();
  // Ten seconds: BFD declares the peer down after 3 s.
  await sleep(10_000);
  t.is(await boundOn(first, gatewayPort), second.name, 'the gateway port stays on the stopped chassis');
  t.regex(await first.vsctl('--bare', '--columns=bfd_status', 'find', 'Interface', 'type=geneve'), /state=down/, 'the survivor\'s BFD saw it go');
  t.false((await vm1.tcpConnect(outsideIp, 8080, { timeoutMs: 1500 })).ok, 'no SNAT: nobody holds the gateway');

  // Positive control: a third chassis with a port behind the router gives the survivor a live BFD session.
  const third = await startChassis({ dir: join(dir, 'third'), joins: first });
  t.teardown(() => third.stop());
  await third.plug({ iface: Net.vm2.lsp, namespace: 'vm2', mac: Net.vm2.mac });
  await waitUp(nb, Net.vm2.lsp);
  t.true(await holder(first.name, 30_000), 'the priority-10 chassis claims the gateway port');
  t.deepEqual(await vm1.tcpConnect(outsideIp, 8080, { timeoutMs: 10_000 }), { ok: true, reply: `${outside.name} ${externalIp}` }, 'and SNAT works again');
});
