import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import test from 'ava';
import type { CommitRecord, EventOf, NovanetEvent, Scope } from '../../events/mod.js';
import { evolve, evolveCommands, initialCommandView, initialView } from '../../projections/mod.js';
import type { CommandView, View } from '../../projections/mod.js';
import { decodeSnapshot, encodeSnapshot, FOLD_DIGEST, releaseBytes, SNAPSHOT_VERSION } from '../../src/bus/snapshot.js';
import type { Snapshot } from '../../src/bus/snapshot.js';
import { acme, commit, defaultGroupCreated, DEFAULT_GROUP, externalIpAllocated, globex, id, mac, outside, portCreated, provider, vpcWithSubnet } from '../support/decider.js';

/**
 * The snapshot codec (src/bus/snapshot.ts): decoding what was encoded after any prefix of a
 * history with every kind of resource gives views deep-equal to the fold, and folding the
 * rest of the history into the decoded views gives what folding all of it gives (nothing of
 * the decoded views is shared where the fold's were not, nor the other way round).
 */

const dhcp = { enabled: true, leaseTime: 43200, dnsServers: [], ntpServers: [] };
const builtIn = { vpcPrefixLength: 16, subnetPrefixLength: 24, defaultSubnet: true, natGateway: false };
const baremetal = { physicalNetwork: 'physnet-bm', vlanRange: { first: 100, last: 101 }, chassis: [{ name: 'gw-1', priority: 10 }] };
const lbCreated = (n: number, memberPortIds: string[]): EventOf<'LoadBalancerCreated'> => ({
  type: 'LoadBalancerCreated',
  data: { loadBalancerId: id(n), subnetId: id(2), name: `lb${n}`, vipAddress: `10.0.1.${n}`, protocol: 'tcp', listeners: [{ port: 80, targetPort: 80 }], memberPortIds },
});
const forwarded = (n: number, portId: string, externalPort: number): EventOf<'PortForwardCreated'> =>
  ({ type: 'PortForwardCreated', data: { portForwardId: id(n), externalIpId: id(60), protocol: 'tcp', externalPort, portId, internalPort: 80 } });
const bmPort = (n: number, subnet: number, ip: string, macAddress: string): NovanetEvent =>
  ({ type: 'PortCreated', data: { portId: id(n), subnetId: id(subnet), macAddress, ipAddress: ip, securityGroupIds: [], primary: true, vnicType: 'baremetal' } });

/** Every kind: provider networks, pools and classes (one bare metal), quotas, VPCs, subnets with a VLAN, ports on devices, groups, LBs, external IPs, NAT, forwards; updates and deletes. */
const history: [Scope, NovanetEvent[]][] = [
  [provider, [...outside().events]],
  [provider, [{ type: 'NetworkClassCreated', data: { networkClassId: id(80), name: 'bm', description: '', defaults: builtIn, disableCapabilities: [], isDefault: false, baremetal } }]],
  [provider, [{ type: 'QuotaSet', data: { tenant: acme, limits: { ports: 100, subnets: 5 } } }]],
  [acme, [...vpcWithSubnet().events]],
  [globex, [
    { type: 'VpcCreated', data: { vpcId: id(20), name: 'main', cidr: '10.1.0.0/16' } }, defaultGroupCreated(id(20), 30),
    { type: 'SubnetCreated', data: { subnetId: id(21), vpcId: id(20), name: 'app', cidr: '10.1.1.0/24', gatewayIp: '10.1.1.1', gatewayMac: mac(21), dhcp } },
  ]],
  [acme, [portCreated(3, '10.0.1.2', id(2), [DEFAULT_GROUP]), portCreated(4, '10.0.1.3'), portCreated(5, '10.0.1.4', id(2), [DEFAULT_GROUP])]],
  [acme, [{ type: 'PortAttached', data: { portId: id(5), deviceId: 'vm' } }]],
  [acme, [lbCreated(6, [id(3), id(4)]), lbCreated(7, [id(4)])]],
  [acme, [externalIpAllocated(60, '203.0.113.10'), forwarded(62, id(3), 22), forwarded(63, id(3), 23)]],
  [acme, [{ type: 'NatGatewayCreated', data: { natGatewayId: id(69), vpcId: id(1), externalIpId: id(60), gatewayMac: mac(69), releaseIpOnDelete: false } }]],
  [acme, [
    { type: 'VpcCreated', data: { vpcId: id(90), name: 'metal', cidr: '10.9.0.0/16', networkClassId: id(80), cidrFromPool: true } },
    { type: 'SubnetCreated', data: { subnetId: id(91), vpcId: id(90), name: 'hosts', cidr: '10.9.1.0/24', gatewayIp: '10.9.1.1', gatewayMac: mac(91), dhcp } },
    { type: 'SubnetVlanAllocated', data: { subnetId: id(91), vlanId: 100 } }, bmPort(92, 91, '10.9.1.2', '52:54:00:12:34:56'),
  ]],
  [globex, [portCreated(22, '10.1.1.2', id(21)), externalIpAllocated(65, '203.0.113.11')]],
  [acme, [{ type: 'LoadBalancerMembersChanged', data: { loadBalancerId: id(6), memberPortIds: [id(4), id(5)] } }, { type: 'PortSecurityGroupsChanged', data: { portId: id(5), securityGroupIds: [] } }]],
  [acme, [{ type: 'PortForwardDeleted', data: { portForwardId: id(62) } }, { type: 'PortDetached', data: { portId: id(5) } }]],
  [acme, [{ type: 'LoadBalancerDeleted', data: { loadBalancerId: id(7) } }, { type: 'PortForwardDeleted', data: { portForwardId: id(63) } }, { type: 'PortDeleted', data: { portId: id(3) } }]],
  [globex, [{ type: 'ExternalIpReleased', data: { externalIpId: id(65) } }]],
  [acme, [portCreated(8, '10.0.1.2'), { type: 'PortAttached', data: { portId: id(8), deviceId: 'vm2' } }]],
];
const records: CommitRecord[] = history.map(([scope, events], i) => commit(i + 1, scope, events));

