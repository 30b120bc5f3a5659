import { join, resolve } from 'node:path';
import type { Scope } from '../../events/mod.js';
import { z } from 'zod';
import { NovanetClient } from '../bus/client.js';
import type { EngineConfig } from '../engine/config.js';
import { connectChassis, makeTestCa, SandboxArgumentError, startChassis, startNatsServer, startNorthbound } from '../sandbox/mod.js';
import type { Chassis, DhcpLease } from '../sandbox/mod.js';
import { UsageError } from './cli.js';
import type { CliCommand } from './cli.js';
import { startObservedEngine } from './serve.js';

/** `novanet sandbox` (what `npm start` runs) and `novanet sandbox plug`. */
export const sandboxCommand: CliCommand = (program, cli) => {
  const sandbox = program.command('sandbox')
    .description('a local nats-server + OVN Northbound (+ a full chassis, or N of them on one Southbound) + the engine, data in --dir')
    .option('--dir <dir>', 'where everything lives, kept across restarts', '.novanet')
    .option('--chassis', 'also run Southbound, ovn-northd, ovs-vswitchd and ovn-controller, to plug namespaces into ports')
    .option('--chassis-count <n>', 'N chassis on one Southbound (sandbox, sandbox-2, …; implies --chassis)')
    .option('--tls', 'NATS over TLS, the Northbound over SSL (material in <dir>/tls)')
    .action(cli.action(async (options: { dir: string; chassis?: boolean; chassisCount?: string; tls?: boolean }) => {
      const chassisCount = options.chassisCount !== undefined ? chassisNumber('chassis-count', options.chassisCount) : options.chassis === true ? 1 : 0;
      return runSandbox({ dir: options.dir, chassisCount, tls: options.tls === true, config: cli.config() });
    }));
  sandbox.command('plug')
    .description('a network namespace plugged into the port on the sandbox\'s chassis (the I-th, default 1), with its DHCP lease, until Ctrl-C')
    .argument('<port id>')
    .option('--namespace <name>', 'short name of the namespace (default vm-<start of the port id>)')
    .option('--chassis-index <i>', 'which of the sandbox\'s chassis (--chassis-count) the namespace runs on')
    // --dir is sandbox's own (before or after `plug`): the same flag names the same dir.
    .action(cli.action(async (portId: string, options: { namespace?: string; chassisIndex?: string }) => {
      const chassisIndex = options.chassisIndex === undefined ? undefined : chassisNumber('chassis-index', options.chassisIndex);
      return cli.withNats((nc, config) => plugPort(new NovanetClient(nc, config.prefix), cli.scope(), {
        dir: sandbox.opts<{ dir: string }>().dir, portId,
        ...(options.namespace !== undefined && { namespace: options.namespace }), ...(chassisIndex !== undefined && { chassisIndex }),
      }));
    }));
};

const ChassisNumber = z.coerce.number().int().min(1);

/** A `--chassis-count` or `--chassis-index` value: a whole number from 1. */
function chassisNumber(flag: string, value: string): number {
  const parsed = ChassisNumber.safeParse(value);
  if (!parsed.success) throw new UsageError(`--${flag} takes a whole number from 1, not ${JSON.stringify(value)}`);
  return parsed.data;
}

/** Where the sandbox answers /metrics, /health and /ready unless configured otherwise (Prometheus's usual exporter range). */
const SANDBOX_HTTP_LISTEN = '127.0.0.1:9464';

interface SandboxOptions {
  /** Everything lives here and survives restarts: the JetStream store, the Northbound database. */
  readonly dir: string;
  /**
   * How many chassis (0: none). The first runs Southbound, ovn-northd, ovs-vswitchd and
   * ovn-controller, so namespaces can be plugged in; the others join its Southbound as more nodes.
   */
  readonly chassisCount: number;
  /** NATS over TLS with client certificates and the Northbound over SSL, with material made in `<dir>/tls`. */
  readonly tls: boolean;
  /** The configuration from flags, environment and file: NATS and the Northbound are the sandbox's own. */
  readonly config: EngineConfig;
}

