import test from 'ava';
import type { ExecutionContext } from 'ava';
import type { NovanetEvent, Scope } from '../../events/mod.js';
import { allResources } from '../../projections/mod.js';
import type { View } from '../../projections/mod.js';
import type { Cache, Operation, OvsdbClient, Row, Value } from '../../src/ovsdb/mod.js';
import { actualRows, indexOwnedRows, rowOwner } from '../../src/reconcile/actual.js';
import { diff, sameValue } from '../../src/reconcile/diff.js';
import type { ActualRow } from '../../src/reconcile/diff.js';
import { desiredRows } from '../../src/reconcile/kinds.js';
import { ExternalId, ownerKey, rowUuid } from '../../src/reconcile/names.js';
import type { Ownership, RowOwner } from '../../src/reconcile/names.js';
import { ReferenceIndex } from '../../src/reconcile/references.js';
import { isRootTable, tableNames, Tables } from '../../src/reconcile/tables/mod.js';
import type { TableSpec } from '../../src/reconcile/tables/mod.js';
import { connect, startNb } from '../ovsdb/fixture.js';
import { LEGACY_DROP_ACLS, LEGACY_DROP_GROUP, legacyDropGroup } from '../support/legacy.js';
import { acme, DEFAULT_GROUP, externalIpAllocated, externalNetworkCreated, given, groupCreated, id, mac, poolCreated, portCreated, provider, vpc, vpcWithSubnet } from '../support/decider.js';
import type { Given } from '../support/decider.js';

/**
 * diff as a table: the Northbound before (the rows a pass left for an earlier history,
 * maybe changed by hand), the view now, and the operations one pass over every resource
 * sends. The diff is pure; what it reads is a real ovsdb-server's rows as the client's
 * monitored cache holds them, indexed as the reconciler indexes them. Every case then
 * commits the operations and checks that a second pass sends nothing and that the owned
 * rows are those a pass leaves in an empty Northbound.
 */

const own: Ownership = { owner: 'novanet' };

// --- a real Northbound, read as the reconciler reads it -------------------------------

const ids = (row: Row): Readonly<Record<string, string>> => (row.external_ids ?? {}) as Record<string, string>;
const marked = (row: Row): boolean => ids(row)[ExternalId.owner] === own.owner;
/** A row some resource of this installation owns: what the reconciler's reference index follows. */
const ownedByResource = (row: Row): boolean => rowOwner(own, row) !== undefined;

interface Northbound {
  readonly client: OvsdbClient;
  /** Follows the monitor's row updates from the initial dump on, as the reconciler's does. */
  readonly references: ReferenceIndex;
}

/** An ovsdb-server with the OVN Northbound schema and a client monitoring every table novanet writes; both stop at teardown. */
async function startNorthbound(t: ExecutionContext): Promise<Northbound> {
  const server = await startNb(t);
  const client = await connect(t, { remote: server.remote });
  indexOwnedRows(client.cache, own);
  const references = new ReferenceIndex(ownedByResource);
  client.onUpdate((updates) => references.apply(updates));
  await client.monitor(Object.fromEntries(tableNames.map((table) => [table, {}])));
  return { client, references };
}

/** What one reconciler pass over `refs` sends: the view's desired rows diffed against the cache as it is now. */
function pass(nb: Northbound, view: View, refs: readonly RowOwner[]): Operation[] {
  const work = refs.map((ref) => {
    const desired = desiredRows(view, ref, own)?.rows ?? [];
    return { desired, actual: actualRows(nb.client.cache, ref, desired) };
  });
  return diff(work, (uuid) => nb.references.referencesTo(uuid), (table, uuid) => nb.client.cache.get(table, uuid) !== undefined);
}

/** Commits operations as one transaction; the cache has the result when it resolves. */
async function commit(nb: Northbound, ops: readonly Operation[]): Promise<void> {
  if (ops.length > 0) await nb.client.transact(ops);
}

function ownedRows(cache: Cache): ActualRow[] {
  return tableNames.flatMap((table) => [...cache.table(table).values()].filter(marked).map((row) => ({ table, row })));
}

