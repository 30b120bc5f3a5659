import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import type { ExecutionContext } from 'ava';
import { pino } from 'pino';
import type { Logger } from 'pino';
import { EngineConfig } from '../../src/engine/config.js';
import { startEngine } from '../../src/engine/engine.js';
import type { Engine } from '../../src/engine/engine.js';
import { startNatsServer, startNorthbound } from '../../src/sandbox/mod.js';
import type { NatsServer, Northbound } from '../../src/sandbox/mod.js';

export const tenantsConf = fileURLToPath(new URL('../../../deploy/nats/tenants.conf', import.meta.url));

export interface TenantsStack {
  readonly nats: NatsServer;
  readonly northbound: Northbound;
  readonly engine: Engine;
  /** Connects as a user of tenants.conf, with that user's private inbox. */
  login(user: string, pass: string): Promise<NatsConnection>;
}

/**
 * nats-server with deploy/nats/tenants.conf, a Northbound, and the engine under its own
 * restricted user and private inbox, as the deploy files say. Everything stops at teardown.
 */
export async function startTenantsStack(t: ExecutionContext, opts: { logger?: Logger; config?: Partial<EngineConfig> } = {}): Promise<TenantsStack> {
  const dir = await mkdtemp(join(tmpdir(), 'novanet-tenants-'));
  const stops: (() => Promise<unknown>)[] = [() => rm(dir, { recursive: true, force: true })];
  t.teardown(async () => { for (const stop of stops.reverse()) await stop().catch(() => undefined); });
  const nats = await startNatsServer({ dir: join(dir, 'nats'), config: { file: tenantsConf } });
  stops.push(() => nats.stop());
  const northbound = await startNorthbound({ dir: join(dir, 'ovn') });
  stops.push(() => northbound.stop());
  const engine = await startEngine(EngineConfig.parse({
    natsUrl: nats.url, natsUser: 'engine', natsPassword: 'change-me-engine', natsInboxPrefix: '_INBOX_engine',
    ovnNb: northbound.remote, logLevel: 'silent', ...opts.config,
  }), opts.logger ?? pino({ level: 'silent' }));
  stops.push(() => engine.stop());
  return {
    nats, northbound, engine,
    async login(user, pass) {
      const nc = await connect({ servers: nats.url, user, pass, inboxPrefix: `_INBOX_${user.replaceAll('-', '_')}` });
      stops.push(() => nc.close());
      return nc;
    },
  };
}
