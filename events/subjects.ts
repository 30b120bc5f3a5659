import type { Scope } from './commit.js';
import { PROVIDER } from './tenant.js';

export const DEFAULT_PREFIX = 'novanet' as const;

/** Where a command was sent: the provider's admin subjects, or a tenant's (names unchecked). */
export interface CommandAddress {
  readonly subject: string;
  readonly admin: boolean;
  readonly org: string;
  readonly project: string;
  readonly operation: string;
}

/** The one place subject names are built: clients import it too. */
export function subjects(prefix: string = DEFAULT_PREFIX) {
  return {
    /** Request/reply subject of a command: `novanet.cmd.acme.web.vpc.create`, or `novanet.admin.cmd.<operation>` for the provider. */
    command: (scope: Scope, operation: string) => scope.org === PROVIDER
      ? `${prefix}.admin.cmd.${operation}`
      : `${prefix}.cmd.${scope.org}.${scope.project}.${operation}`,
    /**
     * The scope and operation a command subject names, unchecked (the intake validates the
     * names); undefined for a subject outside `<prefix>.cmd.>` and `<prefix>.admin.cmd.>`.
     */
    parseCommand: (subject: string): CommandAddress | undefined => {
      const admin = `${prefix}.admin.cmd.`;
      if (subject.startsWith(admin)) return { subject, admin: true, org: PROVIDER, project: PROVIDER, operation: subject.slice(admin.length) };
      const tenant = `${prefix}.cmd.`;
      if (!subject.startsWith(tenant)) return undefined;
      const [org = '', project = '', ...rest] = subject.slice(tenant.length).split('.');
      return { subject, admin: false, org, project, operation: rest.join('.') };
    },
    commandWildcard: `${prefix}.cmd.>`,
    adminCommandWildcard: `${prefix}.admin.cmd.>`,
    events: (scope: Scope) => scope.org === PROVIDER ? `${prefix}.evt.${PROVIDER}` : `${prefix}.evt.${scope.org}.${scope.project}`,
    eventsWildcard: `${prefix}.evt.>`,
    status: (scope: Scope, kind: string, id: string) => scope.org === PROVIDER
      ? `${prefix}.status.${PROVIDER}.${kind}.${id}`
      : `${prefix}.status.${scope.org}.${scope.project}.${kind}.${id}`,
    statusWildcard: `${prefix}.status.>`,
  } as const;
}
export type Subjects = ReturnType<typeof subjects>;