/** Empties `nb` of every table novanet writes, commits one pass over the view's resources, and returns the owned rows it left. */
async function convergedRows(nb: Northbound, view: View): Promise<ActualRow[]> {
  await commit(nb, tableNames.map((table): Operation => ({ op: 'delete', table, where: [] })));
  await commit(nb, pass(nb, view, resourcesOf(view)));
  return ownedRows(nb.client.cache);
}

/** Every resource of a view (what a full resync walks). */
function resourcesOf(view: View): RowOwner[] {
  return [...allResources(view)].map((r) => r.ref);
}

/** Resources once each, in first-seen order. */
function union(...lists: readonly (readonly RowOwner[])[]): RowOwner[] {
  const seen = new Map<string, RowOwner>();
  for (const ref of lists.flat()) if (!seen.has(ownerKey(ref))) seen.set(ownerKey(ref), ref);
  return [...seen.values()];
}

// --- the table ------------------------------------------------------------------------

const at = (scope: Scope, ...events: NovanetEvent[]): Given => ({ scope, events });
const dhcpOn = { enabled: true, leaseTime: 43200, dnsServers: [], ntpServers: [] };
const subnetCreated = (n: number, cidr: string, gatewayIp: string): NovanetEvent =>
  ({ type: 'SubnetCreated', data: { subnetId: id(n), vpcId: id(1), name: `s${n}`, cidr, gatewayIp, gatewayMac: mac(n), dhcp: dhcpOn } });
const port = (n: number, ip: string, fields: Record<string, unknown> = {}): NovanetEvent =>
  ({ type: 'PortCreated', data: { portId: id(n), subnetId: id(2), macAddress: mac(n), ipAddress: ip, ...fields } }) as NovanetEvent;
const routeAdded: NovanetEvent = { type: 'VpcRouteAdded', data: { vpcId: id(1), route: { routeId: id(20), destination: '192.168.50.0/24', nextHop: '10.0.2.5' } } };
const natGatewayCreated: NovanetEvent = { type: 'NatGatewayCreated', data: { natGatewayId: id(61), vpcId: id(1), externalIpId: id(60), gatewayMac: mac(61), releaseIpOnDelete: true } };
const attached = (portId: string): NovanetEvent => ({ type: 'ExternalIpAttachmentCreated', data: { attachmentId: id(70), externalIpId: id(62), target: { portId } } });
const lbCreated = (memberPortIds: string[]): NovanetEvent => ({
  type: 'LoadBalancerCreated',
  data: { loadBalancerId: id(90), subnetId: id(2), name: 'web', vipAddress: '10.0.1.50', protocol: 'tcp', listeners: [{ port: 80, targetPort: 8080 }], memberPortIds },
});
const deleted = (type: string, key: string, n: number | string): NovanetEvent => ({ type, data: { [key]: typeof n === 'number' ? id(n) : n } }) as NovanetEvent;
const twoChassis = [{ name: 'gw-1', priority: 10 }, { name: 'gw-2', priority: 5 }];

const withPort: Given[] = [vpcWithSubnet(), at(acme, portCreated(3, '10.0.1.5', id(2), [DEFAULT_GROUP]))];
const withGateway: Given[] = [
  at(provider, externalNetworkCreated(50, { gatewayChassis: twoChassis }), poolCreated(51, 50, ['203.0.113.10', '203.0.113.20'])),
  vpcWithSubnet(),
  at(acme, externalIpAllocated(60, '203.0.113.10'), natGatewayCreated),
];

// Row UUIDs the steps name.
const LRP = rowUuid.routerPort(id(2));
const RTR = rowUuid.switchRouterPort(id(2));
const GW_ACL = rowUuid.gatewayAcl(id(2));
const DHCP = rowUuid.dhcpOptions(id(2));
const DROP = rowUuid.dropPortGroup(id(1));
const GW_LRP = rowUuid.gatewayRouterPort(id(61));
const FOREIGN = '99999999-0000-4000-8000-000000000001';

