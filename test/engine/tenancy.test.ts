import test from 'ava';
import { PROVIDER_SCOPE } from '../../events/mod.js';
import { NovanetClient } from '../../src/bus/client.js';
import { startTenantsStack } from '../support/tenants.js';

test('tenancy - with deploy/nats/tenants.conf a tenant commands and watches only its own resources', async (t) => {
  const { login } = await startTenantsStack(t);
  const acme = new NovanetClient(await login('acme-web', 'change-me-acme'), 'novanet', 3000);
  const globex = new NovanetClient(await login('globex-web', 'change-me-globex'), 'novanet', 3000);
  const operator = new NovanetClient(await login('operator', 'change-me-operator'), 'novanet', 3000);
  const acmeScope = { org: 'acme', project: 'web' };
  const globexScope = { org: 'globex', project: 'web' };

  // Own subjects: commands and status watches work.
  const vpc = (await acme.call(acmeScope, 'vpc.create', { name: 'main' })).result.vpc as { id: string };
  t.like(await acme.waitFor(acmeScope, 'vpc', vpc.id, (s) => s.phase === 'Ready'), { org: 'acme' });
  const theirs = (await globex.call(globexScope, 'vpc.create', { name: 'main' })).result.vpc as { id: string };
  await globex.waitFor(globexScope, 'vpc', theirs.id, (s) => s.phase === 'Ready');

  // Another tenant's subjects are refused by NATS itself, before the engine sees anything.
  await t.throwsAsync(acme.request(globexScope, 'vpc.list', {}), undefined, 'no commands on another tenant\'s subjects');
  await t.throwsAsync(acme.watch(globexScope, 'vpc', theirs.id, () => t.fail('saw another tenant\'s status')), undefined, 'no reads of another tenant\'s statuses');
  await t.throwsAsync(acme.request(PROVIDER_SCOPE, 'externalnetwork.list', {}), undefined, 'tenants cannot reach the provider subjects');

  // The operator reaches the provider subjects.
  const network = await operator.call(PROVIDER_SCOPE, 'externalnetwork.create', {
    name: 'ext', cidr: '172.16.0.0/24', gatewayIp: '172.16.0.1', physicalNetwork: 'physnet1', gatewayChassis: [{ name: 'gw', priority: 1 }],
  });
  const id = (network.result.externalNetwork as { id: string }).id;
  t.like(await operator.waitFor(PROVIDER_SCOPE, 'externalnetwork', id, (s) => s.phase === 'Ready'), { org: '_provider' });
});
