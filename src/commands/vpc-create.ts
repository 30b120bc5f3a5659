import { z } from 'zod';
import { VpcScope } from '../../events/mod.js';
import type { NovanetEvent } from '../../events/mod.js';
import { capabilitiesOf, lowestFreeBlock } from '../../projections/mod.js';
import type { NetworkClass, View, Vpc } from '../../projections/mod.js';
import type { DecideContext } from './context.js';
import { CommandError, ErrorCode, notFound } from './errors.js';
import { cidrOf, firstFreeBlock, formatCidr, overlaps, parseCidr } from './ipam.js';
import type { Cidr } from './ipam.js';
import { decideNatGateway } from './nat-gateway.js';
import { command, commandPayload, ResourceId, ResourceName } from './operation.js';
import { decideSubnet, defaultSubnetInput, subnetCreated } from './subnet.js';
import { defaultSecurityGroupCreated, presentVpc, tenantVpcs, VPC_PREFIX_LIMITS } from './vpc.js';
import type { VpcFields } from './vpc.js';

/**
 * vpc.create: a VPC and, in the same commit, what its network class gives every VPC (its
 * default security group's rules, a subnet named "default", a NAT gateway with its own
 * external IP). It composes the subnet and NAT gateway deciders, so it lives above them.
 */

/** The /16 a VPC without a class and without a CIDR gets, as before classes. */
const LEGACY_VPC_PREFIX = 16;

export const CreateVpc = commandPayload({
  name: ResourceName,
  cidr: z.string().optional(),
  /** Absent: the provider's default class. Fixed for the VPC's life. */
  networkClassId: ResourceId.optional(),
  /** Absent: anything. Fixed for the VPC's life. */
  scope: VpcScope.optional(),
});

function createVpc(view: View, input: z.infer<typeof CreateVpc>, ctx: DecideContext) {
  const siblings = tenantVpcs(view, ctx.scope);
  if (siblings.some((v) => v.name === input.name)) {
    throw new CommandError(ErrorCode.ALREADY_EXISTS, `a VPC named "${input.name}" already exists`, { name: input.name });
  }
  const cls = networkClassFor(view, input.networkClassId);
  if (input.scope === 'baremetal' && !capabilitiesOf(view, cls).baremetal) {
    throw new CommandError(ErrorCode.CAPABILITY_UNAVAILABLE, 'a baremetal VPC needs a network class with the baremetal capability', { capability: 'baremetal', networkClassId: cls?.id ?? null });
  }
  if (cls?.defaults.natGateway && !capabilitiesOf(view, cls).natGateway) {
    throw new CommandError(ErrorCode.CAPABILITY_UNAVAILABLE, `network class ${cls.id} gives every VPC a NAT gateway but has no external network`, { capability: 'natGateway', networkClassId: cls.id });
  }
  let cidr: string;
  let cidrFromPool = false;
  if (input.cidr !== undefined) {
    cidr = formatCidr(parseCidr(input.cidr, VPC_PREFIX_LIMITS));
  } else if (cls) {
    cidr = formatCidr(pooledBlock(view, ctx, cls.defaults.vpcPrefixLength, siblings));
    cidrFromPool = true;
  } else {
    // Without classes, as before them: the first /16 not used by the tenant's own VPCs (VPCs are
    // separate routers, so tenants may use identical ranges).
    const block = firstFreeBlock(cidrOf(ctx.config.vpcPool), LEGACY_VPC_PREFIX, siblings.map((v) => cidrOf(v.cidr)));
    if (!block) throw new CommandError(ErrorCode.POOL_EXHAUSTED, `no free /${LEGACY_VPC_PREFIX} left in ${ctx.config.vpcPool}`, { pool: ctx.config.vpcPool });
    cidr = formatCidr(block);
  }
  const vpcId = ctx.newId();
  const defaultGroup = defaultSecurityGroupCreated(vpcId, ctx, cls?.defaults);
  const vpc: VpcFields = {
    id: vpcId, scope: ctx.scope, name: input.name, cidr, createdAt: ctx.now, defaultSecurityGroupId: defaultGroup.data.securityGroupId, routes: [],
    ...(cls && { networkClassId: cls.id }), ...(input.scope !== undefined && { vpcScope: input.scope }),
  };
  const events: NovanetEvent[] = [
    {
      type: 'VpcCreated',
      data: {
        vpcId, name: vpc.name, cidr,
        ...(cls && { networkClassId: cls.id }), ...(input.scope !== undefined && { scope: input.scope }), ...(cidrFromPool && { cidrFromPool: true as const }),
      },
    },
    defaultGroup,
  ];
  const macs = new Set<string>();
  if (cls?.defaults.defaultSubnet) {
    const subnet = decideSubnet(view, ctx, vpc, [], defaultSubnetInput(), cls.defaults.subnetPrefixLength);
    macs.add(subnet.gatewayMac);
    events.push(subnetCreated(subnet));
  }
  if (cls?.defaults.natGateway) events.push(...decideNatGateway(view, ctx, vpc, undefined, macs).events);
  return { events, result: { vpc: presentVpc(vpc) } };
}

/**
 * The class a new VPC gets: the one named, else the provider's default. An installation that
 * defines no class at all keeps the behaviour from before classes (no class, undefined); once
 * the provider has classes, a VPC without one is refused unless one of them is the default.
 */
function networkClassFor(view: View, networkClassId: string | undefined): NetworkClass | undefined {
  if (networkClassId !== undefined) {
    const cls = view.networkClasses.get(networkClassId);
    if (!cls) throw notFound('networkclass', networkClassId);
    return cls;
  }
  const fallback = view.defaultNetworkClassId !== undefined ? view.networkClasses.get(view.defaultNetworkClassId) : undefined;
  if (fallback || view.networkClasses.size === 0) return fallback;
  throw new CommandError(ErrorCode.NO_NETWORK_CLASS, 'name a networkClassId: the provider has network classes but no default one', {
    networkClassIds: [...view.networkClasses.keys()].slice(0, 20),
  });
}

/**
 * The lowest free block of the provider's pool that no pooled VPC of any tenant holds, nor an
 * explicit CIDR of the tenant's own VPCs: auto-allocated VPCs never overlap, so they stay
 * routable and peerable. O(32) per look-up in the pool's trie, once more per own VPC in the way.
 */
function pooledBlock(view: View, ctx: DecideContext, prefix: number, siblings: readonly Vpc[]): Cidr {
  const pool = cidrOf(ctx.config.vpcPool);
  const own = siblings.filter((v) => !v.cidrFromPool).map((v) => cidrOf(v.cidr));
  let from = pool.network;
  for (;;) {
    const network = lowestFreeBlock(view.pooledVpcBlocks, pool, prefix, from);
    if (network === undefined) {
      throw new CommandError(ErrorCode.POOL_EXHAUSTED, `no free /${prefix} left in the VPC pool ${ctx.config.vpcPool}`, { pool: ctx.config.vpcPool, prefixLength: prefix });
    }
    const block: Cidr = { network, prefix, size: 2 ** (32 - prefix) };
    const clash = own.find((c) => overlaps(c, block));
    if (!clash) return block;
    from = clash.network + clash.size;
  }
}

export const vpcCreateOperations = {
  'vpc.create': command(CreateVpc, createVpc),
} as const;
