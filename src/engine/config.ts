import { readFileSync } from 'node:fs';
import { credsAuthenticator } from '@nats-io/transport-node';
import type { ConnectionOptions } from '@nats-io/transport-node';
import { parse as parseToml } from 'smol-toml';
import { z } from 'zod';
import { DEFAULT_PREFIX } from '../../events/mod.js';
import { DEFAULT_COMMAND_RETENTION } from '../../projections/mod.js';

/**
 * Where replies to a tenant's commands may go: the default inbox and that tenant's own private
 * one (`{org}` and `{project}` are the command subject's, deploy/nats/tenants.conf). A request
 * naming any other reply subject is dropped, or a tenant could have the engine publish into a
 * stream, the JetStream API, or another tenant's inbox.
 */
export const DEFAULT_REPLY_PREFIXES: readonly string[] = ['_INBOX.', '_INBOX_{org}_{project}.'];
/** Where replies to the provider's commands (the admin subjects) may go. */
export const DEFAULT_ADMIN_REPLY_PREFIXES: readonly string[] = ['_INBOX.', '_INBOX_operator.'];

const ReplyPrefixes = z.preprocess(
  (value) => typeof value === 'string' ? value.split(',').map((p) => p.trim()).filter((p) => p !== '') : value,
  z.array(z.string().regex(/^[^\s*>]+$/, 'a reply prefix is a subject start without spaces or wildcards')).min(1),
);

/** How a process reaches NATS: the engine, the CLI and the node agent share these settings. */
export const NatsSettings = z.object({
  /** One URL, or several separated by commas (the members of a cluster). */
  natsUrl: z.string().default('nats://127.0.0.1:4222'),
  natsUser: z.string().optional(),
  natsPassword: z.string().optional(),
  /** A NATS .creds file (JWT + nkey seed), for servers with decentralised auth. */
  natsCreds: z.string().optional(),
  /** Replies come to inboxes with this prefix; with per-tenant permissions, a private one. */
  natsInboxPrefix: z.string().optional(),
  /** The CA that signed the NATS servers' certificates (TLS: also with `tls://` URLs). */
  natsTlsCa: z.string().optional(),
  /** A client certificate and its key, for servers that verify clients. */
  natsTlsCert: z.string().optional(),
  natsTlsKey: z.string().optional(),
});
export type NatsSettings = z.infer<typeof NatsSettings>;

/** The environment variables of NatsSettings, the same for every process. */
export const NATS_ENV: Readonly<Record<keyof NatsSettings, string>> = {
  natsUrl: 'NOVANET_NATS_URL',
  natsUser: 'NOVANET_NATS_USER',
  natsPassword: 'NOVANET_NATS_PASSWORD',
  natsCreds: 'NOVANET_NATS_CREDS',
  natsInboxPrefix: 'NOVANET_NATS_INBOX_PREFIX',
  natsTlsCa: 'NOVANET_NATS_TLS_CA',
  natsTlsCert: 'NOVANET_NATS_TLS_CERT',
  natsTlsKey: 'NOVANET_NATS_TLS_KEY',
};

export function checkNatsSettings(config: NatsSettings, ctx: z.RefinementCtx): void {
  if ((config.natsTlsCert === undefined) !== (config.natsTlsKey === undefined)) {
    ctx.addIssue({ code: 'custom', path: ['natsTlsCert'], message: 'a NATS client certificate needs its key, and the key its certificate' });
  }
}

