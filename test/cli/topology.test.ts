import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import test from 'ava';
import { PROVIDER_SCOPE } from '../../events/mod.js';
import { startStack } from '../support/stack.js';

const cli = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const run = promisify(execFile);

test('topology - the DOT output names every resource of the tenant and none of another; dot -Tsvg renders it', async (t) => {
  const stack = await startStack();
  t.teardown(() => stack.stop());
  const { client } = stack;
  const net = (await client.call(PROVIDER_SCOPE, 'externalnetwork.create', { name: 'ext', cidr: '172.16.0.0/24', gatewayIp: '172.16.0.1', physicalNetwork: 'physnet1', gatewayChassis: [{ name: 'gw-1', priority: 10 }] })).result.externalNetwork as { id: string };
  await client.call(PROVIDER_SCOPE, 'externalippool.create', { externalNetworkId: net.id, name: 'pool', ranges: [{ first: '172.16.0.10', last: '172.16.0.20' }] });

  const scope = { org: 'topo', project: 'p1' };
  const id = (r: { result: Record<string, unknown> }, key: string) => (r.result[key] as { id: string }).id;
  const vpc = id(await client.call(scope, 'vpc.create', { name: 'main' }), 'vpc');
  const subnets = [id(await client.call(scope, 'subnet.create', { vpcId: vpc, name: 'app' }), 'subnet'), id(await client.call(scope, 'subnet.create', { vpcId: vpc, name: 'db' }), 'subnet')];
  const ports = [
    id(await client.call(scope, 'port.create', { subnetId: subnets[0], name: 'web-1', deviceId: 'vm-1' }), 'port'),
    id(await client.call(scope, 'port.create', { subnetId: subnets[0], name: 'web-2' }), 'port'),
    id(await client.call(scope, 'port.create', { subnetId: subnets[1], name: 'pg' }), 'port'),
  ];
  const lb = id(await client.call(scope, 'loadbalancer.create', { subnetId: subnets[0], name: 'web', listeners: [{ port: 80 }], memberPortIds: ports.slice(0, 2) }), 'loadBalancer');
  const gateway = id(await client.call(scope, 'natgateway.create', { vpcId: vpc }), 'natGateway');
  const floating = id(await client.call(scope, 'externalip.allocate', {}), 'externalIp');
  await client.call(scope, 'externalipattachment.create', { externalIpId: floating, target: { deviceId: 'vm-1' } });
  const other = id(await client.call({ org: 'topo', project: 'p2' }, 'vpc.create', { name: 'elsewhere' }), 'vpc');

  const tenant = ['--nats', stack.nats.url, '--org', scope.org, '--project', scope.project, 'topology'];
  const { stdout: dot } = await run(process.execPath, [cli, ...tenant]);
  t.regex(dot, /^digraph "novanet topo\/p1" \{/);
  for (const named of [`vpc/${vpc}`, ...subnets.map((s) => `subnet/${s}`), ...ports.map((p) => `port/${p}`), `loadbalancer/${lb}`, `natgateway/${gateway}`, `externalip/${floating}`]) {
    t.true(dot.includes(`"${named}"`), named);
  }
  t.true(dot.includes(`"externalip/${floating}" -> "port/${ports[0]}" [label="1:1 NAT"]`), 'the floating IP reaches the device\'s port');
  t.false(dot.includes(other), 'another tenant\'s VPC is not drawn');

  const { stdout: svg } = await run(process.execPath, [cli, ...tenant, '-o', 'svg']);
  t.regex(svg, /<svg[\s\S]*<\/svg>\s*$/);
  t.true(svg.includes('router main'));
  const err = await t.throwsAsync(run(process.execPath, [cli, ...tenant, '-o', 'png'])) as Error & { code: number };
  t.is(err.code, 2);
});
