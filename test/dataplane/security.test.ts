import test from 'ava';
import { plugVm, startStack } from '../support/stack.js';
import type { Stack } from '../support/stack.js';

/**
 * Security groups with real packets. One VPC, one subnet, five namespaces:
 *   web     (group web)     serves tcp 22, 80, 443, 8050 and udp 53, 54
 *   client  (group client)  egress only tcp 80/8000-8100, udp 53, icmp
 *   peer1, peer2 (VPC default group)
 *   bare    (no group at all)
 * web admits tcp 80 and 443 and udp 53 from anywhere, icmp echo and tcp 8000-8100 from members of client.
 */

const BLOCKED = { timeoutMs: 1500 };


test('dataplane - security groups allow exactly what their rules say', async (t) => {
  const stack: Stack = await startStack({ chassis: true });
  t.teardown(() => stack.stop());
  const { client } = stack;
  const scope = { org: 'sgdp', project: 'p1' };
  const vpc = (await client.call(scope, 'vpc.create', { name: 'v' })).result.vpc as { id: string; defaultSecurityGroupId: string };
  const subnet = (await client.call(scope, 'subnet.create', { vpcId: vpc.id, name: 's', cidr: '10.0.5.0/24' })).result.subnet as { id: string; gatewayIp: string };
  const clientGroup = (await client.call(scope, 'securitygroup.create', {
    vpcId: vpc.id, name: 'client',
    egressRules: [
      { protocol: 'tcp', portRange: { min: 80, max: 80 }, remote: { cidr: '0.0.0.0/0' } },
      { protocol: 'tcp', portRange: { min: 8000, max: 8100 }, remote: { cidr: '0.0.0.0/0' } },
      { protocol: 'udp', portRange: { min: 53, max: 53 }, remote: { cidr: '10.0.0.0/8' } },
      { protocol: 'icmp', remote: { cidr: '0.0.0.0/0' } },
    ],
  })).result.securityGroup as { id: string };
  const web = (await client.call(scope, 'securitygroup.create', {
    vpcId: vpc.id, name: 'web',
    ingressRules: [
      { protocol: 'tcp', portRange: { min: 80, max: 80 }, remote: { cidr: '0.0.0.0/0' } },
      { protocol: 'tcp', portRange: { min: 443, max: 443 }, remote: { cidr: '0.0.0.0/0' } },
      { protocol: 'udp', portRange: { min: 53, max: 53 }, remote: { cidr: '10.0.5.0/24' } },
      { protocol: 'icmp', icmpType: 8, remote: { securityGroupId: clientGroup.id } },
      { protocol: 'tcp', portRange: { min: 8000, max: 8100 }, remote: { securityGroupId: clientGroup.id } },
    ],
  })).result.securityGroup as { id: string };

  const vm = (name: string, securityGroupIds?: string[]) => plugVm(stack, scope, name, { subnetId: subnet.id, ...(securityGroupIds && { securityGroupIds }) });
  const [w, c, p1, p2, bare] = await Promise.all([vm('web', [web.id]), vm('client', [clientGroup.id]), vm('peer1'), vm('peer2'), vm('bare', [])]);
  const all = [w, c, p1, p2, bare];
  await stack.northbound.nbctl('--timeout=60', '--wait=hv', 'sync');

  // DHCP works whatever the groups say, also for a port in no group at all.
  for (const v of all) t.is((await v.ns.dhcp({ timeoutMs: 20_000 })).address, v.ip, `${v.ns.name} got its address`);
  for (const port of [22, 80, 443, 8050]) await w.ns.tcpListen(port);
  for (const port of [53, 54]) await w.ns.udpListen(port);

  await t.notThrowsAsync(async () => {
    t.true(await bare.ns.ping(subnet.gatewayIp), 'a port in no group still reaches its gateway');
    t.false(await bare.ns.ping(p1.ip, BLOCKED), 'but nothing else');
  });

  // TCP: allowed ports connect, others do not.
  t.true((await p1.ns.tcpConnect(w.ip, 80)).ok, 'tcp 80 from anywhere');
  t.true((await p1.ns.tcpConnect(w.ip, 443)).ok, 'tcp 443 from anywhere');
  t.false((await p1.ns.tcpConnect(w.ip, 22, BLOCKED)).ok, 'tcp 22 has no rule');
  // Remote group: 8000-8100 only from members of client.
  t.true((await c.ns.tcpConnect(w.ip, 8050)).ok, 'client member reaches 8050');
  t.false((await p1.ns.tcpConnect(w.ip, 8050, BLOCKED)).ok, 'non-member does not');
  // ICMP by rule: echo from client members only.
  t.true(await c.ns.ping(w.ip), 'icmp from client member');
  t.false(await p1.ns.ping(w.ip, BLOCKED), 'icmp from non-member dropped');
  // UDP.
  t.true((await p1.ns.udpSend(w.ip, 53, 'q')).ok, 'udp 53 allowed');
  t.false((await p1.ns.udpSend(w.ip, 54, 'q', BLOCKED)).ok, 'udp 54 not');
  t.true((await w.ns.udpSend('127.0.0.1', 54, 'q')).ok, 'though its listener answers where no ACL stands between');
  // Egress: client may not send tcp 443 even though web would admit it.
  t.false((await c.ns.tcpConnect(w.ip, 443, BLOCKED)).ok, 'egress rule restricts outbound');
  // The default group admits its own members, and drops others.
  t.true(await p1.ns.ping(p2.ip), 'default group members reach each other');
  t.false(await c.ns.ping(p1.ip, BLOCKED), 'non-members cannot reach default group members');

  // Rules change at run time, on the running ports.
  const added = await client.call(scope, 'securitygroup.rule.add', { securityGroupId: web.id, direction: 'ingress', rule: { protocol: 'tcp', portRange: { min: 22, max: 22 }, remote: { cidr: '0.0.0.0/0' } } });
  await client.waitFor(scope, 'securitygroup', web.id, (s) => s.observedSeq >= added.seq && s.phase === 'Ready');
  await stack.northbound.nbctl('--timeout=60', '--wait=hv', 'sync');
  t.true((await p1.ns.tcpConnect(w.ip, 22)).ok, 'added rule opens tcp 22');
  const ruleId = (added.result.securityGroup as { ingressRules: { ruleId: string; portRange?: { min: number } }[] }).ingressRules.find((r) => r.portRange?.min === 22)!.ruleId;
  const removed = await client.call(scope, 'securitygroup.rule.remove', { securityGroupId: web.id, ruleId });
  await client.waitFor(scope, 'securitygroup', web.id, (s) => s.observedSeq >= removed.seq && s.phase === 'Ready');
  await stack.northbound.nbctl('--timeout=60', '--wait=hv', 'sync');
  t.false((await p1.ns.tcpConnect(w.ip, 22, BLOCKED)).ok, 'removed rule closes new connections');

  // A port's groups change at run time too.
  const joined = await client.call(scope, 'port.update', { portId: p1.id, securityGroupIds: [vpc.defaultSecurityGroupId, clientGroup.id] });
  await client.waitFor(scope, 'port', p1.id, (s) => s.observedSeq >= joined.seq && s.phase === 'Ready');
  await stack.northbound.nbctl('--timeout=60', '--wait=hv', 'sync');
  t.true((await p1.ns.tcpConnect(w.ip, 8050)).ok, 'joining client opens 8050');

  // Anti-spoofing: a source address other than the port's own is dropped until it is an allowed
  // address pair. The pings go to the gateway, whose ACL admits any source: port security alone decides.
  const spoofed = '10.0.5.200';
  t.is((await p2.ns.exec(['ip', 'addr', 'add', `${spoofed}/24`, 'dev', p2.ns.ifname])).code, 0, 'p2 holds the spoofed address too');
  t.true(await p2.ns.ping(subnet.gatewayIp, { source: p2.ip }), 'from its own address the gateway answers');
  t.false(await p2.ns.ping(subnet.gatewayIp, { source: spoofed, ...BLOCKED }), 'spoofed source is dropped');
  const paired = await client.call(scope, 'port.update', { portId: p2.id, allowedAddressPairs: [{ ipAddress: spoofed }] });
  await client.waitFor(scope, 'port', p2.id, (s) => s.observedSeq >= paired.seq && s.phase === 'Ready');
  await stack.northbound.nbctl('--timeout=60', '--wait=hv', 'sync');
  t.true(await p2.ns.ping(subnet.gatewayIp, { source: spoofed, timeoutMs: 10_000 }), 'the same source passes once it is an allowed address pair');
});
