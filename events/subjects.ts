import type { Scope } from './tenant.js';
import { PROVIDER, PROVIDER_SCOPE } from './tenant.js';

export const DEFAULT_PREFIX = 'novanet' as const;

/** Where a command was sent: the provider's admin subjects, or a tenant's (names unchecked). */
export interface CommandAddress {
  readonly subject: string;
  readonly admin: boolean;
  readonly org: string;
  readonly project: string;
  readonly operation: string;
}

/**
 * Stream names derive from the subject prefix, so several novanet installs can share one NATS;
 * `lease` is the KV bucket of the engines' writer lease (its stream is `KV_<lease>`), `snapshot`
 * the stream of the engines' snapshot of their views (a cache of the log's fold).
 */
export function streamNames(prefix: string = DEFAULT_PREFIX): { readonly events: string; readonly status: string; readonly lease: string; readonly snapshot: string } {
  const base = prefix.toUpperCase().replace(/[^A-Z0-9_-]/g, '_');
  return { events: `${base}_EVENTS`, status: `${base}_STATUS`, lease: `${base}_LEASE`, snapshot: `${base}_SNAPSHOT` };
}

/** The one place subject names are built and parsed: clients import it too. */
export function subjects(prefix: string = DEFAULT_PREFIX) {
  const streams = streamNames(prefix);
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
    /** An operator request (`digest`, `plan`, `drift`): `novanet.admin.ops.<name>`, the provider's like the admin commands. */
    operator: (name: string) => `${prefix}.admin.ops.${name}`,
    operatorWildcard: `${prefix}.admin.ops.>`,
    events: (scope: Scope) => scope.org === PROVIDER ? `${prefix}.evt.${PROVIDER}` : `${prefix}.evt.${scope.org}.${scope.project}`,
    eventsWildcard: `${prefix}.evt.>`,
    /** The scope an events subject names, as written: where a quarantined message claims to belong. */
    parseEvents: (subject: string): { org?: string; project?: string } => {
      const [org, project] = subject.slice(`${prefix}.evt.`.length).split('.');
      return org === PROVIDER ? { org: PROVIDER, project: PROVIDER } : { org, project };
    },
    status: (scope: Scope, kind: string, id: string) => scope.org === PROVIDER
      ? `${prefix}.status.${PROVIDER}.${kind}.${id}`
      : `${prefix}.status.${scope.org}.${scope.project}.${kind}.${id}`,
    statusWildcard: `${prefix}.status.>`,
    /**
     * The engines' snapshot of their views: `<prefix>.snapshot.head` names the newest one, whose
     * bytes are in chunks `<prefix>.snapshot.<seq>.<n>` (the log's seq it was taken at).
     */
    snapshotHead: `${prefix}.snapshot.head`,
    snapshotChunk: (seq: number, n: number) => `${prefix}.snapshot.${seq}.${n}`,
    snapshotChunks: (seq: number) => `${prefix}.snapshot.${seq}.>`,
    snapshotWildcard: `${prefix}.snapshot.>`,
    /**
     * The reconciler's saved Northbound cache (src/ovsdb's saveCache), stored as a snapshot is:
     * `<prefix>.snapshot.northbound.head` names the newest, in chunks
     * `<prefix>.snapshot.northbound.<generation>.<n>`.
     */
    northboundCache: {
      snapshotHead: `${prefix}.snapshot.northbound.head`,
      snapshotChunk: (generation: number, n: number) => `${prefix}.snapshot.northbound.${generation}.${n}`,
      snapshotChunks: (generation: number) => `${prefix}.snapshot.northbound.${generation}.>`,
    },
    /** JetStream direct get of the latest message on a status subject: a plain subject, so NATS can scope it per tenant. */
    statusDirectGet: (statusSubject: string) => `$JS.API.DIRECT.GET.${streams.status}.${statusSubject}`,
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
