// The node's Open_vSwitch database through src/ovsdb: which pods the agent plugged into br-int
// (Interface external_ids, monitored, so a restarted agent knows them), plugging, binding to a
// port, unplugging, and waiting for ovn-controller's `ovn-installed`.
import { OvsdbClient } from '../ovsdb/mod.js';
import type { Logger, Row } from '../ovsdb/mod.js';

/** external_ids keys the agent writes on an Interface (besides OVN's iface-id, iface-id-ver, attached-mac). */
export const Marks = {
  containerId: 'novanet:container-id',
  ifname: 'novanet:ifname',
  network: 'novanet:network',
  netns: 'novanet:netns',
  org: 'novanet:org',
  project: 'novanet:project',
  node: 'novanet:node',
} as const;

/** A pod interface the agent plugged, as its Interface row records it. */
export interface PluggedInterface {
  readonly uuid: string;
  /** The host end's name (the Interface's and Port's). */
  readonly name: string;
  readonly containerId: string;
  readonly ifname: string;
  readonly network: string;
  readonly netns: string;
  readonly org: string;
  readonly project: string;
  /** The novanet port once bound (external_ids:iface-id). */
  readonly portId?: string;
  readonly installed: boolean;
}

const map = (row: Row | undefined, column: string): Readonly<Record<string, string>> => (row?.[column] ?? {}) as Readonly<Record<string, string>>;

export class NodeSwitch {
  readonly #ovs: OvsdbClient;
  readonly #bridge: string;
  readonly #waiters = new Set<() => void>();

  private constructor(ovs: OvsdbClient, bridge: string) {
    this.#ovs = ovs;
    this.#bridge = bridge;
    ovs.onUpdate(() => { for (const wake of [...this.#waiters]) wake(); });
  }

  static async connect(remote: string, bridge: string, logger?: Logger): Promise<NodeSwitch> {
    const ovs = await OvsdbClient.connect({ remote, database: 'Open_vSwitch', ...(logger && { logger }) });
    ovs.cache.addIndex('Interface', 'attachment', (row) => {
      const ids = map(row, 'external_ids');
      const containerId = ids[Marks.containerId];
      return containerId === undefined ? undefined : `${containerId}/${ids[Marks.ifname] ?? ''}`;
    });
    ovs.cache.addIndex('Port', 'interface', (row) => String((row.interfaces as readonly string[])[0] ?? ''));
    await ovs.monitor({
      Bridge: { columns: ['name', 'ports', 'datapath_type'] },
      Port: { columns: ['name', 'interfaces'] },
      Interface: { columns: ['name', 'external_ids'] },
    });
    return new NodeSwitch(ovs, bridge);
  }

  get connected(): boolean {
    return this.#ovs.connected;
  }

  /** br-int runs on the userspace datapath (checksum offload must go off on the veths). */
  get userspaceDatapath(): boolean {
    return this.#bridgeRow()?.datapath_type === 'netdev';
  }

  find(containerId: string, ifname: string): PluggedInterface | undefined {
    const [row] = this.#ovs.cache.lookup('Interface', 'attachment', `${containerId}/${ifname}`);
    return row && plugged(row);
  }

  /** Every pod interface the agent plugged on this node (of one network, if named). */
  all(network?: string): PluggedInterface[] {
    return [...this.#ovs.cache.table('Interface').values()]
      .filter((row) => map(row, 'external_ids')[Marks.containerId] !== undefined)
      .map(plugged)
      .filter((p) => network === undefined || p.network === network);
  }

  /**
   * A Port and Interface on br-int for the host end, with the agent's marks and no iface-id
   * yet: recorded before the engine is asked for a port, so a crash after that leaves a
   * record that DEL and GC find.
   */
  async record(name: string, marks: Readonly<Record<keyof typeof Marks, string>>): Promise<void> {
    const ids = Object.fromEntries(Object.entries(marks).map(([k, v]) => [Marks[k as keyof typeof Marks], v]));
    await this.#ovs.transact([
      { op: 'insert', table: 'Interface', uuidName: 'iface', row: { name, external_ids: ids } },
      { op: 'insert', table: 'Port', uuidName: 'port', row: { name, interfaces: ['iface'] } },
      { op: 'mutate', table: 'Bridge', where: [['name', '==', this.#bridge]], mutations: [['ports', 'insert', ['port']]] },
    ]);
  }

  /** Binds the interface to the port: ovn-controller claims it and installs its flows. */
  async bind(iface: PluggedInterface, portId: string, mac: string): Promise<void> {
    await this.#ovs.transact([{
      op: 'mutate', table: 'Interface', where: [['_uuid', '==', iface.uuid]],
      mutations: [
        ['external_ids', 'delete', ['iface-id', 'iface-id-ver', 'attached-mac']],
        // iface-id-ver = the container: a stale sandbox's interface never matches a recreated pod's.
        ['external_ids', 'insert', { 'iface-id': portId, 'iface-id-ver': iface.containerId, 'attached-mac': mac }],
      ],
    }]);
  }

  /** Takes the interface off br-int (OVS deletes the unreferenced Port and Interface rows). */
  async unplug(iface: PluggedInterface): Promise<void> {
    const [port] = this.#ovs.cache.lookup('Port', 'interface', iface.uuid);
    const bridge = this.#bridgeRow();
    if (port === undefined || bridge === undefined) return;
    await this.#ovs.transact([{ op: 'mutate', table: 'Bridge', where: [['_uuid', '==', bridge._uuid]], mutations: [['ports', 'delete', [port._uuid]]] }]);
  }

  /** Resolves true once ovn-controller set external_ids:ovn-installed=true on the interface, false after timeoutMs. */
  installed(uuid: string, timeoutMs: number): Promise<boolean> {
    const done = (): boolean => map(this.#ovs.cache.get('Interface', uuid), 'external_ids')['ovn-installed'] === 'true';
    if (done()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const finish = (value: boolean): void => {
        clearTimeout(timer);
        this.#waiters.delete(wake);
        resolve(value);
      };
      const wake = (): void => { if (done()) finish(true); };
      const timer = setTimeout(() => finish(false), timeoutMs);
      this.#waiters.add(wake);
    });
  }

  close(): Promise<void> {
    return this.#ovs.close();
  }

  #bridgeRow(): Row | undefined {
    return [...this.#ovs.cache.table('Bridge').values()].find((b) => b.name === this.#bridge);
  }
}

function plugged(row: Row): PluggedInterface {
  const ids = map(row, 'external_ids');
  return {
    uuid: row._uuid,
    name: String(row.name),
    containerId: ids[Marks.containerId] ?? '',
    ifname: ids[Marks.ifname] ?? '',
    network: ids[Marks.network] ?? '',
    netns: ids[Marks.netns] ?? '',
    org: ids[Marks.org] ?? '',
    project: ids[Marks.project] ?? '',
    ...(ids['iface-id'] !== undefined && { portId: ids['iface-id'] }),
    installed: ids['ovn-installed'] === 'true',
  };
}
