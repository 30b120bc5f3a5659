import { randomUUID } from 'node:crypto';
import type { NatsConnection } from '@nats-io/transport-node';
import { pino } from 'pino';
import { canonicalJson, subjects } from '../../events/mod.js';
import type { NovanetEvent, Reply } from '../../events/mod.js';
import { initialView } from '../../projections/mod.js';
import type { View } from '../../projections/mod.js';
import { providerOperations, tenantOperations } from '../commands/mod.js';
import type { EngineConfig } from '../engine/config.js';
import { viewDigest } from '../engine/digest.js';
import type { DigestAnswer, DigestQuery } from '../engine/digest.js';
import type { NorthboundPlan } from '../engine/operator.js';
import { OvsdbClient } from '../ovsdb/mod.js';
import { northboundCensus } from '../reconcile/census.js';
import { tableNames } from '../reconcile/tables/mod.js';
import { eventLog, replay } from './audit.js';
import { CliError, ExitCode, UsageError } from './cli.js';
import type { CliCommand } from './cli.js';
import type { OutputFormat } from './output.js';

/** `novanet verify` and `novanet plan`: questions to the running engine on its operator subjects. */
export const operatorCommands: CliCommand = (program, cli) => {
  program.command('verify')
    .description('fold the whole log here and compare with the running engine\'s views (digests at its seq), and count the owned Northbound rows the fold implies against those present; exits 1 naming the first difference')
    .option('--no-northbound', 'skip the Northbound count')
    .action(cli.action(async (options: { northbound: boolean }) => {
      const format = cli.output();
      return cli.withNats(async (nc, config) => verify(nc, config, options.northbound, format));
    }));

  program.command('plan')
    .description('what-if: the events a command would append and the Northbound rows it would insert, update and delete, decided on the engine\'s current view; commits nothing. --drift: the reconciler\'s pending diff against the Northbound now')
    .argument('[operation]', 'resource.verb, e.g. port.create')
    .argument('[json]', 'the payload', '{}')
    .option('--drift', 'the pending diff between the view and the Northbound, not applied')
    .action(cli.action(async (operation: string | undefined, json: string, options: { drift?: boolean }) => {
      const format = cli.output();
      if (options.drift === true) {
        if (operation !== undefined) throw new UsageError('plan --drift takes no operation');
        return cli.withNats(async (nc, config) => {
          const reply = await operatorRequest(nc, config, 'drift', {});
          if (!reply.ok) return cli.printReply(reply, format);
          printPlan(reply, format, `pending at seq ${reply.seq}`);
          return ExitCode.ok;
        });
      }
      if (operation === undefined) throw new UsageError('plan <operation> [json], or plan --drift');
      if (!tenantOperations.has(operation) && !providerOperations.has(operation)) throw new UsageError(`unknown operation '${operation}' (novanet --help lists them)`);
      let payload: Record<string, unknown>;
      try {
        payload = JSON.parse(json) as Record<string, unknown>;
      } catch (err) {
        throw new UsageError(`the payload is not JSON: ${err instanceof Error ? err.message : String(err)}`);
      }
      // The commandId a real send would carry: a repeated one is planned as the repeat it is.
      const withId = { commandId: cli.commandId ?? randomUUID(), ...payload };
      return cli.withNats(async (nc, config) => {
        const reply = await operatorRequest(nc, config, 'plan', { operation, payload: withId, ...cli.scopeFor(operation) });
        if (!reply.ok) return cli.printReply(reply, format);
        printPlan(reply, format, `would append at seq ${reply.seq}: ${operation}`);
        return ExitCode.ok;
      });
    }));
};

export async function operatorRequest(nc: NatsConnection, config: EngineConfig, name: string, payload: unknown): Promise<Reply> {
  const msg = await nc.request(subjects(config.prefix).operator(name), JSON.stringify(payload), { timeout: 30_000 });
  return msg.json<Reply>();
}

function printPlan(reply: Reply & { ok: true }, format: OutputFormat, title: string): void {
  if (format === 'json') {
    console.log(JSON.stringify(reply, null, 2));
    return;
  }
  const { commit, repeatOf, northbound } = reply.result as { commit?: { events: NovanetEvent[] }; repeatOf?: number; northbound: NorthboundPlan };
  console.log(repeatOf !== undefined ? `a repeat of the commit at seq ${repeatOf}: appends nothing` : title);
  for (const event of commit?.events ?? []) console.log(`  ${event.type} ${canonicalJson(event.data)}`);
  const lines = [
    ...northbound.insert.map((r) => `  insert  ${r.table} ${r.uuid} ${canonicalJson(r.row)}`),
    ...northbound.update.map((r) => `  update  ${r.table} ${r.uuid} ${canonicalJson(r.columns)}`),
    ...northbound.mutate.map((r) => `  mutate  ${r.table} ${r.uuid} ${canonicalJson(r.mutations)}`),
    ...northbound.delete.map((r) => `  delete  ${r.table} ${r.uuid}`),
  ];
  console.log(lines.length === 0 ? 'Northbound: no change' : `Northbound:\n${lines.join('\n')}`);
}

