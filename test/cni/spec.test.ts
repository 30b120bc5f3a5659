import { readFile } from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { tenantOf } from '../../src/agent/attachments.js';
import { agentConfigFrom } from '../../src/agent/config.js';
import { addResult, cniArgs, NetConf } from '../../src/cni/spec.js';
import type { Plugged } from '../../src/cni/spec.js';
import { installCni } from '../../src/cli/pods.js';

const plugged: Plugged = {
  hostIfname: 'nvc0123456789ab', hostMac: '02:00:00:00:00:01', ifname: 'eth0', mac: '0a:4e:00:00:00:02', mtu: 1400,
  netns: '/var/run/netns/pod', address: '10.0.1.5', prefixLength: 24, gateway: '10.0.1.1', defaultRoute: true, dnsServers: ['10.0.1.53'], domainName: 'acme.test',
};

test('cni spec - results take each version\'s shape', (t) => {
  t.deepEqual(addResult('1.1.0', plugged), {
    cniVersion: '1.1.0',
    interfaces: [{ name: 'nvc0123456789ab', mac: '02:00:00:00:00:01' }, { name: 'eth0', mac: '0a:4e:00:00:00:02', mtu: 1400, sandbox: '/var/run/netns/pod' }],
    ips: [{ address: '10.0.1.5/24', gateway: '10.0.1.1', interface: 1 }],
    routes: [{ dst: '0.0.0.0/0', gw: '10.0.1.1' }],
    dns: { nameservers: ['10.0.1.53'], domain: 'acme.test', search: ['acme.test'] },
  });
  const v100 = addResult('1.0.0', plugged) as { interfaces: { mtu?: number }[] };
  t.is(v100.interfaces[1]!.mtu, undefined, 'mtu on interfaces is 1.1.0');
  const v040 = addResult('0.4.0', plugged) as { ips: { version?: string }[] };
  t.is(v040.ips[0]!.version, '4', '0.4.0 names the IP version');
  t.false('dns' in addResult('1.1.0', { ...plugged, dnsServers: [] }), 'no DNS servers, no dns');
  t.deepEqual((addResult('1.1.0', { ...plugged, defaultRoute: false }) as { routes: unknown[] }).routes, [], 'a pod\'s second (not primary) interface: no default route');
});

test('cni spec - a prevResult is passed through with novanet\'s interfaces, addresses and routes appended', (t) => {
  const prevResult = {
    cniVersion: '1.1.0',
    interfaces: [{ name: 'lo0', mac: '00:00:00:00:00:00', sandbox: '/var/run/netns/pod' }],
    ips: [{ address: '192.168.0.2/24', interface: 0 }],
    routes: [{ dst: '192.168.0.0/16' }],
    dns: { nameservers: ['192.168.0.53'] },
  };
  const result = addResult('1.1.0', plugged, prevResult) as { interfaces: unknown[]; ips: { interface: number }[]; routes: unknown[]; dns: unknown };
  t.is(result.interfaces.length, 3);
  t.deepEqual(result.ips.map((i) => i.interface), [0, 2], 'novanet\'s address points at its own interface');
  t.deepEqual(result.routes, [{ dst: '192.168.0.0/16' }, { dst: '0.0.0.0/0', gw: '10.0.1.1' }]);
  t.deepEqual(result.dns, { nameservers: ['192.168.0.53'] }, 'the earlier plugin\'s dns is kept');
});

test('cni spec - the network config is strict, and the tenant comes from the namespaces table or org/project', (t) => {
  const base = { cniVersion: '1.1.0', name: 'pods', type: 'novanet', subnet: 'pods' };
  t.true(NetConf.safeParse({ ...base, org: 'acme', project: 'web' }).success);
  t.false(NetConf.safeParse({ ...base, org: 'acme', project: 'web', subent: 'x' }).success, 'unknown field');
  t.false(NetConf.safeParse({ ...base, org: 'acme' }).success, 'org without project');
  t.false(NetConf.safeParse(base).success, 'no tenant at all');
  t.true(NetConf.safeParse({ ...base, org: 'a', project: 'b', runtimeConfig: { portMappings: [] }, 'cni.dev/valid-attachments': [{ containerID: 'c', ifname: 'eth0' }] }).success, 'the spec\'s own keys');
  const conf = NetConf.parse({ ...base, org: 'acme', project: 'web', namespaces: { batch: { org: 'acme', project: 'batch' } } });
  t.deepEqual(tenantOf(conf, { CNI_ARGS: 'K8S_POD_NAMESPACE=batch;K8S_POD_NAME=x' }), { org: 'acme', project: 'batch' });
  t.deepEqual(tenantOf(conf, { CNI_ARGS: 'K8S_POD_NAMESPACE=other' }), { org: 'acme', project: 'web' });
  t.deepEqual([...cniArgs('IgnoreUnknown=1;K8S_POD_NAME=a=b')], [['IgnoreUnknown', '1'], ['K8S_POD_NAME', 'a=b']]);
});

test('cni spec - cni install writes the plugin launcher and an example conflist whose novanet entry is a valid config', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'novanet-cni-install-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const log = console.log;
  console.log = () => undefined;
  try {
    t.is(await installCni({ dir: join(dir, 'bin'), confDir: join(dir, 'net.d') }), 0);
  } finally {
    console.log = log;
  }
  t.regex(await readFile(join(dir, 'bin', 'novanet'), 'utf8'), /^#!\/bin\/sh\nexec '.*node.*' '.*\/src\/cni\/main\.js' "\$@"\n$/);
  const example = JSON.parse(await readFile(join(dir, 'net.d', '10-novanet.conflist.example'), 'utf8')) as { cniVersion: string; name: string; plugins: Record<string, unknown>[] };
  const parsed = NetConf.safeParse({ cniVersion: example.cniVersion, name: example.name, ...example.plugins[0] });
  t.true(parsed.success, JSON.stringify(parsed.error?.issues));
});

test('agent config - the node reaches NATS over TLS with the engine\'s settings, and a certificate needs its key', (t) => {
  const env = { NOVANET_NATS_URL: 'tls://nats-1:4222', NOVANET_NATS_TLS_CA: '/etc/novanet/ca.pem', NOVANET_NATS_TLS_CERT: '/etc/novanet/node.pem', NOVANET_NATS_TLS_KEY: '/etc/novanet/node-key.pem' };
  const config = agentConfigFrom({}, env);
  t.is(config.natsTlsCa, '/etc/novanet/ca.pem');
  t.is(config.natsTlsKey, '/etc/novanet/node-key.pem');
  t.throws(() => agentConfigFrom({ natsTlsCert: '/etc/novanet/node.pem' }, {}), { message: /needs its key/ });
});
