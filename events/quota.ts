import { z } from 'zod';
import { Tenant } from './tenant.js';

/** What a tenant's quota limits: how many of each it may hold at once. */
export const QuotaKind = z.enum(['vpcs', 'subnets', 'ports', 'securityGroups', 'externalIps', 'loadBalancers']);
export type QuotaKind = z.infer<typeof QuotaKind>;
export const QuotaLimits = z.partialRecord(QuotaKind, z.number().int().min(0));
export type QuotaLimits = z.infer<typeof QuotaLimits>;

/** The operator set a tenant's limits, in full (a kind left out is unlimited). */
export const QuotaSet = z.object({
  type: z.literal('QuotaSet'),
  data: z.object({ tenant: Tenant, limits: QuotaLimits }),
});

export const QuotaEvent = z.discriminatedUnion('type', [QuotaSet]);
export type QuotaEvent = z.infer<typeof QuotaEvent>;
