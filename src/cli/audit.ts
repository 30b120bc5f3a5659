import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { canonicalJson, isQuarantined, isResourceKind, kinds, PROVIDER, resourceOf, streamNames, subjects } from '../../events/mod.js';
import type { CommitRecord, LogRecord, ResourceKind } from '../../events/mod.js';
import { collections, commitTimeText, evolve, initialView, intToIp, plain, viewEntries } from '../../projections/mod.js';
import type { Port, View } from '../../projections/mod.js';
import { EventLog } from '../bus/log.js';
import type { EngineConfig } from '../engine/config.js';
import { CliError, ExitCode, interrupted, sequenceArgument, UsageError } from './cli.js';
import type { CliCommand } from './cli.js';
import { printResult, progress, table } from './output.js';
import { resourceArgument } from './watch.js';

/**
 * The operator's audit commands: `log`, `history`, `at` and `diff`. Each reads the log from
 * NATS and folds it in this process with the engine's own fold (projections/view.ts
 * `evolve`): what they show is what the engine decided on at that point.
 */
export const auditCommands: CliCommand = (program, cli) => {
  program.command('log')
    .description('the audit log: one line per commit (all tenants unless --org/--project narrow it), or {seq, quarantined, subject} for a message that is not a commit')
    .option('--from <seq>', 'first sequence', '1')
    .option('--to <seq>', 'last sequence (default: the end of the log)')
    .option('--follow', 'keep printing new commits until Ctrl-C')
    .action(cli.action(async (options: { from: string; to?: string; follow?: boolean }) => {
      const format = cli.output();
      const from = Math.max(1, sequenceArgument(options.from, '--from'));
      const to = options.to === undefined ? undefined : sequenceArgument(options.to, '--to');
      const filter = cli.tenantFilter();
      return cli.withNats(async (nc, config) => {
        const log = await eventLog(nc, config);
        const print = (record: LogRecord) => {
          const scope = isQuarantined(record) ? subjects(config.prefix).parseEvents(record.subject) : record.commit.scope;
          if ((filter.org !== undefined && scope.org !== filter.org) || (filter.project !== undefined && scope.project !== filter.project)) return;
          if (format === 'json') {
            console.log(JSON.stringify(isQuarantined(record) ? { seq: record.seq, quarantined: record.reason, subject: record.subject } : { seq: record.seq, ...record.commit }));
          } else {
            console.log(isQuarantined(record) ? `${record.seq}  quarantined: ${record.reason} (${record.subject})` : commitLine(record));
          }
        };
        return follow(log, from, to, options.follow === true, print);
      });
    }));

  program.command('history')
    .description('every commit that touched a resource, oldest first: seq, time, operation, commandId and its events')
    .argument('<kind/id>', 'the resource, e.g. port/<id>')
    .option('--follow', 'keep printing new commits until Ctrl-C')
    .action(cli.action(async (target: string, options: { follow?: boolean }) => {
      const format = cli.output();
      const { kind, id } = resourceArgument(target);
      return cli.withNats(async (nc, config) => {
        const log = await eventLog(nc, config);
        let found = 0;
        const print = (record: LogRecord) => {
          if (isQuarantined(record)) return;
          const events = record.commit.events.filter((e) => { const r = resourceOf(e); return r?.kind === kind && r.id === id; });
          if (events.length === 0) return;
          found++;
          const entry = { seq: record.seq, at: record.commit.at, operation: record.commit.operation, commandId: record.commit.commandId, scope: record.commit.scope, events };
          console.log(format === 'json' ? JSON.stringify(entry) : `${commitLine(record)}  ${events.map((e) => `${e.type} ${canonicalJson(e.data)}`).join('; ')}`);
        };
        const code = await follow(log, 1, undefined, options.follow === true, print);
        if (found === 0 && options.follow !== true) throw new CliError('NOT_FOUND', `no commit touched ${kind}/${id}`);
        return code;
      });
    }));

  program.command('at')
    .description('the view as it was after a commit: one resource, one tenant (--org/--project), or a summary of everything')
    .argument('<point>', 'a log sequence, or a time (ISO 8601: the last commit at or before it)')
    .argument('[kind/id]', 'one resource')
    .action(cli.action(async (point: string, target: string | undefined) => {
      const format = cli.output();
      const resource = target === undefined ? undefined : resourceArgument(target);
      const filter = cli.tenantFilter();
      return cli.withNats(async (nc, config) => {
        const view = await replay(await eventLog(nc, config), parsePoint(point));
        if (resource) {
          const found = (collections[resource.kind as ResourceKind](view) as ReadonlyMap<string, unknown>).get(resource.id);
          if (!found) throw new CliError('NOT_FOUND', `${resource.kind}/${resource.id} did not exist at seq ${view.seq}`, { seq: view.seq });
          const shown = resource.kind === 'port' ? portAsShown(found as Port) : plain(found);
          printResult({ [resource.kind]: shown }, format, { seq: view.seq, [resource.kind]: shown });
          return ExitCode.ok;
        }
        const resources = tenantResources(view, filter);
        if (filter.org !== undefined || filter.project !== undefined) {
          if (format === 'json') console.log(JSON.stringify({ seq: view.seq, resources }, null, 2));
          else console.log(resources.length === 0 ? `nothing at seq ${view.seq}` : `at seq ${view.seq}\n${table(resources, ['kind', 'id', 'name', 'org', 'project'])}`);
          return ExitCode.ok;
        }
        const summary = summarize(view);
        if (format === 'json') console.log(JSON.stringify({ seq: view.seq, ...summary }, null, 2));
        else console.log(`at seq ${view.seq}: ${summary.tenants} tenants\n${table(Object.entries(summary.kinds).map(([kind, count]) => ({ kind, count })))}`);
        return ExitCode.ok;
      });
    }));

  program.command('diff')
    .description('what was created, changed and deleted between two points of the log (--org/--project: one tenant)')
    .argument('<from>', 'a log sequence or a time')
    .argument('<to>', 'a log sequence or a time')
    .action(cli.action(async (fromPoint: string, toPoint: string) => {
      const format = cli.output();
      const filter = cli.tenantFilter();
      return cli.withNats(async (nc, config) => {
        const log = await eventLog(nc, config);
        const before = await replay(log, parsePoint(fromPoint));
        const entriesBefore = resourceEntries(before, filter);
        const after = await replay(log, parsePoint(toPoint), before);
        const changes = compare(entriesBefore, resourceEntries(after, filter));
        if (format === 'json') console.log(JSON.stringify({ from: entriesBefore.seq, to: after.seq, changes }, null, 2));
        else console.log(changes.length === 0 ? `no change from seq ${entriesBefore.seq} to ${after.seq}` : `from seq ${entriesBefore.seq} to ${after.seq}\n${table(changes.map((c) => ({ ...c, fields: c.fields?.join(',') })))}`);
        return ExitCode.ok;
      });
    }));
};

