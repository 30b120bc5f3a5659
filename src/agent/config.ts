import { hostname } from 'node:os';
import { z } from 'zod';
import { DEFAULT_PREFIX } from '../../events/mod.js';
import { DEFAULT_AGENT_SOCKET } from '../cni/protocol.js';
import { checkNatsSettings, NATS_ENV, NatsSettings } from '../engine/config.js';

/** The node agent's configuration: flags win over environment, environment over defaults (README, "Pods"). */
// natsInboxPrefix is the node's private reply inbox (deploy/nats/tenants.conf: `_INBOX_node_<node>`).
export const AgentConfig = NatsSettings.extend({
  prefix: z.string().regex(/^[a-zA-Z0-9_-]+$/).default(DEFAULT_PREFIX),
  /** Where novanet-cni reaches the agent. */
  socket: z.string().min(1).default(DEFAULT_AGENT_SOCKET),
  /** The node's Open_vSwitch database. */
  ovsDb: z.string().regex(/^(unix:.+|tcp:[^:]+:\d+)$/, 'unix:<path> or tcp:<host>:<port>').default('unix:/var/run/openvswitch/db.sock'),
  /** The integration bridge ovn-controller manages. */
  bridge: z.string().regex(/^[A-Za-z0-9_.-]{1,15}$/).default('br-int'),
  /**
   * The network namespace br-int's host ends live in, when the agent runs outside it (a
   * containerised agent; the sandbox's chassis, whose ovs-vswitchd has a namespace of its own).
   * Default: the agent's own.
   */
  hostNetns: z.string().regex(/^[A-Za-z0-9_.-]+$/).optional(),
  /** Recorded on every interface the agent plugs; default the host name. */
  nodeName: z.string().min(1).max(253).default(hostname()),
  /** The pod MTU when the subnet has none: 1500 less Geneve's 58 bytes (OVN's own default). */
  overlayMtu: z.coerce.number().int().min(576).max(9216).default(1442),
  /** How long an ADD waits for ovn-controller's `ovn-installed` before answering code 11. */
  ovnInstalledTimeoutMs: z.coerce.number().int().min(100).default(30_000),
  /** Per NATS request to the engine. */
  requestTimeoutMs: z.coerce.number().int().min(100).default(10_000),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
}).superRefine(checkNatsSettings);
export type AgentConfig = z.infer<typeof AgentConfig>;

export const AGENT_ENV: Readonly<Record<keyof AgentConfig, string>> = {
  ...NATS_ENV,
  prefix: 'NOVANET_PREFIX',
  socket: 'NOVANET_AGENT_SOCKET',
  ovsDb: 'NOVANET_OVS_DB',
  bridge: 'NOVANET_AGENT_BRIDGE',
  hostNetns: 'NOVANET_AGENT_HOST_NETNS',
  nodeName: 'NOVANET_NODE_NAME',
  overlayMtu: 'NOVANET_OVERLAY_MTU',
  ovnInstalledTimeoutMs: 'NOVANET_OVN_INSTALLED_TIMEOUT_MS',
  requestTimeoutMs: 'NOVANET_AGENT_REQUEST_TIMEOUT_MS',
  logLevel: 'NOVANET_LOG_LEVEL',
};

export function agentConfigFrom(flags: Partial<Record<keyof AgentConfig, string>>, env: NodeJS.ProcessEnv = process.env): AgentConfig {
  const raw: Record<string, unknown> = {};
  for (const [key, name] of Object.entries(AGENT_ENV)) {
    const value = flags[key as keyof AgentConfig] ?? env[name];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  return AgentConfig.parse(raw);
}
