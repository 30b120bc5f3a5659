import type { Commit, CommitRecord, Scope } from '../../events/mod.js';
import { evolve, initialView } from '../../projections/mod.js';
import type { View } from '../../projections/mod.js';
import { DEFAULT_DECIDE_CONFIG, tenantOperations } from '../../src/commands/mod.js';
import type { CommandOperation, DecideContext } from '../../src/commands/mod.js';

export const benchScope: Scope = { org: 'bench', project: 'perf' };

/** A validated command, ready for a decider: parsing is the intake's cost, not the decider's. */
export interface Prepared {
  readonly operation: string;
  readonly decider: CommandOperation;
  readonly input: Record<string, unknown>;
}

/**
 * A log built the way the intake builds it: each command decided by the real pure
 * decider on the current view, recorded as a commit and folded in. Ids and MACs
 * come from counters, so every run decides the same history.
 */
export class History {
  readonly view: View = initialView();
  readonly records: CommitRecord[] = [];
  private nextId = 1;
  private nextMac = 1;

  prepare(operation: string, payload: Record<string, unknown>): Prepared {
    const decider = tenantOperations.get(operation);
    if (decider?.kind !== 'command') throw new Error(`${operation} is not a command`);
    const commandId = `bench-${this.records.length + 1}`;
    return { operation, decider, input: decider.schema.parse({ commandId, ...payload }) as Record<string, unknown> };
  }

  /** Decides, records and folds one command of the tenant `scope`; returns its result. */
  apply(prepared: Prepared, scope: Scope = benchScope): Record<string, unknown> {
    const commandId = prepared.input.commandId as string;
    const decision = prepared.decider.decide(this.view, prepared.input, this.context(commandId, scope));
    const commit: Commit = {
      v: 1, commandId, scope, operation: prepared.operation, at: '2026-01-01T00:00:00Z',
      request: prepared.input, result: decision.result, events: [...decision.events],
    };
    const record: CommitRecord = { seq: this.records.length + 1, commit };
    evolve(this.view, record);
    this.records.push(record);
    return decision.result;
  }

  run(operation: string, payload: Record<string, unknown>, scope: Scope = benchScope): Record<string, unknown> {
    return this.apply(this.prepare(operation, payload), scope);
  }

  /** A VPC with one subnet of the given CIDR; returns the subnet id. */
  network(vpcCidr: string, subnetCidr: string): string {
    const { vpc } = this.run('vpc.create', { name: 'bench', cidr: vpcCidr }) as { vpc: { id: string } };
    const { subnet } = this.run('subnet.create', { vpcId: vpc.id, name: 'bench', cidr: subnetCidr }) as { subnet: { id: string } };
    return subnet.id;
  }

  private context(commandId: string, scope: Scope): DecideContext {
    return {
      scope, commandId, now: '2026-01-01T00:00:00Z', config: DEFAULT_DECIDE_CONFIG,
      newId: () => counterId(this.nextId++),
      newMac: () => counterMac(this.nextMac++),
    };
  }
}

/** 0a:4e then the counter as four octets: unique, unicast, locally administered. */
function counterMac(n: number): string {
  const octets = [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
  return ['0a', '4e', ...octets.map((b) => b.toString(16).padStart(2, '0'))].join(':');
}

/**
 * A v4-shaped id from the counter: its first 32 bits spread (a multiplicative hash of the
 * counter), the counter itself in the last group. ovsdb-server hashes a UUID by its first 32
 * bits: ids that all began with zeros put every port in one hash bucket (a 30k-port dump cost
 * ovsdb-server ~4 s of CPU).
 */
function counterId(n: number): string {
  const spread = (Math.imul(n, 0x9e3779b1) >>> 0).toString(16).padStart(8, '0');
  return `${spread}-0000-4000-8000-${String(n).padStart(12, '0')}`;
}
