import { hostname } from 'node:os';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { pino } from 'pino';
import type { Logger } from 'pino';
import { streamNames, subjects } from '../../events/mod.js';
import { CommandEndpoint } from '../bus/command-endpoint.js';
import { Intake } from '../intake/intake.js';
import { EventLog } from '../bus/log.js';
import { StatusPublisher } from '../bus/status.js';
import { ensureStreams } from '../bus/streams.js';
import { Lease } from '../bus/lease.js';
import { OvsdbClient } from '../ovsdb/mod.js';
import { Reconciler } from '../reconcile/reconciler.js';
import { natsOptions, ovnNbSsl } from './config.js';
import type { EngineConfig } from './config.js';

/**
 * How long a dead engine's writer lease outlives it: a standby takes over at most this long
 * (plus one renewal period) after the writer died. Renewed three times per TTL.
 */
const WRITER_LEASE_TTL_MS = 3000;

/** The composition root: wires the NATS and OVSDB adapters to the intake and the reconciler. */
export interface Engine {
  readonly intake: Intake;
  readonly endpoint: CommandEndpoint;
  readonly reconciler: Reconciler;
  /** The writer lease: which engine of those sharing the log reconciles. */
  readonly lease: Lease;
  readonly nc: NatsConnection;
  readonly ovsdb: OvsdbClient;
  stop(): Promise<void>;
}

export async function startEngine(config: EngineConfig, logger: Logger = pino({ level: config.logLevel })): Promise<Engine> {
  // Stack traces for every request's error object cost ~5% of engine CPU (test/bench): off.
  const nc = await connect({ ...natsOptions(config, 'novanet-engine'), maxReconnectAttempts: -1, noAsyncTraces: true });
  let ovsdb: OvsdbClient | undefined;
  try {
    const js = jetstream(nc);
    const jsm = await jetstreamManager(nc);
    const streams = await ensureStreams(jsm, config.prefix, config.replicas);
    const subs = subjects(config.prefix);
    const log = new EventLog(js, jsm, streams.events, subs);

    const ssl = ovnNbSsl(config);
    ovsdb = await OvsdbClient.connect({
      remote: config.ovnNb, database: 'OVN_Northbound', ...(ssl && { ssl }), logger: logger.child({ component: 'ovsdb' }),
      // A clustered Northbound elects a new leader within a couple of seconds: look for it at least every second.
      reconnectDelayMs: { min: 100, max: 1000 },
    });
    const reconciler = new Reconciler({
      source: log,
      ovsdb,
      statusSink: new StatusPublisher(js, jsm, subs, streams.status),
      ownership: { owner: config.owner },
      logger: logger.child({ component: 'reconciler' }),
      resyncIntervalMs: config.resyncIntervalMs,
    });
    const intake = new Intake({ log, config: { vpcPool: config.vpcPool }, logger: logger.child({ component: 'intake' }) });
    const endpoint = new CommandEndpoint({
      nc, intake, subjects: subs, prefix: config.prefix, logger: logger.child({ component: 'intake' }), replyPrefixes: config.replyPrefixes, adminReplyPrefixes: config.adminReplyPrefixes,
    });
    // Every engine serves commands; the lease holder alone reconciles, the others stand by warm.
    const holder = `${hostname()}:${process.pid}`;
    const lease = new Lease(nc, {
      bucket: streamNames(config.prefix).lease, holder, ttlMs: WRITER_LEASE_TTL_MS, replicas: config.replicas, logger: logger.child({ component: 'lease' }),
      onAcquired: (token) => reconciler.takeOver({ token, holder }),
      onLost: () => reconciler.standDown(),
    });
    await reconciler.start();
    await intake.start();
    await lease.start();
    endpoint.start();
    logger.info({ nats: config.natsUrl, ovnNb: config.ovnNb, prefix: config.prefix, holder, writing: reconciler.writing }, 'novanet engine ready');
    const client = ovsdb;
    return {
      intake, endpoint, reconciler, lease, nc, ovsdb: client,
      async stop() {
        await endpoint.stop();
        await intake.stop();
        reconciler.standDown();
        await reconciler.stop();
        await lease.stop();
        await client.close();
        await nc.drain();
        logger.info('novanet engine stopped');
      },
    };
  } catch (err) {
    // A start that fails half-way (NATS without JetStream yet, OVSDB away) leaves nothing open.
    await ovsdb?.close();
    await nc.close();
    throw err;
  }
}
