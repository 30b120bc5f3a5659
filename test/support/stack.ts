import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JetStreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { pino } from 'pino';
import type { Logger } from 'pino';
import { NovanetClient } from '../../src/bus/client.js';
import { EngineConfig } from '../../src/engine/config.js';
import { startEngine } from '../../src/engine/engine.js';
import type { Engine, EngineObservers } from '../../src/engine/engine.js';
import { startChassis, startNatsServer, startNorthbound } from '../../src/sandbox/mod.js';
import type { Chassis, Namespace, NatsServer, Northbound, RunningChassis } from '../../src/sandbox/mod.js';
import { PROVIDER_SCOPE, readStatus, subjects } from '../../events/mod.js';
import type { Scope, StatusMessage } from '../../events/mod.js';
import { streamNames } from '../../events/mod.js';
import { reconcilerHookModule } from './reconciler-hook.js';

/**
 * A real stack for one test file: nats-server with JetStream, an OVN Northbound
 * ovsdb-server, optionally a full chassis, and the engine in this process.
 */
export interface Stack {
  readonly dir: string;
  readonly nats: NatsServer;
  readonly northbound: Northbound;
  readonly chassis?: Chassis;
  engine: Engine;
  readonly config: EngineConfig;
  readonly nc: NatsConnection;
  readonly client: NovanetClient;
  /**
   * Stops the engine and starts a fresh one on the same NATS and Northbound (a restart); runs
   * `meanwhile` in between (e.g. leaves the Northbound as an older version left it).
   */
  restartEngine(meanwhile?: () => Promise<void>): Promise<Engine>;
  stop(): Promise<void>;
}

