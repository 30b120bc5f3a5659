import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { isProviderScope } from '../events/mod.js';
import type { Scope } from '../events/mod.js';
import { evolve, initialView } from '../projections/mod.js';
import type { View } from '../projections/mod.js';
import { DEFAULT_DECIDE_CONFIG, ErrorCode, providerOperations, tenantOperations } from '../src/commands/mod.js';
import { desiredRows } from '../src/reconcile/kinds.js';
import { ExternalId } from '../src/reconcile/names.js';
import type { RowOwner } from '../src/reconcile/names.js';
import { CniErrorCodes } from '../src/cni/protocol.js';
import { acme, commit, id, mac, provider } from './support/decider.js';

/**
 * The wire contract (events/README.md) and the README say what the code does: these
 * checks fail when a code, an operation or a row mark is added on one side only.
 */

const root = fileURLToPath(new URL('../../', import.meta.url));

/** The lines of a markdown section, from its heading to the next heading of the same level or above. */
async function section(file: string, heading: string): Promise<string[]> {
  const lines = (await readFile(join(root, file), 'utf8')).split('\n');
  const start = lines.indexOf(heading);
  if (start < 0) throw new Error(`${file} has no "${heading}"`);
  const level = heading.indexOf(' ');
  const end = lines.findIndex((l, i) => i > start && /^#+ /.test(l) && l.indexOf(' ') <= level);
  return lines.slice(start + 1, end < 0 ? undefined : end);
}

/** The first cell of each body row of the section's tables. */
function firstCells(lines: readonly string[]): string[] {
  return lines.filter((l) => l.startsWith('| `')).map((l) => l.split('|')[1]!.trim());
}

test('contract - the documented error codes are exactly the ones ErrorCode defines', async (t) => {
  const documented = firstCells(await section('events/README.md', '### Error codes')).map((cell) => cell.replaceAll('`', ''));
  t.deepEqual([...documented].sort(), Object.values(ErrorCode).sort());
  t.is(new Set(documented).size, documented.length, 'each code once');
});

test('contract - every error code is emitted somewhere in the code, so none is documented and dead', async (t) => {
  const files = (await readdir(join(root, 'src'), { recursive: true })).filter((f) => f.endsWith('.ts'));
  const source = (await Promise.all(files.map((f) => readFile(join(root, 'src', f), 'utf8')))).join('\n');
  const used = new Set([...source.matchAll(/ErrorCode\.([A-Z_]+)/g)].map((m) => m[1]));
  t.deepEqual(Object.values(ErrorCode).filter((code) => !used.has(code)), []);
});

test('contract - the operations tables list exactly the operations the engine answers', async (t) => {
  const documented = firstCells(await section('events/README.md', '### Operations')).flatMap((cell) => {
    // `loadbalancer.delete` / `.get` / `.list`: a leading dot continues the first name's resource.
    const names = [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
    const resource = names[0]!.split('.')[0]!;
    return names.map((n) => (n.startsWith('.') ? `${resource}${n}` : n));
  });
  t.deepEqual([...documented].sort(), [...tenantOperations.keys(), ...providerOperations.keys()].sort());
});

/** Runs one operation through its decider and folds the commit, as the intake does. */
function driver() {
  const view = initialView();
  let seq = 0;
  let nextId = 1000;
  let nextMac = 0x10;
  const ctx = (scope: Scope) => ({
    scope, commandId: `c${seq}`, now: '2026-01-01T00:00:00Z', config: DEFAULT_DECIDE_CONFIG,
    newId: () => id(nextId++), newMac: () => mac(nextMac++),
  });
  const run = (scope: Scope, operation: string, payload: Record<string, unknown>) => {
    const op = (isProviderScope(scope) ? providerOperations : tenantOperations).get(operation);
    if (op?.kind !== 'command') throw new Error(`${operation} is not a command`);
    const decision = op.decide(view, op.schema.parse({ commandId: `c${seq}`, ...payload }), ctx(scope));
    evolve(view, commit(++seq, scope, decision.events));
    return Object.values(decision.result)[0] as { id: string; ipAddress: string };
  };
  return { view, run };
}

/** One resource of every kind that has rows, named where the contract lets a client name it. */
function everything(): View {
  const { view, run } = driver();
  const network = run(provider, 'externalnetwork.create', { name: 'ext', cidr: '203.0.113.0/24', gatewayIp: '203.0.113.1', physicalNetwork: 'physnet', gatewayChassis: [{ name: 'gw1', priority: 1 }] });
  run(provider, 'externalippool.create', { externalNetworkId: network.id, name: 'pool', ranges: [{ first: '203.0.113.10', last: '203.0.113.20' }] });
  run(provider, 'networkclass.create', { name: 'metal', baremetal: { physicalNetwork: 'physnet-bm', vlanRange: { first: 100, last: 199 }, chassis: [{ name: 'gw1', priority: 1 }] } });
  const vpc = run(acme, 'vpc.create', { name: 'main' });
  const subnet = run(acme, 'subnet.create', { vpcId: vpc.id, name: 'app' });
  const group = run(acme, 'securitygroup.create', { vpcId: vpc.id, name: 'web', ingressRules: [{ protocol: 'tcp', portRange: { min: 80, max: 80 }, remote: { cidr: '0.0.0.0/0' } }] });
  const named = run(acme, 'port.create', { subnetId: subnet.id, name: 'web-1', securityGroupIds: [group.id] });
  const unnamed = run(acme, 'port.create', { subnetId: subnet.id });
  run(acme, 'port.create', { subnetId: subnet.id, name: 'host-1', vnicType: 'baremetal', interface: '52:54:00:00:00:01', securityGroupIds: [group.id] });
  run(acme, 'vpc.route.add', { vpcId: vpc.id, destination: '192.168.0.0/24', nextHop: unnamed.ipAddress });
  run(acme, 'natgateway.create', { vpcId: vpc.id });
  run(acme, 'externalipattachment.create', { externalIpId: run(acme, 'externalip.allocate', {}).id, target: { portId: named.id } });
  run(acme, 'portforward.create', { externalIpId: run(acme, 'externalip.allocate', {}).id, protocol: 'tcp', externalPort: 2222, portId: unnamed.id, internalPort: 22 });
  run(acme, 'loadbalancer.create', { subnetId: subnet.id, name: 'lb', listeners: [{ port: 80 }], memberPortIds: [named.id] });
  return view;
}

test('contract - every Northbound row of a named resource carries its name in novanet:name; unnamed ones carry none', (t) => {
  const view = everything();
  const own = { owner: 'novanet' };
  const owners: [RowOwner, string | undefined][] = [
    ...[...view.vpcs.values()].map((v): [RowOwner, string] => [{ kind: 'vpc', id: v.id }, v.name]),
    ...[...view.subnets.values()].map((s): [RowOwner, string] => [{ kind: 'subnet', id: s.id }, s.name]),
    ...[...view.ports.values()].map((p): [RowOwner, string | undefined] => [{ kind: 'port', id: p.id }, p.name]),
    ...[...view.securityGroups.values()].map((g): [RowOwner, string] => [{ kind: 'securitygroup', id: g.id }, g.name]),
    ...[...view.externalNetworks.values()].map((n): [RowOwner, string] => [{ kind: 'externalnetwork', id: n.id }, n.name]),
    ...[...view.networkClasses.values()].map((c): [RowOwner, string] => [{ kind: 'networkclass', id: c.id }, c.name]),
    ...[...view.loadBalancers.values()].map((lb): [RowOwner, string] => [{ kind: 'loadbalancer', id: lb.id }, lb.name]),
    ...[...view.natGateways.keys()].map((g): [RowOwner, undefined] => [{ kind: 'natgateway', id: g }, undefined]),
    ...[...view.attachments.keys()].map((a): [RowOwner, undefined] => [{ kind: 'externalipattachment', id: a }, undefined]),
    ...[...view.portForwards.keys()].map((f): [RowOwner, undefined] => [{ kind: 'portforward', id: f }, undefined]),
  ];
  const tables = new Set<string>();
  for (const [owner, name] of owners) {
    const rows = desiredRows(view, owner, own)?.rows ?? [];
    t.not(rows.length, 0, `${owner.kind} ${owner.id} has rows (else this check proves nothing)`);
    for (const row of rows) {
      tables.add(row.table);
      const ids = row.columns.external_ids as Record<string, string>;
      t.is(ids[ExternalId.name], name, `${row.table} of ${owner.kind} ${owner.id}`);
    }
  }
  // The history reaches every table novanet writes, ACLs of groups and subnets included.
  t.deepEqual([...tables].sort(), ['ACL', 'DHCP_Options', 'Gateway_Chassis', 'HA_Chassis', 'HA_Chassis_Group', 'Load_Balancer', 'Logical_Router', 'Logical_Router_Port', 'Logical_Router_Static_Route', 'Logical_Switch', 'Logical_Switch_Port', 'NAT', 'Port_Group']);
});

test('contract - the CNI error codes events/README.md lists are the ones the plugin and agent answer', async (t) => {
  const rows = (await section('events/README.md', '## CNI plugin and node agent')).map((l) => /^\| (\d+) \|/.exec(l)?.[1]).filter((c) => c !== undefined);
  t.deepEqual(rows.map(Number).sort((a, b) => a - b), Object.values(CniErrorCodes).sort((a, b) => a - b));
});
