import { z } from 'zod';
import type { AllowedAddressPair, NovanetEvent, Scope } from '../../events/mod.js';
import { childrenOf, commitTimeText, deviceKey, resourcesIn, targetKey } from '../../projections/mod.js';
import type { View, Port, Subnet } from '../../projections/mod.js';
import type { DecideContext } from './context.js';
import { CommandError, ErrorCode, isCommandError, notFound } from './errors.js';
import { allocateIp, checkRequestedIp, formatCidr, intToIp, ipToInt, parseCidr } from './ipam.js';
import { decideNic, NicFields } from './baremetal.js';
import { allocateMac, isUnicastMac, MacAddress, normalizeMac } from './mac.js';
import { atLeastOne, command, commandPayload, DeviceId, findInScope, query, queryPayload, ResourceId, ResourceName } from './operation.js';
import type { Decision } from './operation.js';
import { PortClaims } from './port-claims.js';
import { joinDevice } from './port-device.js';
import { portSecurityGroups, SecurityGroupIds } from './securitygroup.js';
import { findSubnet } from './subnet.js';

/** Port: a VM's or namespace's attachment to a subnet, one OVN Logical_Switch_Port named by its id. */

export type PortFields = Pick<Port, 'id' | 'scope' | 'subnetId' | 'vpcId' | 'name' | 'deviceId' | 'primary' | 'macAddress' | 'ip' | 'securityGroupIds' | 'allowedAddressPairs' | 'created' | 'vnicType'>;

export function presentPort(p: PortFields) {
  return {
    id: p.id, org: p.scope.org, project: p.scope.project, subnetId: p.subnetId, vpcId: p.vpcId,
    ...(p.name !== undefined && { name: p.name }),
    deviceId: p.deviceId ?? null, primary: p.primary,
    macAddress: p.macAddress, ipAddress: intToIp(p.ip), securityGroupIds: p.securityGroupIds,
    allowedAddressPairs: p.allowedAddressPairs,
    vnicType: p.vnicType ?? 'normal', ...(p.vnicType === 'baremetal' && { interface: p.macAddress }),
    createdAt: commitTimeText(p.created),
  };
}

export function findPort(view: View, scope: Scope, portId: string): Port {
  return findInScope(view.ports, scope, portId, () => notFound('port', portId));
}

/** Neutron's default limit. */
export const MAX_ALLOWED_ADDRESS_PAIRS = 10;

const MacInput = z.string().regex(MacAddress, 'a MAC address such as 0a:4e:00:00:00:01');
const AllowedAddressPairs = z.array(z.strictObject({
  ipAddress: z.string().describe('an IPv4 address or CIDR'),
  macAddress: MacInput.optional(),
})).max(MAX_ALLOWED_ADDRESS_PAIRS);

/** One port's fields, as `port.create` takes them alone or as each element of `ports`. */
const PortSpec = {
  subnetId: ResourceId,
  name: ResourceName.optional(),
  deviceId: DeviceId.optional(),
  macAddress: MacInput.optional(),
  ipAddress: z.ipv4().optional(),
  /** Absent: the VPC's default group. [] puts the port in no group: only DHCP, ARP and its gateway get through. */
  securityGroupIds: SecurityGroupIds.optional(),
  allowedAddressPairs: AllowedAddressPairs.optional(),
  /** Immutable. Absent: the device's first port is primary, later ones are not (a port without a device is). */
  primary: z.boolean().optional(),
  ...NicFields,
};

/** Neutron's bulk port create has no limit of its own; this one keeps a command's commit and reply within one NATS message. */
export const MAX_PORTS_PER_COMMAND = 1000;

/**
 * One port, or many in one commit (Neutron's bulk create, `ports: [...]`): all or nothing,
 * answered `{port}` or `{ports}` in the order given.
 */
const CreatePort = z.union([
  commandPayload(PortSpec),
  commandPayload({ ports: z.array(z.strictObject(PortSpec)).min(1).max(MAX_PORTS_PER_COMMAND) }),
]);

type PortInput = z.infer<z.ZodObject<typeof PortSpec>>;