export async function eventLog(nc: NatsConnection, config: EngineConfig): Promise<EventLog> {
  return new EventLog(nc, jetstream(nc), await jetstreamManager(nc), streamNames(config.prefix).events, subjects(config.prefix));
}

/** Where a replay stops: after a sequence, or after the last commit at or before a time. */
type Point = { readonly seq: number } | { readonly time: string };

/** A port as `at` shows it: the view's fields, its address and creation time as the text the log has (the view keeps numbers). */
function portAsShown(port: Port): unknown {
  const { ip, created, ...fields } = port;
  return { ...plain(fields) as Record<string, unknown>, ipAddress: intToIp(ip), createdAt: commitTimeText(created) };
}

function parsePoint(point: string): Point {
  if (/^\d+$/.test(point)) return { seq: sequenceArgument(point, 'a point of the log') };
  const time = Date.parse(point);
  if (Number.isNaN(time)) throw new UsageError(`'${point}' is neither a log sequence nor a time (ISO 8601, e.g. 2026-12-01T10:00:00Z)`);
  return { time: new Date(time).toISOString() };
}

/**
 * Folds the log into `view` (a fresh one by default, or one already folded to an earlier
 * point, which the fold then continues) up to `point`, with a progress bar on a terminal.
 */
export async function replay(log: EventLog, point: Point | 'end', view: View = initialView()): Promise<View> {
  const last = await log.lastSeq();
  const to = point !== 'end' && 'seq' in point ? Math.min(point.seq, last) : last;
  if (point !== 'end' && 'seq' in point && point.seq > last) throw new CliError('NOT_FOUND', `the log ends at seq ${last}`, { lastSeq: last });
  const bar = progress('replaying');
  try {
    for await (const record of log.read(view.seq + 1, to)) {
      if (!isQuarantined(record)) {
        if (point !== 'end' && 'time' in point && record.commit.at > point.time) break;
        evolve(view, record);
      }
      // A quarantined message changes nothing, but the view has been folded past it.
      view.seq = record.seq;
      bar.update(record.seq, to);
    }
  } finally {
    bar.end();
  }
  return view;
}

