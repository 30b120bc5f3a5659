// One OVN "hypervisor": an Open_vSwitch db, ovs-vswitchd with the userspace datapath, and
// ovn-controller; with its own central part (SB db + ovn-northd fed by the given NB), or
// joining the SB of a chassis started earlier, as a second node of the same OVN.
//
// ovs-vswitchd with datapath_type=netdev creates tap devices ('ovs-netdev', one per bridge)
// in the network namespace it runs in, and a second one in the same namespace fails to
// create them. So each chassis runs ovs-vswitchd and ovn-controller in a namespace of its
// own, '<prefix>-host'; the veth pairs are created there with one end moved straight into
// each VM namespace. Nothing is created in the caller's namespace, interface names need
// only be unique per chassis, and namespaces carry a random per-chassis prefix.
import { randomBytes } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { prepareDir, sandboxEnv } from './env.js';
import { SandboxArgumentError, SandboxStartError } from './errors.js';
import { addNamespace, deleteNamespace, NamespaceImpl, txOffloadOff } from './netns.js';
import { ctl, Schemas, startOvsdb } from './ovsdb.js';
import type { Ctl, Ovsdb } from './ovsdb.js';
import { udhcpcScript } from './probes.js';
import { accepts, pollUntil, run, runProcess, startDaemon, tail } from './process.js';
import type { Daemon } from './process.js';
import type { Chassis, ChassisOptions, HostPlugOptions, Namespace, PlugOptions, ProviderNetworkOptions, RunningChassis } from './types.js';

const namePattern = /^[A-Za-z0-9_.-]+$/;
const maxIfname = 15;
/** Written into the chassis dir once the chassis runs, removed when it stops: how another process finds it. */
const descriptorFile = 'chassis.json';
const ovsDbName = 'conf';

type Undo = () => Promise<void>;

export async function startChassis(opts: ChassisOptions): Promise<Chassis> {
  // Whose Southbound: one started here for the given Northbound, or the joined chassis's.
  const southbound = 'joins' in opts ? centralOf(opts.joins) : opts.northbound;
  const joined = southbound instanceof Central ? southbound : undefined;
  const dir = await prepareDir(opts.dir);
  const env = sandboxEnv(dir);
  // Teardown steps in start order; stop() and a failed start run them backwards.
  const undo: Undo[] = [];
  const daemons: Daemon[] = [];
  const started = (daemon: Daemon): Daemon => {
    daemons.push(daemon);
    undo.push(() => daemon.stop());
    return daemon;
  };
  try {
    const prefix = await claimHostNamespace();
    const host = `${prefix}-host`;
    undo.push(() => deleteNamespace(host));
    const name = opts.name ?? `chassis-${prefix}`;
    const udhcpc = join(dir, 'udhcpc.sh');
    await writeFile(udhcpc, udhcpcScript, { mode: 0o755 });

    // SB and the Open_vSwitch db are derived state (northd rebuilds SB from NB; the OVS db
    // describes veths that died with the last run): both start empty. The two halves are independent.
    const [sbRemote, { ovs, vswitchd }] = await allSettled([
      southbound instanceof Central ? Promise.resolve(southbound.sbRemote) : (async (): Promise<string> => {
        const sb = await startOvsdb({ name: 'ovnsb_db', dir, schema: Schemas.southbound, env, keep: false });
        started(sb.daemon);
        started(await startNorthd(dir, env, southbound.remote, sb.remote));
        return sb.remote;
      })(),
      (async (): Promise<{ ovs: Ovsdb; vswitchd: Daemon }> => {
        const ovs = await startOvsdb({ name: ovsDbName, dir, schema: Schemas.openvswitch, env, keep: false });
        started(ovs.daemon);
        await run(['ovs-vsctl', `--db=${ovs.remote}`, '--no-wait', 'init'], { env });
        const vswitchd = started(await startVswitchd(dir, env, host, ovs.remote));
        await addBridge(ctl('ovs-vsctl', ovs.remote, env), 'br-int', vswitchd.logPath, ['fail-mode=secure', 'other-config:disable-in-band=true']);
        return { ovs, vswitchd };
      })(),
    ]);

    const vsctl = ctl('ovs-vsctl', ovs.remote, env);
    const sbctl = ctl('ovn-sbctl', sbRemote, env);
    const node: Node = { env, host, prefix, udhcpc, vsctl, vswitchdLog: vswitchd.logPath };
    // A lone chassis tunnels to nobody; a joining one first links both to the underlay.
    const encapIp = joined ? await joined.joinUnderlay(node) : '127.0.0.1';

    await vsctl('--no-wait', 'set', 'Open_vSwitch', '.',
      `external_ids:system-id=${JSON.stringify(name)}`,
      `external_ids:hostname=${JSON.stringify(name)}`,
      `external_ids:ovn-remote=${JSON.stringify(sbRemote)}`,
      'external_ids:ovn-encap-type=geneve',
      `external_ids:ovn-encap-ip=${encapIp}`,
      'external_ids:ovn-bridge-datapath-type=netdev');
    started(await startDaemon({
      name: 'ovn-controller',
      // No --unixctl in 23.03: its control socket is ovn-controller.<pid>.ctl in OVN_RUNDIR.
      argv: ['ip', 'netns', 'exec', host, 'ovn-controller', ovs.remote, `--pidfile=${join(dir, 'ovn-controller.pid')}`],
      env,
      logPath: join(dir, 'ovn-controller.log'),
      ready: (signal) => pollUntil(async () => (await sbctl('--bare', '--columns=name', 'find', 'Chassis', `name=${JSON.stringify(name)}`)) !== '', signal, 100),
    }));
    const descriptor = join(dir, descriptorFile);
    await writeFile(descriptor, JSON.stringify({ name, hostNamespace: host }));
    undo.push(() => rm(descriptor, { force: true }));
    return new ChassisImpl({ ...node, name, dir, sbRemote, sbctl, undo, daemons }, joined);
  } catch (err) {
    await unwind(undo).catch(() => undefined);
    throw err;
  }
}