function createPorts(view: View, input: z.infer<typeof CreatePort>, ctx: DecideContext): Decision {
  if (!('ports' in input)) return createPort(view, input, ctx, new PortClaims());
  // Each port is decided by the one-port decider, on the view plus what the ports before it claimed.
  const claims = new PortClaims();
  const events: NovanetEvent[] = [];
  const ports: unknown[] = [];
  input.ports.forEach((one, index) => {
    let decided;
    try {
      decided = createPort(view, one, ctx, claims);
    } catch (err) {
      throw atPort(err, index);
    }
    claims.fold(view, ctx.scope, decided.events);
    events.push(...decided.events);
    ports.push(decided.result.port);
  });
  return { events, result: { ports } };
}

/** A refusal of one port of a bulk command: the whole command's, naming the port by its index (a pair's own index becomes `pairIndex`). */
function atPort(err: unknown, index: number): unknown {
  if (!isCommandError(err)) return err;
  const { index: pairIndex, ...details } = err.details ?? {};
  return new CommandError(err.code, `ports[${index}]: ${err.message}`, { ...details, index, ...(pairIndex !== undefined && { pairIndex }) });
}

function createPort(view: View, input: PortInput, ctx: DecideContext, claims: PortClaims) {
  const subnet = findSubnet(view, ctx.scope, input.subnetId);
  const primary = input.deviceId !== undefined ? joinDevice(view, ctx.scope, input.deviceId, { vpcId: subnet.vpcId, primary: input.primary }, claims) : input.primary ?? true;
  const ipAddress = input.ipAddress !== undefined ? checkRequestedIp(view, subnet, input.ipAddress, claims) : allocateIp(subnet, claims);
  const nic = decideNic(view, subnet, input, claims);
  let macAddress: string;
  if (nic.vnicType === 'baremetal') {
    macAddress = nic.macAddress;
  } else if (input.macAddress !== undefined) {
    macAddress = normalizeMac(input.macAddress);
    if (!isUnicastMac(macAddress)) {
      throw new CommandError(ErrorCode.VALIDATION_FAILED, `${input.macAddress} is not a unicast MAC address`, { macAddress: input.macAddress });
    }
    if (view.macs.has(macAddress) || claims.macs.has(macAddress)) {
      throw new CommandError(ErrorCode.MAC_ALREADY_ALLOCATED, `${macAddress} is already in use`, { macAddress });
    }
  } else {
    macAddress = allocateMac(view, ctx, claims.macs);
  }
  const securityGroupIds = input.securityGroupIds !== undefined
    ? portSecurityGroups(view, ctx.scope, subnet.vpcId, input.securityGroupIds)
    : defaultSecurityGroups(view, subnet.vpcId);
  const allowedAddressPairs = resolvePairs(view, subnet, input.allowedAddressPairs ?? [], { macAddress, ip: ipToInt(ipAddress) }, claims);
  const port: PortFields = {
    id: ctx.newId(), scope: ctx.scope, subnetId: subnet.id, vpcId: subnet.vpcId,
    ...(input.name !== undefined && { name: input.name }),
    ...(input.deviceId !== undefined && { deviceId: input.deviceId }),
    primary, macAddress, ip: ipToInt(ipAddress), securityGroupIds, allowedAddressPairs, created: ctx.now,
    ...(nic.vnicType && { vnicType: nic.vnicType }),
  };
  return {
    events: [...nic.vnicType ? nic.events : [], {
      type: 'PortCreated' as const,
      data: {
        portId: port.id, subnetId: subnet.id, macAddress, ipAddress, securityGroupIds, primary,
        ...(allowedAddressPairs.length > 0 && { allowedAddressPairs }),
        ...(port.name !== undefined && { name: port.name }),
        ...(port.deviceId !== undefined && { deviceId: port.deviceId }),
        ...(nic.vnicType && { vnicType: nic.vnicType }),
      },
    }],
    result: { port: presentPort(port) },
  };
}

/** The list is recorded explicitly, so a later change of the VPC's default cannot move existing ports. */
function defaultSecurityGroups(view: View, vpcId: string): string[] {
  const defaultGroup = view.vpcs.get(vpcId)?.defaultSecurityGroupId;
  return defaultGroup !== undefined ? [defaultGroup] : [];
}

/**
 * Pairs in canonical form (a /32 is an address), the MAC defaulting to the port's own.
 * Refused: the subnet's gateway address (a port must never answer for its router), a MAC
 * another port or router port uses, and a pair that only repeats the port's own address
 * or another pair.
 */
