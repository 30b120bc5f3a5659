import test from 'ava';
import { startChassis, startNorthbound } from '../../src/sandbox/mod.js';
import { createDhcpNetwork, leftovers, Net, nothingLeft, prefixOf, tempDir, tracesFound, waitUp } from './helpers.js';

const outsideIp = '172.16.0.1';
const externalIp = '172.16.0.100';

test('provider - a localnet network reaches the outside namespace, and SNAT shows the router external IP as source', async (t) => {
  const dir = await tempDir(t);
  const nb = await startNorthbound({ dir });
  t.teardown(() => nb.stop());
  const chassis = await startChassis({ dir, northbound: nb });
  t.teardown(() => chassis.stop());
  const prefix = prefixOf(chassis);

  const outside = await chassis.addProviderNetwork({ physnet: 'physnet', bridge: 'br-ex', outside: { namespace: 'outside', address: `${outsideIp}/24` } });
  t.is(outside.name, `${prefix}-outside`);
  t.is(await chassis.vsctl('get', 'Open_vSwitch', '.', 'external_ids:ovn-bridge-mappings'), '"physnet:br-ex"');

  await createDhcpNetwork(nb);
  await nb.nbctl('ls-add', 'ext', '--',
    'lsp-add', 'ext', 'ext-ln', '--', 'lsp-set-type', 'ext-ln', 'localnet', '--',
    'lsp-set-addresses', 'ext-ln', 'unknown', '--', 'lsp-set-options', 'ext-ln', 'network_name=physnet', '--',
    'lrp-add', 'lr0', 'lr0-ext', '02:00:ac:10:00:64', `${externalIp}/24`, '--',
    'lrp-set-gateway-chassis', 'lr0-ext', chassis.name, '--',
    'lsp-add', 'ext', 'ext-lr0', '--', 'lsp-set-type', 'ext-lr0', 'router', '--',
    'lsp-set-addresses', 'ext-lr0', 'router', '--', 'lsp-set-options', 'ext-lr0', 'router-port=lr0-ext', 'nat-addresses=router', '--',
    'lr-nat-add', 'lr0', 'snat', externalIp, Net.cidr, '--',
    'lr-route-add', 'lr0', '0.0.0.0/0', outsideIp);
  const vm1 = await chassis.plug({ iface: Net.vm1.lsp, namespace: 'vm1', mac: Net.vm1.mac });
  await waitUp(nb, Net.vm1.lsp);
  // The gateway port is bound (chassisredirect) once every chassis has caught up with this NB state.
  await nb.nbctl('--timeout=20', '--wait=hv', 'sync');
  t.like(await vm1.dhcp(), { address: Net.vm1.ip });

  t.true(await outside.ping(externalIp));
  t.true(await vm1.ping(outsideIp));
  await outside.tcpListen(8080);
  t.deepEqual(await vm1.tcpConnect(outsideIp, 8080), { ok: true, reply: `${outside.name} ${externalIp}` });
  const udp = await outside.udpListen(5353);
  t.like(await vm1.udpSend(outsideIp, 5353, 'out'), { ok: true });
  t.like(await udp.next(), { data: 'out', from: externalIp });

  t.true(tracesFound(prefix, dir));
  await chassis.stop();
  await nb.stop();
  t.deepEqual(leftovers(prefix, dir), nothingLeft);
});
