import { z } from 'zod';
import { QuotaKind, TenantName, scopeKey } from '../../events/mod.js';
import type { QuotaLimits, Scope } from '../../events/mod.js';
import { countedResource, usageOf } from '../../projections/mod.js';
import type { View } from '../../projections/mod.js';
import { CommandError, ErrorCode } from './errors.js';
import { command, commandPayload, providerCommand, providerQuery, query, queryPayload } from './operation.js';
import type { Decision, OperationRegistry } from './operation.js';

/**
 * Tenant quotas: the operator limits how many VPCs, subnets, ports, security groups,
 * external IPs and load balancers a tenant may hold (unlimited unless set). Enforced for
 * every tenant command in one place, on what its decision would create: a VPC's default
 * security group and a NAT gateway's own external IP count like any other.
 */

const KINDS = QuotaKind.options;

/** Refuses a decision that would take the tenant past a limit. */
function checkQuotas(view: View, scope: Scope, decision: Decision): void {
  const limits = view.quotas.get(scopeKey(scope));
  if (!limits) return;
  const added = new Map<QuotaKind, number>();
  for (const event of decision.events) {
    const counted = countedResource(event);
    if (counted) added.set(counted.kind, (added.get(counted.kind) ?? 0) + counted.change);
  }
  for (const [kind, more] of added) {
    const limit = limits[kind];
    const used = usageOf(view, scope, kind);
    if (limit !== undefined && more > 0 && used + more > limit) {
      throw new CommandError(ErrorCode.QUOTA_EXCEEDED, `the quota allows ${limit} ${kind}; ${used} in use`, { kind, limit, used });
    }
  }
}

/** The registry with every command's decision checked against the tenant's quota. */
export function withQuotas(operations: OperationRegistry): OperationRegistry {
  return new Map([...operations].map(([name, op]) => [name, op.kind === 'command'
    ? command(op.schema, (view, input, ctx) => {
      const decision = op.decide(view, input, ctx);
      checkQuotas(view, ctx.scope, decision);
      return decision;
    })
    : op]));
}

function presentQuota(view: View, tenant: Scope, limits: QuotaLimits = view.quotas.get(scopeKey(tenant)) ?? {}) {
  return {
    org: tenant.org, project: tenant.project,
    limits: Object.fromEntries(KINDS.map((k) => [k, limits[k] ?? null])),
    usage: Object.fromEntries(KINDS.map((k) => [k, usageOf(view, tenant, k)])),
  };
}

const TenantRef = z.strictObject({ org: TenantName, project: TenantName });

/** A limit per kind; null lifts it. Kinds left out keep their limit. Strict: an unknown kind is an error, not ignored. */
export const SetTenantQuota = commandPayload({
  tenant: TenantRef,
  limits: z.strictObject(Object.fromEntries(KINDS.map((k) => [k, z.number().int().min(0).max(1_000_000).nullable().optional()])) as Record<QuotaKind, z.ZodOptional<z.ZodNullable<z.ZodNumber>>>),
});

function setTenantQuota(view: View, input: z.infer<typeof SetTenantQuota>) {
  const limits: QuotaLimits = { ...view.quotas.get(scopeKey(input.tenant)) };
  for (const kind of KINDS) {
    const value = input.limits[kind];
    if (value === null) delete limits[kind];
    else if (value !== undefined) limits[kind] = value;
  }
  return {
    events: [{ type: 'QuotaSet' as const, data: { tenant: input.tenant, limits } }],
    result: { quota: presentQuota(view, input.tenant, limits) },
  };
}

export const GetTenantQuota = queryPayload({ tenant: TenantRef });

/** Operator operations (admin subjects). */
export const tenantQuotaOperations = {
  'tenantquota.set': providerCommand(SetTenantQuota, setTenantQuota),
  'tenantquota.get': providerQuery(GetTenantQuota, (view, input) => ({ quota: presentQuota(view, input.tenant) })),
  'tenantquota.list': providerQuery(queryPayload({}), (view) => ({
    quotas: [...view.quotas.keys()].map((key) => {
      const [org = '', project = ''] = key.split('/');
      return presentQuota(view, { org, project });
    }),
  })),
} as const;

/** A tenant reads its own limits and usage. */
export const quotaOperations = {
  'quota.get': query(queryPayload({}), (view, _input, scope) => ({ quota: presentQuota(view, scope) })),
} as const;
