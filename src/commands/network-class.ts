import { z } from 'zod';
import { Capability } from '../../events/mod.js';
import type { BaremetalNetwork, ClassDefaults, EventOf } from '../../events/mod.js';
import { capabilitiesOf } from '../../projections/mod.js';
import type { NetworkClass, View } from '../../projections/mod.js';
import type { DecideContext } from './context.js';
import { CommandError, ErrorCode, notFound } from './errors.js';
import { atLeastOne, Label, commandPayload, providerCommand, providerQuery, query, queryPayload, ResourceId, ResourceName } from './operation.js';
import { decideRuleTemplates, RuleTemplateInput } from './securitygroup.js';
import { SUBNET_PREFIX_LIMITS } from './subnet.js';
import { VPC_PREFIX_LIMITS } from './vpc.js';

/**
 * Network classes (provider): what a tenant network gets by default and what it may do, as
 * OSAC's NetworkClass. The provider writes them on the admin subjects; tenants read the public
 * part (name, description, capabilities, isDefault) on theirs.
 */

export const MAX_CLASS_CHASSIS = 8;
const VLAN = z.number().int().min(1).max(4094);

const ChassisList = z.array(z.strictObject({ name: ResourceName, priority: z.number().int().min(0).max(32767) }))
  .min(1).max(MAX_CLASS_CHASSIS)
  .refine((list) => new Set(list.map((c) => c.name)).size === list.length, 'chassis names must be unique');

const Baremetal = z.strictObject({
  physicalNetwork: z.string().regex(/^[a-zA-Z0-9_.-]{1,64}$/, 'letters, digits, "_", "." and "-", 1-64 characters'),
  vlanRange: z.strictObject({ first: VLAN, last: VLAN }).refine((r) => r.first <= r.last, 'first must not be above last'),
  chassis: ChassisList,
});

const defaultsShape = {
  vpcPrefixLength: z.number().int().min(VPC_PREFIX_LIMITS.minPrefix).max(VPC_PREFIX_LIMITS.maxPrefix),
  subnetPrefixLength: z.number().int().min(SUBNET_PREFIX_LIMITS.minPrefix).max(SUBNET_PREFIX_LIMITS.maxPrefix),
  defaultSubnet: z.boolean(),
  ingressRules: z.array(RuleTemplateInput),
  egressRules: z.array(RuleTemplateInput),
  natGateway: z.boolean(),
};
/** Defaults as given: fields left out take the built-in ones on create and keep theirs on update. */
const DefaultsInput = z.strictObject(defaultsShape).partial();
export const BUILT_IN_DEFAULTS: ClassDefaults = { vpcPrefixLength: 16, subnetPrefixLength: 24, defaultSubnet: true, natGateway: false };

const Description = Label(255);
const DisableCapabilities = z.array(Capability).max(Capability.options.length)
  .refine((list) => new Set(list).size === list.length, 'each capability once');

// --- presentation -------------------------------------------------------------

/** What the provider sees. */
export function presentNetworkClass(view: View, cls: NetworkClass, isDefault = view.defaultNetworkClassId === cls.id) {
  return {
    id: cls.id, name: cls.name, description: cls.description,
    externalNetworkId: cls.externalNetworkId ?? null,
    baremetal: cls.baremetal ?? null,
    defaults: cls.defaults,
    disableCapabilities: cls.disableCapabilities,
    capabilities: capabilitiesOf(view, cls),
    isDefault,
    vpcCount: cls.vpcIds.size,
    createdAt: cls.createdAt,
  };
}

/** What a tenant sees: no provider internals (networks, VLANs, chassis). */
export function presentNetworkClassToTenant(view: View, cls: NetworkClass) {
  return { id: cls.id, name: cls.name, description: cls.description, capabilities: capabilitiesOf(view, cls), isDefault: view.defaultNetworkClassId === cls.id };
}

export function findNetworkClass(view: View, networkClassId: string): NetworkClass {
  const cls = view.networkClasses.get(networkClassId);
  if (!cls) throw notFound('networkclass', networkClassId);
  return cls;
}

// --- checks shared by create and update ---------------------------------------------

/** Whether `next` is the class's physical network still, with a range holding every VLAN in use: O(held VLANs). */
function keepsVlans(cls: NetworkClass, next: BaremetalNetwork | null): boolean {
  if (next === null || cls.baremetal?.physicalNetwork !== next.physicalNetwork) return false;
  return [...cls.vlans.keys()].every((vlan) => next.vlanRange.first <= vlan && vlan <= next.vlanRange.last);
}

function checkExternalNetwork(view: View, externalNetworkId: string): void {
  if (!view.externalNetworks.has(externalNetworkId)) throw notFound('externalnetwork', externalNetworkId);
}

/**
 * A class's VLANs must be its own on the physical network: another class's range or an
 * external network's VLAN there would put two tenants' subnets on one L2 segment.
 */
