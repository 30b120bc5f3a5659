import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Metrics } from './metrics.js';

/** Whether the engine should be sent work now, and if not, why (each reason one line of /ready's body). */
export type Readiness = () => { readonly ready: boolean; readonly reasons: readonly string[] };

export interface HttpEndpoint {
  /** `host:port` actually bound (port 0 asks for a free one). */
  readonly address: string;
  close(): Promise<void>;
}

/**
 * `/metrics` (Prometheus text format), `/health` (the process answers: alive) and `/ready`
 * (200 `ready`, or 503 with the reasons), as an operator used to Prometheus and Kubernetes
 * probes expects them.
 */
export async function startHttp(listen: string, metrics: Metrics, readiness: Readiness): Promise<HttpEndpoint> {
  const at = listen.lastIndexOf(':');
  const host = listen.slice(0, at).replace(/^\[(.*)\]$/, '$1');
  const port = Number(listen.slice(at + 1));
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const text = (status: number, body: string, type = 'text/plain; charset=utf-8') => {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return text(405, 'GET only\n');
    switch (path) {
      case '/metrics':
        metrics.registry.metrics().then((body) => text(200, body, metrics.registry.contentType), (err: unknown) => text(500, `${String(err)}\n`));
        return;
      case '/health':
        return text(200, 'alive\n');
      case '/ready': {
        const { ready, reasons } = readiness();
        return ready ? text(200, 'ready\n') : text(503, `not ready\n${reasons.map((r) => `${r}\n`).join('')}`);
      }
      default:
        return text(404, 'not found: /metrics, /health, /ready\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = server.address() as AddressInfo;
  return {
    address: `${bound.family === 'IPv6' ? `[${bound.address}]` : bound.address}:${bound.port}`,
    close: () => new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
