import type { CommitRecord } from '../events/mod.js';

/**
 * The idempotency view: every accepted commandId, per scope, with the reply it got.
 * Folded from the same log as everything else, so a repeated commandId is
 * answered from here after a restart too.
 */
export interface AcceptedCommand {
  readonly seq: number;
  readonly operation: string;
  readonly request: Readonly<Record<string, unknown>>;
  readonly result: Readonly<Record<string, unknown>>;
}

export interface CommandView {
  seq: number;
  readonly accepted: Map<string, AcceptedCommand>;
}

export function initialCommandView(): CommandView {
  return { seq: 0, accepted: new Map() };
}

export function commandKey(scope: { org: string; project: string }, commandId: string): string {
  return `${scope.org}/${scope.project}/${commandId}`;
}

export function evolveCommands(view: CommandView, { seq, commit }: CommitRecord): CommandView {
  view.accepted.set(commandKey(commit.scope, commit.commandId), {
    seq, operation: commit.operation, request: commit.request, result: commit.result,
  });
  view.seq = seq;
  return view;
}
