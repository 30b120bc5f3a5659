import test from 'ava';
import { acme, given, globex, id, portCreated, provider, read, vpc, vpcWithSubnet } from '../support/decider.js';

const quotaSet = (limits: Record<string, number>, tenant = acme) => ({ scope: provider, events: [{ type: 'QuotaSet' as const, data: { tenant, limits } }] });

test('tenantquota.set - the operator sets limits per kind; null lifts one, kinds left out keep theirs', (t) => {
  given(quotaSet({ ports: 10, vpcs: 2 })).when(provider, 'tenantquota.set', { tenant: acme, limits: { ports: 20, vpcs: null, subnets: 5 } })
    .then(t, [{ type: 'QuotaSet', data: { tenant: acme, limits: { ports: 20, subnets: 5 } } }]);
  given().when(provider, 'tenantquota.set', { tenant: acme, limits: { ports: -1 } }).thenFails(t, 'VALIDATION_FAILED');
  given().when(provider, 'tenantquota.set', { tenant: acme, limits: { routers: 1 } }).thenFails(t, 'VALIDATION_FAILED');
  given().when(provider, 'tenantquota.set', { tenant: { org: 'Bad Org', project: 'p' }, limits: {} }).thenFails(t, 'VALIDATION_FAILED');
});

test('quotas - a command that would pass a limit is QUOTA_EXCEEDED; other tenants and unlimited kinds are not affected', (t) => {
  const full = [vpcWithSubnet(), { scope: acme, events: [portCreated(3, '10.0.1.2'), portCreated(4, '10.0.1.3')] }, quotaSet({ ports: 2 })] as const;
  given(...full).when(acme, 'port.create', { subnetId: id(2) }).thenFails(t, 'QUOTA_EXCEEDED', { kind: 'ports', limit: 2, used: 2 });
  t.truthy(given(...full).when(acme, 'subnet.create', { vpcId: id(1), name: 'more' }).decision, 'subnets are unlimited');
  t.truthy(given(...full, vpcWithSubnet(globex)).when(globex, 'port.create', { subnetId: id(2) }).decision, 'globex has no quota');
  // Deleting makes room again.
  const freed = { scope: acme, events: [{ type: 'PortDeleted' as const, data: { portId: id(3) } }] };
  t.truthy(given(...full, freed).when(acme, 'port.create', { subnetId: id(2) }).decision);
});

test('quotas - what a command creates besides its resource counts too: a VPC\'s default security group', (t) => {
  given(vpc(), quotaSet({ securityGroups: 1 })).when(acme, 'vpc.create', { name: 'second' }).thenFails(t, 'QUOTA_EXCEEDED', { kind: 'securityGroups' });
  t.truthy(given(vpc(), quotaSet({ securityGroups: 2, vpcs: 2 })).when(acme, 'vpc.create', { name: 'second' }).decision);
});

test('quota.get - a tenant reads its own limits and usage; the operator reads any tenant\'s', (t) => {
  const { view } = given(vpcWithSubnet(), { scope: acme, events: [portCreated(3, '10.0.1.2')] }, quotaSet({ ports: 5 }));
  t.like(read(view, acme, 'quota.get'), { quota: { org: 'acme', limits: { ports: 5, vpcs: null }, usage: { vpcs: 1, subnets: 1, ports: 1, securityGroups: 1, externalIps: 0 } } });
  t.like(read(view, globex, 'quota.get'), { quota: { org: 'globex', usage: { ports: 0 } } });
  t.like(read(view, provider, 'tenantquota.get', { tenant: acme }), { quota: { limits: { ports: 5 }, usage: { ports: 1 } } });
  t.is((read(view, provider, 'tenantquota.list') as { quotas: unknown[] }).quotas.length, 1);
});
