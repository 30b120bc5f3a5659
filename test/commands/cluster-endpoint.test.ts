import test from 'ava';
import type { NovanetEvent } from '../../events/mod.js';
import type { Given } from '../support/decider.js';
import { acme, DEFAULT_GROUP, externalIpAllocated, given, globex, id, mac, outside, portCreated, read, vpcWithSubnet } from '../support/decider.js';

/**
 * External IPs on load balancers and cluster endpoints, and a device's external IP on its
 * primary. Common history: the default external network id(50) with pool id(51), acme's VPC
 * id(1) with subnet id(2), member ports id(3) and id(4), external IPs id(60) = .10, id(61) = .11.
 */

const did = (...events: NovanetEvent[]): Given => ({ scope: acme, events });
const base = (): Given[] => [outside(), vpcWithSubnet(), did(portCreated(3, '10.0.1.2'), portCreated(4, '10.0.1.3'), externalIpAllocated(60, '203.0.113.10'), externalIpAllocated(61, '203.0.113.11'))];
const lbCreated = (n: number, endpoint?: { clusterId: string; role: 'api' | 'ingress' }, name = `lb${n}`): NovanetEvent => ({
  type: 'LoadBalancerCreated',
  data: {
    loadBalancerId: id(n), subnetId: id(2), name, vipAddress: `10.0.1.${n}`, protocol: 'tcp', listeners: [{ port: 6443, targetPort: 6443 }],
    memberPortIds: [id(3), id(4)], ...(endpoint && { endpoint }),
  },
});
const attached = (n: number, externalIpId: string, target: Record<string, string>): NovanetEvent =>
  ({ type: 'ExternalIpAttachmentCreated', data: { attachmentId: id(n), externalIpId, target } as never });
const api = { clusterId: 'c1', role: 'api' as const };

// --- loadbalancer.create endpoint -----------------------------------------------------------

test('loadbalancer.create - endpoint names the cluster endpoint it serves; recorded and shown', (t) => {
  const d = given(...base()).when(acme, 'loadbalancer.create', { subnetId: id(2), name: 'api', listeners: [{ port: 6443 }], memberPortIds: [id(3), id(4)], endpoint: api })
    .then(t, [{
      type: 'LoadBalancerCreated',
      data: { loadBalancerId: id(100), subnetId: id(2), name: 'api', vipAddress: '10.0.1.4', protocol: 'tcp', listeners: [{ port: 6443, targetPort: 6443 }], memberPortIds: [id(3), id(4)], endpoint: api },
    }]);
  t.like(d.result, { loadBalancer: { endpoint: api } });
  const plain = given(...base()).when(acme, 'loadbalancer.create', { subnetId: id(2), name: 'web', listeners: [{ port: 80 }] }).thenSucceeds(t);
  t.like(plain.result, { loadBalancer: { endpoint: null } });
});

test('loadbalancer.create - one load balancer per cluster endpoint in the tenant: a second is ALREADY_EXISTS', (t) => {
  const history = [...base(), did(lbCreated(20, api))];
  given(...history).when(acme, 'loadbalancer.create', { subnetId: id(2), name: 'api2', listeners: [{ port: 6443 }], endpoint: api })
    .thenFails(t, 'ALREADY_EXISTS', { loadBalancerId: id(20) });
  // The cluster's other role, another cluster, and another tenant are free.
  given(...history).when(acme, 'loadbalancer.create', { subnetId: id(2), name: 'ingress', listeners: [{ port: 443 }], endpoint: { clusterId: 'c1', role: 'ingress' } }).thenSucceeds(t);
  given(...history).when(acme, 'loadbalancer.create', { subnetId: id(2), name: 'c2', listeners: [{ port: 6443 }], endpoint: { clusterId: 'c2', role: 'api' } }).thenSucceeds(t);
});

test('loadbalancer.create - endpoint role is api or ingress, clusterId a name; strict', (t) => {
  const create = (endpoint: unknown) => given(...base()).when(acme, 'loadbalancer.create', { subnetId: id(2), name: 'x', listeners: [{ port: 1 }], endpoint });
  create({ clusterId: 'c1', role: 'console' }).thenFails(t, 'VALIDATION_FAILED');
  create({ clusterId: '', role: 'api' }).thenFails(t, 'VALIDATION_FAILED');
  create({ role: 'api' }).thenFails(t, 'VALIDATION_FAILED');
  create({ clusterId: 'c1', role: 'api', extra: 1 }).thenFails(t, 'VALIDATION_FAILED');
});

test('loadbalancer.list - filters by clusterId', (t) => {
  const { view } = given(...base(), did(lbCreated(20, api), lbCreated(21)));
  t.deepEqual((read(view, acme, 'loadbalancer.list', { clusterId: 'c1' }).loadBalancers as { id: string }[]).map((lb) => lb.id), [id(20)]);
});

// --- externalipattachment.create targets ------------------------------------------------------

test('externalipattachment.create - to a load balancer, by id', (t) => {
  const d = given(...base(), did(lbCreated(20))).when(acme, 'externalipattachment.create', { externalIpId: id(60), target: { loadBalancerId: id(20) } })
    .then(t, [{ type: 'ExternalIpAttachmentCreated', data: { attachmentId: id(100), externalIpId: id(60), target: { loadBalancerId: id(20) } } }]);
  t.like(d.result, { externalIpAttachment: { target: { loadBalancerId: id(20) }, phase: 'Pending' } });
  given(...base()).when(acme, 'externalipattachment.create', { externalIpId: id(60), target: { loadBalancerId: id(20) } }).thenFails(t, 'NOT_FOUND');
  given(...base(), did(lbCreated(20))).when(globex, 'externalipattachment.create', { externalIpId: id(60), target: { loadBalancerId: id(20) } }).thenFails(t, 'NOT_FOUND');
});