/** Prints records from `from` to `to` (or the end), and with `keep` every new one until Ctrl-C. */
async function follow(log: EventLog, from: number, to: number | undefined, keep: boolean, print: (record: LogRecord) => void): Promise<number> {
  if (!keep) {
    const last = await log.lastSeq();
    for await (const record of log.read(from, Math.min(to ?? last, last))) print(record);
    return ExitCode.ok;
  }
  const following = log.follow(from, print);
  await interrupted();
  await following.stop();
  return ExitCode.ok;
}

const commitLine = (record: CommitRecord): string => {
  const { at, scope, operation, commandId } = record.commit;
  return `${record.seq}  ${at}  ${scope.org === PROVIDER ? PROVIDER : `${scope.org}/${scope.project}`}  ${operation}  ${commandId}`;
};

type TenantFilter = { org?: string; project?: string };

interface ResourceRow extends Record<string, unknown> {
  readonly kind: ResourceKind;
  readonly id: string;
  readonly name?: string;
  readonly org: string;
  readonly project: string;
}

function* resources(view: View, filter: TenantFilter): Generator<ResourceRow & { value: unknown }> {
  for (const { part, id, value } of viewEntries(view)) {
    if (!isResourceKind(part)) continue;
    const resource = value as { name?: string; scope?: { org: string; project: string } };
    const scope = kinds[part].owner === 'provider' ? { org: PROVIDER, project: PROVIDER } : resource.scope!;
    if ((filter.org !== undefined && scope.org !== filter.org) || (filter.project !== undefined && scope.project !== filter.project)) continue;
    yield { kind: part, id, ...(resource.name !== undefined && { name: resource.name }), ...scope, value };
  }
}

function tenantResources(view: View, filter: TenantFilter): ResourceRow[] {
  return [...resources(view, filter)].map(({ value: _value, ...row }) => row);
}

function summarize(view: View): { tenants: number; kinds: Record<string, number> } {
  const counts: Record<string, number> = {};
  const tenants = new Set<string>();
  for (const row of resources(view, {})) {
    counts[row.kind] = (counts[row.kind] ?? 0) + 1;
    if (row.org !== PROVIDER) tenants.add(`${row.org}/${row.project}`);
  }
  return { tenants: tenants.size, kinds: counts };
}

/** A view's resources at one point, by `kind/id`, copied out (the fold goes on mutating the view). */
function resourceEntries(view: View, filter: TenantFilter): { seq: number; entries: Map<string, { row: ResourceRow; value: Record<string, unknown> }> } {
  const entries = new Map<string, { row: ResourceRow; value: Record<string, unknown> }>();
  for (const { value, ...row } of resources(view, filter)) entries.set(`${row.kind}/${row.id}`, { row, value: value as Record<string, unknown> });
  return { seq: view.seq, entries };
}

interface Change extends Record<string, unknown> {
  readonly change: 'created' | 'changed' | 'deleted';
  readonly kind: string;
  readonly id: string;
  readonly name?: string;
  /** The fields that differ, for a change. */
  readonly fields?: string[];
}

function compare(before: ReturnType<typeof resourceEntries>, after: ReturnType<typeof resourceEntries>): Change[] {
  const changes: Change[] = [];
  const named = (row: ResourceRow) => ({ kind: row.kind, id: row.id, ...(row.name !== undefined && { name: row.name }) });
  for (const [key, { row, value }] of after.entries) {
    const old = before.entries.get(key);
    if (!old) {
      changes.push({ change: 'created', ...named(row) });
      continue;
    }
    const fields = [...new Set([...Object.keys(old.value), ...Object.keys(value)])]
      .filter((f) => f !== 'seq' && canonicalJson(old.value[f]) !== canonicalJson(value[f]));
    if (fields.length > 0 || old.value.seq !== value.seq) changes.push({ change: 'changed', ...named(row), fields });
  }
  for (const [key, { row }] of before.entries) if (!after.entries.has(key)) changes.push({ change: 'deleted', ...named(row) });
  return changes;
}
