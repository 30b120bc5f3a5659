import { decodeJson, PROVIDER_SCOPE, TenantName } from '../../events/mod.js';
import type { CommandAddress, Scope } from '../../events/mod.js';
import { CommandError, ErrorCode } from './errors.js';
import { providerOperations, tenantOperations } from './registry.js';
import type { Operation, OperationRegistry } from './operation.js';

/** Larger payloads are refused before parsing: no command needs more. */
export const MAX_PAYLOAD_BYTES = 64 * 1024;

/** A command that passed every stateless check: its scope, its operation and its validated input. */
export interface Admitted {
  readonly scope: Scope;
  readonly operationName: string;
  readonly operation: Operation;
  readonly input: Record<string, unknown>;
}

/**
 * Everything that can be checked without the view, in one pure function: size, address,
 * operation, JSON, tenant, schema. Anything else is a CommandError; nothing that fails here
 * is ever decided, so nothing half-valid can reach the log.
 */
export function admit(address: CommandAddress, data: Uint8Array): Admitted {
  if (data.length > MAX_PAYLOAD_BYTES) {
    throw new CommandError(ErrorCode.PAYLOAD_TOO_LARGE, `payload is ${data.length} bytes; the limit is ${MAX_PAYLOAD_BYTES}`, { limit: MAX_PAYLOAD_BYTES });
  }
  const { scope, operationName, operation } = route(address);
  const payload = parseJson(data);
  if ((payload.org !== undefined && payload.org !== scope.org) || (payload.project !== undefined && payload.project !== scope.project)) {
    throw new CommandError(ErrorCode.FORBIDDEN, 'the tenant in the payload differs from the subject\'s', { subject: scope, payload: { org: payload.org, project: payload.project } });
  }
  const parsed = operation.schema.safeParse(payload);
  if (!parsed.success) {
    throw new CommandError(ErrorCode.VALIDATION_FAILED, `invalid ${operationName} payload: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(payload)'}: ${i.message}`).join('; ')}`, { issues: parsed.error.issues });
  }
  const { org: _o, project: _p, ...input } = parsed.data as Record<string, unknown>;
  return { scope, operationName, operation, input };
}

/**
 * Tenant commands arrive on `<prefix>.cmd.<org>.<project>.<operation>`, provider commands on
 * `<prefix>.admin.cmd.<operation>` (events/subjects.ts parses them). Each registry answers only on its own subjects: a provider
 * operation on a tenant subject (or the reverse) is FORBIDDEN, not merely unknown.
 */
function route(address: CommandAddress): { scope: Scope; operationName: string; operation: Operation } {
  const { operation: operationName } = address;
  if (address.admin) return { scope: PROVIDER_SCOPE, operationName, operation: pick(operationName, providerOperations, tenantOperations, 'a tenant') };
  const { org, project, subject } = address;
  if (!TenantName.safeParse(org).success || !TenantName.safeParse(project).success) {
    throw new CommandError(ErrorCode.VALIDATION_FAILED, `subject ${subject}: org and project must be lowercase names`, { subject });
  }
  return { scope: { org, project }, operationName, operation: pick(operationName, tenantOperations, providerOperations, 'a provider') };
}

function pick(name: string, own: OperationRegistry, other: OperationRegistry, otherKind: string): Operation {
  const operation = own.get(name);
  if (operation) return operation;
  if (other.has(name)) throw new CommandError(ErrorCode.FORBIDDEN, `"${name}" is ${otherKind} operation and is not accepted on this subject`, { operation: name });
  throw new CommandError(ErrorCode.UNKNOWN_OPERATION, `unknown operation "${name}"`, { operation: name, known: [...own.keys()] });
}

function parseJson(data: Uint8Array): Record<string, unknown> {
  if (data.length === 0) return {};
  const decoded = decodeJson(data);
  if ('reason' in decoded) throw new CommandError(ErrorCode.VALIDATION_FAILED, 'payload is not valid UTF-8 JSON');
  const { value } = decoded;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CommandError(ErrorCode.VALIDATION_FAILED, 'payload must be a JSON object');
  }
  return value as Record<string, unknown>;
}
