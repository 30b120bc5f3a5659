import { startEngine, STOP_DEADLINE_MS } from '../engine/engine.js';
import type { Engine } from '../engine/engine.js';
import type { EngineConfig } from '../engine/config.js';
import { ExitCode, interrupted } from './cli.js';
import type { CliCommand } from './cli.js';

/** `novanet serve`: the engine against an existing NATS and Northbound, until SIGTERM or SIGINT. */
export const serveCommand: CliCommand = (program, cli) => {
  program.command('serve')
    .description('run the engine (NATS and the OVN Northbound from the configuration) until SIGTERM/SIGINT')
    .action(cli.action(async () => runEngine(cli.config(), startEngine)));
};

/**
 * Runs an engine until a signal, then stops it within 5 s whatever NATS and the Northbound
 * do: the engine's own deadline closes its connections, and a second signal (or the engine
 * not returning by then) ends the process at once. The exit code says how it ended.
 */
export async function runEngine(config: EngineConfig, start: (config: EngineConfig) => Promise<Engine>): Promise<number> {
  const signal = interrupted();
  const engine = await start(config);
  await signal;
  // The last resort: the process ends by 5 s even if closing the connections itself hangs.
  const hardStop = setTimeout(() => process.exit(ExitCode.forcedStop), STOP_DEADLINE_MS + 900);
  hardStop.unref();
  void interrupted().then(() => process.exit(ExitCode.forcedStop));
  const outcome = await engine.stop();
  clearTimeout(hardStop);
  // Cut-off work may still hold timers or sockets: a forced stop ends the process now.
  if (outcome === 'forced') process.exit(ExitCode.forcedStop);
  return ExitCode.ok;
}
