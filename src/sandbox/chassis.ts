// One OVN "hypervisor" with its own central part: SB db + ovn-northd (fed by the given NB),
// an Open_vSwitch db, ovs-vswitchd with the userspace datapath, and ovn-controller.
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
import type { Chassis, ChassisOptions, Namespace, PlugOptions, ProviderNetworkOptions, RunningChassis } from './types.js';

const namePattern = /^[A-Za-z0-9_.-]+$/;
const maxIfname = 15;
/** Written into the chassis dir once the chassis runs, removed when it stops: how another process finds it. */
const descriptorFile = 'chassis.json';
const ovsDbName = 'conf';

type Undo = () => Promise<void>;

export async function startChassis(opts: ChassisOptions): Promise<Chassis> {
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
    const [sb, { ovs, vswitchd }] = await allSettled([
      (async (): Promise<Ovsdb> => {
        const sb = await startOvsdb({ name: 'ovnsb_db', dir, schema: Schemas.southbound, env, keep: false });
        started(sb.daemon);
        started(await startNorthd(dir, env, opts.northbound.remote, sb.remote));
        return sb;
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
    const sbctl = ctl('ovn-sbctl', sb.remote, env);

    await vsctl('--no-wait', 'set', 'Open_vSwitch', '.',
      `external_ids:system-id=${JSON.stringify(name)}`,
      `external_ids:hostname=${JSON.stringify(name)}`,
      `external_ids:ovn-remote=${JSON.stringify(sb.remote)}`,
      'external_ids:ovn-encap-type=geneve',
      'external_ids:ovn-encap-ip=127.0.0.1',
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
    return new ChassisImpl({ name, dir, env, host, prefix, udhcpc, vsctl, sbctl, vswitchdLog: vswitchd.logPath, undo, daemons });
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

interface ChassisParts extends Plugging {
  readonly name: string;
  readonly dir: string;
  readonly sbctl: Ctl;
  readonly vswitchdLog: string;
  readonly undo: Undo[];
  readonly daemons: readonly Daemon[];
}

class ChassisImpl implements Chassis {
  readonly name: string;
  readonly dir: string;
  readonly hostNamespace: string;
  readonly #parts: ChassisParts;
  readonly #namespaces = new Set<Namespace>();
  readonly #bridgeMappings: string[] = [];
  #stopped: Promise<void> | undefined;

  constructor(parts: ChassisParts) {
    this.name = parts.name;
    this.dir = parts.dir;
    this.hostNamespace = parts.host;
    this.#parts = parts;
  }

  get pids(): readonly number[] {
    return this.#parts.daemons.map((d) => d.pid);
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
    await addBridge(this.#parts.vsctl, opts.bridge, this.#parts.vswitchdLog, []);
    this.#bridgeMappings.push(`${opts.physnet}:${opts.bridge}`);
    await this.vsctl('set', 'Open_vSwitch', '.', `external_ids:ovn-bridge-mappings=${JSON.stringify(this.#bridgeMappings.join(','))}`);
    const ns = await this.#attach({ namespace: opts.outside.namespace, ifname: 'eth0', bridge: opts.bridge });
    await run(['ip', '-n', ns.name, 'addr', 'add', opts.outside.address, 'dev', ns.ifname]);
    return ns;
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
  readonly bridge: string;
  readonly mac?: string;
  readonly ifaceId?: string;
  readonly ifaceIdVer?: string;
  /** The real name of a namespace to add the interface to, instead of creating one. */
  readonly into?: string;
}

function vifSpec(p: PlugOptions): AttachSpec {
  return {
    namespace: p.namespace, ifname: p.ifname ?? 'eth0', bridge: 'br-int', mac: p.mac, ifaceId: p.iface,
    ...(p.ifaceIdVer !== undefined && { ifaceIdVer: p.ifaceIdVer }),
    ...(p.into && { into: p.into.name }),
  };
}

/**
 * A namespace whose ifname is one end of a veth pair; the other end is a port of bridge in the
 * host namespace. `onRemove` runs before the namespace is deleted, with the step that takes the
 * host end off its bridge.
 */
async function attach(plugging: Plugging, spec: AttachSpec, onRemove: (ns: NamespaceImpl, unplug: () => Promise<void>) => Promise<void>): Promise<NamespaceImpl> {
  if (!namePattern.test(spec.namespace)) throw new SandboxArgumentError(`namespace name ${JSON.stringify(spec.namespace)} must match ${namePattern}`);
  if (spec.ifname.length > maxIfname || !namePattern.test(spec.ifname)) throw new SandboxArgumentError(`interface name ${JSON.stringify(spec.ifname)} is not a valid Linux interface name`);
  const { host, prefix, vsctl } = plugging;
  if (spec.into !== undefined && !spec.into.startsWith(`${prefix}-`)) throw new SandboxArgumentError(`namespace ${spec.into} was not plugged through this chassis`);
  const name = spec.into ?? `${prefix}-${spec.namespace}`;
  // Prefixed although it lives in the host namespace: a leak into another namespace would be
  // recognisable. Random, not counted: several processes may plug into one chassis.
  const hostEnd = `${prefix}v${randomBytes(3).toString('hex')}`;
  if (spec.into === undefined) await addNamespace(name);
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
    await vsctl('add-port', spec.bridge, hostEnd, ...ifaceId, ...ifaceIdVer);
  } catch (err) {
    // Deleting one end of a veth pair deletes both.
    await (spec.into === undefined ? deleteNamespace(name) : run(['ip', '-n', host, 'link', 'del', hostEnd])).catch(() => undefined);
    throw err;
  }
  const ns: NamespaceImpl = new NamespaceImpl({
    name,
    ifname: spec.ifname,
    env: plugging.env,
    udhcpcScript: plugging.udhcpc,
    unplug: () => onRemove(ns, async () => { await vsctl('--if-exists', 'del-port', spec.bridge, hostEnd); }),
    ...(spec.into !== undefined && { sharesNamespace: true }),
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