function resolvePairs(
  view: View, subnet: Subnet, pairs: z.infer<typeof AllowedAddressPairs>,
  port: Pick<Port, 'macAddress' | 'ip'> & { allowedAddressPairs?: readonly AllowedAddressPair[] },
  claims?: PortClaims,
): AllowedAddressPair[] {
  const seen = new Set<string>();
  return pairs.map((pair, index) => {
    let ipAddress: string;
    if (pair.ipAddress.includes('/')) {
      ipAddress = formatCidr(parseCidr(pair.ipAddress, { minPrefix: 0, maxPrefix: 32 })).replace(/\/32$/, '');
    } else if (z.ipv4().safeParse(pair.ipAddress).success) {
      ipAddress = intToIp(ipToInt(pair.ipAddress));
    } else {
      throw new CommandError(ErrorCode.VALIDATION_FAILED, `allowedAddressPairs[${index}].ipAddress "${pair.ipAddress}" is not an IPv4 address or CIDR`, { index });
    }
    if (ipAddress === subnet.gatewayIp) {
      throw new CommandError(ErrorCode.IP_RESERVED, `allowedAddressPairs[${index}]: ${ipAddress} is the subnet's gateway`, { index, ipAddress });
    }
    // A load balancer's VIP is answered by OVN itself; a port announcing it would steal its traffic.
    const holder = ipAddress.includes('/') ? undefined : subnet.allocated.get(ipToInt(ipAddress));
    if (holder !== undefined && view.loadBalancers.has(holder)) {
      throw new CommandError(ErrorCode.IP_ALREADY_ALLOCATED, `allowedAddressPairs[${index}]: ${ipAddress} is the VIP of load balancer ${holder}`, { index, ipAddress, loadBalancerId: holder });
    }
    const macAddress = pair.macAddress !== undefined ? normalizeMac(pair.macAddress) : port.macAddress;
    if (!isUnicastMac(macAddress)) {
      throw new CommandError(ErrorCode.VALIDATION_FAILED, `allowedAddressPairs[${index}].macAddress ${macAddress} is not unicast`, { index });
    }
    const ownMac = macAddress === port.macAddress || (port.allowedAddressPairs ?? []).some((p) => p.macAddress === macAddress);
    if (!ownMac && (view.macs.has(macAddress) || claims?.macs.has(macAddress))) {
      throw new CommandError(ErrorCode.MAC_ALREADY_ALLOCATED, `allowedAddressPairs[${index}]: ${macAddress} is already in use`, { index, macAddress });
    }
    const key = `${macAddress} ${ipAddress}`;
    if (key === `${port.macAddress} ${intToIp(port.ip)}` || seen.has(key)) {
      throw new CommandError(ErrorCode.VALIDATION_FAILED, `allowedAddressPairs[${index}] repeats the port's own address or another pair`, { index });
    }
    seen.add(key);
    return { ipAddress, macAddress };
  });
}

export const UpdatePort = atLeastOne(commandPayload({
  portId: ResourceId,
  securityGroupIds: SecurityGroupIds.optional(),
  allowedAddressPairs: AllowedAddressPairs.optional(),
}), ['securityGroupIds', 'allowedAddressPairs'], 'name securityGroupIds, allowedAddressPairs or both');

/** Records complete new lists, so each event alone says what the port has. */
function updatePort(view: View, input: z.infer<typeof UpdatePort>, ctx: DecideContext) {
  const port = findPort(view, ctx.scope, input.portId);
  const securityGroupIds = input.securityGroupIds !== undefined
    ? portSecurityGroups(view, ctx.scope, port.vpcId, input.securityGroupIds)
    : undefined;
  const allowedAddressPairs = input.allowedAddressPairs !== undefined ? resolvePairs(view, view.subnets.get(port.subnetId)!, input.allowedAddressPairs, port) : undefined;
  return {
    events: [
      ...(securityGroupIds ? [{ type: 'PortSecurityGroupsChanged' as const, data: { portId: port.id, securityGroupIds } }] : []),
      ...(allowedAddressPairs ? [{ type: 'PortAllowedAddressPairsChanged' as const, data: { portId: port.id, allowedAddressPairs } }] : []),
    ],
    result: {
      port: presentPort({ ...port, securityGroupIds: securityGroupIds ?? port.securityGroupIds, allowedAddressPairs: allowedAddressPairs ?? port.allowedAddressPairs }),
    },
  };
}

export const DeletePort = commandPayload({ portId: ResourceId });