/** An operation as lines, a mutate one a member it adds or removes; updates name the columns they set. */
function step(op: Operation): string[] {
  const target = 'where' in op ? String(op.where[0]![2]) : op.op === 'insert' ? op.uuid : '';
  switch (op.op) {
    case 'insert': return [`insert ${op.table} ${target}`];
    case 'update': return [`update ${op.table} ${target} ${Object.keys(op.row).sort().join(',')}`];
    case 'mutate': return op.mutations.flatMap(([column, mutator, value]) =>
      (Array.isArray(value) ? value : [value]).map((member) => `mutate ${op.table} ${target} ${column} ${mutator} ${String(member)}`));
    case 'delete': return [`delete ${op.table} ${target}`];
    // The diff sends none of these; named so a new operation kind is a compile error here.
    case 'select': case 'wait': case 'comment': return [op.op];
    default: {
      const unhandled: never = op;
      return unhandled;
    }
  }
}
const ins = (table: string, uuid: string) => `insert ${table} ${uuid}`;
const upd = (table: string, uuid: string, ...columns: string[]) => `update ${table} ${uuid} ${columns.sort().join(',')}`;
const link = (table: string, uuid: string, column: string, child: string) => `mutate ${table} ${uuid} ${column} insert ${child}`;
const unlink = (table: string, uuid: string, column: string, child: string) => `mutate ${table} ${uuid} ${column} delete ${child}`;
const del = (table: string, uuid: string) => `delete ${table} ${uuid}`;

/** The documented order: root inserts, child inserts, updates, new references, then dropped references and deletions. */
function phase(op: Operation): number {
  if (op.op === 'insert') return isRootTable(op.table) ? 0 : 1;
  if (op.op === 'update') return 2;
  if (op.op === 'mutate') return op.mutations.every(([, mutator]) => mutator === 'insert') ? 3 : 4;
  return 4;
}

interface Case {
  readonly name: string;
  /** The Northbound before: empty, or what a pass left for this history, then `edit` applied as someone's transaction. */
  readonly before?: { readonly history: readonly Given[]; readonly edit?: readonly Operation[] };
  readonly history: readonly Given[];
  /** In any order within a phase; the phases must come in order. */
  readonly steps: readonly string[];
  /** Runs on the cache once the operations are committed. */
  readonly check?: (t: ExecutionContext, cache: Cache) => void;
}

const set = (table: string, uuid: string, row: Record<string, Value>): Operation => ({ op: 'update', table, where: [['_uuid', '==', uuid]], row });
const mutate = (table: string, uuid: string, column: string, mutator: 'insert' | 'delete', child: string): Operation =>
  ({ op: 'mutate', table, where: [['_uuid', '==', uuid]], mutations: [[column, mutator, [child]]] });

