import { z } from 'zod';
import { PROVIDER, PROVIDER_SCOPE } from '../../events/mod.js';
import type { Reply, Subjects } from '../../events/mod.js';
import type { OperatorHandler } from '../bus/command-endpoint.js';
import { isCommandError } from '../commands/mod.js';
import type { Intake } from '../intake/intake.js';
import type { Operation } from '../ovsdb/mod.js';
import { viewDigest } from './digest.js';
import type { ReconcilerThread } from './reconciler-thread.js';

const DigestRequest = z.strictObject({
  view: z.enum(['intake', 'reconciler']).default('intake'),
  part: z.string().min(1).optional(),
  bucket: z.string().regex(/^[0-9a-f]{2}$/).optional(),
});

const PlanRequest = z.strictObject({
  operation: z.string().min(1),
  payload: z.record(z.string(), z.unknown()),
  /** The command's tenant (default `default`/`default`), or `_provider` for the admin subjects. */
  org: z.string().optional(),
  project: z.string().optional(),
});

/** Northbound operations as an operator reads them: rows inserted, columns updated, references added or dropped, rows deleted. */
export interface NorthboundPlan {
  readonly insert: readonly { table: string; uuid: string; row: Record<string, unknown> }[];
  readonly update: readonly { table: string; uuid: string; columns: Record<string, unknown> }[];
  readonly mutate: readonly { table: string; uuid: string; mutations: readonly unknown[] }[];
  readonly delete: readonly { table: string; uuid: string }[];
}

/**
 * The operator requests on `<prefix>.admin.ops.<name>`, answered from the running engine:
 * `digest` (its views' digests, for `novanet verify`), `plan` (what a command would append and
 * write to the Northbound, committing nothing) and `drift` (the reconciler's pending diff).
 */
export function operatorRequests(parts: { intake: Intake; reconciler: ReconcilerThread; reconcilerStarted: Promise<void>; subjects: Subjects }): ReadonlyMap<string, OperatorHandler> {
  const { intake, reconciler, reconcilerStarted, subjects } = parts;
  // The engine answers as soon as the intake is up; what involves the reconciler's view or its
  // Northbound cache waits until it has folded the log and has the Northbound's dump.
  return new Map<string, OperatorHandler>([
    ['digest', async (payload) => {
      const parsed = DigestRequest.safeParse(payload ?? {});
      if (!parsed.success) return invalid(parsed.error);
      const { view, part, bucket } = parsed.data;
      const query = { ...(part !== undefined && { part }), ...(bucket !== undefined && { bucket }) };
      // The reconciler's view is digested in its thread: only the answer crosses.
      const answer = view === 'intake' ? viewDigest(intake.view, query) : await reconcilerStarted.then(() => reconciler.digest(query));
      return { ok: true, seq: answer.seq, result: { ...answer } };
    }],
    ['plan', async (payload) => {
      const parsed = PlanRequest.safeParse(payload);
      if (!parsed.success) return invalid(parsed.error);
      await reconcilerStarted;
      const { operation, org, project } = parsed.data;
      // The scope is the subject's, as for a real command: admission checks its names.
      const scope = org === PROVIDER ? PROVIDER_SCOPE : { org: org ?? 'default', project: project ?? 'default' };
      const address = subjects.parseCommand(subjects.command(scope, operation))!;
      try {
        const { commit, expectedSeq, repeatOf } = await intake.preview(address, new TextEncoder().encode(JSON.stringify(parsed.data.payload)));
        // The reconciler's own render and diff, on a copy of the view the command was decided on (the message's).
        const northbound = summarize(repeatOf === undefined ? await reconciler.plan(intake.view, { seq: expectedSeq, commit }) : []);
        return { ok: true, seq: expectedSeq, result: { commit, ...(repeatOf !== undefined && { repeatOf }), northbound } };
      } catch (err) {
        if (!isCommandError(err)) throw err;
        return { ok: false, error: { code: err.code, message: err.message, ...(err.details !== undefined && { details: err.details }) } };
      }
    }],
    ['drift', async () => {
      await reconcilerStarted;
      const drift = await reconciler.drift();
      return { ok: true, seq: reconciler.observedSeq, result: { northbound: summarize(drift) } };
    }],
  ]);
}

function invalid(error: z.ZodError): Reply {
  return { ok: false, error: { code: 'VALIDATION_FAILED', message: error.issues.map((i) => `${i.path.join('.') || '(payload)'}: ${i.message}`).join('; '), details: { issues: error.issues } } };
}

export function summarize(ops: readonly Operation[]): NorthboundPlan {
  const plan = { insert: [], update: [], mutate: [], delete: [] } as { -readonly [K in keyof NorthboundPlan]: NorthboundPlan[K][number][] };
  const target = (where: readonly (readonly unknown[])[]) => String(where.find((c) => c[0] === '_uuid')?.[2] ?? '');
  for (const op of ops) {
    switch (op.op) {
      case 'insert': plan.insert.push({ table: op.table, uuid: op.uuid ?? '', row: jsonSafe(op.row) }); break;
      case 'update': plan.update.push({ table: op.table, uuid: target(op.where), columns: jsonSafe(op.row) }); break;
      case 'mutate': plan.mutate.push({ table: op.table, uuid: target(op.where), mutations: jsonSafe(op.mutations) }); break;
      case 'delete': plan.delete.push({ table: op.table, uuid: target(op.where) }); break;
      case 'select': case 'wait': case 'comment': break;
      default: op satisfies never;
    }
  }
  return plan;
}

/** OVSDB integers beyond 2^53 decode to bigint, which JSON cannot hold: as decimal strings. */
function jsonSafe<T>(value: T): T {
  return JSON.parse(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))) as T;
}
