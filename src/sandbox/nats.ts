import { readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { prepareDir } from './env.js';
import { pollUntil, startDaemon } from './process.js';
import type { NatsServer, NatsServerOptions } from './types.js';

/** nats-server with JetStream, listening on 127.0.0.1 only; its store survives a restart on the same dir. */
export async function startNatsServer(opts: NatsServerOptions): Promise<NatsServer> {
  const dir = await prepareDir(opts.dir);
  const portsFile = (pid: number): string => join(dir, `nats-server_${pid}.ports`);
  let port = 0;
  const daemon = await startDaemon({
    name: 'nats-server',
    argv: [
      'nats-server',
      // A config file names its own store, relative to the working directory (dir): nats-server
      // refuses a store given twice.
      ...(opts.config ? ['--config', opts.config.file, ...(opts.config.flags ?? [])] : ['--jetstream', '--store_dir', dir]),
      '--addr', '127.0.0.1',
      // -1: the server picks a free port itself and reports it in the ports file (no probe-then-bind race).
      '--port', String(opts.port ?? -1),
      '--pid', join(dir, 'nats-server.pid'),
      '--ports_file_dir', dir,
      ...(opts.tls ? ['--tls', '--tlscert', opts.tls.certificate, '--tlskey', opts.tls.privateKey, '--tlscacert', opts.tls.caCert, ...(opts.tls.verifyClients ? ['--tlsverify'] : [])] : []),
    ],
    env: process.env,
    cwd: dir,
    logPath: join(dir, 'nats-server.log'),
    // The ports file is named after the pid, so a stale one from an earlier run is never read.
    ready: (signal, pid) =>
      pollUntil(async () => {
        port = await portFromFile(portsFile(pid));
        return port > 0 && (await sendsInfo(port));
      }, signal),
  });
  return {
    url: `${opts.tls ? 'tls' : 'nats'}://127.0.0.1:${port}`,
    port,
    dir,
    pid: daemon.pid,
    async stop(): Promise<void> {
      await daemon.stop();
      await rm(portsFile(daemon.pid), { force: true });
    },
  };
}

async function portFromFile(path: string): Promise<number> {
  try {
    const ports = JSON.parse(await readFile(path, 'utf8')) as { nats?: string[] };
    return Number(new URL(ports.nats?.[0] ?? '').port);
  } catch {
    return 0;
  }
}

/** The server greets every client with an INFO line once it serves. */
function sendsInfo(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.setTimeout(1000, () => socket.destroy());
    socket.once('data', (chunk) => {
      socket.destroy();
      resolve(chunk.toString('utf8').startsWith('INFO '));
    });
    socket.once('error', () => resolve(false));
    socket.once('close', () => resolve(false));
  });
}