const cases: Case[] = [
  {
    name: 'an empty Northbound: every row inserted, root rows first, then children, then the references that hold them',
    history: [vpcWithSubnet()],
    steps: [
      ins('Port_Group', DROP), ins('Logical_Router', id(1)), ins('Logical_Switch', id(2)), ins('DHCP_Options', DHCP), ins('Port_Group', DEFAULT_GROUP),
      ...['drop-from', 'drop-to', 'dhcp'].map((role) => ins('ACL', rowUuid.dropAcl(id(1), role))),
      ins('Logical_Router_Port', LRP), ins('Logical_Switch_Port', RTR), ins('ACL', GW_ACL), ins('ACL', rowUuid.ruleAcl(id(11))), ins('ACL', rowUuid.ruleAcl(id(12))),
      ...['drop-from', 'drop-to', 'dhcp'].map((role) => link('Port_Group', DROP, 'acls', rowUuid.dropAcl(id(1), role))),
      link('Logical_Router', id(1), 'ports', LRP), link('Logical_Switch', id(2), 'ports', RTR), link('Logical_Switch', id(2), 'acls', GW_ACL),
      link('Port_Group', DEFAULT_GROUP, 'acls', rowUuid.ruleAcl(id(11))), link('Port_Group', DEFAULT_GROUP, 'acls', rowUuid.ruleAcl(id(12))),
    ],
  },
  {
    name: 'the rows already there: nothing to do',
    before: { history: withPort },
    history: withPort,
    steps: [],
  },
  {
    name: 'a managed column changed by hand is set back, alone; columns novanet does not manage stay',
    before: { history: withPort, edit: [set('Logical_Switch_Port', RTR, { options: { 'router-port': 'elsewhere' }, up: [true] }), set('Logical_Switch_Port', id(3), { up: [true] })] },
    history: withPort,
    steps: [upd('Logical_Switch_Port', RTR, 'options')],
    check: (t, cache) => {
      t.deepEqual(cache.get('Logical_Switch_Port', RTR)?.up, [true]);
      t.deepEqual(cache.get('Logical_Switch_Port', id(3))?.up, [true]);
    },
  },
  {
    name: 'sets and maps written in another order, read back in the server\'s: not changes',
    before: {
      history: [vpcWithSubnet(), at(acme, port(3, '10.0.1.5', { securityGroupIds: [], allowedAddressPairs: [{ ipAddress: '10.0.1.101', macAddress: mac(0x77) }] }))],
      edit: [
        set('Logical_Switch_Port', id(3), { port_security: [`${mac(0x77)} 10.0.1.101`, `${mac(3)} 10.0.1.5`], addresses: [mac(0x77), `${mac(3)} 10.0.1.5`] }),
        set('Logical_Switch', id(2), { other_config: { exclude_ips: '10.0.1.1', subnet: '10.0.1.0/24' } }),
      ],
    },
    history: [vpcWithSubnet(), at(acme, port(3, '10.0.1.5', { securityGroupIds: [], allowedAddressPairs: [{ ipAddress: '10.0.1.101', macAddress: mac(0x77) }] }))],
    steps: [],
  },
  {
    name: 'a port taken out of its group by hand is put back, and nothing else happens',
    before: { history: withPort, edit: [mutate('Port_Group', DEFAULT_GROUP, 'ports', 'delete', id(3))] },
    history: withPort,
    steps: [link('Port_Group', DEFAULT_GROUP, 'ports', id(3))],
  },
  {
    name: 'a port taken off its switch by hand (the server collects it) comes back with every reference',
    before: { history: withPort, edit: [mutate('Logical_Switch', id(2), 'ports', 'delete', id(3))] },
    history: withPort,
    steps: [ins('Logical_Switch_Port', id(3)), link('Logical_Switch', id(2), 'ports', id(3)), link('Port_Group', DROP, 'ports', id(3)), link('Port_Group', DEFAULT_GROUP, 'ports', id(3))],
  },
  {
    name: 'a row at one of the resource\'s UUIDs that lost its marks is taken back with an update, not inserted twice',
    before: { history: withPort, edit: [set('Logical_Switch_Port', id(3), { external_ids: {} })] },
    history: withPort,
    steps: [upd('Logical_Switch_Port', id(3), 'external_ids')],
  },
  {
    name: 'a port changing groups joins the new port group and leaves the old one',
    before: { history: [vpcWithSubnet(), at(acme, groupCreated(30, 'web'), portCreated(3, '10.0.1.5', id(2), [DEFAULT_GROUP]))] },
    history: [vpcWithSubnet(), at(acme, groupCreated(30, 'web'), portCreated(3, '10.0.1.5', id(2), [DEFAULT_GROUP])), at(acme, { type: 'PortSecurityGroupsChanged', data: { portId: id(3), securityGroupIds: [id(30)] } })],
    steps: [upd('Logical_Switch_Port', id(3), 'external_ids'), link('Port_Group', id(30), 'ports', id(3)), unlink('Port_Group', DEFAULT_GROUP, 'ports', id(3))],
  },
  {
    name: 'a removed route loses its reference, and the server collects the row',
    before: { history: [vpc(), at(acme, routeAdded)] },
    history: [vpc(), at(acme, routeAdded), at(acme, { type: 'VpcRouteRemoved', data: { vpcId: id(1), routeId: id(20) } })],
    steps: [
      upd('Logical_Router', id(1), 'external_ids'), unlink('Logical_Router', id(1), 'static_routes', rowUuid.vpcRoute(id(20))),
      // The VPC's drop group and its ACLs carry the VPC's seq too.
      upd('Port_Group', DROP, 'external_ids'), ...['drop-from', 'drop-to', 'dhcp'].map((role) => upd('ACL', rowUuid.dropAcl(id(1), role), 'external_ids')),
    ],
    check: (t, cache) => t.is(cache.get('Logical_Router_Static_Route', rowUuid.vpcRoute(id(20))), undefined),
  },
  {
    name: 'DHCP turned off: the DHCP_Options row is deleted, the port drops it, the subnet\'s rows carry the new seq',
    before: { history: withPort },
    history: [...withPort, at(acme, { type: 'SubnetUpdated', data: { subnetId: id(2), name: 'app', dhcp: { ...dhcpOn, enabled: false } } })],
    steps: [
      upd('Logical_Switch', id(2), 'external_ids'), upd('Logical_Router_Port', LRP, 'external_ids'), upd('Logical_Switch_Port', RTR, 'external_ids'), upd('ACL', GW_ACL, 'external_ids'),
      upd('Logical_Switch_Port', id(3), 'dhcpv4_options'), del('DHCP_Options', DHCP),
    ],
  },
  {
    name: 'a deleted load balancer: its references dropped, then its row deleted',
    before: { history: [{ scope: acme, events: [...vpcWithSubnet().events, subnetCreated(5, '10.0.2.0/24', '10.0.2.1')] }, at(acme, lbCreated([]))] },
    history: [{ scope: acme, events: [...vpcWithSubnet().events, subnetCreated(5, '10.0.2.0/24', '10.0.2.1')] }, at(acme, lbCreated([])), at(acme, deleted('LoadBalancerDeleted', 'loadBalancerId', 90))],
    steps: [
      unlink('Logical_Router', id(1), 'load_balancer', id(90)), unlink('Logical_Switch', id(2), 'load_balancer', id(90)), unlink('Logical_Switch', id(5), 'load_balancer', id(90)),
      del('Load_Balancer', id(90)),
    ],
  },
  {
    name: 'gateway chassis changed: the dropped one loses its reference, the kept one gets its new priority, the network\'s rows their seq',
    before: { history: withGateway },
    history: [...withGateway, at(provider, { type: 'ExternalNetworkUpdated', data: { externalNetworkId: id(50), gatewayChassis: [{ name: 'gw-2', priority: 20 }] } })],
    steps: [
      upd('Logical_Switch', id(50), 'external_ids'), upd('Logical_Switch_Port', rowUuid.localnetPort(id(50)), 'external_ids'),
      upd('Gateway_Chassis', rowUuid.gatewayChassis(id(61), 'gw-2'), 'priority'),
      unlink('Logical_Router_Port', GW_LRP, 'gateway_chassis', rowUuid.gatewayChassis(id(61), 'gw-1')),
    ],
    check: (t, cache) => t.is(cache.get('Gateway_Chassis', rowUuid.gatewayChassis(id(61), 'gw-1')), undefined),
  },
  {
    name: 'a deleted port leaves its switch and groups; another owner\'s port group holding it is not touched, even if it claims the port\'s marks',
    before: {
      history: withPort,
      edit: [{
        op: 'insert', table: 'Port_Group', uuid: FOREIGN,
        row: { name: 'theirs', ports: [id(3)], acls: [], external_ids: { 'novanet:owner': 'someone-else', 'novanet:kind': 'port', 'novanet:id': id(3) } },
      }],
    },
    history: [...withPort, at(acme, deleted('PortDeleted', 'portId', 3))],
    steps: [unlink('Logical_Switch', id(2), 'ports', id(3)), unlink('Port_Group', DROP, 'ports', id(3)), unlink('Port_Group', DEFAULT_GROUP, 'ports', id(3))],
    check: (t, cache) => t.like(cache.get('Port_Group', FOREIGN), { name: 'theirs', ports: [] }, 'the server, not novanet, drops the collected port from it'),
  },
  {
    name: 'a port deleted under its floating IP: the attachment is pending and its NAT row loses its reference',
    before: { history: [...withGateway, at(acme, portCreated(3, '10.0.1.5', id(2), []), externalIpAllocated(62, '203.0.113.11'), attached(id(3)))] },
    history: [...withGateway, at(acme, portCreated(3, '10.0.1.5', id(2), []), externalIpAllocated(62, '203.0.113.11'), attached(id(3))), at(acme, deleted('PortDeleted', 'portId', 3))],
    steps: [unlink('Logical_Switch', id(2), 'ports', id(3)), unlink('Port_Group', DROP, 'ports', id(3)), unlink('Logical_Router', id(1), 'nat', rowUuid.attachmentNat(id(70)))],
  },
];