/** What plugging a namespace into a running chassis takes, whichever process started it. */
interface Plugging {
  readonly env: NodeJS.ProcessEnv;
  readonly host: string;
  readonly prefix: string;
  readonly udhcpc: string;
  readonly vsctl: Ctl;
}

/** A chassis's OVS side as this process drives it: plugging, and adding bridges. */
interface Node extends Plugging {
  readonly vswitchdLog: string;
}

interface ChassisParts extends Node {
  readonly name: string;
  readonly dir: string;
  readonly sbRemote: string;
  readonly sbctl: Ctl;
  readonly undo: Undo[];
  readonly daemons: readonly Daemon[];
}

class ChassisImpl implements Chassis {
  readonly name: string;
  readonly dir: string;
  readonly hostNamespace: string;
  /** Shared by every chassis on the same SB: the first one's, or the one it joined. */
  readonly central: Central;
  readonly #parts: ChassisParts;
  readonly #namespaces = new Set<Namespace>();
  readonly #bridgeMappings: string[] = [];
  #stopped: Promise<void> | undefined;

  constructor(parts: ChassisParts, joined: Central | undefined) {
    this.name = parts.name;
    this.dir = parts.dir;
    this.hostNamespace = parts.host;
    this.#parts = parts;
    this.central = joined ?? new Central(parts.sbRemote, this, parts);
  }

  get pids(): readonly number[] {
    return this.#parts.daemons.map((d) => d.pid);
  }

  get stopped(): boolean {
    return this.#stopped !== undefined;
  }

  sbctl(...args: string[]): Promise<string> {
    return this.#parts.sbctl(...args);
  }

  vsctl(...args: string[]): Promise<string> {
    return this.#parts.vsctl(...args);
  }

  plug(opts: PlugOptions): Promise<Namespace> {
    return this.#attach(vifSpec(opts));
  }

