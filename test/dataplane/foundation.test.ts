import test from 'ava';
import { startStack } from '../support/stack.js';

test('dataplane - namespaces on two ports get the allocated addresses from OVN DHCP and ping each other and the gateway', async (t) => {
  const stack = await startStack({ chassis: true });
  t.teardown(() => stack.stop());
  const chassis = stack.chassis!;
  const scope = { org: 'dp', project: 'p1' };
  const { client } = stack;
  const vpc = (await client.call(scope, 'vpc.create', { name: 'dp' })).result.vpc as { id: string };
  const subnet = (await client.call(scope, 'subnet.create', { vpcId: vpc.id, name: 'app', cidr: '10.0.7.0/24', dnsServers: ['10.0.7.53'], mtu: 1400, leaseTime: 3600, hostRoutes: [{ destination: '192.168.70.0/24', nextHop: '10.0.7.254' }] })).result.subnet as { id: string; gatewayIp: string };
  const ports = await Promise.all(['a', 'b'].map(async (name) =>
    (await client.call(scope, 'port.create', { subnetId: subnet.id, deviceId: `vm-${name}` })).result.port as { id: string; ipAddress: string; macAddress: string }));

  const namespaces = await Promise.all(ports.map((p, i) => chassis.plug({ iface: p.id, namespace: `vm${i}`, mac: p.macAddress, ifaceIdVer: `vm-${['a', 'b'][i]!}` })));
  // The binding shows up in the port's status once ovn-controller claims the VIF.
  await Promise.all(ports.map((p) => client.waitFor(scope, 'port', p.id, (s) => s.phase === 'Ready' && s.bound === true, 60_000)));

  for (const [i, ns] of namespaces.entries()) {
    const lease = await ns.dhcp({ timeoutMs: 30_000 });
    t.is(lease.address, ports[i]!.ipAddress, 'DHCP hands out exactly the address the engine allocated');
    t.is(lease.prefixLength, 24);
    t.is(lease.router, subnet.gatewayIp);
    t.deepEqual(lease.dns, ['10.0.7.53']);
    t.is(lease.mtu, 1400);
    t.is(lease.leaseTime, 3600);
    // Option 121 carries the host route and, since clients then ignore the router option, the default route.
    t.deepEqual(lease.staticRoutes, [{ destination: '192.168.70.0/24', nextHop: '10.0.7.254' }, { destination: '0.0.0.0/0', nextHop: subnet.gatewayIp }]);
    t.regex((await namespaces[i]!.exec(['ip', 'route', 'show', '192.168.70.0/24'])).stdout, /via 10\.0\.7\.254/);
  }
  // subnet.update reaches the running dataplane: the next lease carries the new settings.
  const updated = await client.call(scope, 'subnet.update', { subnetId: subnet.id, dnsServers: ['10.0.7.54', '10.0.7.55'], mtu: 1450 });
  await client.waitFor(scope, 'subnet', subnet.id, (s) => s.phase === 'Ready' && s.observedSeq >= updated.seq);
  const renewed = await namespaces[0]!.dhcp({ timeoutMs: 30_000 });
  t.like(renewed, { address: ports[0]!.ipAddress, dns: ['10.0.7.54', '10.0.7.55'], mtu: 1450, leaseTime: 3600 });

  t.true(await namespaces[0]!.ping(ports[1]!.ipAddress), 'a reaches b');
  t.true(await namespaces[1]!.ping(ports[0]!.ipAddress), 'b reaches a');
  t.true(await namespaces[0]!.ping(subnet.gatewayIp), 'a reaches its gateway (the VPC router)');

  // Deleting a port takes it off the switch: its neighbour can no longer reach it.
  await client.call(scope, 'port.delete', { portId: ports[1]!.id });
  await client.waitFor(scope, 'port', ports[1]!.id, (s) => s.phase === 'Deleted');
  t.false(await namespaces[0]!.ping(ports[1]!.ipAddress, { count: 2, timeoutMs: 3000 }), 'deleted port is unreachable');

  // With DHCP off the subnet's ports get no lease (a statically configured VM keeps working).
  const off = await client.call(scope, 'subnet.update', { subnetId: subnet.id, dhcpEnabled: false });
  await client.waitFor(scope, 'port', ports[0]!.id, (s) => s.observedSeq >= off.seq);
  await t.throwsAsync(namespaces[0]!.dhcp({ timeoutMs: 3000 }), undefined, 'no DHCP answer once DHCP is off');
});