function fold(upTo: number, view: View = initialView(), commands: CommandView = initialCommandView(), from = 0): { view: View; commands: CommandView } {
  for (const record of records.slice(from, upTo)) {
    evolve(view, record);
    evolveCommands(commands, record);
  }
  return { view, commands };
}

const decoded = (bytes: Uint8Array, shareStrings = false): Snapshot => {
  const snapshot = decodeSnapshot(bytes, { shareStrings });
  if ('reason' in snapshot) throw new Error(snapshot.reason);
  return snapshot;
};

test('snapshot codec - decoded views deep-equal the fold after every prefix of a history of every kind, and the rest folds into them as into the fold', (t) => {
  const whole = fold(records.length);
  t.true(whole.view.ports.size > 0 && whole.view.networkClasses.size > 0 && whole.view.natGateways.size > 0 && whole.view.quotas.size > 0);
  for (let k = 0; k <= records.length; k++) {
    const at = fold(k);
    const quarantined = k > 2 ? [{ seq: 2, subject: 'novanet.evt.x', reason: 'garbage' }] : [];
    const bytes = encodeSnapshot({ ...at, quarantined }, { seq: k, log: 'log-1' });
    const snapshot = decoded(bytes);
    t.deepEqual(snapshot.view, at.view, `view after ${k}`);
    t.deepEqual(decoded(bytes, true), snapshot, `with its strings shared, after ${k}`);
    t.deepEqual(snapshot.commands, at.commands, `commands after ${k}`);
    t.deepEqual(snapshot.quarantined, quarantined);
    t.is(snapshot.seq, k);
    t.is(snapshot.log, 'log-1');
    const tail = fold(records.length, snapshot.view, snapshot.commands, k);
    t.deepEqual(tail.view, whole.view, `snapshot after ${k} plus the rest`);
    t.deepEqual(tail.commands, whole.commands, `commands after ${k} plus the rest`);
  }
});

test('snapshot codec - two decodings of the same bytes share nothing: one folds on alone (the intake\'s and the reconciler thread\'s)', (t) => {
  const bytes = encodeSnapshot({ ...fold(8), quarantined: [] }, { seq: 8, log: 'l' });
  const snapshot = decoded(bytes);
  const copy = decoded(bytes).view;
  fold(records.length, snapshot.view, initialCommandView(), 8);
  t.deepEqual(copy, fold(8).view, 'folding into one leaves the other as it was');
  t.deepEqual(fold(records.length, copy, initialCommandView(), 8).view, fold(records.length).view);
});

