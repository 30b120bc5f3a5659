// ADD, DEL, CHECK, GC and STATUS of the node agent: novanet's port (over NATS, as a client of
// the tenant command subjects), the veth (links.ts) and br-int (switch.ts).
import { createHash, randomBytes } from 'node:crypto';
import type { Scope } from '../../events/mod.js';
import type { NovanetClient, Reply } from '../bus/client.js';
import { CniErrorCodes } from '../cni/protocol.js';
import { isOvsdbDisconnectedError, isOvsdbTimeoutError } from '../ovsdb/mod.js';
import type { CniError, CniErrorCode } from '../cni/protocol.js';
import { addResult, cniArgs } from '../cni/spec.js';
import type { AttachmentEnv, NetConf, Plugged } from '../cni/spec.js';
import type { Links } from './links.js';
import type { NodeSwitch, PluggedInterface } from './switch.js';

/** A CNI error on its way to the plugin. */
export class CniFailure extends Error {
  override name = 'CniFailure';
  constructor(readonly code: CniErrorCode, msg: string, readonly details?: unknown) {
    super(msg);
  }

  toCni(): CniError {
    return { code: this.code, msg: this.message, ...(this.details !== undefined && { details: typeof this.details === 'string' ? this.details : JSON.stringify(this.details) }) };
  }
}

interface PortView { id: string; macAddress: string; ipAddress: string; subnetId: string; primary: boolean }
interface SubnetView { id: string; vpcId: string; cidr: string; gatewayIp: string; mtu?: number; dnsServers: string[]; domainName?: string }

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** How many stale replays (a port deleted since its commandId was first used) an ADD follows. */
const MAX_CREATE_ATTEMPTS = 8;

export interface AttachmentSettings {
  readonly nodeName: string;
  readonly overlayMtu: number;
  readonly ovnInstalledTimeoutMs: number;
}

export class Attachments {
  readonly #client: NovanetClient;
  readonly #switch: NodeSwitch;
  readonly #links: Links;
  readonly #settings: AttachmentSettings;
  /** Operations on one (container, ifname) run one after another. */
  readonly #queues = new Map<string, Promise<unknown>>();

  constructor(client: NovanetClient, nodeSwitch: NodeSwitch, links: Links, settings: AttachmentSettings) {
    this.#client = client;
    this.#switch = nodeSwitch;
    this.#links = links;
    this.#settings = settings;
  }

