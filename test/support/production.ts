import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeTestCa, startNatsServer } from '../../src/sandbox/mod.js';
import type { NatsServer } from '../../src/sandbox/mod.js';
import { freePort } from '../../src/sandbox/process.js';

/** deploy/production, the layout the tests start as written. */
export const production = fileURLToPath(new URL('../../../deploy/production/', import.meta.url));
export const HOSTS = [1, 2, 3] as const;

/**
 * deploy/production as written, on one machine: every `10.0.0.1N:<port>` becomes a free port on
 * 127.0.0.1 (the same one wherever it appears), and /etc/novanet, /var/lib/novanet and
 * /var/run/novanet move under `root`. Nothing else in the files changes.
 */
export class Loopback {
  private readonly ports = new Map<string, number>();

  constructor(readonly root: string) {}

  /** A file of deploy/production (path relative to it), rewritten. */
  async file(path: string): Promise<string> {
    return this.rewrite(await readFile(join(production, path), 'utf8'));
  }

  /** An EnvironmentFile of deploy/production, rewritten: its KEY=VALUE lines. */
  async environment(path: string): Promise<Record<string, string>> {
    const lines = (await this.file(path)).split('\n').filter((l) => /^[A-Z_]+=/.test(l));
    return Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  }

  /** Where `10.0.0.1N:<port>` went. */
  port(hostPort: string): number {
    return this.ports.get(hostPort)!;
  }

  private async rewrite(text: string): Promise<string> {
    for (const m of text.matchAll(/10\.0\.0\.1[1-3]:(\d+)|pssl:(\d+):(10\.0\.0\.1[1-3])/g)) {
      const key = m[2] !== undefined ? `${m[3]}:${m[2]}` : m[0];
      if (!this.ports.has(key)) this.ports.set(key, await freePort());
    }
    return text
      .replace(/pssl:(\d+):(10\.0\.0\.1[1-3])/g, (_, port: string, host: string) => `pssl:${this.ports.get(`${host}:${port}`)}:127.0.0.1`)
      .replace(/10\.0\.0\.1[1-3]:\d+/g, (hostPort) => `127.0.0.1:${this.ports.get(hostPort)}`)
      .replaceAll('/etc/novanet/', `${this.root}/etc/`)
      .replaceAll('/var/lib/novanet/', `${this.root}/var/lib/`)
      .replaceAll('/var/run/novanet/', `${this.root}/run/`);
  }
}

/** The TLS material the layout names, made by a test CA: ca.crt, nv<N>.crt/.key per host, engine.crt/.key. */
export async function productionTls(local: Loopback): Promise<void> {
  const tls = join(local.root, 'etc', 'tls');
  const ca = await makeTestCa(join(local.root, 'pki'), 'novanet');
  await mkdir(tls, { recursive: true });
  for (const who of ['nv1', 'nv2', 'nv3', 'engine']) {
    const pem = await ca.issue(who);
    await copyFile(pem.certificate, join(tls, `${who}.crt`));
    await copyFile(pem.privateKey, join(tls, `${who}.key`));
  }
  await copyFile(ca.caCert, join(tls, 'ca.crt'));
}

/** nats-server on each "host", with its config file from the layout (address and port as the file says, rewritten). */
export async function startProductionNats(local: Loopback, onStarted: (node: NatsServer) => void): Promise<NatsServer[]> {
  return Promise.all(HOSTS.map(async (n) => {
    const conf = join(local.root, `nats-${n}.conf`);
    await writeFile(conf, await local.file(`nats/nats-${n}.conf`));
    const node = await startNatsServer({ dir: join(local.root, 'var', 'lib', `nats-${n}-run`), port: local.port(`10.0.0.1${n}:4222`), config: { file: conf } });
    onStarted(node);
    return node;
  }));
}
