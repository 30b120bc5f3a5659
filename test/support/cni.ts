import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createNamespace } from '../../src/sandbox/mod.js';
import type { Namespace } from '../../src/sandbox/mod.js';
import type { Stack } from './stack.js';

const cli = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export interface CniOutcome {
  readonly code: number;
  /** What the plugin printed on stdout (a result, an error, or nothing). */
  readonly output: Record<string, unknown> | undefined;
  readonly stderr: string;
}

/** Runs a CNI plugin exactly as a container runtime does: CNI_* in the environment, the config on stdin. */
export async function runPlugin(binary: string, env: Readonly<Record<string, string>>, config: unknown): Promise<CniOutcome> {
  const child = spawn(binary, [], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  child.stdin.end(typeof config === 'string' ? config : JSON.stringify(config));
  const [code] = await once(child, 'close') as [number | null];
  return { code: code ?? 128, output: stdout.trim() === '' ? undefined : JSON.parse(stdout) as Record<string, unknown>, stderr };
}

/** The environment of one pod's call. */
export function cniEnv(command: string, pod: { containerId: string; netns?: string; ifname?: string; k8s?: { namespace: string; name: string } }): Record<string, string> {
  return {
    CNI_COMMAND: command,
    CNI_CONTAINERID: pod.containerId,
    CNI_IFNAME: pod.ifname ?? 'eth0',
    CNI_PATH: '/usr/lib/cni',
    ...(pod.netns !== undefined && { CNI_NETNS: pod.netns }),
    ...(pod.k8s && { CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=${pod.k8s.namespace};K8S_POD_NAME=${pod.k8s.name}` }),
  };
}

/** `novanet cni install` into the stack's dir: the path a runtime would execute. */
export async function installPlugin(stack: Stack): Promise<string> {
  const child = spawn(process.execPath, [cli, 'cni', 'install', '--dir', join(stack.dir, 'cni-bin'), '--conf-dir', join(stack.dir, 'net.d')], { stdio: 'ignore' });
  const [code] = await once(child, 'close') as [number | null];
  if (code !== 0) throw new Error(`novanet cni install exited ${code}`);
  return join(stack.dir, 'cni-bin', 'novanet');
}

/** A node agent (`novanet agent`) for the stack's chassis, as its own process. */
export interface AgentProcess {
  readonly socket: string;
  readonly child: ChildProcess;
  log(): string;
  stop(): Promise<void>;
}

export async function startAgentProcess(stack: Stack, opts: { name?: string; extra?: readonly string[] } = {}): Promise<AgentProcess> {
  const chassis = stack.chassis!;
  const socket = join(stack.dir, `${opts.name ?? 'agent'}.sock`);
  // The agent runs in the test's namespace, where NATS listens on loopback; br-int's host ends
  // are in the chassis's namespace (--host-netns).
  const child = spawn(process.execPath, [cli, 'agent', '--nats', stack.nats.url, '--ovs-db', `unix:${join(chassis.dir, 'conf.sock')}`,
    '--socket', socket, '--host-netns', chassis.hostNamespace, '--node-name', chassis.name, '--log-level', 'info', ...opts.extra ?? []],
  { stdio: ['ignore', 'pipe', 'pipe'] });
  // Never outlive the test process, however it ends (the sandbox's hooks end in 'exit' too).
  const orphanGuard = (): void => { child.kill('SIGKILL'); };
  process.once('exit', orphanGuard);
  child.once('exit', () => process.off('exit', orphanGuard));
  let log = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (log += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (log += c));
  const exited = once(child, 'exit');
  const deadline = Date.now() + 30_000;
  while (!(await accepts(socket))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the agent did not start: ${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    socket,
    child,
    log: () => log,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

function accepts(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

/** A pod's network namespace as a runtime makes it (empty), named under the chassis's prefix. */
export async function podNamespace(stack: Stack, name: string): Promise<{ ns: Namespace; path: string }> {
  const prefix = stack.chassis!.hostNamespace.slice(0, -'-host'.length);
  const ns = await createNamespace({ name: `${prefix}-${name}`, ifname: 'eth0' });
  return { ns, path: `/var/run/netns/${ns.name}` };
}
