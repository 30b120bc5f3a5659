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

export function tenantKey(tenant: Tenant): string {
  return `${tenant.org}/${tenant.project}`;
}