/** `hooked`: the engine's reconciler thread loads test/support/reconciler-hook.ts (reconcilerHook() reaches it). */
export async function startStack(opts: { chassis?: boolean; config?: Partial<EngineConfig>; observers?: EngineObservers; hooked?: boolean; logger?: Logger } = {}): Promise<Stack> {
  const dir = await mkdtemp(join(tmpdir(), 'novanet-test-'));
  const stops: (() => Promise<unknown>)[] = [() => rm(dir, { recursive: true, force: true })];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  };
  try {
    const nats = await startNatsServer({ dir: join(dir, 'nats') });
    stops.push(() => nats.stop());
    const northbound = await startNorthbound({ dir: join(dir, 'ovn') });
    stops.push(() => northbound.stop());
    let chassis: Chassis | undefined;
    if (opts.chassis) {
      chassis = await startChassis({ dir: join(dir, 'chassis'), northbound });
      stops.push(() => chassis!.stop());
    }
    const config = EngineConfig.parse({ natsUrl: nats.url, ovnNb: northbound.remote, resyncIntervalMs: 2000, logLevel: 'silent', ...opts.config });
    const logger = opts.logger ?? pino({ level: process.env.NOVANET_TEST_LOG ?? 'silent' });
    const seams = opts.hooked ? { reconcilerHook: reconcilerHookModule } : {};
    let engine = await startEngine(config, logger, opts.observers, seams);
    stops.push(() => engine.stop());
    const nc = await connect({ servers: nats.url });
    stops.push(() => nc.close());
    const stack: Stack = {
      dir, nats, northbound, config, nc, engine,
      client: new NovanetClient(nc, config.prefix),
      ...(chassis && { chassis }),
      async restartEngine(meanwhile) {
        await stack.engine.stop();
        await meanwhile?.();
        engine = await startEngine(config, logger, opts.observers, seams);
        stack.engine = engine;
        return engine;
      },
      stop: stopAll,
    };
    return stack;
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** Polls until `check` returns a truthy value or the time is up (reconciliation is asynchronous). */
export async function eventually<T>(check: () => Promise<T> | T, timeoutMs = 20_000, what = 'condition'): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The latest status stored for a resource, as a client's direct get reads it: undefined when there is none or it is not a status. */
export async function storedStatus(jsm: JetStreamManager, prefix: string, scope: Scope, kind: string, id: string): Promise<StatusMessage | undefined> {
  const stored = await jsm.direct.getMessage(streamNames(prefix).status, { last_by_subj: subjects(prefix).status(scope, kind, id) });
  return stored ? readStatus(stored.data) : undefined;
}

/** Reads rows of a Northbound table through ovn-nbctl (tests read OVN the way an operator would). */
export async function nbRows(northbound: Northbound, table: string, columns: string[], where: string[] = []): Promise<Record<string, unknown>[]> {
  const out = await northbound.nbctl('--format=json', `--columns=${columns.join(',')}`, 'find', table, ...where);
  const parsed = JSON.parse(out) as { headings: string[]; data: unknown[][] };
  return parsed.data.map((row) => Object.fromEntries(parsed.headings.map((h, i) => [h, decodeNbctl(row[i])])));
}

/** ovn-nbctl's JSON uses OVSDB wire values: turn sets, maps and uuids into plain values. */
function decodeNbctl(v: unknown): unknown {
  if (!Array.isArray(v)) return v;
  const [tag, body] = v as [string, unknown];
  if (tag === 'uuid' || tag === 'named-uuid') return body;
  if (tag === 'set') return (body as unknown[]).map(decodeNbctl);
  if (tag === 'map') return Object.fromEntries((body as [unknown, unknown][]).map(([k, x]) => [decodeNbctl(k), decodeNbctl(x)]));
  return v;
}

/** ovn-nbctl prints a one-element set as its element: read a set column as a list either way. */
export function asList(value: unknown): unknown[] {
  return Array.isArray(value) ? value : value === undefined || value === null ? [] : [value];
}

/** A machine of a dataplane test: a port created through the wire contract and a namespace plugged into it. */
export interface Vm {
  readonly id: string;
  readonly ip: string;
  readonly ns: Namespace;
}

/**
 * Creates the port (`deviceId` = name), plugs namespace `name` into it on `chassis` (default the
 * stack's) as the device's plug (iface-id = port id, iface-id-ver = device id) and waits until OVN
 * binds it. With `into`, the port is another NIC of that machine: its interface `ifname` joins the
 * machine's namespace.
 */
export async function plugVm(
  stack: Stack, scope: Scope, name: string, port: Record<string, unknown>, chassis: RunningChassis = stack.chassis!, nic: { into?: Namespace; ifname?: string } = {},
): Promise<Vm> {
  const created = (await stack.client.call(scope, 'port.create', { deviceId: name, ...port })).result.port as { id: string; ipAddress: string; macAddress: string; deviceId: string | null };
  const ns = await chassis.plug({
    iface: created.id, namespace: name, mac: created.macAddress, ...(created.deviceId !== null && { ifaceIdVer: created.deviceId }), ...nic,
  });
  await stack.client.waitFor(scope, 'port', created.id, (s) => s.bound === true, 60_000);
  return { id: created.id, ip: created.ipAddress, ns };
}

/** The outside of a dataplane test: its address on the provider network. */
export const OUTSIDE = '172.16.0.1';

/**
 * The provider network 172.16.0.0/24 on the stack's chassis, with an "outside" namespace at
 * OUTSIDE, registered as the default external network (gateways on this chassis) with a pool
 * of 172.16.0.10-50.
 */
export async function providerOutside(stack: Stack): Promise<{ outside: Namespace; externalNetworkId: string }> {
  const chassis = stack.chassis!;
  const outside = await chassis.addProviderNetwork({ physnet: 'physnet1', bridge: 'br-ex', outside: { namespace: 'outside', address: `${OUTSIDE}/24` } });
  const network = (await stack.client.call(PROVIDER_SCOPE, 'externalnetwork.create', {
    name: 'ext', cidr: '172.16.0.0/24', gatewayIp: OUTSIDE, physicalNetwork: 'physnet1', gatewayChassis: [{ name: chassis.name, priority: 10 }],
  })).result.externalNetwork as { id: string };
  await stack.client.call(PROVIDER_SCOPE, 'externalippool.create', { externalNetworkId: network.id, name: 'public', ranges: [{ first: '172.16.0.10', last: '172.16.0.50' }] });
  return { outside, externalNetworkId: network.id };
}