  async addProviderNetwork(opts: ProviderNetworkOptions): Promise<Namespace> {
    const segment = await this.central.providerSegment(opts);
    await addBridge(this.#parts.vsctl, opts.bridge, this.#parts.vswitchdLog, []);
    this.#bridgeMappings.push(`${opts.physnet}:${opts.bridge}`);
    await this.vsctl('set', 'Open_vSwitch', '.', `external_ids:ovn-bridge-mappings=${JSON.stringify(this.#bridgeMappings.join(','))}`);
    await linkToSegment(this.#parts, opts.bridge, this.central.host, segment.bridge, providerMtu);
    return segment.outside;
  }

  /** A namespace on one of the Linux bridges in this chassis's host namespace (a segment's outside end). */
  async plugOutside(namespace: string, linuxBridge: string, address: string): Promise<Namespace> {
    const ns = await this.#attach({ namespace, ifname: 'eth0', into: { linuxBridge } });
    await run(['ip', '-n', ns.name, 'addr', 'add', address, 'dev', ns.ifname]);
    return ns;
  }

  plugHost(opts: HostPlugOptions): Promise<Namespace> {
    if (opts.vlan !== undefined && !(Number.isInteger(opts.vlan) && opts.vlan >= 1 && opts.vlan <= 4094)) {
      throw new SandboxArgumentError(`VLAN ${opts.vlan} is not 1-4094`);
    }
    return this.#attach({ namespace: opts.namespace, ifname: 'eth0', into: { ovsBridge: opts.bridge, ...(opts.vlan !== undefined && { vlan: opts.vlan }) }, mac: opts.mac });
  }

  stop(): Promise<void> {
    this.#stopped ??= (async () => {
      const removals = await Promise.allSettled([...this.#namespaces].map((ns) => ns.remove()));
      const undone = await unwind(this.#parts.undo).then(() => undefined, (err: unknown) => err);
      const failed = removals.find((r) => r.status === 'rejected');
      if (failed) throw failed.reason;
      if (undone !== undefined) throw undone;
    })();
    return this.#stopped;
  }

  async #attach(spec: AttachSpec): Promise<Namespace> {
    const ns = await attach(this.#parts, spec, async (plugged, unplug) => {
      this.#namespaces.delete(plugged);
      // On stop the whole OVS db is discarded: no need to unplug port by port.
      if (this.#stopped === undefined) await unplug();
    });
    this.#namespaces.add(ns);
    return ns;
  }
}

/** The chassis whose Southbound `joins` names, as this process started it. */
function centralOf(chassis: Chassis): Central {
  if (!(chassis instanceof ChassisImpl)) throw new SandboxArgumentError('joins takes a chassis that startChassis returned in this process');
  if (chassis.central.owner.stopped) throw new SandboxArgumentError(`chassis ${chassis.central.owner.name} runs the Southbound and is stopped`);
  return chassis.central;
}

/** The underlay: RFC 6598 shared space, only ever seen inside the chassis host namespaces. */
const underlayPrefix = '100.64.0.';
const underlayPrefixLength = 24;
// Above any VM MTU plus Geneve's overhead, so the underlay never has to fragment or drop.
const underlayMtu = 9000;
const providerMtu = 1500;
const underlayBridge = 'br-phy';

interface ProviderSegment {
  readonly bridge: string;
  readonly outside: Namespace;
}

/**
 * What the chassis on one Southbound share, held by the chassis that runs it: the SB, and the
 * L2 segments between their host namespaces. A segment is a Linux bridge in the owner's host
 * namespace, so it outlives any chassis's ovs-vswitchd (the owner's included): the underlay
 * that carries Geneve between the chassis, and one per provider network with its outside end.
 */
class Central {
  readonly host: string;
  #underlay: Promise<string> | undefined;
  #joined = 0;
  readonly #providers = new Map<string, Promise<ProviderSegment>>();

  constructor(readonly sbRemote: string, readonly owner: ChassisImpl, readonly ownerNode: Node) {
    this.host = ownerNode.host;
  }

  /**
   * Links a joining chassis to the underlay and returns its tunnel endpoint address. The first
   * join also links the owner, which tunnelled to nobody until then.
   */
  async joinUnderlay(node: Node): Promise<string> {
    const hostNumber = 2 + this.#joined++;
    if (hostNumber > 254) throw new SandboxArgumentError('at most 254 chassis share one Southbound');
    this.#underlay ??= (async () => {
      const bridge = await this.#addSegment();
      await this.ownerNode.vsctl('set', 'Open_vSwitch', '.', `external_ids:ovn-encap-ip=${await linkUnderlay(this.ownerNode, this.host, bridge, 1)}`);
      return bridge;
    })();
    return linkUnderlay(node, this.host, await this.#underlay, hostNumber);
  }

  /** The provider network's segment; the first chassis to add the physnet names its outside namespace. */
  providerSegment(opts: ProviderNetworkOptions): Promise<ProviderSegment> {
    const existing = this.#providers.get(opts.physnet);
    if (existing) {
      if (opts.outside) return Promise.reject(new SandboxArgumentError(`provider network ${opts.physnet} already has its outside namespace: leave outside out`));
      return existing;
    }
    const { outside } = opts;
    if (!outside) return Promise.reject(new SandboxArgumentError(`provider network ${opts.physnet} is new: name its outside namespace`));
    const created = (async (): Promise<ProviderSegment> => {
      const bridge = await this.#addSegment();
      return { bridge, outside: await this.owner.plugOutside(outside.namespace, bridge, outside.address) };
    })();
    this.#providers.set(opts.physnet, created);
    created.catch(() => this.#providers.delete(opts.physnet));
    return created;
  }

  async #addSegment(): Promise<string> {
    const bridge = `${this.ownerNode.prefix}s${randomBytes(3).toString('hex')}`;
    await run(['ip', '-n', this.host, 'link', 'add', bridge, 'type', 'bridge']);
    await run(['ip', '-n', this.host, 'link', 'set', bridge, 'up']);
    return bridge;
  }
}

/** br-phy holding the chassis's tunnel endpoint address, as OVS userspace tunnelling needs, linked to the underlay. */
async function linkUnderlay(node: Node, segmentHost: string, segment: string, hostNumber: number): Promise<string> {
  const address = `${underlayPrefix}${hostNumber}`;
  await addBridge(node.vsctl, underlayBridge, node.vswitchdLog, []);
  await node.vsctl('set', 'Interface', underlayBridge, `mtu_request=${underlayMtu}`);
  await run(['ip', '-n', node.host, 'addr', 'add', `${address}/${underlayPrefixLength}`, 'dev', underlayBridge]);
  await run(['ip', '-n', node.host, 'link', 'set', underlayBridge, 'up']);
  await linkToSegment(node, underlayBridge, segmentHost, segment, underlayMtu);
  return address;
}

/** A veth pair from an OVS bridge of the chassis to a segment's Linux bridge (which may be in the same namespace). */
async function linkToSegment(node: Node, ovsBridge: string, segmentHost: string, segment: string, mtu: number): Promise<void> {
  const suffix = randomBytes(3).toString('hex');
  const end = `${node.prefix}l${suffix}`;
  const peer = `${node.prefix}h${suffix}`;
  await run(['ip', '-n', node.host, 'link', 'add', end, 'mtu', String(mtu), 'type', 'veth', 'peer', 'name', peer, 'mtu', String(mtu), 'netns', segmentHost]);
  await run(['ip', '-n', segmentHost, 'link', 'set', peer, 'master', segment]);
  await Promise.all([
    run(['ip', '-n', node.host, 'link', 'set', end, 'up']),
    run(['ip', '-n', segmentHost, 'link', 'set', peer, 'up']),
    txOffloadOff(node.host, end),
    txOffloadOff(segmentHost, peer),
  ]);
  await node.vsctl('add-port', ovsBridge, end);
}

/**
 * A chassis that another process started in `dir` (`startChassis`). Namespaces
 * plugged through it belong to this process: `remove()` them, or they go when it exits.
 */
export async function connectChassis(opts: { readonly dir: string }): Promise<RunningChassis> {
  const dir = resolve(opts.dir);
  const ovsSocket = join(dir, `${ovsDbName}.sock`);
  let described: unknown;
  try {
    described = JSON.parse(await readFile(join(dir, descriptorFile), 'utf8'));
  } catch {
    described = undefined;
  }
  const { name, hostNamespace } = (described ?? {}) as { name?: unknown; hostNamespace?: unknown };
  if (typeof name !== 'string' || typeof hostNamespace !== 'string' || !hostNamespace.endsWith('-host') || !(await accepts(ovsSocket))) {
    throw new SandboxArgumentError(`no chassis is running in ${dir}`);
  }
  const env = sandboxEnv(dir);
  const plugging: Plugging = {
    env, host: hostNamespace, prefix: hostNamespace.slice(0, -'-host'.length), udhcpc: join(dir, 'udhcpc.sh'), vsctl: ctl('ovs-vsctl', `unix:${ovsSocket}`, env),
  };
  return {
    name,
    hostNamespace,
    // The chassis may have stopped first, taking br-int and the host ends with it.
    plug: (p) => attach(plugging, vifSpec(p),
      async (_ns, unplug) => { if (await accepts(ovsSocket)) await unplug(); }),
  };
}

interface AttachSpec {
  readonly namespace: string;
  readonly ifname: string;
  /** Where the host end goes: a port of an OVS bridge (an access port of `vlan` if given), or of a Linux bridge (a segment). */
  readonly into: { readonly ovsBridge: string; readonly vlan?: number } | { readonly linuxBridge: string };
  readonly mac?: string;
  readonly ifaceId?: string;
  readonly ifaceIdVer?: string;
  /** The real name of a namespace to add the interface to, instead of creating one. */
  readonly sharedNamespace?: string;
}

/** A VM's NIC on br-int. */
function vifSpec(p: PlugOptions): AttachSpec {
  return {
    namespace: p.namespace, ifname: p.ifname ?? 'eth0', into: { ovsBridge: 'br-int' }, mac: p.mac, ifaceId: p.iface,
    ...(p.ifaceIdVer !== undefined && { ifaceIdVer: p.ifaceIdVer }),
    ...(p.into && { sharedNamespace: p.into.name }),
  };
}

/**
 * A namespace whose ifname is one end of a veth pair; the other end is a port of a bridge in the
 * host namespace. `onRemove` runs before the namespace is deleted, with the step that takes the
 * host end off its bridge.
 */
async function attach(plugging: Plugging, spec: AttachSpec, onRemove: (ns: NamespaceImpl, unplug: () => Promise<void>) => Promise<void>): Promise<NamespaceImpl> {
  if (!namePattern.test(spec.namespace)) throw new SandboxArgumentError(`namespace name ${JSON.stringify(spec.namespace)} must match ${namePattern}`);
  if (spec.ifname.length > maxIfname || !namePattern.test(spec.ifname)) throw new SandboxArgumentError(`interface name ${JSON.stringify(spec.ifname)} is not a valid Linux interface name`);
  const { host, prefix, vsctl } = plugging;
  if (spec.sharedNamespace !== undefined && !spec.sharedNamespace.startsWith(`${prefix}-`)) throw new SandboxArgumentError(`namespace ${spec.sharedNamespace} was not plugged through this chassis`);
  const name = spec.sharedNamespace ?? `${prefix}-${spec.namespace}`;
  // Prefixed although it lives in the host namespace: a leak into another namespace would be
  // recognisable. Random, not counted: several processes may plug into one chassis.
  const hostEnd = `${prefix}v${randomBytes(3).toString('hex')}`;
  if (spec.sharedNamespace === undefined) await addNamespace(name);
  try {
    const peer = ['peer', 'name', spec.ifname, ...(spec.mac ? ['address', spec.mac] : []), 'netns', name];
    await run(['ip', '-n', host, 'link', 'add', hostEnd, 'type', 'veth', ...peer]);
    await Promise.all([
      run(['ip', '-n', host, 'link', 'set', hostEnd, 'up']),
      run(['ip', '-n', name, 'link', 'set', spec.ifname, 'up']),
      txOffloadOff(host, hostEnd),
      txOffloadOff(name, spec.ifname),
    ]);
    const ifaceId = spec.ifaceId ? ['--', 'set', 'Interface', hostEnd, `external_ids:iface-id=${JSON.stringify(spec.ifaceId)}`] : [];
    const ifaceIdVer = spec.ifaceIdVer !== undefined ? ['--', 'set', 'Interface', hostEnd, `external_ids:iface-id-ver=${JSON.stringify(spec.ifaceIdVer)}`] : [];
    if ('ovsBridge' in spec.into) await vsctl('add-port', spec.into.ovsBridge, hostEnd, ...(spec.into.vlan !== undefined ? [`tag=${spec.into.vlan}`] : []), ...ifaceId, ...ifaceIdVer);
    else await run(['ip', '-n', host, 'link', 'set', hostEnd, 'master', spec.into.linuxBridge]);
  } catch (err) {
    // Deleting one end of a veth pair deletes both.
    await (spec.sharedNamespace === undefined ? deleteNamespace(name) : run(['ip', '-n', host, 'link', 'del', hostEnd])).catch(() => undefined);
    throw err;
  }
  const ns: NamespaceImpl = new NamespaceImpl({
    name,
    ifname: spec.ifname,
    env: plugging.env,
    udhcpcScript: plugging.udhcpc,
    // A Linux bridge port goes with the veth pair when the namespace is deleted.
    unplug: () => onRemove(ns, async () => { if ('ovsBridge' in spec.into) await vsctl('--if-exists', 'del-port', spec.into.ovsBridge, hostEnd); }),
    ...(spec.sharedNamespace !== undefined && { sharesNamespace: true }),
  });
  return ns;
}

/** Creates '<prefix>-host' under a fresh random prefix; `ip netns add` refuses a name in use. */
async function claimHostNamespace(): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    const prefix = `nv${randomBytes(3).toString('hex')}`;
    try {
      await addNamespace(`${prefix}-host`);
      return prefix;
    } catch (err) {
      if (attempt === 5) throw err;
    }
  }
}

