import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { SandboxArgumentError, SandboxCommandError, SandboxTimeoutError, SandboxToolMissingError } from './errors.js';
import { tcpClient, tcpServer, udpClient, udpServer } from './probes.js';
import { run, runProcess, spawnTracked } from './process.js';
import { trackNamespace, untrackNamespace } from './registry.js';
import type { ConnectResult, DhcpLease, ExecResult, Listener, Namespace, UdpDatagram, UdpListener } from './types.js';

export async function addNamespace(name: string): Promise<void> {
  await run(['ip', 'netns', 'add', name]);
  trackNamespace(name);
  await run(['ip', '-n', name, 'link', 'set', 'lo', 'up']);
}

/** `ip netns add` makes /run/netns/<name>; `ip netns delete` removes it. */
async function namespaceExists(name: string): Promise<boolean> {
  return access(join('/run/netns', name)).then(() => true, () => false);
}

export async function deleteNamespace(name: string): Promise<void> {
  await run(['ip', 'netns', 'delete', name]);
  untrackNamespace(name);
}

/**
 * Turns off TX checksum offload on a veth end: the userspace datapath never fills in the
 * checksums the kernel left to the "hardware", and conntrack then drops TCP/UDP.
 */
export async function txOffloadOff(namespace: string, dev: string): Promise<void> {
  await run(['ip', 'netns', 'exec', namespace, 'ethtool', '-K', dev, 'tx', 'off']);
}

/**
 * An empty network namespace with the probes, as a container runtime creates a pod's before it
 * calls a CNI plugin: the plugin moves `ifname` in. `remove()` deletes it (and whatever the plugin
 * left inside); the exit hooks delete it too.
 */
export async function createNamespace(opts: { readonly name: string; readonly ifname: string }): Promise<Namespace> {
  if (!/^[A-Za-z0-9_.-]+$/.test(opts.name)) throw new SandboxArgumentError(`namespace name ${JSON.stringify(opts.name)} must match [A-Za-z0-9_.-]+`);
  await addNamespace(opts.name);
  // No udhcpc script: a CNI plugin configures the address itself.
  return new NamespaceImpl({ name: opts.name, ifname: opts.ifname, env: process.env, udhcpcScript: '/nonexistent', unplug: () => Promise.resolve() });
}

export interface NamespaceSpec {
  readonly name: string;
  readonly ifname: string;
  readonly env: NodeJS.ProcessEnv;
  readonly udhcpcScript: string;
  /** Detaches the host end from its bridge; runs before the namespace is deleted. */
  readonly unplug: () => Promise<void>;
  /** Another interface of a namespace plugged before: removing it deletes the interface, not the namespace. */
  readonly sharesNamespace?: boolean;
}

export class NamespaceImpl implements Namespace {
  readonly name: string;
  readonly ifname: string;
  readonly #spec: NamespaceSpec;
  readonly #listeners = new Set<Listener>();
  #removed: Promise<void> | undefined;

  constructor(spec: NamespaceSpec) {
    this.name = spec.name;
    this.ifname = spec.ifname;
    this.#spec = spec;
  }

