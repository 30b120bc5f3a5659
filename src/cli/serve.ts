import { setFlagsFromString } from 'node:v8';
import { pino } from 'pino';
import type { Logger } from 'pino';
import { startEngine, STOP_DEADLINE_MS } from '../engine/engine.js';
import type { Engine, StopOutcome } from '../engine/engine.js';
import type { EngineConfig } from '../engine/config.js';
import { Metrics } from '../http/metrics.js';
import { startHttp } from '../http/server.js';
import type { HttpEndpoint } from '../http/server.js';
import { ExitCode, interrupted } from './cli.js';
import type { CliCommand } from './cli.js';

/** `novanet serve`: the engine against an existing NATS and Northbound, until SIGTERM or SIGINT. */
export const serveCommand: CliCommand = (program, cli) => {
  program.command('serve')
    .description('run the engine (NATS and the OVN Northbound from the configuration) until SIGTERM/SIGINT; /metrics, /health and /ready on --http-listen')
    .action(cli.action(async () => runEngine(cli.config())));
};

/** An engine with its metrics and health endpoints. */
export interface ObservedEngine {
  readonly engine: Engine;
  readonly metrics: Metrics;
  /** Undefined with `httpListen` off or unset. */
  readonly http: HttpEndpoint | undefined;
  stop(): Promise<StopOutcome>;
}

/**
 * Starts the HTTP endpoints first, so `/health` answers and `/ready` says "starting" while the
 * engine folds the log, then the engine with the metrics as its observers.
 */
export async function startObservedEngine(config: EngineConfig, logger: Logger = pino({ level: config.logLevel })): Promise<ObservedEngine> {
  const metrics = new Metrics();
  let engine: Engine | undefined;
  let stopping = false;
  const listen = config.httpListen ?? 'off';
  const http = listen === 'off' ? undefined : await startHttp(listen, metrics, () => {
    if (stopping) return { ready: false, reasons: ['stopping'] };
    if (!engine) return { ready: false, reasons: ['starting: folding the log'] };
    const { nats, northbound, reconciler, reconcilerResponsive } = engine.connected();
    const reasons = [
      ...(nats ? [] : ['NATS not connected']), ...(northbound ? [] : ['OVN Northbound not connected']),
      ...(reconciler ? [] : ['the reconciler\'s thread died']), ...(reconciler && !reconcilerResponsive ? ['the reconciler\'s thread is not responding'] : []),
    ];
    return { ready: reasons.length === 0, reasons };
  });
  if (http) logger.info({ metrics: `http://${http.address}/metrics` }, 'novanet http endpoints listening: /metrics, /health, /ready');
  // Read by V8 at each full collection, so setting it now bounds the heap from the start's fold on.
  if (config.heapGrowingPercent > 0) setFlagsFromString(`--heap-growing-percent=${config.heapGrowingPercent}`);
  try {
    engine = await startEngine(config, logger, { intake: metrics.intake, reconciler: metrics.reconciler });
  } catch (err) {
    await http?.close();
    throw err;
  }
  const started = engine;
  metrics.attach({
    view: () => started.intake.view, logHead: () => started.logHead(),
    reconciledSeq: () => started.reconciler.observedSeq, reconcilerLoopLag: () => started.reconciler.loopLag(),
  });
  return {
    engine: started, metrics, http,
    async stop() {
      stopping = true;
      const outcome = await started.stop();
      await http?.close();
      return outcome;
    },
  };
}

/**
 * Runs an engine until a signal, then stops it within 5 s whatever NATS and the Northbound
 * do: the engine's own deadline closes its connections, and a second signal (or the engine
 * not returning by then) ends the process at once. The exit code says how it ended. If the
 * reconciler's thread dies the engine stops as for a signal and the process exits failed
 * (1): an engine that answers commands and reconciles nothing must not run on unnoticed, so
 * its supervisor (systemd's Restart=on-failure) starts a fresh one.
 */
export async function runEngine(config: EngineConfig): Promise<number> {
  const signal = interrupted();
  const observed = await startObservedEngine(config);
  const died = await Promise.race([signal.then(() => false), observed.engine.reconcilerDied.then(() => true)]);
  // The last resort: the process ends by 5 s even if closing the connections itself hangs.
  const hardStop = setTimeout(() => process.exit(ExitCode.forcedStop), STOP_DEADLINE_MS + 900);
  hardStop.unref();
  void interrupted().then(() => process.exit(ExitCode.forcedStop));
  const outcome = await observed.stop();
  clearTimeout(hardStop);
  // Cut-off work may still hold timers or sockets: a forced stop ends the process now.
  if (died) process.exit(ExitCode.failed);
  if (outcome === 'forced') process.exit(ExitCode.forcedStop);
  return ExitCode.ok;
}