/**
 * The owned rows `have` are those of `want`: the same UUIDs, and the same value in every column
 * novanet writes (its desired columns, and the reference columns its children fill). Columns it
 * leaves alone, such as a port's `up`, may differ: someone else sets them.
 */
function assertSameOwnedRows(t: ExecutionContext, view: View, have: readonly ActualRow[], want: readonly ActualRow[]): void {
  const written = new Map<string, readonly string[]>();
  for (const ref of resourcesOf(view)) {
    for (const d of desiredRows(view, ref, own)?.rows ?? []) written.set(d.uuid, [...Object.keys(d.columns), ...(Tables as Record<string, TableSpec>)[d.table]!.references]);
  }
  const byUuid = new Map(have.map((a) => [a.row._uuid, a]));
  t.deepEqual([...byUuid.keys()].sort(), want.map((a) => a.row._uuid).sort(), 'the same owned rows');
  for (const { table, row } of want) {
    const other = byUuid.get(row._uuid);
    const differing = (written.get(row._uuid) ?? Object.keys(row)).filter((column) => !sameValue(row[column], other?.row[column]));
    t.deepEqual(differing, [], `${table} ${row._uuid}`);
  }
}

function assertOrdered(t: ExecutionContext, ops: readonly Operation[]): void {
  const phases = ops.map(phase);
  t.deepEqual(phases, [...phases].sort((a, b) => a - b), 'root inserts, child inserts, updates, new references, removals');
}