function startNorthd(dir: string, env: NodeJS.ProcessEnv, nbRemote: string, sbRemote: string): Promise<Daemon> {
  const unixctl = join(dir, 'ovn-northd.ctl');
  return startDaemon({
    name: 'ovn-northd',
    argv: ['ovn-northd', `--ovnnb-db=${nbRemote}`, `--ovnsb-db=${sbRemote}`, `--pidfile=${join(dir, 'ovn-northd.pid')}`, `--unixctl=${unixctl}`],
    env,
    logPath: join(dir, 'ovn-northd.log'),
    // "active" once connected to both dbs and holding the SB lock.
    ready: (signal) => pollUntil(async () => (await runProcess(['ovn-appctl', '-t', unixctl, 'status'], { env })).stdout.includes('active'), signal, 100),
  });
}

function startVswitchd(dir: string, env: NodeJS.ProcessEnv, host: string, ovsRemote: string): Promise<Daemon> {
  const unixctl = join(dir, 'ovs-vswitchd.ctl');
  return startDaemon({
    name: 'ovs-vswitchd',
    argv: ['ip', 'netns', 'exec', host, 'ovs-vswitchd', ovsRemote, `--pidfile=${join(dir, 'ovs-vswitchd.pid')}`, `--unixctl=${unixctl}`],
    env,
    logPath: join(dir, 'ovs-vswitchd.log'),
    ready: (signal) => pollUntil(() => accepts(unixctl), signal),
  });
}

