// `novanet agent` and `novanet cni install`: whatever parses the command line hands them its
// flags by name, so either CLI shape can call them.
import { chmod, mkdir, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { startAgent } from '../agent/agent.js';
import { agentConfigFrom } from '../agent/config.js';
import type { AgentConfig } from '../agent/config.js';
import type { CliCommand } from './cli.js';

/** `novanet agent` and `novanet cni install` (README, "Pods"). */
export const podCommands: CliCommand = (program, cli) => {
  program.command('agent')
    .description('the node agent novanet-cni talks to (one per node), until SIGTERM/SIGINT')
    .option('--socket <path>', 'where novanet-cni reaches the agent (NOVANET_AGENT_SOCKET)')
    .option('--ovs-db <remote>', 'the node\'s Open_vSwitch database, unix:PATH or tcp:HOST:PORT (NOVANET_OVS_DB)')
    .option('--bridge <name>', 'the integration bridge (NOVANET_AGENT_BRIDGE)')
    .option('--host-netns <name>', 'the network namespace br-int\'s host ends live in (NOVANET_AGENT_HOST_NETNS)')
    .option('--node-name <name>', 'recorded on every interface plugged (NOVANET_NODE_NAME)')
    .option('--overlay-mtu <n>', 'the pod MTU when the subnet has none (NOVANET_OVERLAY_MTU)')
    .option('--ovn-installed-timeout-ms <n>', 'how long an ADD waits for ovn-controller (NOVANET_OVN_INSTALLED_TIMEOUT_MS)')
    .action(cli.action(async (options: Partial<Record<keyof AgentConfig, string>>) => {
      const { nats, natsTlsCa, natsTlsCert, natsTlsKey, prefix, logLevel } = cli.globalFlags();
      const globals = { natsUrl: nats, natsTlsCa, natsTlsCert, natsTlsKey, prefix, logLevel };
      const given = Object.fromEntries(Object.entries(globals).filter(([, value]) => value !== undefined));
      return runAgent({ ...options, ...given });
    }));
  program.command('cni')
    .description('the CNI plugin')
    .command('install')
    .description('the CNI plugin "novanet" and an example conflist')
    .option('--dir <dir>', 'the runtime\'s plugin dir', '/opt/cni/bin')
    .option('--conf-dir <dir>', 'the runtime\'s network config dir', '/etc/cni/net.d')
    .action(cli.action(async (options: { dir: string; confDir: string }) => installCni(options)));
};

/** `novanet agent`: runs until SIGTERM/SIGINT. */
export async function runAgent(flags: Partial<Record<keyof AgentConfig, string>>): Promise<number> {
  const config = agentConfigFrom(flags);
  const agent = await startAgent(config, pino({ level: config.logLevel }));
  await new Promise<void>((resolveStop) => {
    process.once('SIGTERM', resolveStop);
    process.once('SIGINT', resolveStop);
  });
  await agent.stop();
  return 0;
}

export interface CniInstallOptions {
  /** Where the runtime looks for plugins (containerd and CRI-O: /opt/cni/bin). */
  readonly dir?: string;
  /** Where the example conflist goes (the runtime's network config dir). */
  readonly confDir?: string;
}

/**
 * Puts `novanet` (the plugin, a two-line launcher of dist/src/cni/main.js with this node) into
 * the plugin dir and an example conflist into the config dir. The example's name does not end
 * in .conflist, so no runtime loads it before it is filled in and renamed.
 */
export async function installCni(opts: CniInstallOptions): Promise<number> {
  const dir = resolve(opts.dir ?? '/opt/cni/bin');
  const confDir = resolve(opts.confDir ?? '/etc/cni/net.d');
  const plugin = fileURLToPath(new URL('../cni/main.js', import.meta.url));
  await stat(plugin);
  await mkdir(dir, { recursive: true });
  await mkdir(confDir, { recursive: true });
  const target = join(dir, 'novanet');
  // Written beside and renamed: a runtime executing the plugin meanwhile sees the old or the new one.
  await writeFile(`${target}.tmp`, `#!/bin/sh\nexec ${shellQuote(process.execPath)} ${shellQuote(plugin)} "$@"\n`);
  await chmod(`${target}.tmp`, 0o755);
  await rename(`${target}.tmp`, target);
  const example = join(confDir, '10-novanet.conflist.example');
  await writeFile(example, `${JSON.stringify(exampleConflist, null, 2)}\n`);
  console.log(JSON.stringify({ plugin: target, runs: plugin, exampleConflist: example, pluginDir: dirname(target) }));
  return 0;
}

const exampleConflist = {
  cniVersion: '1.1.0',
  name: 'novanet',
  plugins: [
    {
      type: 'novanet',
      org: 'acme',
      project: 'web',
      namespaces: { 'team-b': { org: 'acme', project: 'batch' } },
      subnet: 'pods',
      vpc: 'main',
      securityGroups: ['default'],
      agentSocket: '/run/novanet/agent.sock',
    },
    { type: 'portmap', capabilities: { portMappings: true } },
  ],
};

const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