type ViewName = 'intake' | 'reconciler';

interface ViewCheck {
  readonly seq: number;
  readonly equal: boolean;
  /** The first entry that differs (`<kind or part>/<id>`), when one does. */
  readonly first?: string;
}

async function verify(nc: NatsConnection, config: EngineConfig, northbound: boolean, format: OutputFormat): Promise<number> {
  const log = await eventLog(nc, config);
  const started = performance.now();
  // One fold, carried forward as the engine's views move on: never folded twice.
  let fold: View = initialView();
  const foldTo = async (seq: number) => {
    if (seq < fold.seq) fold = initialView();
    fold = await replay(log, { seq }, fold);
  };
  const check = async (view: ViewName): Promise<ViewCheck> => {
    const ask = async (query: DigestQuery) => {
      const reply = await operatorRequest(nc, config, 'digest', { view, ...query });
      if (!reply.ok) throw new CliError(reply.error.code, reply.error.message, reply.error.details);
      const answer = reply.result as unknown as DigestAnswer;
      await foldTo(answer.seq);
      return { theirs: answer, ours: viewDigest(fold, query) };
    };
    const top = await ask({});
    if (top.theirs.view === top.ours.view) return { seq: top.theirs.seq, equal: true };
    const part = firstDifference(top.theirs.digests, top.ours.digests);
    if (part === undefined) return { seq: top.theirs.seq, equal: false };
    const buckets = await ask({ part });
    const bucket = firstDifference(buckets.theirs.digests, buckets.ours.digests);
    if (bucket === undefined) return { seq: buckets.theirs.seq, equal: false, first: part };
    const ids = await ask({ part, bucket });
    const id = firstDifference(ids.theirs.digests, ids.ours.digests);
    return { seq: ids.theirs.seq, equal: false, first: id === undefined ? part : `${part}/${id}` };
  };
  const views = { intake: await check('intake'), reconciler: await check('reconciler') };
  const foldSeconds = (performance.now() - started) / 1000;
  let census: { implied: Record<string, number>; present: Record<string, number> } | undefined;
  if (northbound) {
    const ovsdb = await OvsdbClient.connect({ remote: config.ovnNb, database: 'OVN_Northbound', logger: pino({ level: 'silent' }) });
    try {
      await ovsdb.monitor(Object.fromEntries(tableNames.map((t) => [t, {}])));
      census = northboundCensus(fold, ovsdb.cache, { owner: config.owner });
    } finally {
      await ovsdb.close();
    }
  }
  const rowDifferences = census ? [...new Set([...Object.keys(census.implied), ...Object.keys(census.present)])]
    .filter((t) => (census.implied[t] ?? 0) !== (census.present[t] ?? 0)).sort() : [];
  const report = { seq: fold.seq, foldSeconds: Number(foldSeconds.toFixed(3)), views, ...(census && { northbound: census }) };
  if (format === 'json') console.log(JSON.stringify(report, null, 2));
  else {
    console.log(`folded the log to seq ${fold.seq} in ${foldSeconds.toFixed(2)} s`);
    for (const [name, v] of Object.entries(views)) console.log(`  ${name.padEnd(10)} view at seq ${v.seq}: ${v.equal ? 'equal' : `DIFFERS${v.first ? ` (first: ${v.first})` : ''}`}`);
    if (census) {
      const total = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);
      console.log(`  northbound owned rows: implied ${total(census.implied)}, present ${total(census.present)}${rowDifferences.map((t) => `; ${t} ${census.implied[t] ?? 0} ≠ ${census.present[t] ?? 0}`).join('')}`);
    }
  }
  const differing = (Object.entries(views) as [ViewName, ViewCheck][]).find(([, v]) => !v.equal);
  if (differing) {
    const [name, v] = differing;
    throw new CliError('VERIFY_FAILED', `the engine's ${name} view differs from a fresh fold of the log at seq ${v.seq}${v.first ? `: first at ${v.first}` : ''}`, { view: name, ...v });
  }
  if (rowDifferences.length > 0) {
    throw new CliError('VERIFY_FAILED', `the Northbound's owned rows differ from what the log implies in ${rowDifferences.join(', ')}`, { tables: rowDifferences });
  }
  return ExitCode.ok;
}

/** The first name, in order, whose digest differs (or is on one side only). */
function firstDifference(theirs: Readonly<Record<string, string>>, ours: Readonly<Record<string, string>>): string | undefined {
  return [...new Set([...Object.keys(theirs), ...Object.keys(ours)])].sort().find((k) => theirs[k] !== ours[k]);
}