/** Engine configuration: flags win over environment, environment over defaults. */
export const EngineConfig = NatsSettings.extend({
  /** `unix:<path>`, `tcp:<host>:<port>` or `ssl:<host>:<port>`; several, comma-separated, for a clustered Northbound. */
  ovnNb: z.string().regex(/^(unix:[^,]+|(tcp|ssl):[^:,]+:\d+)(,(unix:[^,]+|(tcp|ssl):[^:,]+:\d+))*$/, 'unix:<path>, tcp:<host>:<port> or ssl:<host>:<port>, comma-separated for a cluster').default('unix:.novanet/ovn/ovnnb_db.sock'),
  /** PEM files for `ssl:` Northbound remotes, as ovn-nbctl's -p, -c and -C. */
  ovnNbSslKey: z.string().optional(),
  ovnNbSslCert: z.string().optional(),
  ovnNbSslCa: z.string().optional(),
  prefix: z.string().regex(/^[a-zA-Z0-9_-]+$/).default(DEFAULT_PREFIX),
  /** Reply subjects a tenant's commands are answered on: starting with one of these (comma-separated in the environment). */
  replyPrefixes: ReplyPrefixes.default([...DEFAULT_REPLY_PREFIXES]),
  /** Reply subjects the provider's commands are answered on. */
  adminReplyPrefixes: ReplyPrefixes.default([...DEFAULT_ADMIN_REPLY_PREFIXES]),
  /** Owner mark on every Northbound row this installation writes. */
  owner: z.string().min(1).default('novanet'),
  vpcPool: z.string().default('10.0.0.0/8'),
  /**
   * The paced resync: every interval the reconciler re-checks the next `resyncSlice` resources
   * (rows and stored status) and as many owned rows (orphans), so each resource is re-checked
   * every ceil(resources / slice) intervals: 100k in 50 minutes at the defaults. The full
   * resync runs only at start, on taking over as the writer and on a Northbound reconnect.
   */
  resyncIntervalMs: z.coerce.number().int().min(100).default(30_000),
  resyncSlice: z.coerce.number().int().min(1).default(1000),
  /**
   * How long a commandId is remembered, in the log's own time (events/README.md, Idempotency):
   * 24 h, and at most the tenant's newest 100,000 commands.
   */
  idempotencyRetentionMs: z.coerce.number().int().min(1000).default(DEFAULT_COMMAND_RETENTION.ms),
  idempotencyRetentionCommands: z.coerce.number().int().min(1).default(DEFAULT_COMMAND_RETENTION.perScope),
  /**
   * A snapshot of the views every this many records of the log (src/bus/snapshot.ts), and at
   * a graceful stop; a start loads the newest and folds only the log after it. 0: none taken
   * or loaded (every start folds the whole log).
   */
  snapshotEvery: z.coerce.number().int().min(0).default(10_000),
  replicas: z.coerce.number().int().min(1).max(5).default(1),
  /**
   * How far V8 lets the old space grow past the live heap before its next full collection, in
   * percent (its `--heap-growing-percent`), set by `serve` at start; 0: V8's own choice, which
   * let it grow to 2–3× the live heap. At 30k ports 20 gave 3.4 KiB of RSS a port instead of
   * 7.5, for ~18 % more engine CPU a port (README "Scale").
   */
  heapGrowingPercent: z.coerce.number().int().min(0).max(300).default(20),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /**
   * Where /metrics, /health and /ready are answered: `<host>:<port>` (port 0: any free one) or
   * `off`. Unset: off for `serve` (two engines on one machine, tests among them, must not fight
   * over a port), 127.0.0.1:9464 for the sandbox.
   */
  httpListen: z.string().regex(/^(off|.+:\d{1,5})$/, '<host>:<port> or off').optional(),
}).superRefine((config, ctx) => {
  const sslFiles = [config.ovnNbSslKey, config.ovnNbSslCert, config.ovnNbSslCa];
  if (/(^|,)ssl:/.test(config.ovnNb) && sslFiles.some((f) => f === undefined)) {
    ctx.addIssue({ code: 'custom', path: ['ovnNb'], message: 'ssl: Northbound remotes need NOVANET_OVN_NB_SSL_KEY, NOVANET_OVN_NB_SSL_CERT and NOVANET_OVN_NB_SSL_CA' });
  }
  checkNatsSettings(config, ctx);
  // `$` starts the JetStream API and the server's own subjects; novanet's subjects hold its streams.
  // A placeholder can become any tenant name, so what comes before the first one must be safe alone.
  const own = `${config.prefix}.`;
  for (const key of ['replyPrefixes', 'adminReplyPrefixes'] as const) {
    for (const [i, replyPrefix] of config[key].entries()) {
      const fixed = replyPrefix.split('{')[0]!;
      if (fixed === '' || fixed.startsWith('$') || own.startsWith(fixed) || fixed.startsWith(own)) {
        ctx.addIssue({ code: 'custom', path: [key, i], message: `reply prefix '${replyPrefix}' could reach a stream or the JetStream API (it starts with '$' or overlaps '${own}')` });
      }
    }
  }
});
export type EngineConfig = z.infer<typeof EngineConfig>;

/** Every setting's environment variable. */
export const ENV: Readonly<Record<keyof EngineConfig, string>> = {
  ...NATS_ENV,
  ovnNb: 'NOVANET_OVN_NB',
  ovnNbSslKey: 'NOVANET_OVN_NB_SSL_KEY',
  ovnNbSslCert: 'NOVANET_OVN_NB_SSL_CERT',
  ovnNbSslCa: 'NOVANET_OVN_NB_SSL_CA',
  prefix: 'NOVANET_PREFIX',
  replyPrefixes: 'NOVANET_REPLY_PREFIXES',
  adminReplyPrefixes: 'NOVANET_ADMIN_REPLY_PREFIXES',
  owner: 'NOVANET_OWNER',
  vpcPool: 'NOVANET_VPC_POOL',
  resyncIntervalMs: 'NOVANET_RESYNC_INTERVAL_MS',
  resyncSlice: 'NOVANET_RESYNC_SLICE',
  idempotencyRetentionMs: 'NOVANET_IDEMPOTENCY_RETENTION_MS',
  idempotencyRetentionCommands: 'NOVANET_IDEMPOTENCY_RETENTION_COMMANDS',
  snapshotEvery: 'NOVANET_SNAPSHOT_EVERY',
  replicas: 'NOVANET_REPLICAS',
  heapGrowingPercent: 'NOVANET_HEAP_GROWING_PERCENT',
  logLevel: 'NOVANET_LOG_LEVEL',
  httpListen: 'NOVANET_HTTP_LISTEN',
};