function checkBaremetal(view: View, baremetal: BaremetalNetwork, self?: string): void {
  const { physicalNetwork, vlanRange } = baremetal;
  for (const other of view.networkClasses.values()) {
    const range = other.baremetal?.physicalNetwork === physicalNetwork ? other.baremetal.vlanRange : undefined;
    if (other.id !== self && range && range.first <= vlanRange.last && vlanRange.first <= range.last) {
      throw new CommandError(ErrorCode.CONFLICT, `VLANs ${vlanRange.first}-${vlanRange.last} overlap class ${other.id}'s ${range.first}-${range.last} on ${physicalNetwork}`, { networkClassId: other.id });
    }
  }
  for (const network of view.externalNetworks.values()) {
    if (network.physicalNetwork === physicalNetwork && network.vlanId !== undefined && network.vlanId >= vlanRange.first && network.vlanId <= vlanRange.last) {
      throw new CommandError(ErrorCode.CONFLICT, `VLAN ${network.vlanId} of external network ${network.id} is inside ${vlanRange.first}-${vlanRange.last} on ${physicalNetwork}`, { externalNetworkId: network.id });
    }
  }
}

function decideDefaults(input: z.infer<typeof DefaultsInput>, base: ClassDefaults): ClassDefaults {
  const { ingressRules, egressRules, ...plain } = input;
  const defaults: ClassDefaults = { ...base, ...plain };
  if (ingressRules !== undefined) defaults.ingressRules = decideRuleTemplates('defaults.ingressRules', 'ingress', ingressRules);
  if (egressRules !== undefined) defaults.egressRules = decideRuleTemplates('defaults.egressRules', 'egress', egressRules);
  if (defaults.subnetPrefixLength < defaults.vpcPrefixLength) {
    throw new CommandError(ErrorCode.VALIDATION_FAILED, `defaults.subnetPrefixLength /${defaults.subnetPrefixLength} is wider than defaults.vpcPrefixLength /${defaults.vpcPrefixLength}`, { field: 'defaults.subnetPrefixLength' });
  }
  return defaults;
}

function checkDisabled(list: readonly Capability[]): void {
  if (list.includes('ipv4')) {
    throw new CommandError(ErrorCode.VALIDATION_FAILED, 'ipv4 cannot be disabled: it is the only address family novanet serves', { field: 'disableCapabilities' });
  }
}

// --- networkclass.create -------------------------------------------------------------

export const CreateNetworkClass = commandPayload({
  name: ResourceName,
  description: Description.optional(),
  externalNetworkId: ResourceId.optional(),
  baremetal: Baremetal.optional(),
  defaults: DefaultsInput.optional(),
  disableCapabilities: DisableCapabilities.optional(),
  /** Absent: the class becomes the default only if there is none yet (as external networks do). */
  default: z.boolean().optional(),
});

function createNetworkClass(view: View, input: z.infer<typeof CreateNetworkClass>, ctx: DecideContext) {
  if ([...view.networkClasses.values()].some((c) => c.name === input.name)) {
    throw new CommandError(ErrorCode.ALREADY_EXISTS, `a network class named "${input.name}" already exists`, { name: input.name });
  }
  if (input.externalNetworkId !== undefined) checkExternalNetwork(view, input.externalNetworkId);
  if (input.baremetal !== undefined) checkBaremetal(view, input.baremetal);
  const disableCapabilities = input.disableCapabilities ?? [];
  checkDisabled(disableCapabilities);
  const event: EventOf<'NetworkClassCreated'> = {
    type: 'NetworkClassCreated',
    data: {
      networkClassId: ctx.newId(), name: input.name, description: input.description ?? '',
      ...(input.externalNetworkId !== undefined && { externalNetworkId: input.externalNetworkId }),
      ...(input.baremetal !== undefined && { baremetal: input.baremetal }),
      defaults: decideDefaults(input.defaults ?? {}, BUILT_IN_DEFAULTS),
      disableCapabilities,
      isDefault: input.default ?? view.defaultNetworkClassId === undefined,
    },
  };
  const { networkClassId: id, isDefault, ...fields } = event.data;
  const created: NetworkClass = { id, ...fields, createdAt: ctx.now, seq: 0, vpcIds: new Set(), vlans: new Map(), nextFreeVlan: 0 };
  return { events: [event], result: { networkClass: presentNetworkClass(view, created, isDefault) } };
}

// --- networkclass.update -------------------------------------------------------------

export const UpdateNetworkClass = atLeastOne(commandPayload({
  networkClassId: ResourceId,
  description: Description.optional(),
  externalNetworkId: ResourceId.nullable().optional(),
  baremetal: Baremetal.nullable().optional(),
  defaults: DefaultsInput.optional(),
  disableCapabilities: DisableCapabilities.optional(),
  default: z.boolean().optional(),
}), ['description', 'externalNetworkId', 'baremetal', 'defaults', 'disableCapabilities', 'default'], 'name at least one field to change');

