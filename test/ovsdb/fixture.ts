// A Northbound ovsdb-server per test, from the sandbox, in a temp dir that t.teardown removes.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ExecutionContext } from 'ava';
import { JsonStreamParser, OvsdbClient } from '../../src/ovsdb/mod.js';
import type { Json, OvsdbClientOptions } from '../../src/ovsdb/mod.js';
import { startNorthbound } from '../../src/sandbox/mod.js';
import type { Northbound } from '../../src/sandbox/mod.js';

const run = promisify(execFile);
export const NB_SCHEMA = '/usr/share/ovn/ovn-nb.ovsschema';

export interface NbServer {
  readonly dir: string;
  /** The database file, kept across stop/restart. */
  readonly db: string;
  /** unix:<dir>/ovnnb_db.sock */
  readonly remote: string;
  nbctl(...args: string[]): Promise<string>;
  /** Stops ovsdb-server; the database file stays. */
  stop(): Promise<void>;
  /** Starts it again on the same socket and database file. */
  restart(): Promise<void>;
  /** Makes the running server listen on tcp too; returns 'tcp:127.0.0.1:<port>'. */
  listenTcp(): Promise<string>;
}

/** Starts a Northbound ovsdb-server that t.teardown stops and deletes. */
export async function startNb(t: ExecutionContext): Promise<NbServer> {
  const dir = await mkdtemp(join(tmpdir(), 'novanet-ovsdb-'));
  let nb: Northbound | undefined;
  t.teardown(async () => {
    await nb?.stop();
    await rm(dir, { recursive: true, force: true });
  });
  nb = await startNorthbound({ dir });
  const running = (): Northbound => {
    if (!nb) throw new Error('ovsdb-server is stopped');
    return nb;
  };
  return {
    dir,
    db: join(dir, 'ovnnb_db.db'),
    remote: nb.remote,
    nbctl: (...args) => running().nbctl(...args),
    stop: async () => {
      await nb?.stop();
      nb = undefined;
    },
    restart: async () => {
      nb = await startNorthbound({ dir });
    },
    listenTcp: async () => {
      const port = await freePort();
      await run('ovs-appctl', ['-t', join(dir, 'ovnnb_db.ctl'), 'ovsdb-server/add-remote', `ptcp:${port}:127.0.0.1`]);
      await waitFor(() => canConnect(port), 'the tcp remote');
      return `tcp:127.0.0.1:${port}`;
    },
  };
}

/** A client closed in t.teardown (registered after the server's, so it closes first). */
export async function connect(t: ExecutionContext, options: OvsdbClientOptions): Promise<OvsdbClient> {
  const client = await OvsdbClient.connect(options);
  t.teardown(() => client.close());
  return client;
}

/** Polls until fn returns something other than undefined/false; fails after timeoutMs. */
export async function waitFor<T>(
  fn: () => T | undefined | false | Promise<T | undefined | false>,
  what: string,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * A unix-socket relay between clients and a Northbound that controls what crosses it: the
 * server's bytes are written on in pieces of `pieceBytes` (each its own write, a turn of the
 * event loop apart, so the client reads them apart), held while `held` (set once `holdAfter` more
 * bytes were written on), and the connection is cut once `cutAfter` more were (both then unset).
 * `notifications` counts the update2 notifications read from the server.
 */
export interface Relay {
  readonly remote: string;
  pieceBytes: number;
  held: boolean;
  holdAfter: number | undefined;
  cutAfter: number | undefined;
  readonly notifications: number;
  /** Connections made through it so far. */
  readonly connections: number;
  /** Cuts every connection now. */
  cut(): void;
}

export async function startRelay(t: ExecutionContext, nb: NbServer): Promise<Relay> {
  const path = join(nb.dir, 'relay.sock');
  const sockets = new Set<net.Socket>();
  let connections = 0;
  let notifications = 0;
  const relay: Relay = {
    remote: `unix:${path}`,
    pieceBytes: Infinity,
    held: false,
    holdAfter: undefined,
    cutAfter: undefined,
    get notifications() {
      return notifications;
    },
    get connections() {
      return connections;
    },
    cut: () => {
      for (const socket of sockets) socket.destroy();
    },
  };
  const server = net.createServer((client) => {
    connections++;
    const upstream = net.createConnection({ path: nb.remote.slice('unix:'.length) });
    const close = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (bytes: Buffer) => upstream.write(bytes));
    const replies = new JsonStreamParser((message) => {
      if ((message as { method?: Json }).method === 'update2') notifications++;
    });
    let forwarding = Promise.resolve();
    upstream.on('data', (bytes: Buffer) => {
      replies.push(bytes);
      forwarding = forwarding.then(async () => {
        for (let at = 0; at < bytes.length;) {
          while (relay.held && !client.destroyed) await new Promise((resolve) => setTimeout(resolve, 5));
          if (client.destroyed) return;
          const end = Math.min(bytes.length, at + relay.pieceBytes, at + (relay.cutAfter ?? Infinity), at + (relay.holdAfter ?? Infinity));
          client.write(bytes.subarray(at, end));
          if (relay.holdAfter !== undefined && (relay.holdAfter -= end - at) === 0) {
            relay.holdAfter = undefined;
            relay.held = true;
          }
          if (relay.cutAfter !== undefined && (relay.cutAfter -= end - at) === 0) {
            relay.cutAfter = undefined;
            return close();
          }
          at = end;
          if (relay.pieceBytes !== Infinity) await new Promise((resolve) => setImmediate(resolve));
        }
      });
    });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', close);
      socket.on('close', () => {
        sockets.delete(socket);
        close();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  t.teardown(async () => {
    relay.cut();
    await new Promise((resolve) => server.close(resolve));
  });
  return relay;
}