for (const c of cases) {
  test(`diff - ${c.name}`, async (t) => {
    const nb = await startNorthbound(t);
    const earlier = c.before && given(...c.before.history).view;
    if (earlier) await commit(nb, pass(nb, earlier, resourcesOf(earlier)));
    if (c.before?.edit) await commit(nb, c.before.edit);
    const { view } = given(...c.history);
    const refs = union(earlier ? resourcesOf(earlier) : [], resourcesOf(view));

    const ops = pass(nb, view, refs);
    t.deepEqual(ops.flatMap(step).sort(), [...c.steps].sort());
    const linked = ops.flatMap((op) => (op.op === 'mutate' && op.mutations[0]![1] === 'insert' ? [`${op.table} ${String(op.where[0]![2])} ${op.mutations[0]![0]}`] : []));
    t.deepEqual(linked, [...new Set(linked)], 'new references: one mutate a parent\'s column');
    assertOrdered(t, ops);

    await commit(nb, ops);
    t.deepEqual(pass(nb, view, refs).flatMap(step), [], 'committed, a second pass sends nothing');
    c.check?.(t, nb.client.cache);
    assertSameOwnedRows(t, view, ownedRows(nb.client.cache), await convergedRows(nb, view));
  });
}

// --- one topology through its life -----------------------------------------------

const built: Given[] = [
  at(provider, externalNetworkCreated(50, { gatewayChassis: twoChassis }), poolCreated(51, 50, ['203.0.113.10', '203.0.113.20'])),
  { scope: acme, events: [...vpcWithSubnet().events, subnetCreated(5, '10.0.2.0/24', '10.0.2.1')] },
  at(acme, routeAdded),
  at(acme, groupCreated(30, 'web', {
    ingressRules: [{ ruleId: id(31), protocol: 'tcp', portRange: { min: 80, max: 80 }, remote: { securityGroupId: DEFAULT_GROUP } }, { ruleId: id(32), protocol: 'icmp', remote: { cidr: '0.0.0.0/0' } }],
  })),
  at(acme,
    port(3, '10.0.1.5', { deviceId: 'vm-3', securityGroupIds: [DEFAULT_GROUP, id(30)] }),
    port(4, '10.0.2.5', { subnetId: id(5), deviceId: 'appliance', securityGroupIds: [DEFAULT_GROUP], allowedAddressPairs: [{ ipAddress: '192.168.50.0/24', macAddress: mac(4) }] }),
    port(6, '10.0.1.10', { securityGroupIds: [] }),
    port(7, '10.0.1.7', { deviceId: 'vm-7', securityGroupIds: [DEFAULT_GROUP], allowedAddressPairs: [{ ipAddress: '10.0.1.10', macAddress: mac(7) }] })),
  at(acme, externalIpAllocated(60, '203.0.113.10'), natGatewayCreated),
  at(acme, externalIpAllocated(62, '203.0.113.11'), attached(id(3))),
  at(acme, { type: 'PortForwardCreated', data: { portForwardId: id(80), externalIpId: id(60), protocol: 'tcp', externalPort: 8080, portId: id(4), internalPort: 80 } }),
  at(acme, lbCreated([id(3), id(7)])),
];