/**
 * Description, defaults (for new VPCs only), disabled capabilities and the default may change
 * at any time; the external network and the physical network are what existing VPCs' NAT
 * gateways and VLANs were built on, so they change only while no VPC uses the class. A class
 * in use may still change its chassis (a dead one replaced) and its VLAN range, as long as
 * the range keeps every VLAN its subnets hold.
 */
function updateNetworkClass(view: View, input: z.infer<typeof UpdateNetworkClass>) {
  const cls = findNetworkClass(view, input.networkClassId);
  if (cls.vpcIds.size > 0 && (input.externalNetworkId !== undefined || (input.baremetal !== undefined && !keepsVlans(cls, input.baremetal)))) {
    throw new CommandError(ErrorCode.IN_USE, `network class ${cls.id} has VPCs: its external network, physical network and held VLANs are fixed`, inUse(cls));
  }
  if (input.externalNetworkId) checkExternalNetwork(view, input.externalNetworkId);
  if (input.baremetal) checkBaremetal(view, input.baremetal, cls.id);
  if (input.disableCapabilities) checkDisabled(input.disableCapabilities);
  const data: EventOf<'NetworkClassUpdated'>['data'] = {
    networkClassId: cls.id,
    ...(input.description !== undefined && { description: input.description }),
    ...(input.externalNetworkId !== undefined && { externalNetworkId: input.externalNetworkId }),
    ...(input.baremetal !== undefined && { baremetal: input.baremetal }),
    ...(input.defaults !== undefined && { defaults: decideDefaults(input.defaults, cls.defaults) }),
    ...(input.disableCapabilities !== undefined && { disableCapabilities: input.disableCapabilities }),
    ...(input.default !== undefined && { isDefault: input.default }),
  };
  const after: NetworkClass = {
    ...cls,
    ...(data.description !== undefined && { description: data.description }),
    ...(data.defaults !== undefined && { defaults: data.defaults }),
    ...(data.disableCapabilities !== undefined && { disableCapabilities: data.disableCapabilities }),
  };
  if (data.externalNetworkId === null) delete after.externalNetworkId;
  else if (data.externalNetworkId !== undefined) after.externalNetworkId = data.externalNetworkId;
  if (data.baremetal === null) delete after.baremetal;
  else if (data.baremetal !== undefined) after.baremetal = data.baremetal;
  return {
    events: [{ type: 'NetworkClassUpdated' as const, data }],
    result: { networkClass: presentNetworkClass(view, after, input.default ?? view.defaultNetworkClassId === cls.id) },
  };
}

/** IN_USE details: how many VPCs, and the first few. */
function inUse(cls: NetworkClass) {
  return { vpcCount: cls.vpcIds.size, vpcIds: [...cls.vpcIds].slice(0, 20) };
}

// --- networkclass.delete -------------------------------------------------------------

export const DeleteNetworkClass = commandPayload({ networkClassId: ResourceId });

function deleteNetworkClass(view: View, input: z.infer<typeof DeleteNetworkClass>) {
  const cls = findNetworkClass(view, input.networkClassId);
  if (cls.vpcIds.size > 0) throw new CommandError(ErrorCode.IN_USE, `network class ${cls.id} still has VPCs`, inUse(cls));
  return { events: [{ type: 'NetworkClassDeleted' as const, data: { networkClassId: cls.id } }], result: {} };
}

// --- queries ------------------------------------------------------------------

export const GetNetworkClass = queryPayload({ networkClassId: ResourceId });
export const ListNetworkClasses = queryPayload({ name: z.string().optional() });

const listed = (view: View, name: string | undefined) => [...view.networkClasses.values()].filter((c) => name === undefined || c.name === name);

/** Provider operations (admin subjects). */
export const networkClassOperations = {
  'networkclass.create': providerCommand(CreateNetworkClass, createNetworkClass),
  'networkclass.update': providerCommand(UpdateNetworkClass, updateNetworkClass),
  'networkclass.delete': providerCommand(DeleteNetworkClass, deleteNetworkClass),
  'networkclass.get': providerQuery(GetNetworkClass, (view, input) => ({ networkClass: presentNetworkClass(view, findNetworkClass(view, input.networkClassId)) })),
  'networkclass.list': providerQuery(ListNetworkClasses, (view, input) => ({ networkClasses: listed(view, input.name).map((c) => presentNetworkClass(view, c)) })),
} as const;

/** Tenants read the public part of every class (the provider's catalogue), and write none. */
export const tenantNetworkClassOperations = {
  'networkclass.get': query(GetNetworkClass, (view, input) => ({ networkClass: presentNetworkClassToTenant(view, findNetworkClass(view, input.networkClassId)) })),
  'networkclass.list': query(ListNetworkClasses, (view, input) => ({ networkClasses: listed(view, input.name).map((c) => presentNetworkClassToTenant(view, c)) })),
} as const;