function deletePort(view: View, input: z.infer<typeof DeletePort>, ctx: DecideContext) {
  const port = findPort(view, ctx.scope, input.portId);
  // External addresses aimed at the port would silently stop working; a deviceId attachment
  // names the device, not this port, so it stays (Pending until the device has a port again).
  const attachmentId = view.attachmentOfTarget.get(targetKey(port.scope, { portId: port.id }));
  const attachment = attachmentId !== undefined ? view.attachments.get(attachmentId) : undefined;
  const portForwardIds = [...childrenOf(view.portForwardsOfPort, port.id)];
  if (attachment || portForwardIds.length > 0) {
    throw new CommandError(ErrorCode.IN_USE, `port ${port.id} is still the target of external IPs`, {
      ...(attachment && { attachmentId: attachment.id }),
      ...(portForwardIds.length > 0 && { portForwardIds }),
    });
  }
  const loadBalancerIds = [...childrenOf(view.loadBalancersOfMember, port.id)];
  if (loadBalancerIds.length > 0) {
    throw new CommandError(ErrorCode.IN_USE, `port ${port.id} is still a member of load balancers`, { loadBalancerIds });
  }
  return { events: [{ type: 'PortDeleted' as const, data: { portId: port.id } }], result: {} };
}

export const AttachPort = commandPayload({ portId: ResourceId, deviceId: DeviceId });

/** The overlay spec's AttachPort: the device's plug may bind the port now. Attaching it to its own device again changes nothing. */
function attachPort(view: View, input: z.infer<typeof AttachPort>, ctx: DecideContext) {
  const port = findPort(view, ctx.scope, input.portId);
  if (port.deviceId === input.deviceId) return { events: [], result: { port: presentPort(port) } };
  if (port.deviceId !== undefined) {
    throw new CommandError(ErrorCode.PORT_ALREADY_ATTACHED, `port ${port.id} is attached to device "${port.deviceId}": detach it first`, { portId: port.id, deviceId: port.deviceId });
  }
  joinDevice(view, ctx.scope, input.deviceId, { portId: port.id, vpcId: port.vpcId, primary: port.primary });
  return {
    events: [{ type: 'PortAttached' as const, data: { portId: port.id, deviceId: input.deviceId } }],
    result: { port: presentPort({ ...port, deviceId: input.deviceId }) },
  };
}

export const DetachPort = commandPayload({ portId: ResourceId });

/** The overlay spec's DetachPort: the port keeps its address, MAC and external IPs; no plug binds it. Detaching a detached port changes nothing. */
function detachPort(view: View, input: z.infer<typeof DetachPort>, ctx: DecideContext) {
  const port = findPort(view, ctx.scope, input.portId);
  if (port.deviceId === undefined) return { events: [], result: { port: presentPort(port) } };
  const { deviceId: _detached, ...detached } = port;
  return { events: [{ type: 'PortDetached' as const, data: { portId: port.id } }], result: { port: presentPort(detached) } };
}

export const GetPort = queryPayload({ portId: ResourceId });
export const ListPorts = queryPayload({
  subnetId: ResourceId.optional(), vpcId: ResourceId.optional(), deviceId: z.string().optional(),
});

export const portOperations = {
  'port.create': command(CreatePort, createPorts),
  'port.update': command(UpdatePort, updatePort),
  'port.delete': command(DeletePort, deletePort),
  'port.attach': command(AttachPort, attachPort),
  'port.detach': command(DetachPort, detachPort),
  'port.get': query(GetPort, (view, input, scope) => ({ port: presentPort(findPort(view, scope, input.portId)) })),
  'port.list': query(ListPorts, (view, input, scope) => ({
    // By device (the node agent's DEL of an unrecorded pod) the device's ports, else the tenant's: never every port.
    ports: (input.deviceId === undefined ? resourcesIn(view, scope, 'port') : devicePortList(view, scope, input.deviceId))
      .filter((p) => (input.subnetId === undefined || p.subnetId === input.subnetId)
        && (input.vpcId === undefined || p.vpcId === input.vpcId)
        && (input.deviceId === undefined || p.deviceId === input.deviceId))
      .map(presentPort),
  })),
} as const;

function devicePortList(view: View, scope: Scope, deviceId: string): Port[] {
  return [...view.devicePorts.get(deviceKey(scope, deviceId)) ?? []].flatMap((id) => view.ports.get(id) ?? []);
}
