// What novanet-cni and the node agent say to each other, and the CNI spec's fixed vocabulary.
// No package imported: the plugin starts once per pod and must load in milliseconds.

/** The CNI spec versions novanet-cni speaks (its VERSION answer). */
export const CNI_VERSIONS = ['0.4.0', '1.0.0', '1.1.0'] as const;
export type CniVersion = (typeof CNI_VERSIONS)[number];

export const isCniVersion = (v: unknown): v is CniVersion => (CNI_VERSIONS as readonly unknown[]).includes(v);

/**
 * Error codes: those of the spec's (1–99) novanet answers, and novanet's own (100+). A 100
 * error's `details` is JSON naming the engine's error code (events/README.md).
 */
export const CniErrorCodes = {
  INCOMPATIBLE_VERSION: 1,
  INVALID_ENVIRONMENT: 4,
  IO_FAILURE: 5,
  DECODE_FAILURE: 6,
  INVALID_CONFIG: 7,
  TRY_AGAIN_LATER: 11,
  /** STATUS: the plugin cannot serve ADD now (the agent cannot reach NATS, the engine or OVS). */
  NOT_AVAILABLE: 50,
  /** The engine refused the command: `details` holds its wire error code, message and details. */
  ENGINE_REFUSED: 100,
  /** A node-local step failed: creating or configuring the veth, or an Open_vSwitch transaction. */
  DATAPLANE_FAILED: 101,
  /** CHECK found the attachment other than ADD left it. */
  CHECK_FAILED: 102,
} as const;
export type CniErrorCode = (typeof CniErrorCodes)[keyof typeof CniErrorCodes];

export interface CniError {
  readonly code: CniErrorCode;
  readonly msg: string;
  readonly details?: string;
}

/** Commands the agent answers; VERSION the plugin answers alone. */
export const AGENT_COMMANDS = ['ADD', 'DEL', 'CHECK', 'STATUS', 'GC'] as const;
export type AgentCommand = (typeof AGENT_COMMANDS)[number];

/** One request per connection, a JSON line each way. */
export interface AgentRequest {
  readonly command: AgentCommand;
  /** The plugin's CNI_* variables (CNI_ARGS holds K8S_POD_NAMESPACE and K8S_POD_NAME). */
  readonly env: Readonly<Record<string, string>>;
  /** The network configuration exactly as it came on stdin. */
  readonly config: string;
}

export type AgentResponse =
  | { readonly ok: true; readonly output?: unknown }
  | { readonly ok: false; readonly error: CniError };

export const DEFAULT_AGENT_SOCKET = '/run/novanet/agent.sock';