/** A netdev bridge. ovs-vsctl exits 0 even when ovs-vswitchd failed to create it, so the Interface's error column is checked. */
async function addBridge(vsctl: Ctl, bridge: string, vswitchdLog: string, settings: readonly string[]): Promise<void> {
  if (bridge.length > maxIfname || !namePattern.test(bridge)) throw new SandboxArgumentError(`bridge name ${JSON.stringify(bridge)} is not a valid Linux interface name`);
  await vsctl('add-br', bridge, '--', 'set', 'Bridge', bridge, 'datapath_type=netdev', ...settings);
  const error = await vsctl('--bare', '--columns=error', 'find', 'Interface', `name=${bridge}`);
  if (error !== '') {
    throw new SandboxStartError({ component: `bridge ${bridge}`, reason: error, logPath: vswitchdLog, logTail: await tail(vswitchdLog) });
  }
}

/** Waits for every promise, then rejects with the first failure (so nothing is still starting behind our back). */
async function allSettled<T extends readonly unknown[]>(promises: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

/** Runs every step backwards (each even if an earlier one failed), then rejects with the first failure. */
async function unwind(undo: Undo[]): Promise<void> {
  let first: unknown;
  for (const step of undo.splice(0).reverse()) {
    await step().catch((err: unknown) => (first ??= err));
  }
  if (first !== undefined) throw first;
}
