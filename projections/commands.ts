import type { CommitRecord } from '../events/mod.js';

/**
 * How long a commandId is remembered: while both bounds hold. Age is measured in the log's
 * own time (the `at` of its commits, never a clock read), so a fold of the same log with the
 * same retention keeps the same records, live or replayed.
 */
export interface CommandRetention {
  /** Milliseconds between a record's commit `at` and the newest commit's `at` in the log. */
  readonly ms: number;
  /** A scope's newest records kept: one tenant cannot grow the view without end. */
  readonly perScope: number;
}

/** 24 h, as Stripe's idempotency keys; 100,000 commands a tenant (~7 MiB at most per tenant). */
export const DEFAULT_COMMAND_RETENTION: CommandRetention = { ms: 24 * 60 * 60 * 1000, perScope: 100_000 };

/**
 * One scope's records, oldest first, as parallel arrays (a few words a record, no object
 * each): record `p` (its position, counted from the scope's first record ever) is at index
 * `p - base`. Evicted records before `head` are cut off the arrays in bulk.
 */
export interface ScopeCommands {
  /** Live commandId → its record's position. */
  readonly positions: Map<string, number>;
  /** Position of index 0 of the arrays. */
  base: number;
  /** Position of the oldest record not evicted. */
  head: number;
  readonly commandIds: string[];
  readonly seqs: number[];
  /** The commit's `at`, in milliseconds since the epoch. */
  readonly ats: number[];
}

/**
 * The idempotency view: per scope, each accepted commandId within the retention and the
 * sequence of its commit. Nothing of the request or result is kept: the log is the truth,
 * and a repeat reads its commit back by `seq` (the intake). Folded from the same log as
 * everything else, so a repeated commandId is recognised after a restart too.
 */
export interface CommandView {
  seq: number;
  /** The `at` of the last commit folded (ms): "now" for the retention. */
  clock: number;
  readonly retention: CommandRetention;
  /** By `org/project`. */
  readonly scopes: Map<string, ScopeCommands>;
  /** The keys of `scopes`, in the order the sweep visits them. */
  readonly order: string[];
  /** Where in `order` the next commit's sweep looks. */
  cursor: number;
}

export function initialCommandView(retention: CommandRetention = DEFAULT_COMMAND_RETENTION): CommandView {
  return { seq: 0, clock: 0, retention, scopes: new Map(), order: [], cursor: 0 };
}

const scopeKey = (scope: { org: string; project: string }): string => `${scope.org}/${scope.project}`;

/**
 * The sequence of the commit a commandId got, if it is within the retention. A record older
 * than the retention counts as gone even before a sweep evicts it.
 */
export function acceptedSeq(view: CommandView, scope: { org: string; project: string }, commandId: string): number | undefined {
  const commands = view.scopes.get(scopeKey(scope));
  const position = commands?.positions.get(commandId);
  if (commands === undefined || position === undefined || expired(view, commands.ats[position - commands.base]!)) return undefined;
  return commands.seqs[position - commands.base];
}

const expired = (view: CommandView, at: number): boolean => at < view.clock - view.retention.ms;

/**
 * Records the commit's commandId and evicts records past the retention, oldest first, from
 * its scope and from one other in turn (so an idle tenant's expired records go too, within as
 * many commits as there are tenants): O(1) amortised a commit.
 */
export function evolveCommands(view: CommandView, { seq, commit }: CommitRecord): CommandView {
  view.seq = seq;
  // The intake writes ISO times; a commit with a time that does not parse happened "now".
  const parsed = Date.parse(commit.at);
  const at = Number.isNaN(parsed) ? view.clock : parsed;
  // The last commit's time, not the greatest seen: a writer whose clock is far ahead makes
  // keys look expired until the next commit (evicting those of the two tenants it sweeps),
  // not every key written for as long as its clock is ahead.
  view.clock = at;
  const key = scopeKey(commit.scope);
  let commands = view.scopes.get(key);
  if (!commands) {
    commands = { positions: new Map(), base: 0, head: 0, commandIds: [], seqs: [], ats: [] };
    view.scopes.set(key, commands);
    view.order.push(key);
  }
  commands.positions.set(commit.commandId, commands.base + commands.commandIds.length);
  commands.commandIds.push(commit.commandId);
  commands.seqs.push(seq);
  commands.ats.push(at);
  evict(view, commands);
  sweep(view);
  return view;
}

/** Evicts what expired in the scope at the cursor; a scope left with no record is dropped. */
function sweep(view: CommandView): void {
  if (view.cursor >= view.order.length) view.cursor = 0;
  const key = view.order[view.cursor]!;
  const commands = view.scopes.get(key)!;
  evict(view, commands);
  if (commands.head < commands.base + commands.commandIds.length) {
    view.cursor++;
    return;
  }
  view.scopes.delete(key);
  view.order[view.cursor] = view.order[view.order.length - 1]!;
  view.order.pop();
}

function evict(view: CommandView, commands: ScopeCommands): void {
  const end = commands.base + commands.commandIds.length;
  while (commands.head < end && (end - commands.head > view.retention.perScope || expired(view, commands.ats[commands.head - commands.base]!))) {
    const commandId = commands.commandIds[commands.head - commands.base]!;
    // A commandId used again after it expired has a newer record: keep that one.
    if (commands.positions.get(commandId) === commands.head) commands.positions.delete(commandId);
    // Until the cut below, the slot would keep the string alive.
    commands.commandIds[commands.head - commands.base] = '';
    commands.head++;
  }
  // Cut the evicted prefix once it is half the arrays: each record is moved at most once more.
  const cut = commands.head - commands.base;
  if (cut > 0 && cut * 2 >= commands.commandIds.length) {
    commands.commandIds.splice(0, cut);
    commands.seqs.splice(0, cut);
    commands.ats.splice(0, cut);
    commands.base = commands.head;
  }
}