test('snapshot codec - garbage, a changed byte, a cut-off body, another version and another fold are refused with a reason', (t) => {
  const bytes = encodeSnapshot({ ...fold(records.length), quarantined: [] }, { seq: records.length, log: 'l' });
  t.like(decodeSnapshot(new TextEncoder().encode('garbage')), { reason: 'no snapshot header' });
  t.like(decodeSnapshot(new Uint8Array(0)), { reason: 'no snapshot header' });
  const flipped = Uint8Array.from(bytes);
  flipped[flipped.length - 10] = flipped[flipped.length - 10]! ^ 1;
  t.like(decodeSnapshot(flipped), { reason: 'checksum mismatch' });
  t.like(decodeSnapshot(bytes.subarray(0, bytes.length - 100)), { reason: 'checksum mismatch' });
  const header = new TextDecoder().decode(bytes.subarray(0, bytes.indexOf(0x0a)));
  const other = new TextEncoder().encode(header.replace(` ${SNAPSHOT_VERSION} `, ` ${SNAPSHOT_VERSION + 1} `));
  t.regex((decodeSnapshot(Buffer.concat([other, bytes.subarray(bytes.indexOf(0x0a))])) as { reason: string }).reason, /codec version/);
  const otherFold = new TextEncoder().encode(header.replace(` ${FOLD_DIGEST} `, ' 0000000000000000 '));
  t.regex((decodeSnapshot(Buffer.concat([otherFold, bytes.subarray(bytes.indexOf(0x0a))])) as { reason: string }).reason, /folded by other code/);
});

test('snapshot codec - released bytes give their memory back at once; bytes in a buffer shared with others are left alone', (t) => {
  const bytes = encodeSnapshot({ ...fold(8), quarantined: [] }, { seq: 8, log: 'l' });
  t.false('reason' in decodeSnapshot(bytes));
  releaseBytes(bytes);
  t.is(bytes.byteLength, 0);
  const pooled = Buffer.from('a small buffer in Node\'s pool');
  const neighbour = Buffer.from('its neighbour');
  releaseBytes(pooled);
  t.is(pooled.toString(), 'a small buffer in Node\'s pool');
  t.is(neighbour.toString(), 'its neighbour');
});

/**
 * Run in a process of its own, so that its heap holds little but the decoded views: folds a
 * tenant's 50 ports, encodes the views, drops them, decodes the bytes and counts, in a heap
 * snapshot, the strings that hold a port's id and its MAC (made when the port was: nothing
 * but the views holds them) and its subnet's id (also held by the test's support module).
 */
const countCopies = `
  import { getHeapSnapshot } from 'node:v8';
  import { text } from 'node:stream/consumers';
  const { evolve, evolveCommands, initialCommandView, initialView } = await import(process.argv[1] + '/projections/mod.js');
  const { decodeSnapshot, encodeSnapshot } = await import(process.argv[1] + '/src/bus/snapshot.js');
  const { commit, portCreated, vpcWithSubnet, acme, id, DEFAULT_GROUP } = await import(process.argv[1] + '/test/support/decider.js');
  let view = initialView();
  let commands = initialCommandView();
  const records = [commit(1, acme, vpcWithSubnet().events), ...Array.from({ length: 50 }, (_, n) => commit(n + 2, acme, [portCreated(100 + n, '10.0.1.' + (n + 2), id(2), [DEFAULT_GROUP])]))];
  for (const record of records) { evolve(view, structuredClone(record)); evolveCommands(commands, record); }
  const bytes = encodeSnapshot({ view, commands, quarantined: [] }, { seq: records.length, log: 'l' });
  view = commands = undefined;
  records.length = 0;
  const decoded = decodeSnapshot(bytes, { shareStrings: true });
  const port = decoded.view.ports.get(id(120));
  const heap = JSON.parse(await text(getHeapSnapshot()));
  const { node_fields: fields, node_types: [types] } = heap.snapshot.meta;
  const copies = (value) => {
    let n = 0;
    for (let i = 0; i < heap.nodes.length; i += fields.length) {
      if (types[heap.nodes[i + fields.indexOf('type')]] === 'string' && heap.strings[heap.nodes[i + fields.indexOf('name')]] === value) n++;
    }
    return n;
  };
  console.log(JSON.stringify({ port: copies(port.id), subnet: copies(port.subnetId), mac: copies(port.macAddress) }));
`;

test('snapshot codec - a view decoded with its strings shared (the reconciler thread\'s) holds one string for each id and MAC, as the fold does, not a copy for every use of it', async (t) => {
  const dist = fileURLToPath(new URL('../..', import.meta.url));
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', countCopies, dist]);
  // Each use its own copy, the id was in 5 strings (the map key, the port, its group's and its
  // tenant's sets, its address's holder), the MAC in 2, the subnet's id in 56 (in each port).
  const { port, mac, subnet } = JSON.parse(stdout) as Record<string, number>;
  t.deepEqual({ port, mac }, { port: 1, mac: 1 });
  t.true(subnet! <= 3, `the subnet's id in ${subnet} strings`);
});
