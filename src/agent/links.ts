// The pod's veth pair, through iproute2 and ethtool: one `ip -batch` per side, so an ADD costs
// a handful of short processes (Node has no netlink or setns of its own).
import { spawn } from 'node:child_process';

export class LinkError extends Error {
  override name = 'LinkError';
  constructor(readonly argv: readonly string[], readonly stderr: string) {
    super(`${argv.join(' ')}: ${stderr.trim() || 'failed'}`);
  }
}

interface Ran { readonly code: number; readonly stdout: string; readonly stderr: string }

function run(argv: readonly string[], input?: string): Promise<Ran> {
  return new Promise((resolve) => {
    const [command, ...args] = argv as [string, ...string[]];
    const child = spawn(command, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr?.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.once('error', (err) => resolve({ code: 127, stdout, stderr: err.message }));
    child.once('close', (code) => resolve({ code: code ?? 128, stdout, stderr }));
    if (input !== undefined) child.stdin?.end(input);
  });
}

async function must(argv: readonly string[], input?: string): Promise<string> {
  const ran = await run(argv, input);
  if (ran.code !== 0) throw new LinkError(argv, ran.stderr);
  return ran.stdout;
}

const missing = (stderr: string): boolean => /Cannot find device|does not exist|No such file or directory/.test(stderr);

export interface PodInterface {
  readonly netns: string;
  readonly ifname: string;
  readonly mac: string;
  readonly address: string;
  readonly prefixLength: number;
  /** The default route's next hop: only the container's primary port has one. */
  readonly gateway?: string;
}

/** Links on the node (`hostNetns`: where br-int is, if not the agent's own namespace) and in pods' namespaces (by path). */
export class Links {
  readonly #host: readonly string[];

  constructor(hostNetns?: string) {
    this.#host = hostNetns === undefined ? ['ip'] : ['ip', '-n', hostNetns];
  }

  /**
   * The pair: host end up on the node, the other end moved into the pod's namespace as `ifname`
   * (still down). False when a host end of that name exists already (nothing was made).
   */
  async create(host: string, hostMac: string, pod: { netns: string; ifname: string }, mtu: number): Promise<boolean> {
    const m = String(mtu);
    const argv = [...this.#host, '-batch', '-'];
    const ran = await run(argv, [
      `link add ${host} address ${hostMac} mtu ${m} type veth peer name ${pod.ifname} mtu ${m} netns ${pod.netns}`,
      `link set ${host} up`,
    ].join('\n'));
    if (ran.code === 0) return true;
    if (/File exists/.test(ran.stderr) && await this.exists(host)) return false;
    throw new LinkError(argv, ran.stderr);
  }

  /** The pod end as the port says: its MAC, its address with the subnet's prefix, up, and the default route via the gateway if it has one. */
  async configure(pod: PodInterface): Promise<void> {
    await must(['nsenter', `--net=${pod.netns}`, 'ip', '-batch', '-'], [
      `link set dev ${pod.ifname} address ${pod.mac}`,
      `addr add ${pod.address}/${pod.prefixLength} dev ${pod.ifname}`,
      `link set dev ${pod.ifname} up`,
      ...(pod.gateway !== undefined ? [`route add default via ${pod.gateway} dev ${pod.ifname}`] : []),
    ].join('\n'));
  }

  /**
   * TX checksum offload off on both ends: the userspace datapath (br-int with
   * datapath_type=netdev) never fills in the checksums, and conntrack drops TCP and UDP.
   */
  async offloadOff(host: string, pod: { netns: string; ifname: string }): Promise<void> {
    const hostSide = this.#host.length > 1 ? ['ip', 'netns', 'exec', this.#host[2]!] : [];
    await Promise.all([
      must([...hostSide, 'ethtool', '-K', host, 'tx', 'off']),
      must(['nsenter', `--net=${pod.netns}`, 'ethtool', '-K', pod.ifname, 'tx', 'off']),
    ]);
  }

  /** Deletes the host end (the pod end goes with it); a pair already gone is fine. */
  async remove(host: string): Promise<void> {
    const argv = [...this.#host, 'link', 'del', host];
    const ran = await run(argv);
    if (ran.code !== 0 && !missing(ran.stderr)) throw new LinkError(argv, ran.stderr);
  }

  async exists(host: string): Promise<boolean> {
    return (await run([...this.#host, 'link', 'show', host])).code === 0;
  }

  /** The pod end's MAC and IPv4 addresses, or undefined when the namespace or the interface is gone. */
  async inspect(pod: { netns: string; ifname: string }): Promise<{ mac: string; addresses: string[] } | undefined> {
    const ran = await run(['nsenter', `--net=${pod.netns}`, 'ip', '-j', 'addr', 'show', 'dev', pod.ifname]);
    if (ran.code !== 0) return undefined;
    const [link] = JSON.parse(ran.stdout) as { address?: string; addr_info?: { family: string; local: string; prefixlen: number }[] }[];
    if (link === undefined) return undefined;
    return {
      mac: link.address ?? '',
      addresses: (link.addr_info ?? []).filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`),
    };
  }
}
