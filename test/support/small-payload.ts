import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import type { ExecutionContext } from 'ava';
import { pino } from 'pino';
import { NovanetClient } from '../../src/bus/client.js';
import { EngineConfig } from '../../src/engine/config.js';
import { startEngine } from '../../src/engine/engine.js';
import { startNatsServer, startNorthbound } from '../../src/sandbox/mod.js';

/**
 * An engine on a nats-server whose `max_payload` is `maxPayload` bytes, with a client: for
 * what the engine does with a commit or a reply NATS cannot carry. Stopped by the test's teardown.
 */
export async function startSmallPayloadEngine(t: ExecutionContext, maxPayload: number, clientTimeoutMs: number): Promise<{ nc: NatsConnection; client: NovanetClient }> {
  const dir = await mkdtemp(join(tmpdir(), 'novanet-payload-'));
  const stops: (() => Promise<unknown>)[] = [() => rm(dir, { recursive: true, force: true })];
  t.teardown(async () => { for (const stop of stops.reverse()) await stop().catch(() => undefined); });
  const conf = join(dir, 'small.conf');
  await writeFile(conf, `jetstream { store_dir: js }\nmax_payload: ${maxPayload}\n`);
  const nats = await startNatsServer({ dir: join(dir, 'nats'), config: { file: conf } });
  stops.push(() => nats.stop());
  const northbound = await startNorthbound({ dir: join(dir, 'ovn') });
  stops.push(() => northbound.stop());
  const engine = await startEngine(EngineConfig.parse({ natsUrl: nats.url, ovnNb: northbound.remote, logLevel: 'silent' }), pino({ level: 'silent' }));
  stops.push(() => engine.stop());
  const nc = await connect({ servers: nats.url });
  stops.push(() => nc.close());
  return { nc, client: new NovanetClient(nc, 'novanet', clientTimeoutMs) };
}
