/** The wire contract's error codes: clients switch on these, so they never change meaning. */
export const ErrorCode = {
  VALIDATION_FAILED: 'VALIDATION_FAILED',
  UNKNOWN_OPERATION: 'UNKNOWN_OPERATION',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  /** The security group a command targets or attaches a port to is not in the caller's tenant (or the port's VPC). */
  SECURITY_GROUP_NOT_FOUND: 'SECURITY_GROUP_NOT_FOUND',
  ALREADY_EXISTS: 'ALREADY_EXISTS',
  IN_USE: 'IN_USE',
  /** The resource exists and is free to use, but not in this combination (e.g. an external IP already used another way). */
  CONFLICT: 'CONFLICT',
  /** port.attach names a port that another device has: detach it first. */
  PORT_ALREADY_ATTACHED: 'PORT_ALREADY_ATTACHED',
  INVALID_CIDR: 'INVALID_CIDR',
  CIDR_OVERLAP: 'CIDR_OVERLAP',
  SUBNET_OUTSIDE_VPC: 'SUBNET_OUTSIDE_VPC',
  IP_OUTSIDE_SUBNET: 'IP_OUTSIDE_SUBNET',
  IP_RESERVED: 'IP_RESERVED',
  IP_ALREADY_ALLOCATED: 'IP_ALREADY_ALLOCATED',
  MAC_ALREADY_ALLOCATED: 'MAC_ALREADY_ALLOCATED',
  POOL_EXHAUSTED: 'POOL_EXHAUSTED',
  /** vpc.create named no network class, and the provider has classes but no default one. */
  NO_NETWORK_CLASS: 'NO_NETWORK_CLASS',
  /** The VPC's network class does not offer what the command needs (bare metal, NAT gateways …). */
  CAPABILITY_UNAVAILABLE: 'CAPABILITY_UNAVAILABLE',
  /** No VLAN of the class's range is free for another subnet with bare-metal hosts. */
  VLAN_EXHAUSTED: 'VLAN_EXHAUSTED',
  /** The tenant's quota (set by the operator) has no room for what the command would create. */
  QUOTA_EXCEEDED: 'QUOTA_EXCEEDED',
  IDEMPOTENCY_CONFLICT: 'IDEMPOTENCY_CONFLICT',
  INTERNAL: 'INTERNAL',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** A command refused for a reason the client can act on. Never appended, always answered. */
export class CommandError extends Error {
  override readonly name = 'CommandError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Readonly<Record<string, unknown>>,
  ) {
    super(message);
  }
}

export function isCommandError(err: unknown): err is CommandError {
  return err instanceof CommandError;
}

export const notFound = (kind: string, id: string): CommandError =>
  new CommandError(ErrorCode.NOT_FOUND, `${kind} ${id} not found`, { kind, id });
