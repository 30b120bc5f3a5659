import type { ExecutionContext } from 'ava';
import { isProviderScope, PROVIDER_SCOPE } from '../../events/mod.js';
import type { CommitRecord, EventOf, NovanetEvent, Scope } from '../../events/mod.js';
import { evolve, initialView } from '../../projections/mod.js';
import type { View } from '../../projections/mod.js';
import { CommandError, DEFAULT_DECIDE_CONFIG, ErrorCode, isCommandError, providerOperations, tenantOperations } from '../../src/commands/mod.js';
import type { DecideConfig, DecideContext, Decision, OperationRegistry } from '../../src/commands/mod.js';

/**
 * Decider specifications: given(events) / when(operation, payload) / then(events)
 * or thenFails(code). Ids and MACs come from fixed sequences, so a spec can name them.
 */

export const acme: Scope = { org: 'acme', project: 'web' };
export const globex: Scope = { org: 'globex', project: 'web' };
/** The operator's scope: provider operations are decided, and their histories committed, in it. */
export const provider: Scope = PROVIDER_SCOPE;

/** The registry the intake picks for a scope: admin subjects decide in the provider scope. */
function operationsFor(scope: Scope): OperationRegistry {
  return isProviderScope(scope) ? providerOperations : tenantOperations;
}

export const id = (n: number): string => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
export const mac = (n: number): string => `0a:4e:00:00:00:${n.toString(16).padStart(2, '0')}`;

export interface Given {
  readonly scope: Scope;
  readonly events: readonly NovanetEvent[];
}

export function given(...history: Given[]) {
  const view = initialView();
  history.forEach((h, i) => evolve(view, commit(i + 1, h.scope, h.events)));
  return {
    view,
    when: (scope: Scope, operation: string, payload: Record<string, unknown>, options: { config?: Partial<DecideConfig>; macs?: string[]; firstId?: number } = {}) =>
      outcome(view, () => decide(view, scope, operation, payload, options)),
  };
}

export function commit(seq: number, scope: Scope, events: readonly NovanetEvent[]): CommitRecord {
  return {
    seq,
    commit: { v: 1, commandId: `c${seq}`, scope, operation: 'test', at: `2026-01-01T00:00:${String(seq % 60).padStart(2, '0')}Z`, request: {}, result: {}, events: [...events] },
  };
}

function decide(view: View, scope: Scope, operation: string, payload: Record<string, unknown>, options: { config?: Partial<DecideConfig>; macs?: string[]; firstId?: number }): Decision {
  const op = operationsFor(scope).get(operation);
  if (!op || op.kind !== 'command') throw new Error(`${operation} is not a command`);
  const parsed = op.schema.safeParse({ commandId: 'spec', ...payload });
  if (!parsed.success) throw new CommandError(ErrorCode.VALIDATION_FAILED, parsed.error.message, { issues: parsed.error.issues });
  let nextId = options.firstId ?? 100;
  const macs = [...(options.macs ?? [])];
  let nextMac = 0xa0;
  const ctx: DecideContext = {
    scope, commandId: 'spec', now: '2026-01-01T12:00:00Z', config: { ...DEFAULT_DECIDE_CONFIG, ...options.config },
    newId: () => id(nextId++),
    newMac: () => macs.shift() ?? mac(nextMac++),
  };
  return op.decide(view, parsed.data, ctx);
}

function outcome(view: View, run: () => Decision) {
  let decision: Decision | undefined;
  let error: unknown;
  try {
    decision = run();
  } catch (err) {
    error = err;
  }
  return {
    view,
    decision,
    then(t: ExecutionContext, events: readonly NovanetEvent[]): Decision {
      if (error) t.fail(`expected events, got ${String(error)}`);
      t.deepEqual(decision!.events, events);
      return decision!;
    },
    /** For specs that only need the command accepted. */
    thenSucceeds(t: ExecutionContext): Decision {
      t.is(error, undefined, `expected success, got ${String(error)}`);
      return decision!;
    },
    thenFails(t: ExecutionContext, code: string, details?: Record<string, unknown>): CommandError {
      if (!isCommandError(error)) {
        t.fail(`expected ${code}, got ${error ? String(error) : JSON.stringify(decision?.events)}`);
        throw new Error('unreachable');
      }
      t.is(error.code as string, code, error.message);
      if (details) t.like(error.details ?? {}, details);
      return error;
    },
  };
}

