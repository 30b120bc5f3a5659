import { z } from 'zod';
import { isProviderScope, sameScope } from '../../events/mod.js';
import type { NovanetEvent, Scope } from '../../events/mod.js';
import type { View } from '../../projections/mod.js';
import type { DecideContext } from './context.js';
import { CommandError, ErrorCode } from './errors.js';

/** What a decider answers: the events to append (one commit) and the reply's result. */
export interface Decision {
  readonly events: readonly NovanetEvent[];
  readonly result: Record<string, unknown>;
}

/** A mutating operation: validated payload -> decision, or a CommandError. Pure. */
export interface CommandOperation<S extends z.ZodType = z.ZodType> {
  readonly kind: 'command';
  readonly schema: S;
  decide(view: View, input: z.infer<S>, ctx: DecideContext): Decision;
}

/** A read of the current view: appends nothing. */
export interface QueryOperation<S extends z.ZodType = z.ZodType> {
  readonly kind: 'query';
  readonly schema: S;
  query(view: View, input: z.infer<S>, scope: Scope): Record<string, unknown>;
}

export type Operation = CommandOperation | QueryOperation;

/**
 * Operations by subject tail (`<resource>.<verb>`). A Map, not an object: a subject naming
 * `__proto__` or `toString` must find nothing rather than something inherited.
 */
export type OperationRegistry = ReadonlyMap<string, Operation>;

/** Builds a registry from the families' operation tables. */
export const registry = (...families: Readonly<Record<string, Operation>>[]): OperationRegistry =>
  new Map(families.flatMap((family) => Object.entries(family)));

export const command = <S extends z.ZodType>(schema: S, decide: CommandOperation<S>['decide']): CommandOperation<S> =>
  ({ kind: 'command', schema: wellFormed(schema), decide });
export const query = <S extends z.ZodType>(schema: S, run: QueryOperation<S>['query']): QueryOperation<S> =>
  ({ kind: 'query', schema: wellFormed(schema), query: run });

/**
 * Every string of every payload, keys included, must be well-formed Unicode. A lone surrogate
 * is valid JSON but not text: ovsdb-server drops the session that sends one, so it must never
 * reach the log. Checked here, where every operation's schema is made, so no field can forget it.
 */
function wellFormed<S extends z.ZodType>(schema: S): S {
  return schema.superRefine((value, ctx) => {
    if (!hasMalformedString(value)) return;
    for (const path of malformedStrings(value, [])) {
      ctx.addIssue({ code: 'custom', path, message: 'not well-formed Unicode (a lone surrogate)' });
    }
  });
}

/**
 * Whether any string in the value is malformed, walked without building a path a value (every
 * payload is walked, and a 1,000-port command has ~2,000 strings): the paths only for the rare
 * payload that has one.
 */
function hasMalformedString(value: unknown): boolean {
  if (typeof value === 'string') return !value.isWellFormed();
  if (Array.isArray(value)) {
    for (const v of value) if (hasMalformedString(v)) return true;
    return false;
  }
  if (value !== null && typeof value === 'object') {
    for (const k in value) {
      if (!Object.hasOwn(value, k)) continue;
      if (!k.isWellFormed() || hasMalformedString((value as Record<string, unknown>)[k])) return true;
    }
  }
  return false;
}

function malformedStrings(value: unknown, path: PropertyKey[]): PropertyKey[][] {
  if (typeof value === 'string') return value.isWellFormed() ? [] : [path];
  if (Array.isArray(value)) return value.flatMap((v, i) => malformedStrings(v, [...path, i]));
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => k.isWellFormed() ? malformedStrings(v, [...path, k]) : [[...path, k]]);
  }
  return [];
}

/** Fields every payload may carry: the idempotency key, and the tenant (which must match the subject's). */
const envelope = {
  org: z.string().optional(),
  project: z.string().optional(),
};
export const CommandId = z.string().min(1).max(128);

/** A mutating command's payload: strict, so a misspelt field is an error instead of being ignored. */
export const commandPayload = <T extends z.ZodRawShape>(shape: T) =>
  z.strictObject({ ...envelope, commandId: CommandId, ...shape });
export const queryPayload = <T extends z.ZodRawShape>(shape: T) =>
  z.strictObject({ ...envelope, commandId: CommandId.optional(), ...shape });

/**
 * An update that must name at least one of `fields`: checked here, and said in the payload's
 * JSON Schema (`anyOf` of each field required), which a refinement alone would leave out.
 */
export const atLeastOne = <T extends z.ZodObject>(schema: T, fields: readonly (keyof z.infer<T> & string)[], message: string) =>
  schema.refine((p) => fields.some((f) => (p as Record<string, unknown>)[f] !== undefined), message)
    .meta({ anyOf: fields.map((f) => ({ required: [f] })) });

/** Names and labels clients choose: no control characters (they end up in OVN rows, logs and terminals). */
export const Label = (max: number) => z.string().min(1).max(max).regex(/^\P{Cc}+$/u, 'no control characters');
export const ResourceName = Label(64);
/** What a port belongs to (a VM, a pod's container id, a host): the provider's own identifier. */
export const DeviceId = Label(255);
export const ResourceId = z.uuid();

/**
 * A tenant's resource by id. Another tenant's id is indistinguishable from a missing
 * one: both are `missing()` (NOT_FOUND unless the operation names another code).
 */
export function findInScope<T extends { readonly scope: Scope }>(
  map: ReadonlyMap<string, T>, scope: Scope, id: string, missing: () => CommandError,
): T {
  const found = map.get(id);
  if (!found || !sameScope(found.scope, scope)) throw missing();
  return found;
}

/** Operator operations exist only on the admin subjects; a tenant scope reaching one is a wiring bug or an attack. */
function requireProvider(scope: Scope): void {
  if (!isProviderScope(scope)) {
    throw new CommandError(ErrorCode.FORBIDDEN, 'this is managed by the operator, on the admin subjects', { scope });
  }
}

export const providerCommand = <S extends z.ZodType>(schema: S, decide: CommandOperation<S>['decide']) =>
  command(schema, (view, input, ctx) => {
    requireProvider(ctx.scope);
    return decide(view, input, ctx);
  });
export const providerQuery = <S extends z.ZodType>(schema: S, run: QueryOperation<S>['query']) =>
  query(schema, (view, input, scope) => {
    requireProvider(scope);
    return run(view, input, scope);
  });