/** The settings that also have a command-line flag (every command takes them: `--nats URL`). */
export const FLAGS: Readonly<Partial<Record<keyof EngineConfig, string>>> = {
  natsUrl: 'nats',
  natsTlsCa: 'nats-tls-ca',
  natsTlsCert: 'nats-tls-cert',
  natsTlsKey: 'nats-tls-key',
  ovnNb: 'ovn-nb',
  ovnNbSslKey: 'ovn-nb-ssl-key',
  ovnNbSslCert: 'ovn-nb-ssl-cert',
  ovnNbSslCa: 'ovn-nb-ssl-ca',
  prefix: 'prefix',
  replyPrefixes: 'reply-prefixes',
  adminReplyPrefixes: 'admin-reply-prefixes',
  resyncIntervalMs: 'resync-interval-ms',
  resyncSlice: 'resync-slice',
  idempotencyRetentionMs: 'idempotency-retention-ms',
  idempotencyRetentionCommands: 'idempotency-retention-commands',
  snapshotEvery: 'snapshot-every',
  heapGrowingPercent: 'heap-growing-percent',
  logLevel: 'log-level',
  httpListen: 'http-listen',
};

/** The environment variable naming the configuration file when `--config` does not. */
export const CONFIG_FILE_ENV = 'NOVANET_CONFIG';

/** A setting as the configuration file spells it: `natsUrl` is `nats_url`. */
export const fileKey = (key: string): string => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** Thrown for a configuration file that cannot be read or is not TOML of known keys. */
export class ConfigFileError extends Error {
  override readonly name = 'ConfigFileError';
}

/**
 * The settings of a TOML configuration file (`nats_url = "nats://…"`): every key of
 * EngineConfig in snake_case, at the top level. An unknown key is refused, as a misspelt
 * flag would be, rather than ignored.
 */
export function readConfigFile(path: string): Record<string, unknown> {
  let parsed: Record<string, unknown>;
  try {
    parsed = parseToml(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigFileError(`config file ${path}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const byFileKey = new Map(Object.keys(ENV).map((key) => [fileKey(key), key]));
  const settings: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(parsed)) {
    const key = byFileKey.get(name);
    if (!key) throw new ConfigFileError(`config file ${path}: unknown setting '${name}' (known: ${[...byFileKey.keys()].join(', ')})`);
    settings[key] = value;
  }
  return settings;
}

/**
 * The configuration from flags, then the environment, then the configuration file's
 * settings, then the defaults: the first that sets a key wins. Generic over EngineConfig:
 * a new setting needs its line in ENV (and FLAGS if it has a flag) and nothing else.
 */
export function configFrom(
  flags: Partial<Record<keyof EngineConfig, string>>,
  env: NodeJS.ProcessEnv = process.env,
  file: Readonly<Record<string, unknown>> = {},
): EngineConfig {
  const raw: Record<string, unknown> = {};
  for (const [key, name] of Object.entries(ENV)) {
    const value = [flags[key as keyof EngineConfig], env[name], file[key]].find((v) => v !== undefined && v !== '');
    if (value !== undefined) raw[key] = value;
  }
  return EngineConfig.parse(raw);
}


/** Connect options for the engine, the CLI and the node agent alike: servers, credentials, inbox prefix, TLS. */
export function natsOptions(config: NatsSettings, name: string): ConnectionOptions {
  const servers = config.natsUrl.split(',').map((url) => url.trim());
  // A tls:// URL or any TLS file makes TLS required: a server that does not offer it is refused.
  const tls = servers.some((url) => url.startsWith('tls://')) || config.natsTlsCa !== undefined || config.natsTlsCert !== undefined;
  return {
    name,
    servers,
    ...(tls && {
      tls: {
        ...(config.natsTlsCa !== undefined && { caFile: config.natsTlsCa }),
        ...(config.natsTlsCert !== undefined && { certFile: config.natsTlsCert, keyFile: config.natsTlsKey! }),
      },
    }),
    ...(config.natsUser !== undefined && { user: config.natsUser, pass: config.natsPassword ?? '' }),
    ...(config.natsCreds !== undefined && { authenticator: credsAuthenticator(readFileSync(config.natsCreds)) }),
    ...(config.natsInboxPrefix !== undefined && { inboxPrefix: config.natsInboxPrefix }),
  };
}

/** The Northbound's SSL files as the OVSDB client takes them, when configured. */
export function ovnNbSsl(config: EngineConfig): { privateKey: string; certificate: string; caCert: string } | undefined {
  const { ovnNbSslKey: privateKey, ovnNbSslCert: certificate, ovnNbSslCa: caCert } = config;
  return privateKey !== undefined && certificate !== undefined && caCert !== undefined ? { privateKey, certificate, caCert } : undefined;
}
