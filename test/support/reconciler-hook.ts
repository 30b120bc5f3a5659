import { intToIp, ipToInt } from '../../projections/mod.js';
import type { ReconcilerHookParts } from '../../src/engine/reconciler-protocol.js';
import type { Operation } from '../../src/ovsdb/mod.js';

/**
 * A test's hand inside the reconciler's thread (startEngine's `reconcilerHook`): this module is
 * loaded there, and answers what the test asks over a BroadcastChannel (which reaches every
 * thread of the process). `reconcilerHook()` below is the test's side.
 */
/** One channel a stack: tests of one file run side by side in one process, each with its own nats-server. */
const channelOf = (natsUrl: string): string => `novanet-test-reconciler-hook ${natsUrl}`;

/** What a test may ask the reconciler's thread. */
export type HookRequest =
  /** Holds the thread's event loop for `ms` (busy, as a long render or a GC would); answered after. */
  | { readonly action: 'block'; readonly ms: number }
  /** Changes a port's address in the reconciler's view (the view disagreeing with the Northbound); answers the old one. */
  | { readonly action: 'setPortAddress'; readonly portId: string; readonly ipAddress: string }
  /** The next transaction whose operations mention `containing` waits, once sent for, until `release` (the event `held` says when). */
  | { readonly action: 'holdTransaction'; readonly containing: string }
  | { readonly action: 'release' }
  /** A row of the reconciler's Northbound cache. */
  | { readonly action: 'cacheRow'; readonly table: string; readonly uuid: string }
  /** An exception nothing catches, in the thread's next turn (the thread dies). */
  | { readonly action: 'crash'; readonly message: string };

type Message = { readonly id: number; readonly request: HookRequest } | { readonly id: number; readonly reply: unknown } | { readonly event: 'held' | 'blocking' };

export default function hook({ reconciler, ovsdb, config }: ReconcilerHookParts): void {
  const channel = new BroadcastChannel(channelOf(config.natsUrl));
  // The hook must not keep the thread alive.
  (channel as unknown as { unref(): void }).unref();
  let release: (() => void) | undefined;
  let hold: string | undefined;
  const transact = ovsdb.transact.bind(ovsdb);
  ovsdb.transact = async (ops: readonly Operation[]) => {
    if (hold !== undefined && JSON.stringify(ops, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)).includes(hold)) {
      hold = undefined;
      const released = new Promise<void>((resolve) => { release = resolve; });
      channel.postMessage({ event: 'held' } satisfies Message);
      await released;
    }
    return transact(ops);
  };
  const answer = (request: HookRequest): unknown => {
    switch (request.action) {
      case 'block': {
        channel.postMessage({ event: 'blocking' } satisfies Message);
        const until = performance.now() + request.ms;
        while (performance.now() < until) { /* busy: the thread's loop is held */ }
        return undefined;
      }
      case 'setPortAddress': {
        const port = reconciler.renderedView.ports.get(request.portId) as { ip: number };
        const was = intToIp(port.ip);
        port.ip = ipToInt(request.ipAddress);
        return was;
      }
      case 'holdTransaction':
        hold = request.containing;
        return undefined;
      case 'release':
        release?.();
        return undefined;
      case 'cacheRow':
        return ovsdb.cache.get(request.table, request.uuid);
      case 'crash':
        setImmediate(() => { throw new Error(request.message); });
        return undefined;
      default:
        return request satisfies never;
    }
  };
  channel.onmessage = (e: { data: Message }) => {
    if (!('request' in e.data)) return;
    channel.postMessage({ id: e.data.id, reply: answer(e.data.request) } satisfies Message);
  };
}

/** Where startEngine finds this module. */
export const reconcilerHookModule = new URL(import.meta.url);

/** The test's side of the hook of the engine on `natsUrl`: requests answered by its reconciler's thread, and its events. */
export function reconcilerHook(natsUrl: string): { ask(request: HookRequest): Promise<unknown>; next(event: 'held' | 'blocking'): Promise<void>; close(): void } {
  const channel = new BroadcastChannel(channelOf(natsUrl));
  let nextId = 0;
  const waiting = new Map<number, (value: unknown) => void>();
  const events = new Map<string, (() => void)[]>();
  channel.onmessage = (e: { data: Message }) => {
    if ('reply' in e.data) {
      waiting.get(e.data.id)?.(e.data.reply);
      waiting.delete(e.data.id);
    } else if ('event' in e.data) {
      for (const resolve of events.get(e.data.event) ?? []) resolve();
      events.delete(e.data.event);
    }
  };
  return {
    ask: (request) => new Promise((resolve) => {
      const id = nextId++;
      waiting.set(id, resolve);
      channel.postMessage({ id, request } satisfies Message);
    }),
    next: (event) => new Promise((resolve) => { events.set(event, [...events.get(event) ?? [], resolve]); }),
    close: () => channel.close(),
  };
}
