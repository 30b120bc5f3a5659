import type { Scope } from '../../events/mod.js';

/**
 * Everything a decider may not find out by itself: who asks, when, and fresh
 * ids and MAC candidates. The intake draws them at the edge; tests pass fixed ones.
 */
export interface DecideContext {
  readonly scope: Scope;
  readonly commandId: string;
  /** ISO 8601 time of acceptance. */
  readonly now: string;
  newId(): string;
  /** A random locally administered unicast MAC candidate; the decider checks it is unused. */
  newMac(): string;
  readonly config: DecideConfig;
}

export interface DecideConfig {
  /** Provider pool VPC CIDRs are drawn from when a VPC names none. */
  readonly vpcPool: string;
}

export const DEFAULT_DECIDE_CONFIG: DecideConfig = { vpcPool: '10.0.0.0/8' };
