import test from 'ava';
import type { NovanetEvent } from '../../events/mod.js';
import { desiredRows } from '../../src/reconcile/kinds.js';
import { rowName, rowUuid } from '../../src/reconcile/names.js';
import type { Ownership } from '../../src/reconcile/names.js';
import { statusOf } from '../../src/reconcile/status.js';
import { acme, given, groupCreated, id, mac, provider } from '../support/decider.js';

/** The Northbound rows of network classes, bridged subnets and bare-metal ports, and what their statuses say. */

const own: Ownership = { owner: 'novanet' };
const HOST = '52:54:00:00:00:01';
const history = () => given(
  {
    scope: provider,
    events: [{
      type: 'NetworkClassCreated',
      data: {
        networkClassId: id(1), name: 'metal', description: '', disableCapabilities: [], isDefault: true,
        defaults: { vpcPrefixLength: 16, subnetPrefixLength: 24, defaultSubnet: false, natGateway: false },
        baremetal: { physicalNetwork: 'physnet-bm', vlanRange: { first: 100, last: 199 }, chassis: [{ name: 'gw-1', priority: 20 }, { name: 'gw-2', priority: 10 }] },
      },
    }],
  },
  {
    scope: acme,
    events: [
      { type: 'VpcCreated', data: { vpcId: id(2), name: 'v', cidr: '10.0.0.0/16', networkClassId: id(1), cidrFromPool: true } },
      { type: 'SubnetCreated', data: { subnetId: id(3), vpcId: id(2), name: 's', cidr: '10.0.1.0/24', gatewayIp: '10.0.1.1', gatewayMac: mac(3), dhcp: { enabled: true, leaseTime: 60, dnsServers: [], ntpServers: [] } } },
      groupCreated(4, 'ssh', { ingressRules: [{ ruleId: id(5), protocol: 'tcp', portRange: { min: 22, max: 22 }, remote: { cidr: '0.0.0.0/0' } }], egressRules: [{ ruleId: id(6), protocol: 'all', remote: { cidr: '0.0.0.0/0' } }] }, id(2)),
      { type: 'SubnetVlanAllocated', data: { subnetId: id(3), vlanId: 100 } },
      { type: 'PortCreated', data: { portId: id(7), subnetId: id(3), macAddress: HOST, ipAddress: '10.0.1.2', securityGroupIds: [id(4)], vnicType: 'baremetal' } },
    ] satisfies NovanetEvent[],
  },
);

test('baremetal rows - a class with bare metal is one HA chassis group of its chassis by priority', (t) => {
  const rows = desiredRows(history().view, { kind: 'networkclass', id: id(1) }, own)!.rows;
  t.deepEqual(rows.map((r) => [r.table, r.columns.chassis_name ?? r.columns.name, r.columns.priority]), [
    ['HA_Chassis_Group', rowName.haChassisGroup(id(1)), undefined], ['HA_Chassis', 'gw-1', 20], ['HA_Chassis', 'gw-2', 10],
  ]);
  t.deepEqual(rows[1]!.referencedBy, [{ table: 'HA_Chassis_Group', uuid: rowUuid.haChassisGroup(id(1)), column: 'ha_chassis' }]);
});

test('baremetal rows - a subnet with a VLAN has a localnet port in its VPC\'s drop group and lets its DHCP replies out', (t) => {
  const resource = desiredRows(history().view, { kind: 'subnet', id: id(3) }, own)!;
  const localnet = resource.rows.find((r) => r.role === 'localnetPort')!;
  t.like(localnet.columns, { name: `ln-${id(3)}`, type: 'localnet', tag: [100], options: { network_name: 'physnet-bm' }, addresses: ['unknown'] });
  t.deepEqual(localnet.referencedBy, [{ table: 'Logical_Switch', uuid: id(3), column: 'ports' }, { table: 'Port_Group', uuid: rowUuid.dropPortGroup(id(2)), column: 'ports' }]);
  const dhcp = resource.rows.find((r) => r.table === 'ACL' && String(r.columns.match).includes('udp.src == 67'))!;
  t.is(dhcp.columns.match, `outport == "ln-${id(3)}" && eth.src == ${mac(3)} && ip4 && udp && udp.src == 67 && udp.dst == 68`);
  t.deepEqual(resource.dependsOn, [{ kind: 'vpc', id: id(2) }], 'the drop group is its VPC\'s');
});

test('baremetal rows - the subnet is Pending, naming its localnet port, until the port is in the Northbound', (t) => {
  const { view } = history();
  const ref = { kind: 'subnet' as const, id: id(3) };
  const desired = desiredRows(view, ref, own);
  const waiting = statusOf(view, ref, acme, 9, desired, (row) => (row.role === 'localnetPort' ? undefined : { _uuid: row.uuid }), undefined, () => 'in');
  t.is(waiting.phase, 'Pending');
  t.regex(waiting.message ?? '', /localnetPort \(Logical_Switch_Port\)/);
  t.like(statusOf(view, ref, acme, 9, desired, (row) => ({ _uuid: row.uuid }), undefined, () => 'in'), { phase: 'Ready', vlanId: 100 });
});

test('baremetal rows - a bare-metal port is an external port of its class\'s group, its group rules ACLs on the localnet port', (t) => {
  const resource = desiredRows(history().view, { kind: 'port', id: id(7) }, own)!;
  const [lsp, ...acls] = resource.rows;
  t.like(lsp!.columns, { type: 'external', ha_chassis_group: [rowUuid.haChassisGroup(id(1))], addresses: [`${HOST} 10.0.1.2`], port_security: [`${HOST} 10.0.1.2`] });
  t.deepEqual(acls.map((a) => [a.columns.direction, a.columns.match]), [
    ['to-lport', `outport == {"ln-${id(3)}", "${id(7)}"} && eth.dst == ${HOST} && ip4 && tcp && tcp.dst == 22`],
    ['from-lport', `inport == "ln-${id(3)}" && eth.src == ${HOST} && ip4.src == 10.0.1.2 && ip4`],
  ]);
  t.deepEqual(acls.map((a) => a.referencedBy), [[{ table: 'Logical_Switch', uuid: id(3), column: 'acls' }], [{ table: 'Logical_Switch', uuid: id(3), column: 'acls' }]]);
  t.true(resource.dependsOn.some((d) => d.kind === 'networkclass' && d.id === id(1)));
});