const churned: Given[] = [
  ...built,
  at(acme, deleted('PortDeleted', 'portId', 7)),
  at(acme, { type: 'VpcRouteRemoved', data: { vpcId: id(1), routeId: id(20) } }),
  at(acme, { type: 'SubnetUpdated', data: { subnetId: id(5), name: 's5', dhcp: { ...dhcpOn, enabled: false } } }),
  at(acme, { type: 'SecurityGroupRuleRemoved', data: { securityGroupId: id(30), ruleId: id(31) } }),
  at(acme, { type: 'PortSecurityGroupsChanged', data: { portId: id(3), securityGroupIds: [DEFAULT_GROUP] } }),
  at(acme, deleted('PortForwardDeleted', 'portForwardId', 80)),
  at(acme, deleted('ExternalIpAttachmentDeleted', 'attachmentId', 70)),
  at(provider, { type: 'ExternalNetworkUpdated', data: { externalNetworkId: id(50), gatewayChassis: [{ name: 'gw-2', priority: 5 }] } }),
];

const emptied: Given[] = [
  ...churned,
  at(acme, deleted('LoadBalancerDeleted', 'loadBalancerId', 90), deleted('NatGatewayDeleted', 'natGatewayId', 61)),
  at(acme, deleted('ExternalIpReleased', 'externalIpId', 60), deleted('ExternalIpReleased', 'externalIpId', 62)),
  at(acme, deleted('PortDeleted', 'portId', 3), deleted('PortDeleted', 'portId', 4), deleted('PortDeleted', 'portId', 6)),
  at(acme, deleted('SecurityGroupDeleted', 'securityGroupId', 30), deleted('SecurityGroupDeleted', 'securityGroupId', DEFAULT_GROUP)),
  at(acme, deleted('SubnetDeleted', 'subnetId', 2), deleted('SubnetDeleted', 'subnetId', 5), deleted('VpcDeleted', 'vpcId', 1)),
  at(provider, deleted('ExternalIpPoolDeleted', 'poolId', 51), deleted('ExternalNetworkDeleted', 'externalNetworkId', 50)),
];

test('diff - a whole topology from nothing, through changes, back to nothing: each pass is accepted, settles, and matches a fresh start', async (t) => {
  const [nb, fresh] = await Promise.all([startNorthbound(t), startNorthbound(t)]);
  let refs = resourcesOf(given(...built).view);
  for (const [stage, history] of [['built', built], ['churned', churned], ['emptied', emptied]] as const) {
    const { view } = given(...history);
    refs = union(refs, resourcesOf(view));
    const ops = pass(nb, view, refs);
    t.not(ops.length, 0, stage);
    assertOrdered(t, ops);
    await commit(nb, ops);

    t.deepEqual(pass(nb, view, refs).flatMap(step), [], `${stage}: a second pass sends nothing`);
    assertSameOwnedRows(t, view, ownedRows(nb.client.cache), await convergedRows(fresh, view));
    // The index followed every monitor update; built from the rows as they are now, it says the same.
    const rebuilt = new ReferenceIndex(ownedByResource);
    const rows = tableNames.flatMap((table) => [...nb.client.cache.table(table).values()].map((row) => ({ table, uuid: row._uuid, new: row })));
    rebuilt.apply(rows);
    for (const { uuid } of rows) t.deepEqual(nb.references.referencesTo(uuid), rebuilt.referencesTo(uuid), `${stage}: references to ${uuid}`);
  }
  t.deepEqual(ownedRows(nb.client.cache), [], 'nothing is left');
});

