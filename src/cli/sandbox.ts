import { join, resolve } from 'node:path';
import { configFrom } from '../engine/config.js';
import type { EngineConfig } from '../engine/config.js';
import { startEngine } from '../engine/engine.js';
import { startChassis, startNatsServer, startNorthbound } from '../sandbox/mod.js';
import type { Chassis } from '../sandbox/mod.js';

export interface SandboxOptions {
  /** Everything lives here and survives restarts: the JetStream store, the Northbound database. */
  readonly dir: string;
  /** Also run Southbound, ovn-northd, ovs-vswitchd and ovn-controller, so namespaces can be plugged in. */
  readonly chassis: boolean;
  readonly engineFlags: Partial<Record<keyof EngineConfig, string>>;
}

/** `npm start`: a local nats-server, an OVN Northbound (and optionally a chassis), and the engine. */
export async function runSandbox(opts: SandboxOptions): Promise<number> {
  const dir = resolve(opts.dir);
  const nats = await startNatsServer({ dir: join(dir, 'nats'), port: 4222 });
  const northbound = await startNorthbound({ dir: join(dir, 'ovn') });
  let chassis: Chassis | undefined;
  if (opts.chassis) chassis = await startChassis({ dir: join(dir, 'chassis'), northbound, name: 'sandbox' });
  const config = configFrom({ ...opts.engineFlags, natsUrl: nats.url, ovnNb: northbound.remote });
  const engine = await startEngine(config);

  const cli = 'node dist/src/cli/main.js';
  console.log(`
novanet sandbox is running (Ctrl-C stops it; data stays in ${dir}).
  NATS          ${nats.url}   (JetStream store in ${nats.dir})
  OVN NB        ${northbound.remote}
  chassis       ${chassis ? `${chassis.name} (ovs-vswitchd and ovn-controller in network namespace ${chassis.hostNamespace})` : 'none (start with --chassis to plug namespaces into ports)'}

Try, in another terminal:
  ${cli} vpc create --name demo
  ${cli} subnet create --vpc-id <vpc id> --name app
  ${cli} port create --subnet-id <subnet id>
  ${cli} watch port/<port id>
  ovn-nbctl --db=${northbound.remote} show
`);
  await new Promise<void>((resolveStop) => {
    process.once('SIGINT', resolveStop);
    process.once('SIGTERM', resolveStop);
  });
  await engine.stop();
  await chassis?.stop();
  await northbound.stop();
  await nats.stop();
  return 0;
}
