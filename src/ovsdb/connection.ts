import { readFileSync } from 'node:fs';
import net from 'node:net';
import type { Socket } from 'node:net';
import tls from 'node:tls';
import { OvsdbDisconnectedError, OvsdbError, OvsdbRpcError, OvsdbTimeoutError } from './errors.js';
import { JsonStreamParser, stringifyJson } from './json-stream.js';
import type { Json, RowSink } from './json-stream.js';
import { asObject } from './schema.js';
import type { Logger, OvsdbSslOptions } from './types.js';

export interface ConnectionHandlers {
  /** Called synchronously, in stream order, for every notification (a request with a null id). */
  onNotification(method: string, params: Json): void;
  /** Called once, when the connection is gone for whatever reason. */
  onClose(error: Error | undefined): void;
}

interface Pending {
  readonly method: string;
  readonly handle: (result: Json) => unknown;
  readonly rows: RowSink | undefined;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/** Opens a socket to 'unix:<path>', 'tcp:<host>:<port>' or 'ssl:<host>:<port>' (which needs `ssl`). */
export function openSocket(remote: string, timeoutMs: number, ssl?: OvsdbSslOptions): Promise<Socket> {
  const m = /^(?:unix:(.+)|(tcp|ssl):\[?([^\]]*?)\]?:(\d+))$/.exec(remote);
  if (!m) return Promise.reject(new OvsdbError(`unsupported remote "${remote}": use unix:<path>, tcp:<host>:<port> or ssl:<host>:<port>`));
  const tlsWanted = m[2] === 'ssl';
  if (tlsWanted && !ssl) return Promise.reject(new OvsdbError(`remote "${remote}" needs a private key, a certificate and a CA certificate`));
  let socket: Socket;
  try {
    socket = m[1] !== undefined
      ? net.createConnection({ path: m[1] })
      : tlsWanted
        ? tls.connect({
          host: m[3], port: Number(m[4]),
          // Read at every connection: renewed certificates are used from the next reconnect on.
          key: readFileSync(ssl!.privateKey), cert: readFileSync(ssl!.certificate), ca: readFileSync(ssl!.caCert),
          // As OVS's own SSL: the peer must hold a certificate signed by the CA; its name is not checked.
          checkServerIdentity: () => undefined,
        })
        : net.createConnection({ host: m[3], port: Number(m[4]) });
  } catch (err) {
    return Promise.reject(new OvsdbError(`cannot read the SSL files for ${remote}: ${(err as Error).message}`, { cause: err }));
  }
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => socket.destroy(new OvsdbTimeoutError(`connecting to ${remote} timed out`)), timeoutMs);
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(new OvsdbDisconnectedError(`cannot connect to ${remote}: ${err.message}`, { cause: err }));
    });
    socket.once(tlsWanted ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer);
      if (m[1] === undefined) {
        socket.setNoDelay(true);
        socket.setKeepAlive(true, 10_000);
      }
      resolve(socket);
    });
  });
}

/**
 * Parsing this long (a dump's rows, each decoded as it is read) hands the event loop back
 * before the next chunk is read: a 100k-port dump arrives in ~1,000 chunks of 64 KiB.
 */
const SLICE_MS = 5;

/** JSON-RPC 1.0 over one socket: requests with ids, replies to the server's echo, notifications in order. */
export class RpcConnection {
  readonly #socket: Socket;
  readonly #handlers: ConnectionHandlers;
  readonly #timeoutMs: number;
  readonly #logger: Logger;
  readonly #pending = new Map<number, Pending>();
  readonly #closedPromise: Promise<void>;
  #nextId = 1;
  #closed = false;
  /** Time spent parsing since the event loop was last handed back. */
  #busyMs = 0;

  constructor(socket: Socket, options: { timeoutMs: number; logger: Logger }, handlers: ConnectionHandlers) {
    this.#socket = socket;
    this.#handlers = handlers;
    this.#timeoutMs = options.timeoutMs;
    this.#logger = options.logger;
    const parser = new JsonStreamParser((message) => this.#onMessage(message), (id) => this.#pending.get(id)?.rows);
    this.#closedPromise = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('data', (chunk: Buffer) => {
      const began = performance.now();
      try {
        parser.push(chunk);
      } catch (err) {
        this.#fail(err as Error);
        return;
      }
      this.#busyMs += performance.now() - began;
      if (this.#busyMs < SLICE_MS) return;
      this.#busyMs = 0;
      socket.pause();
      setImmediate(() => socket.resume());
    });
    socket.on('error', (err) => this.#fail(err));
    socket.on('close', () => this.#fail(undefined));
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Sends a request. `handle` runs synchronously when the reply is read, before any later message
   * is processed, and its return value resolves the promise (a throw rejects it). With `rows`
   * (a monitor request), the rows of a result that is table updates are handed to it as they are
   * read, and `handle` gets the rest: `{}` (JsonStreamParser), or, from a server that does not
   * write a reply's id first, the whole result.
   */
  request<T>(method: string, params: Json[], handle: (result: Json) => T, rows?: RowSink): Promise<T> {
    if (this.#closed) return Promise.reject(new OvsdbDisconnectedError(`${method}: not connected`));
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new OvsdbTimeoutError(`${method}: no reply within ${this.#timeoutMs} ms`));
      }, this.#timeoutMs);
      this.#pending.set(id, { method, handle, rows, resolve: resolve as (value: unknown) => void, reject, timer });
      this.#send({ method, params, id });
    });
  }

  /** Closes the socket; resolves once it is closed. */
  close(): Promise<void> {
    this.#fail(undefined);
    return this.#closedPromise;
  }

  #send(message: Json): void {
    this.#socket.write(stringifyJson(message));
  }

  #onMessage(json: Json): void {
    const message = asObject(json, 'JSON-RPC message');
    const { method, id } = message;
    if (typeof method === 'string') {
      if (id === null || id === undefined) return this.#handlers.onNotification(method, message['params'] ?? null);
      // The server's inactivity probe: answer or be dropped.
      if (method === 'echo') return this.#send({ result: message['params'] ?? [], error: null, id });
      this.#logger.warn({ method }, 'ovsdb: unsupported request from server');
      return this.#send({ result: null, error: `unsupported method ${method}`, id });
    }
    const pending = typeof id === 'number' ? this.#pending.get(id) : undefined;
    if (!pending) return this.#logger.debug({ id }, 'ovsdb: reply to no pending request (timed out?)');
    this.#pending.delete(id as number);
    clearTimeout(pending.timer);
    const error = message['error'];
    if (error !== null && error !== undefined) return pending.reject(new OvsdbRpcError(pending.method, error));
    try {
      pending.resolve(pending.handle(message['result'] ?? null));
    } catch (err) {
      pending.reject(err as Error);
    }
  }

  #fail(error: Error | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#socket.destroy();
    for (const pending of this.#pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(new OvsdbDisconnectedError(`${pending.method}: connection lost before the reply`, { cause: error }));
    }
    this.#pending.clear();
    this.#handlers.onClose(error);
  }
}