  /**
   * A failed ADD takes back what it made (port, br-int record, veth) before answering, as far as
   * it can: what it cannot (the engine unreachable) stays recorded for the runtime's DEL or GC.
   */
  add(conf: NetConf, env: AttachmentEnv): Promise<Record<string, unknown>> {
    return this.#serialised(env, async () => {
      try {
        return await this.#add(conf, env);
      } catch (err) {
        const recorded = this.#switch.find(env.CNI_CONTAINERID, env.CNI_IFNAME);
        if (recorded) await this.#remove(recorded).catch(() => undefined);
        else await this.#links.remove(hostIfname(env.CNI_CONTAINERID, env.CNI_IFNAME)).catch(() => undefined);
        throw err;
      }
    });
  }

  del(conf: NetConf, env: AttachmentEnv): Promise<void> {
    return this.#serialised(env, async () => {
      const recorded = this.#switch.find(env.CNI_CONTAINERID, env.CNI_IFNAME);
      if (recorded) return this.#remove(recorded);
      // Never plugged here (or already deleted): only a port the engine may hold for it, in the
      // tenant the config gives the pod. A pod the config names no tenant for never had one
      // (its ADD failed with code 7), and a DEL that failed for it would never end.
      const scope = tenantOrNone(conf, env);
      if (scope) await this.#deletePorts(scope, await this.#unclaimedPorts(scope, env.CNI_CONTAINERID));
      await this.#links.remove(hostIfname(env.CNI_CONTAINERID, env.CNI_IFNAME));
    });
  }

  async check(env: AttachmentEnv): Promise<void> {
    const recorded = this.#switch.find(env.CNI_CONTAINERID, env.CNI_IFNAME);
    if (!recorded?.portId) throw new CniFailure(CniErrorCodes.CHECK_FAILED, `no novanet attachment for container ${env.CNI_CONTAINERID} ${env.CNI_IFNAME} on this node`);
    if (!recorded.installed) throw new CniFailure(CniErrorCodes.CHECK_FAILED, `interface ${recorded.name} is not ovn-installed`);
    const port = (await this.#call(scopeOf(recorded), 'port.get', { portId: recorded.portId })).port as PortView;
    const subnet = (await this.#call(scopeOf(recorded), 'subnet.get', { subnetId: port.subnetId })).subnet as SubnetView;
    const seen = await this.#links.inspect({ netns: env.CNI_NETNS ?? recorded.netns, ifname: env.CNI_IFNAME });
    const address = `${port.ipAddress}/${subnet.cidr.split('/')[1]}`;
    if (seen === undefined) throw new CniFailure(CniErrorCodes.CHECK_FAILED, `${env.CNI_IFNAME} is gone from ${env.CNI_NETNS ?? recorded.netns}`);
    if (seen.mac !== port.macAddress || !seen.addresses.includes(address)) {
      throw new CniFailure(CniErrorCodes.CHECK_FAILED, `${env.CNI_IFNAME} has ${seen.mac} ${seen.addresses.join(' ')}, the port ${port.macAddress} ${address}`);
    }
    if (!(await this.#links.exists(recorded.name))) throw new CniFailure(CniErrorCodes.CHECK_FAILED, `host end ${recorded.name} is gone`);
  }

  /** Removes every attachment of the network on this node that the runtime no longer lists. */
  async gc(conf: NetConf): Promise<void> {
    const valid = new Set([...conf['cni.dev/valid-attachments'] ?? [], ...conf['cni.dev/attachments'] ?? []].map((a) => `${a.containerID}/${a.ifname}`));
    const stale = this.#switch.all(conf.name).filter((p) => !valid.has(`${p.containerId}/${p.ifname}`));
    const failures: unknown[] = [];
    for (const p of stale) {
      await this.#serialised({ CNI_CONTAINERID: p.containerId, CNI_IFNAME: p.ifname }, () => this.#remove(p)).catch((err: unknown) => failures.push(err));
    }
    if (failures.length > 0) throw failures[0];
  }

  async #add(conf: NetConf, env: AttachmentEnv): Promise<Record<string, unknown>> {
    const netns = env.CNI_NETNS;
    if (netns === undefined) throw new CniFailure(CniErrorCodes.INVALID_ENVIRONMENT, 'ADD needs CNI_NETNS');
    const scope = tenantOf(conf, env);
    const containerId = env.CNI_CONTAINERID;
    const ifname = env.CNI_IFNAME;
    const host = hostIfname(containerId, ifname);
    // A repeated ADD starts the dataplane afresh; the port stays (its commandId replays it).
    const earlier = this.#switch.find(containerId, ifname);
    if (earlier) await dataplane(() => this.#switch.unplug(earlier));

    const subnet = await this.#subnet(scope, conf);
    const mtu = subnet.mtu ?? this.#settings.overlayMtu;
    const hostMac = localMac();
    const [securityGroupIds] = await settled([
      this.#securityGroups(scope, subnet.vpcId, conf.securityGroups),
      (async () => {
        await dataplane(async () => {
          // A host end left by an earlier attempt (its agent died before recording it) is ours: replaced.
          if (!(await this.#links.create(host, hostMac, { netns, ifname }, mtu))) {
            await this.#links.remove(host);
            if (!(await this.#links.create(host, hostMac, { netns, ifname }, mtu))) throw new Error(`veth ${host} exists and could not be replaced`);
          }
        });
        await dataplane(() => this.#switch.record(host, {
          containerId, ifname, network: conf.name, netns, org: scope.org, project: scope.project, node: this.#settings.nodeName,
        }));
      })(),
    ]);
    const args = cniArgs(env.CNI_ARGS);
    const podNamespace = args.get('K8S_POD_NAMESPACE');
    const podName = args.get('K8S_POD_NAME');
    const port = await this.#createPort(scope, containerId, ifname, {
      subnetId: subnet.id,
      deviceId: containerId,
      ...(podNamespace !== undefined && podName !== undefined && { name: `${podNamespace}/${podName}`.slice(0, 64) }),
      ...(securityGroupIds !== undefined && { securityGroupIds }),
    });
    const recorded = this.#switch.find(containerId, ifname);
    if (recorded === undefined) throw new CniFailure(CniErrorCodes.DATAPLANE_FAILED, `interface ${host} vanished from br-int`);
    const prefixLength = Number(subnet.cidr.split('/')[1]);
    await settled([
      dataplane(() => this.#switch.bind(recorded, port.id, port.macAddress)),
      // Only the container's primary port (its first, as a device's) carries the default route.
      dataplane(() => this.#links.configure({ netns, ifname, mac: port.macAddress, address: port.ipAddress, prefixLength, ...(port.primary && { gateway: subnet.gatewayIp }) })),
      this.#switch.userspaceDatapath ? dataplane(() => this.#links.offloadOff(host, { netns, ifname })) : Promise.resolve(),
    ]);
    if (!(await this.#switch.installed(recorded.uuid, this.#settings.ovnInstalledTimeoutMs))) {
      throw new CniFailure(CniErrorCodes.TRY_AGAIN_LATER, `ovn-controller did not report ${host} (port ${port.id}) ovn-installed within ${this.#settings.ovnInstalledTimeoutMs} ms`, { portId: port.id });
    }
    const plugged: Plugged = {
      hostIfname: host, hostMac, ifname, mac: port.macAddress, mtu, netns,
      address: port.ipAddress, prefixLength, gateway: subnet.gatewayIp, defaultRoute: port.primary,
      dnsServers: subnet.dnsServers, ...(subnet.domainName !== undefined && { domainName: subnet.domainName }),
    };
    return addResult(conf.cniVersion, plugged, conf.prevResult);
  }

  /**
   * port.create with a commandId derived from (container, ifname), so a retried ADD (agent
   * restart, NATS timeout) gets the same port instead of a second one. A runtime may ADD the
   * same container again after a DEL deleted that port: the replay then names a port that is
   * gone, and the next commandId in the chain (the stale reply's seq appended) creates a new one.
   */
  async #createPort(scope: Scope, containerId: string, ifname: string, payload: Record<string, unknown>): Promise<PortView> {
    let commandId = `cni-add:${digest(`${containerId}/${ifname}`, 40)}`;
    for (let attempt = 1; ; attempt++) {
      const reply = await this.#request(scope, 'port.create', { commandId, ...payload });
      const port = (result(reply).port as PortView);
      const current = await this.#request(scope, 'port.get', { portId: port.id });
      if (current.ok) return current.result.port as PortView;
      if (current.error.code !== 'NOT_FOUND' || attempt === MAX_CREATE_ATTEMPTS) result(current);
      commandId = `cni-add:${digest(`${containerId}/${ifname}`, 40)}:${reply.ok ? reply.seq : attempt}`;
    }
  }

  /** DEL of an attachment the node recorded: the port, then br-int, then the veth; each step tolerates its object being gone. */
  async #remove(p: PluggedInterface): Promise<void> {
    const scope = scopeOf(p);
    await this.#deletePorts(scope, p.portId !== undefined ? [p.portId] : await this.#unclaimedPorts(scope, p.containerId));
    await dataplane(() => this.#switch.unplug(p));
    await dataplane(() => this.#links.remove(p.name));
  }

  /** The container's ports in the tenant that no other interface on this node is bound to (a pod may have several). */
  async #unclaimedPorts(scope: Scope, containerId: string): Promise<string[]> {
    const ports = (await this.#call(scope, 'port.list', { deviceId: containerId })).ports as PortView[];
    const claimed = new Set(this.#switch.all().filter((p) => p.containerId === containerId).map((p) => p.portId));
    return ports.map((p) => p.id).filter((id) => !claimed.has(id));
  }

  async #deletePorts(scope: Scope, portIds: readonly string[]): Promise<void> {
    for (const portId of portIds) {
      const reply = await this.#request(scope, 'port.delete', { commandId: `cni-del:${portId}`, portId });
      if (!reply.ok && reply.error.code !== 'NOT_FOUND') result(reply);
    }
  }

  async #subnet(scope: Scope, conf: NetConf): Promise<SubnetView> {
    if (UUID.test(conf.subnet)) return (await this.#call(scope, 'subnet.get', { subnetId: conf.subnet })).subnet as SubnetView;
    const vpcId = conf.vpc === undefined ? undefined : await this.#vpcId(scope, conf.vpc);
    const subnets = (await this.#call(scope, 'subnet.list', { name: conf.subnet, ...(vpcId !== undefined && { vpcId }) })).subnets as SubnetView[];
    if (subnets.length === 0) throw engineRefused({ code: 'NOT_FOUND', message: `tenant ${scope.org}/${scope.project} has no subnet named ${conf.subnet}`, details: { kind: 'subnet' } });
    if (subnets.length > 1) throw new CniFailure(CniErrorCodes.INVALID_CONFIG, `subnet name ${conf.subnet} is in ${subnets.length} VPCs of ${scope.org}/${scope.project}: name the vpc`, { subnetIds: subnets.map((s) => s.id) });
    return subnets[0]!;
  }

  async #vpcId(scope: Scope, vpc: string): Promise<string> {
    if (UUID.test(vpc)) return vpc;
    const [found] = (await this.#call(scope, 'vpc.list', { name: vpc })).vpcs as { id: string }[];
    if (found === undefined) throw engineRefused({ code: 'NOT_FOUND', message: `tenant ${scope.org}/${scope.project} has no VPC named ${vpc}`, details: { kind: 'vpc' } });
    return found.id;
  }

  async #securityGroups(scope: Scope, vpcId: string, refs: readonly string[] | undefined): Promise<string[] | undefined> {
    if (refs === undefined) return undefined;
    return Promise.all(refs.map(async (ref) => {
      if (UUID.test(ref)) return ref;
      const [found] = (await this.#call(scope, 'securitygroup.list', { vpcId, name: ref })).securityGroups as { id: string }[];
      if (found === undefined) throw engineRefused({ code: 'SECURITY_GROUP_NOT_FOUND', message: `the subnet's VPC has no security group named ${ref}`, details: { name: ref } });
      return found.id;
    }));
  }

  async #call(scope: Scope, operation: string, payload: Record<string, unknown>): Promise<Record<string, unknown>> {
    return result(await this.#request(scope, operation, payload));
  }

  async #request(scope: Scope, operation: string, payload: Record<string, unknown>): Promise<Reply> {
    try {
      return await this.#client.request(scope, operation, payload);
    } catch (err) {
      throw new CniFailure(CniErrorCodes.TRY_AGAIN_LATER, `the engine did not answer ${operation}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  #serialised<T>(env: Pick<AttachmentEnv, 'CNI_CONTAINERID' | 'CNI_IFNAME'>, work: () => Promise<T>): Promise<T> {
    const key = `${env.CNI_CONTAINERID}/${env.CNI_IFNAME}`;
    const before = this.#queues.get(key) ?? Promise.resolve();
    const mine = before.then(work, work);
    const settled = mine.then(() => undefined, () => undefined);
    this.#queues.set(key, settled);
    void settled.then(() => { if (this.#queues.get(key) === settled) this.#queues.delete(key); });
    return mine;
  }
}

/** The pod's tenant: its Kubernetes namespace's entry in the table, else the config's org/project. */
export function tenantOf(conf: NetConf, env: Pick<AttachmentEnv, 'CNI_ARGS'>): Scope {
  const namespace = cniArgs(env.CNI_ARGS).get('K8S_POD_NAMESPACE');
  const mapped = namespace === undefined ? undefined : conf.namespaces?.[namespace];
  if (mapped) return mapped;
  if (conf.org !== undefined && conf.project !== undefined) return { org: conf.org, project: conf.project };
  throw new CniFailure(CniErrorCodes.INVALID_CONFIG, namespace === undefined
    ? 'no K8S_POD_NAMESPACE in CNI_ARGS and no org/project in the network config'
    : `namespace ${namespace} is not in the network config's namespaces table, and it has no org/project`);
}

function tenantOrNone(conf: NetConf, env: Pick<AttachmentEnv, 'CNI_ARGS'>): Scope | undefined {
  try {
    return tenantOf(conf, env);
  } catch (err) {
    if (err instanceof CniFailure && err.code === CniErrorCodes.INVALID_CONFIG) return undefined;
    throw err;
  }
}

/** A tenant to ask when probing the engine (STATUS): the config's own, else the first of its table. */
export function probeTenant(conf: NetConf): Scope | undefined {
  if (conf.org !== undefined && conf.project !== undefined) return { org: conf.org, project: conf.project };
  return Object.values(conf.namespaces ?? {})[0];
}

function result(reply: Reply): Record<string, unknown> {
  if (reply.ok) return reply.result;
  throw engineRefused(reply.error);
}

function engineRefused(error: { code: string; message: string; details?: unknown }): CniFailure {
  return new CniFailure(CniErrorCodes.ENGINE_REFUSED, `${error.code}: ${error.message}`, { code: error.code, message: error.message, details: error.details ?? {} });
}

/** Promise.all that waits for every step before rejecting: a failed ADD cleans up only once nothing is still being made. */
async function settled<T extends readonly unknown[]>(steps: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const results = await Promise.allSettled(steps);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

const scopeOf = (p: PluggedInterface): Scope => ({ org: p.org, project: p.project });

/** A node-local step; its failure is code 101 (unless it already is a CNI error). */
async function dataplane<T>(step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    if (err instanceof CniFailure) throw err;
    // Open_vSwitch away for a moment: the outcome is unknown and the runtime's retry is the cure.
    if (isOvsdbDisconnectedError(err) || isOvsdbTimeoutError(err)) throw new CniFailure(CniErrorCodes.TRY_AGAIN_LATER, `Open_vSwitch: ${err.message}`);
    throw new CniFailure(CniErrorCodes.DATAPLANE_FAILED, err instanceof Error ? err.message : String(err));
  }
}

/** The host end's name, from the attachment alone (DEL finds it with no record): `nvc` + 12 hex digits. */
export function hostIfname(containerId: string, ifname: string): string {
  return `nvc${digest(`${containerId}/${ifname}`, 12)}`;
}

const digest = (text: string, length: number): string => createHash('sha256').update(text).digest('hex').slice(0, length);

/** A random locally administered unicast MAC for the host end (the pod end takes the port's). */
function localMac(): string {
  const bytes = randomBytes(6);
  bytes[0] = (bytes[0]! & 0xfc) | 0x02;
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(':');
}
