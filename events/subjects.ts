import type { Scope } from './commit.js';
import { PROVIDER, PROVIDER_SCOPE } from './tenant.js';

export const DEFAULT_PREFIX = 'novanet' as const;

/** The one place subject names are built: clients import it too. */
export function subjects(prefix: string = DEFAULT_PREFIX) {
  return {
    /** Request/reply subject of a command: `novanet.cmd.acme.web.vpc.create`, or `novanet.admin.cmd.<operation>` for the provider. */
    command: (scope: Scope, operation: string) => scope.org === PROVIDER
      ? `${prefix}.admin.cmd.${operation}`
      : `${prefix}.cmd.${scope.org}.${scope.project}.${operation}`,
    commandWildcard: `${prefix}.cmd.>`,
    adminCommandWildcard: `${prefix}.admin.cmd.>`,
    events: (scope: Scope) => scope.org === PROVIDER ? `${prefix}.evt.${PROVIDER}` : `${prefix}.evt.${scope.org}.${scope.project}`,
    eventsWildcard: `${prefix}.evt.>`,
    status: (scope: Scope, kind: string, id: string) => scope.org === PROVIDER
      ? `${prefix}.status.${PROVIDER}.${kind}.${id}`
      : `${prefix}.status.${scope.org}.${scope.project}.${kind}.${id}`,
    statusWildcard: `${prefix}.status.>`,
    /** The resource a status subject is about; undefined for a subject of another shape. */
    statusTarget: (subject: string): { scope: Scope; kind: string; id: string } | undefined => {
      if (!subject.startsWith(`${prefix}.status.`)) return undefined;
      const tokens = subject.slice(prefix.length + '.status.'.length).split('.');
      if (tokens[0] === PROVIDER) return tokens.length === 3 ? { scope: PROVIDER_SCOPE, kind: tokens[1]!, id: tokens[2]! } : undefined;
      return tokens.length === 4 ? { scope: { org: tokens[0]!, project: tokens[1]! }, kind: tokens[2]!, id: tokens[3]! } : undefined;
    },
  } as const;
}
export type Subjects = ReturnType<typeof subjects>;