/** What vpc.create records for a VPC's default group: group id(n), its rules id(n + 1) and id(n + 2). */
export function defaultGroupCreated(vpcId: string, n: number): NovanetEvent {
  return {
    type: 'SecurityGroupCreated',
    data: {
      securityGroupId: id(n), vpcId, name: 'default', description: 'default security group', isDefault: true,
      ingressRules: [{ ruleId: id(n + 1), protocol: 'all', remote: { securityGroupId: id(n) } }],
      egressRules: [{ ruleId: id(n + 2), protocol: 'all', remote: { cidr: '0.0.0.0/0' } }],
    },
  };
}

/** The default group of the common VPC. */
export const DEFAULT_GROUP = id(10);

/** Common history: a VPC 10.0.0.0/16 (id 1) with its default group (id 10), owned by `scope`. */
export function vpc(scope: Scope = acme): Given {
  return {
    scope,
    events: [
      { type: 'VpcCreated', data: { vpcId: id(1), name: 'main', cidr: '10.0.0.0/16' } },
      defaultGroupCreated(id(1), 10),
    ],
  };
}

/** The common VPC with a subnet 10.0.1.0/24 (id 2), gateway .1. */
export function vpcWithSubnet(scope: Scope = acme): Given {
  return {
    scope,
    events: [
      ...vpc(scope).events,
      {
        type: 'SubnetCreated',
        data: {
          subnetId: id(2), vpcId: id(1), name: 'app', cidr: '10.0.1.0/24', gatewayIp: '10.0.1.1', gatewayMac: mac(1),
          dhcp: { enabled: true, leaseTime: 43200, dnsServers: [], ntpServers: [] },
        },
      },
    ],
  };
}

/** A port as port.create records it; without `securityGroupIds` it is a port from before security groups. */
export function portCreated(n: number, ip: string, subnetId = id(2), securityGroupIds?: string[]): NovanetEvent {
  return {
    type: 'PortCreated',
    data: { portId: id(n), subnetId, macAddress: mac(n), ipAddress: ip, ...(securityGroupIds !== undefined && { securityGroupIds }) },
  };
}

type Rules = Pick<EventOf<'SecurityGroupCreated'>['data'], 'ingressRules' | 'egressRules'>;

/** A non-default group id(n) in VPC id(1) (or `vpcId`), with no rules unless given. */
export function groupCreated(n: number, name: string, rules: Partial<Rules> = {}, vpcId = id(1)): NovanetEvent {
  return {
    type: 'SecurityGroupCreated',
    data: { securityGroupId: id(n), vpcId, name, description: '', isDefault: false, ingressRules: [], egressRules: [], ...rules },
  };
}

/** Runs a query against a view, as the intake does. */
export function read(view: View, scope: Scope, operation: string, payload: Record<string, unknown> = {}): Record<string, unknown> {
  const op = operationsFor(scope).get(operation);
  if (!op || op.kind !== 'query') throw new Error(`${operation} is not a query`);
  return op.query(view, op.schema.parse(payload), scope);
}

// --- the outside world ----------------------------------------------------------

/** An external network id(n) as externalnetwork.create records it: 203.0.113.0/24 (gateway .1) unless told. */
export function externalNetworkCreated(n: number, fields: Partial<EventOf<'ExternalNetworkCreated'>['data']> = {}): EventOf<'ExternalNetworkCreated'> {
  return {
    type: 'ExternalNetworkCreated',
    data: {
      externalNetworkId: id(n), name: `ext${n}`, cidr: '203.0.113.0/24', gatewayIp: '203.0.113.1', physicalNetwork: 'physnet',
      gatewayChassis: [{ name: 'gw-1', priority: 10 }], isDefault: true, ...fields,
    },
  };
}

/** A pool id(n) of external network id(network), with the given ranges (first-last pairs). */
export function poolCreated(n: number, network: number, ...ranges: [first: string, last: string][]): EventOf<'ExternalIpPoolCreated'> {
  return { type: 'ExternalIpPoolCreated', data: { poolId: id(n), externalNetworkId: id(network), name: `pool${n}`, ranges: ranges.map(([first, last]) => ({ first, last })) } };
}

/** Common provider history: the default external network id(50), 203.0.113.0/24, with pool id(51) holding .10-.12. */
export function outside(): Given {
  return { scope: provider, events: [externalNetworkCreated(50), poolCreated(51, 50, ['203.0.113.10', '203.0.113.12'])] };
}

/** external IP id(n) allocated to `scope` from pool id(pool). */
export function externalIpAllocated(n: number, address: string, pool = 51): EventOf<'ExternalIpAllocated'> {
  return { type: 'ExternalIpAllocated', data: { externalIpId: id(n), poolId: id(pool), address } };
}
