import { z } from 'zod';

/** An org or project name: the subject token that scopes every tenant resource. */
export const TenantName = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lowercase letters, digits and "-", 1-63 characters, not starting with "-"');

export const Tenant = z.object({ org: TenantName, project: TenantName });
export type Tenant = z.infer<typeof Tenant>;

/** The provider (operator) scope: external networks, pools. Never a valid tenant name (starts with "_"). */
export const PROVIDER = '_provider' as const;
export const PROVIDER_SCOPE: Tenant = { org: PROVIDER, project: PROVIDER };

export function isProviderScope(scope: Tenant): boolean {
  return scope.org === PROVIDER;
}

/** Where a resource or a commit belongs: a tenant, or the provider scope. */
export const Scope = z.object({ org: z.string(), project: z.string() });
export type Scope = z.infer<typeof Scope>;

/** A scope as one string, `<org>/<project>`: map keys of per-tenant state. */
export function scopeKey(scope: Scope): string {
  return `${scope.org}/${scope.project}`;
}

export function sameScope(a: Scope, b: Scope): boolean {
  return a.org === b.org && a.project === b.project;
}