  async exec(argv: string[], opts: { timeoutMs?: number } = {}): Promise<ExecResult> {
    // `ip netns exec` exits 1 when the program is missing, as busybox ping does when nothing answers.
    await requireTool(argv, this.#spec.env.PATH);
    return runProcess(this.#argv(argv), { env: this.#spec.env, timeoutMs: opts.timeoutMs ?? 30_000 });
  }

  async dhcp(opts: { timeoutMs?: number } = {}): Promise<DhcpLease> {
    const timeoutMs = opts.timeoutMs ?? 10_000;
    // -t discovers 1 s apart cover the timeout; -n: fail instead of backgrounding; -q: exit once bound.
    const argv = ['busybox', 'udhcpc', '-i', this.ifname, '-f', '-q', '-n', '-t', String(Math.max(1, Math.ceil(timeoutMs / 1000))), '-T', '1', '-O', 'mtu', '-O', 'staticroutes', '-s', this.#spec.udhcpcScript];
    const result = await this.exec(argv, { timeoutMs: timeoutMs + 5000 });
    const lease = new Map<string, string>();
    for (const line of result.stdout.split('\n')) {
      const match = /^lease\.(\w+)=(.*)$/.exec(line);
      if (match?.[1] !== undefined && match[2] !== undefined && match[2] !== '') lease.set(match[1], match[2]);
    }
    const address = lease.get('ip');
    if (result.code !== 0 || address === undefined) {
      throw new SandboxCommandError({ argv: this.#argv(argv), code: result.code, stderr: result.stderr, timedOut: result.timedOut });
    }
    const number = (key: string): number | undefined => (lease.has(key) ? Number(lease.get(key)) : undefined);
    const dns = lease.get('dns')?.split(' ').filter((s) => s !== '');
    return {
      address,
      prefixLength: number('mask') ?? 32,
      ...(lease.has('router') ? { router: lease.get('router') } : {}),
      ...(dns ? { dns } : {}),
      ...(lease.has('mtu') ? { mtu: number('mtu') } : {}),
      ...(lease.has('lease') ? { leaseTime: number('lease') } : {}),
      ...(lease.has('staticroutes') ? { staticRoutes: pairsOf(lease.get('staticroutes')!) } : {}),
    };
  }

  async ping(address: string, opts: { count?: number; timeoutMs?: number; source?: string } = {}): Promise<boolean> {
    const wanted = opts.count ?? 1;
    const deadline = Date.now() + (opts.timeoutMs ?? 5000);
    let replies = 0;
    // busybox ping ignores -w once -c packets are sent, so each attempt is one echo and we retry.
    while (Date.now() < deadline) {
      const started = Date.now();
      const result = await this.exec(['busybox', 'ping', '-c', '1', '-W', '1', ...(opts.source !== undefined ? ['-I', opts.source] : []), address], { timeoutMs: 5000 });
      if (result.code === 0) {
        if (++replies >= wanted) return true;
      } else if (Date.now() - started < 200) {
        await sleep(200); // failed at once (no route): do not spin
      }
    }
    return false;
  }

  tcpListen(port: number): Promise<Listener> {
    return this.#listen(tcpServer, port, () => undefined);
  }

  async tcpConnect(address: string, port: number, opts: { timeoutMs?: number } = {}): Promise<ConnectResult> {
    const timeoutMs = opts.timeoutMs ?? 5000;
    return this.#client(tcpClient, [address, String(port), String(timeoutMs)], timeoutMs);
  }

  async udpListen(port: number): Promise<UdpListener> {
    const queue: UdpDatagram[] = [];
    const waiters: Array<(d: UdpDatagram) => void> = [];
    const listener = await this.#listen(udpServer, port, (line) => {
      const datagram = JSON.parse(line) as UdpDatagram;
      const waiter = waiters.shift();
      if (waiter) waiter(datagram);
      else queue.push(datagram);
    });
    return {
      stop: () => listener.stop(),
      next: ({ timeoutMs = 5000 } = {}) => {
        const queued = queue.shift();
        if (queued) return Promise.resolve(queued);
        return new Promise<UdpDatagram>((resolve, reject) => {
          const waiter = (d: UdpDatagram): void => {
            clearTimeout(timer);
            resolve(d);
          };
          const timer = setTimeout(() => {
            waiters.splice(waiters.indexOf(waiter), 1);
            reject(new SandboxTimeoutError(`no UDP datagram on ${this.name}:${port} within ${timeoutMs} ms`));
          }, timeoutMs);
          waiters.push(waiter);
        });
      },
    };
  }

  async udpSend(address: string, port: number, data: string, opts: { timeoutMs?: number } = {}): Promise<ConnectResult> {
    const timeoutMs = opts.timeoutMs ?? 5000;
    return this.#client(udpClient, [address, String(port), data, String(timeoutMs)], timeoutMs);
  }

  remove(): Promise<void> {
    this.#removed ??= (async () => {
      await Promise.all([...this.#listeners].map((l) => l.stop()));
      await this.#spec.unplug();
      if (!this.#spec.sharesNamespace) await deleteNamespace(this.name);
      // The namespace may be gone already, and the veth pair with it.
      else if (await namespaceExists(this.name)) await run(['ip', '-n', this.name, 'link', 'del', this.ifname]);
    })();
    return this.#removed;
  }

  #argv(argv: readonly string[]): string[] {
    return ['ip', 'netns', 'exec', this.name, ...argv];
  }

  async #client(source: string, args: readonly string[], timeoutMs: number): Promise<ConnectResult> {
    // Slack for node's start-up; the program itself gives up at timeoutMs.
    const result = await this.exec([process.execPath, '-e', source, ...args], { timeoutMs: timeoutMs + 5000 });
    try {
      return JSON.parse(result.stdout) as ConnectResult;
    } catch {
      throw new SandboxCommandError({ argv: this.#argv(['node', ...args]), code: result.code, stderr: result.stderr, timedOut: result.timedOut });
    }
  }

  /** Starts a listener program and resolves once it printed 'listening'; later lines go to onLine. */
  async #listen(source: string, port: number, onLine: (line: string) => void): Promise<Listener> {
    const argv = this.#argv([process.execPath, '-e', source, String(port), this.name]);
    const child = spawnTracked(argv, { env: this.#spec.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<number>((resolve) => child.once('close', (code) => resolve(code ?? 128)));
    const listening = new Promise<boolean>((resolve) => {
      let first = true;
      createInterface({ input: child.stdout! }).on('line', (line) => {
        if (!first) return onLine(line);
        first = false;
        resolve(true);
      });
      void exited.then(() => resolve(false));
    });
    if (!(await listening)) {
      throw new SandboxCommandError({ argv, code: await exited, stderr, timedOut: false });
    }
    const listener: Listener = {
      stop: async () => {
        this.#listeners.delete(listener);
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        await exited;
      },
    };
    this.#listeners.add(listener);
    return listener;
  }
}

const installed = new Map<string, Promise<boolean>>();

/** Throws SandboxToolMissingError unless argv's program (and, for busybox, its applet) is installed; looked up once. */
async function requireTool(argv: readonly string[], path = ''): Promise<void> {
  const [program, applet] = argv;
  if (program === undefined) throw new TypeError('empty argv');
  const tool = program === 'busybox' && applet !== undefined ? `busybox ${applet}` : program;
  let found = installed.get(tool);
  if (found === undefined) installed.set(tool, (found = isInstalled(program, path, program === 'busybox' ? applet : undefined)));
  if (!(await found)) throw new SandboxToolMissingError(tool);
}

/** The namespace shares our file system, so our PATH lookup is its own. */
async function isInstalled(program: string, path: string, applet: string | undefined): Promise<boolean> {
  const candidates = program.includes('/') ? [program] : path.split(delimiter).filter((dir) => dir !== '').map((dir) => join(dir, program));
  const executable = await Promise.all(candidates.map((file) => access(file, constants.X_OK).then(() => true, () => false)));
  const resolved = candidates[executable.indexOf(true)];
  if (resolved === undefined) return false;
  if (applet === undefined) return true;
  const list = await runProcess([resolved, '--list']);
  return list.code === 0 && list.stdout.split('\n').includes(applet);
}

/** busybox's "dest gw dest gw …" as routes. */
function pairsOf(text: string): { destination: string; nextHop: string }[] {
  const words = text.split(' ').filter((w) => w !== '');
  const routes: { destination: string; nextHop: string }[] = [];
  for (let i = 0; i + 1 < words.length; i += 2) routes.push({ destination: words[i]!, nextHop: words[i + 1]! });
  return routes;
}