test('externalipattachment.create - to a cluster endpoint, before any load balancer serves it', (t) => {
  given(...base()).when(acme, 'externalipattachment.create', { externalIpId: id(60), target: { clusterId: 'c1', endpoint: 'api' } })
    .then(t, [{ type: 'ExternalIpAttachmentCreated', data: { attachmentId: id(100), externalIpId: id(60), target: { clusterId: 'c1', endpoint: 'api' } } }]);
});

test('externalipattachment.create - endpoint is required for a cluster target and refused for every other', (t) => {
  const create = (target: unknown) => given(...base(), did(lbCreated(20))).when(acme, 'externalipattachment.create', { externalIpId: id(60), target });
  create({ clusterId: 'c1' }).thenFails(t, 'VALIDATION_FAILED');
  create({ clusterId: 'c1', endpoint: 'console' }).thenFails(t, 'VALIDATION_FAILED');
  create({ portId: id(3), endpoint: 'api' }).thenFails(t, 'VALIDATION_FAILED');
  create({ deviceId: 'vm', endpoint: 'api' }).thenFails(t, 'VALIDATION_FAILED');
  create({ loadBalancerId: id(20), endpoint: 'api' }).thenFails(t, 'VALIDATION_FAILED');
  create({ loadBalancerId: id(20), clusterId: 'c1', endpoint: 'api' }).thenFails(t, 'VALIDATION_FAILED');
});

test('externalipattachment.create - one attachment per load balancer, by its id or by its endpoint: CONFLICT', (t) => {
  const byEndpoint = [...base(), did(lbCreated(20, api), attached(70, id(60), { clusterId: 'c1', endpoint: 'api' }))];
  given(...byEndpoint).when(acme, 'externalipattachment.create', { externalIpId: id(61), target: { loadBalancerId: id(20) } }).thenFails(t, 'CONFLICT', { attachmentId: id(70) });
  given(...byEndpoint).when(acme, 'externalipattachment.create', { externalIpId: id(61), target: { clusterId: 'c1', endpoint: 'api' } }).thenFails(t, 'CONFLICT', { attachmentId: id(70) });
  const byId = [...base(), did(lbCreated(20, api), attached(70, id(60), { loadBalancerId: id(20) }))];
  given(...byId).when(acme, 'externalipattachment.create', { externalIpId: id(61), target: { clusterId: 'c1', endpoint: 'api' } }).thenFails(t, 'CONFLICT', { attachmentId: id(70) });
  given(...byId).when(acme, 'externalipattachment.create', { externalIpId: id(61), target: { clusterId: 'c1', endpoint: 'ingress' } }).thenSucceeds(t);
  // An IP already attached is CONFLICT as before.
  given(...byId).when(acme, 'externalipattachment.create', { externalIpId: id(60), target: { clusterId: 'c1', endpoint: 'ingress' } }).thenFails(t, 'CONFLICT', { attachmentId: id(70) });
});

test('loadbalancer.delete - IN_USE while an attachment names it by id; an attachment by endpoint stays', (t) => {
  given(...base(), did(lbCreated(20, api), attached(70, id(60), { loadBalancerId: id(20) }))).when(acme, 'loadbalancer.delete', { loadBalancerId: id(20) })
    .thenFails(t, 'IN_USE', { attachmentId: id(70) });
  given(...base(), did(lbCreated(20, api), attached(70, id(60), { clusterId: 'c1', endpoint: 'api' }))).when(acme, 'loadbalancer.delete', { loadBalancerId: id(20) })
    .then(t, [{ type: 'LoadBalancerDeleted', data: { loadBalancerId: id(20) } }]);
});

test('externalipattachment reads - show the target as given, filter by loadBalancerId and clusterId', (t) => {
  const { view } = given(...base(), did(lbCreated(20), attached(70, id(60), { loadBalancerId: id(20) }), attached(71, id(61), { clusterId: 'c1', endpoint: 'api' })));
  t.like(read(view, acme, 'externalipattachment.get', { attachmentId: id(71) }), { externalIpAttachment: { target: { clusterId: 'c1', endpoint: 'api' } } });
  t.deepEqual((read(view, acme, 'externalipattachment.list', { loadBalancerId: id(20) }).externalIpAttachments as { id: string }[]).map((a) => a.id), [id(70)]);
  t.deepEqual((read(view, acme, 'externalipattachment.list', { clusterId: 'c1' }).externalIpAttachments as { id: string }[]).map((a) => a.id), [id(71)]);
});

// --- a device's attachment and its primary -----------------------------------------------------

test('externalipattachment.create - a device with ports: CONFLICT when any of its ports has an attachment of its own', (t) => {
  const nic = (n: number, ip: string, primary: boolean): NovanetEvent =>
    ({ type: 'PortCreated', data: { portId: id(n), subnetId: id(2), macAddress: mac(n), ipAddress: ip, securityGroupIds: [DEFAULT_GROUP], deviceId: 'vm', primary } });
  const history = [...base(), did(nic(5, '10.0.1.5', true), nic(6, '10.0.1.6', false), attached(70, id(60), { portId: id(6) }))];
  given(...history).when(acme, 'externalipattachment.create', { externalIpId: id(61), target: { deviceId: 'vm' } }).thenFails(t, 'CONFLICT', { attachmentId: id(70), deviceId: 'vm' });
});
