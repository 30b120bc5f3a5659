import test from 'ava';
import type { ExecutionContext } from 'ava';
import { join } from 'node:path';
import { startChassis, startNorthbound } from '../../src/sandbox/mod.js';
import { createDhcpNetwork, leftovers, Net, nothingLeft, prefixOf, tempDir, tracesFound, waitUp } from './helpers.js';

/** One NB + chassis with the very same topology, namespace names, MACs and IPs as every other run. */
async function runIsland(t: ExecutionContext, dir: string): Promise<{ prefix: string; stop: () => Promise<void> }> {
  const nb = await startNorthbound({ dir });
  t.teardown(() => nb.stop());
  const chassis = await startChassis({ dir, northbound: nb });
  t.teardown(() => chassis.stop());
  await createDhcpNetwork(nb);
  const [vm1, vm2] = await Promise.all([
    chassis.plug({ iface: Net.vm1.lsp, namespace: 'vm1', mac: Net.vm1.mac }),
    chassis.plug({ iface: Net.vm2.lsp, namespace: 'vm2', mac: Net.vm2.mac }),
  ]);
  await Promise.all([waitUp(nb, Net.vm1.lsp), waitUp(nb, Net.vm2.lsp)]);
  t.like(await vm1.dhcp(), { address: Net.vm1.ip });
  t.like(await vm2.dhcp(), { address: Net.vm2.ip });
  t.true(await vm1.ping(Net.gateway));
  await vm2.tcpListen(8080);
  // The reply names the namespace that answered: this island's vm2, not the other's.
  t.deepEqual(await vm1.tcpConnect(Net.vm2.ip, 8080), { ok: true, reply: `${vm2.name} ${Net.vm1.ip}` });
  return {
    prefix: prefixOf(chassis),
    stop: async () => {
      await chassis.stop();
      await nb.stop();
    },
  };
}

test('concurrent - two chassis with identical topologies run side by side without clashing', async (t) => {
  const dir = await tempDir(t);
  const [a, b] = await Promise.all([runIsland(t, join(dir, 'a')), runIsland(t, join(dir, 'b'))]);
  t.not(a.prefix, b.prefix);
  t.true(tracesFound(a.prefix, join(dir, 'a')) && tracesFound(b.prefix, join(dir, 'b')));
  await Promise.all([a.stop(), b.stop()]);
  t.deepEqual(leftovers(a.prefix, join(dir, 'a')), nothingLeft);
  t.deepEqual(leftovers(b.prefix, join(dir, 'b')), nothingLeft);
});
