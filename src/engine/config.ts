import { readFileSync } from 'node:fs';
import { credsAuthenticator } from '@nats-io/transport-node';
import type { ConnectionOptions } from '@nats-io/transport-node';
import { z } from 'zod';
import { DEFAULT_PREFIX } from '../../events/mod.js';

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

/** Engine configuration: flags win over environment, environment over defaults. */
export const EngineConfig = z.object({
  /** One URL, or several separated by commas (the members of a cluster). */
  natsUrl: z.string().default('nats://127.0.0.1:4222'),
  natsUser: z.string().optional(),
  natsPassword: z.string().optional(),
  /** A NATS .creds file (JWT + nkey seed), for servers with decentralised auth. */
  natsCreds: z.string().optional(),
  /** Replies come to inboxes with this prefix; with per-tenant permissions, a private one. */
  natsInboxPrefix: z.string().optional(),
  /** `unix:<path>` or `tcp:<host>:<port>`. */
  ovnNb: z.string().regex(/^(unix:.+|tcp:[^:]+:\d+)$/, 'unix:<path> or tcp:<host>:<port>').default('unix:.novanet/ovn/ovnnb_db.sock'),
  prefix: z.string().regex(/^[a-zA-Z0-9_-]+$/).default(DEFAULT_PREFIX),
  /** Reply subjects a tenant's commands are answered on: starting with one of these (comma-separated in the environment). */
  replyPrefixes: ReplyPrefixes.default([...DEFAULT_REPLY_PREFIXES]),
  /** Reply subjects the provider's commands are answered on. */
  adminReplyPrefixes: ReplyPrefixes.default([...DEFAULT_ADMIN_REPLY_PREFIXES]),
  /** Owner mark on every Northbound row this installation writes. */
  owner: z.string().min(1).default('novanet'),
  vpcPool: z.string().default('10.0.0.0/8'),
  resyncIntervalMs: z.coerce.number().int().min(100).default(30_000),
  replicas: z.coerce.number().int().min(1).max(5).default(1),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
}).superRefine((config, ctx) => {
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

const ENV: Readonly<Record<keyof EngineConfig, string>> = {
  natsUrl: 'NOVANET_NATS_URL',
  natsUser: 'NOVANET_NATS_USER',
  natsPassword: 'NOVANET_NATS_PASSWORD',
  natsCreds: 'NOVANET_NATS_CREDS',
  natsInboxPrefix: 'NOVANET_NATS_INBOX_PREFIX',
  ovnNb: 'NOVANET_OVN_NB',
  prefix: 'NOVANET_PREFIX',
  replyPrefixes: 'NOVANET_REPLY_PREFIXES',
  adminReplyPrefixes: 'NOVANET_ADMIN_REPLY_PREFIXES',
  owner: 'NOVANET_OWNER',
  vpcPool: 'NOVANET_VPC_POOL',
  resyncIntervalMs: 'NOVANET_RESYNC_INTERVAL_MS',
  replicas: 'NOVANET_REPLICAS',
  logLevel: 'NOVANET_LOG_LEVEL',
};

export function configFrom(flags: Partial<Record<keyof EngineConfig, string>>, env: NodeJS.ProcessEnv = process.env): EngineConfig {
  const raw: Record<string, unknown> = {};
  for (const [key, name] of Object.entries(ENV)) {
    const value = flags[key as keyof EngineConfig] ?? env[name];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  return EngineConfig.parse(raw);
}

/** Connect options for the engine, the CLI and the node agent alike: servers, credentials, inbox prefix. */
/** The configuration fields that say how to reach NATS (the engine's, the node agent's). */
export type NatsSettings = Pick<EngineConfig, 'natsUrl' | 'natsUser' | 'natsPassword' | 'natsCreds' | 'natsInboxPrefix'>;

export function natsOptions(config: NatsSettings, name: string): ConnectionOptions {
  return {
    name,
    servers: config.natsUrl.split(','),
    ...(config.natsUser !== undefined && { user: config.natsUser, pass: config.natsPassword ?? '' }),
    ...(config.natsCreds !== undefined && { authenticator: credsAuthenticator(readFileSync(config.natsCreds)) }),
    ...(config.natsInboxPrefix !== undefined && { inboxPrefix: config.natsInboxPrefix }),
  };
}