/** `npm start`: a local nats-server, an OVN Northbound (and optionally a chassis), and the engine. */
async function runSandbox(opts: SandboxOptions): Promise<number> {
  const dir = resolve(opts.dir);
  // A throwaway CA, made again at every start: a server certificate for nats-server and
  // ovsdb-server, and one client certificate for the engine, the CLI and ovn-nbctl.
  const ca = opts.tls ? await makeTestCa(join(dir, 'tls'), 'sandbox') : undefined;
  const server = await ca?.issue('server');
  const client = await ca?.issue('client');
  const nats = await startNatsServer({ dir: join(dir, 'nats'), port: 4222, ...(server && { tls: { ...server, verifyClients: true } }) });
  const northbound = await startNorthbound({ dir: join(dir, 'ovn'), ...(server && { ssl: server }) });
  const chassis: Chassis[] = [];
  if (opts.chassisCount > 0) chassis.push(await startChassis({ dir: chassisDir(dir, 1), northbound, name: chassisName(1) }));
  for (let index = 2; index <= opts.chassisCount; index++) {
    chassis.push(await startChassis({ dir: chassisDir(dir, index), joins: chassis[0]!, name: chassisName(index) }));
  }
  const tlsSettings = client ? {
    natsTlsCa: client.caCert, natsTlsCert: client.certificate, natsTlsKey: client.privateKey,
    ovnNbSslKey: client.privateKey, ovnNbSslCert: client.certificate, ovnNbSslCa: client.caCert,
  } : {};
  const nbRemote = northbound.sslRemote ?? northbound.remote;
  const config: EngineConfig = { httpListen: SANDBOX_HTTP_LISTEN, ...opts.config, ...tlsSettings, natsUrl: nats.url, ovnNb: nbRemote };
  const engine = await startObservedEngine(config);

  const cli = 'node dist/src/cli/main.js';
  const exports = client
    ? `\n  export NOVANET_NATS_URL=${nats.url} NOVANET_NATS_TLS_CA=${client.caCert} NOVANET_NATS_TLS_CERT=${client.certificate} NOVANET_NATS_TLS_KEY=${client.privateKey}`
    : '';
  const nbctl = client ? `ovn-nbctl --db=${nbRemote} -p ${client.privateKey} -c ${client.certificate} -C ${client.caCert}` : `ovn-nbctl --db=${nbRemote}`;
  console.log(`
novanet sandbox is running (Ctrl-C stops it; data stays in ${dir}).
  NATS          ${nats.url}   (JetStream store in ${nats.dir}${client ? '; TLS, client certificates required' : ''})
  OVN NB        ${nbRemote}${client ? `   (SSL; certificates in ${join(dir, 'tls')})` : ''}
  metrics       ${engine.http ? `http://${engine.http.address}/metrics   (/health, /ready)` : 'off'}
  chassis       ${chassis.length > 0 ? chassis.map((c, i) => `${c.name} (--chassis-index ${i + 1}: ovs-vswitchd and ovn-controller in network namespace ${c.hostNamespace})`).join('\n                ') : 'none (start with --chassis to plug namespaces into ports)'}

Try, in another terminal:${exports}
  ${cli} vpc create --name demo
  ${cli} subnet create --vpc-id <vpc id> --name app
  ${cli} port create --subnet-id <subnet id>
  ${cli} watch port/<port id>${chassis.length > 0 ? `
  ${cli} sandbox plug <port id>      a namespace on the port, with its DHCP lease${chassis.length > 1 ? ' (--chassis-index N: on that chassis)' : ''}` : ''}
  ${nbctl} show
`);
  await new Promise<void>((resolveStop) => {
    process.once('SIGINT', resolveStop);
    process.once('SIGTERM', resolveStop);
  });
  await engine.stop();
  // The first chassis runs the Southbound the others joined: it stops last.
  for (const c of chassis.reverse()) await c.stop();
  await northbound.stop();
  await nats.stop();
  return 0;
}

/** The first chassis is `sandbox` in <dir>/chassis, the n-th `sandbox-<n>` in <dir>/chassis-<n>. */
const chassisDir = (dir: string, index: number): string => join(resolve(dir), index === 1 ? 'chassis' : `chassis-${index}`);
const chassisName = (index: number): string => (index === 1 ? 'sandbox' : `sandbox-${index}`);

interface PlugPortOptions {
  /** The sandbox's dir (`novanet sandbox --chassis --dir …`). */
  readonly dir: string;
  readonly portId: string;
  /** Short name of the namespace; default `vm-<start of the port id>`. */
  readonly namespace?: string;
  /** Which of the sandbox's chassis (`--chassis-count`) the namespace runs on; default 1. */
  readonly chassisIndex?: number;
}

/**
 * `novanet sandbox plug <port id>`: a network namespace plugged into the port on the sandbox's
 * chassis, as a VM's interface would be (the port's MAC, `iface-id` = port id), holding the
 * lease OVN's DHCP gives it. It stays until Ctrl-C, then is unplugged and deleted.
 */
async function plugPort(client: NovanetClient, scope: Scope, opts: PlugPortOptions): Promise<number> {
  const reply = await client.request(scope, 'port.get', { portId: opts.portId });
  if (!reply.ok) {
    console.log(JSON.stringify(reply, null, 2));
    return 1;
  }
  const port = (reply.result as { port: { id: string; macAddress: string; ipAddress: string; deviceId: string | null } }).port;
  if (port.deviceId === null) {
    console.error(`novanet: port ${port.id} has no device, so no plug binds it: attach it first (novanet port attach --port-id ${port.id} --device-id <device>)`);
    return 1;
  }
  const chassis = await connectChassis({ dir: chassisDir(opts.dir, opts.chassisIndex ?? 1) }).catch((err: unknown) => {
    throw err instanceof SandboxArgumentError ? new Error(`${err.message}: start the sandbox with --chassis (--chassis-count for more than one) and the same --dir`) : err;
  });
  // As a hypervisor plugs a VM's NIC: only an interface carrying the port's device id binds it.
  const ns = await chassis.plug({ iface: port.id, namespace: opts.namespace ?? `vm-${port.id.slice(0, 8)}`, mac: port.macAddress, ifaceIdVer: port.deviceId });
  // Only now: the sandbox's cleanup hook (installed by the plug) leaves a signal to a later
  // listener, while a Ctrl-C before this point is its to handle (it deletes the namespace).
  const stopped = new Promise<void>((resolveStop) => {
    process.once('SIGINT', resolveStop);
    process.once('SIGTERM', resolveStop);
  });
  try {
    // DHCP answers only once ovn-controller has claimed the interface.
    await client.waitFor(scope, 'port', port.id, (s) => s.bound === true, 60_000);
    let lease: DhcpLease | null = null;
    try {
      lease = await ns.dhcp({ timeoutMs: 30_000 });
    } catch (err) {
      // A subnet with DHCP off gives none: the namespace stays plugged for a static address.
      console.error(`novanet: no DHCP lease for port ${port.id}: ${err instanceof Error ? err.message : String(err)}`);
    }
    console.log(JSON.stringify({ namespace: ns.name, portId: port.id, ipAddress: port.ipAddress, lease }));
    console.error(`plugged; try: ip netns exec ${ns.name} ip addr   (Ctrl-C unplugs and deletes the namespace)`);
    await stopped;
  } finally {
    await ns.remove();
  }
  return 0;
}
