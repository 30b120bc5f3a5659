import test from 'ava';
import { acme, given, globex, id, portCreated, read, vpcWithSubnet } from '../support/decider.js';

test('queries - a tenant sees only its own resources', (t) => {
  const { view } = given(vpcWithSubnet(acme), { scope: acme, events: [portCreated(3, '10.0.1.2')] });
  t.is((read(view, acme, 'vpc.list', {}).vpcs as unknown[]).length, 1);
  t.deepEqual(read(view, globex, 'vpc.list', {}).vpcs, []);
  t.deepEqual(read(view, globex, 'subnet.list', {}).subnets, []);
  t.deepEqual(read(view, globex, 'port.list', {}).ports, []);
  t.throws(() => read(view, globex, 'vpc.get', { vpcId: id(1) }), { message: /not found/ });
  t.throws(() => read(view, globex, 'port.get', { portId: id(3) }), { message: /not found/ });
  t.like(read(view, acme, 'port.get', { portId: id(3) }), { port: { ipAddress: '10.0.1.2' } });
});

test('queries - list filters', (t) => {
  const { view } = given(vpcWithSubnet(acme), { scope: acme, events: [portCreated(3, '10.0.1.2'), { type: 'PortCreated', data: { portId: id(4), subnetId: id(2), macAddress: '02:00:00:00:00:04', ipAddress: '10.0.1.3', deviceId: 'vm-4' } }] });
  t.is((read(view, acme, 'port.list', { subnetId: id(2) }).ports as unknown[]).length, 2);
  t.is((read(view, acme, 'port.list', { deviceId: 'vm-4' }).ports as unknown[]).length, 1);
  t.is((read(view, acme, 'subnet.list', { vpcId: id(1) }).subnets as unknown[]).length, 1);
  t.is((read(view, acme, 'subnet.list', { vpcId: id(9) }).subnets as unknown[]).length, 0);
});