test('diff - sameValue: what counts as the same decoded OVSDB value', (t) => {
  const table: readonly [Value | undefined, Value | undefined, boolean][] = [
    ['a', 'a', true],
    ['a', ['a'], true],
    [['a', 'b'], ['b', 'a'], true],
    [{ a: '1', b: '2' }, { b: '2', a: '1' }, true],
    [[], undefined, true],
    [{}, undefined, true],
    [1002, 1002, true],
    [['a'], ['a', 'b'], false],
    [{ a: '1' }, { a: '2' }, false],
    [{ a: '1' }, { a: '1', b: '2' }, false],
    ['', undefined, false],
    ['', [], false],
    [1001, 1002, false],
  ];
  for (const [a, b, same] of table) {
    t.is(sameValue(a, b), same, `${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
    t.is(sameValue(b, a), same, `${JSON.stringify(b)} vs ${JSON.stringify(a)}`);
  }
});

test('diff - the retired drop group of the installation: kept while a port is in it; a port leaves it only for its VPC\'s group', async (t) => {
  const nb = await startNorthbound(t);
  const { view } = given(...withPort);
  await commit(nb, pass(nb, view, resourcesOf(view)));
  // As the version before left it: the port in the installation's group, the VPC without its own.
  await commit(nb, [{ op: 'delete', table: 'Port_Group', where: [['_uuid', '==', DROP]] }, ...legacyDropGroup([id(3)])]);
  const retired: RowOwner = { kind: 'default-deny', id: own.owner };
  const port: RowOwner = { kind: 'port', id: id(3) };

  t.deepEqual(pass(nb, view, [retired]).flatMap(step), [], 'the retired group stays: a port is in it');
  t.deepEqual(pass(nb, view, [port]).flatMap(step), [link('Port_Group', DROP, 'ports', id(3))], 'the port stays in it while its VPC\'s group is missing');

  const ops = pass(nb, view, [{ kind: 'vpc', id: id(1) }, port, retired]);
  const dropAcls = ['drop-from', 'drop-to', 'dhcp'].map((role) => rowUuid.dropAcl(id(1), role));
  t.deepEqual(ops.flatMap(step).sort(), [
    ins('Port_Group', DROP), ...dropAcls.map((acl) => ins('ACL', acl)), ...dropAcls.map((acl) => link('Port_Group', DROP, 'acls', acl)),
    link('Port_Group', DROP, 'ports', id(3)), unlink('Port_Group', LEGACY_DROP_GROUP, 'ports', id(3)),
    ...LEGACY_DROP_ACLS.map((acl) => unlink('Port_Group', LEGACY_DROP_GROUP, 'acls', acl)), del('Port_Group', LEGACY_DROP_GROUP),
  ].sort(), 'with its VPC\'s group there, in one transaction: the port moves, the emptied group goes');
  await commit(nb, ops);
  t.deepEqual(nb.client.cache.get('Port_Group', DROP)?.ports, [id(3)]);
  t.is(nb.client.cache.get('Port_Group', LEGACY_DROP_GROUP), undefined);
  t.true(LEGACY_DROP_ACLS.every((acl) => nb.client.cache.get('ACL', acl) === undefined), 'its ACLs collected with it');
  t.deepEqual(pass(nb, view, [...resourcesOf(view), retired]).flatMap(step), [], 'settled');
});

test('diff - a switch port is inserted only with every group it joins: not while its VPC\'s drop group is missing', async (t) => {
  const nb = await startNorthbound(t);
  const { view } = given(...withPort);
  const vpcRef: RowOwner = { kind: 'vpc', id: id(1) };
  const port: RowOwner = { kind: 'port', id: id(3) };
  await commit(nb, pass(nb, view, resourcesOf(view).filter((r) => r.kind !== 'port')));
  await commit(nb, [{ op: 'delete', table: 'Port_Group', where: [['_uuid', '==', DROP]] }]);
  t.deepEqual(pass(nb, view, [port]).flatMap(step), [], 'nothing: it would be on its switch in no drop group');
  const ops = pass(nb, view, [port, vpcRef]).flatMap(step);
  t.true(ops.includes(ins('Port_Group', DROP)) && ops.includes(ins('Logical_Switch_Port', id(3))) && ops.includes(link('Port_Group', DROP, 'ports', id(3))), 'with its group in the transaction it is');
  await commit(nb, pass(nb, view, [port, vpcRef]));
  t.deepEqual(nb.client.cache.get('Port_Group', DROP)?.ports, [id(3)]);
});
