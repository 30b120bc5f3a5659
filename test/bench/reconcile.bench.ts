import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { subjects } from '../../events/mod.js';
import { EventLog } from '../../src/bus/log.js';
import { StatusPublisher } from '../../src/bus/status.js';
import { ensureStreams } from '../../src/bus/streams.js';
import { streamNames } from '../../events/mod.js';
import { OvsdbClient } from '../../src/ovsdb/mod.js';
import type { Operation } from '../../src/ovsdb/mod.js';
import { desiredRows } from '../../src/reconcile/kinds.js';
import { diff } from '../../src/reconcile/diff.js';
import type { ResourceDiffInput } from '../../src/reconcile/diff.js';
import { ExternalId } from '../../src/reconcile/names.js';
import type { Ownership, RowOwner } from '../../src/reconcile/names.js';
import { Reconciler } from '../../src/reconcile/reconciler.js';
import { tableNames } from '../../src/reconcile/tables/mod.js';
import type { View } from '../../projections/mod.js';
import { History } from './history.js';
import { appendPipelined, connectJetStream, freshNorthbound } from './infra.js';
import type { BenchEnv, Jet } from './infra.js';
import { fmt, median, perSecond, section, timed } from './report.js';
import type { Row } from './report.js';

const PORTS = 2000;
/** Rounds of (batched, per-port), alternating so both sides see the same machine; medians are reported. */
const ROUNDS = 3;
export const own: Ownership = { owner: 'novanet' };
const silent = pino({ level: 'silent' });

/**
 * Reconciler batching: N port commits are on the log; a Reconciler (the engine's,
 * reading the real JetStream log, publishing real statuses) starts on an empty
 * Northbound and is timed until the Northbound holds all N ports. Baseline: the same
 * desired rows, one OVSDB transaction per port (insert the LSP, add it to its switch's
 * and port groups' `ports`), sent directly with OvsdbClient.transact. Both sides keep
 * a monitored cache of the same tables. Only the reconciler also renders, diffs and
 * publishes a status per port, so the ratio understates what batching buys.
 */
export async function benchReconcile(env: BenchEnv): Promise<Row> {
  const history = new History();
  const subnetId = history.network('10.0.0.0/16', '10.0.0.0/16');
  for (let i = 0; i < PORTS; i++) history.run('port.create', { subnetId });
  const jet = await connectJetStream(env);
  const prefix = 'benchreconcile';
  const log = await writeLog(jet, prefix, history);

  const batched: number[] = [];
  const single: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    batched.push(await reconcileBatched(env, jet, prefix, log, `nb-batched-${round}`));
    single.push(await transactPerPort(env, history.view, `nb-single-${round}`));
  }
  const batchedMs = median(batched);
  const singleMs = median(single);

  const batchedRate = perSecond(PORTS, batchedMs);
  const singleRate = perSecond(PORTS, singleMs);
  section(`reconciler: ${PORTS} ports from the log into an empty Northbound (median of ${ROUNDS})`, [
    `reconciler (batches of up to 256): ${fmt(batchedMs)} ms (${fmt(batchedRate)} ports/s)`,
    `one transaction per port:          ${fmt(singleMs)} ms (${fmt(singleRate)} ports/s)`,
    `speed-up: ${(singleMs / batchedMs).toFixed(2)}x`,
  ]);
  return {
    name: `reconcile: ${PORTS} ports into the Northbound`, unit: 'ports/s', value: batchedRate, baseline: singleRate,
    ratio: singleMs / batchedMs, reads: 'per-port time / batched time (higher is better)',
  };
}

/** Appends the history's commits to a fresh stream, pipelined like the intake does. */
async function writeLog({ nc, js, jsm }: Jet, prefix: string, history: History): Promise<EventLog> {
  const log = new EventLog(nc, js, jsm, (await ensureStreams(jsm, prefix, 1)).events, subjects(prefix));
  await appendPipelined(log, history.records.map((r) => r.commit), 0);
  return log;
}

/** From the reconciler's start (log folded, everything marked dirty) until all ports are in its cache. */
async function reconcileBatched(env: BenchEnv, { nc, js, jsm }: Jet, prefix: string, log: EventLog, nbName: string): Promise<number> {
  const nb = await freshNorthbound(env, nbName);
  const ovsdb = await OvsdbClient.connect({ remote: nb.remote });
  const closeOvsdb = env.cleanup.adopt(() => ovsdb.close());
  const reconciler = new Reconciler({
    source: log, ovsdb, statusSink: new StatusPublisher(nc, js, jsm, subjects(prefix), streamNames(prefix).status), ownership: own, logger: silent,
    resyncIntervalMs: 3_600_000,
  });
  const stopReconciler = env.cleanup.adopt(() => reconciler.stop());
  await reconciler.start();
  // The only writer here: no lease to wait for (token 1, as the first acquisition's).
  reconciler.takeOver({ token: 1, holder: 'bench' });
  const ms = await timed(async () => {
    await reconciler.idle();
    await allPortsIn(ovsdb);
  });
  await stopReconciler();
  await closeOvsdb();
  await nb.stop();
  return ms;
}

/** The same rows, one transaction per port, after one untimed transaction for everything else. */
async function transactPerPort(env: BenchEnv, view: View, nbName: string): Promise<number> {
  const nb = await freshNorthbound(env, nbName);
  const ovsdb = await OvsdbClient.connect({ remote: nb.remote });
  const closeOvsdb = env.cleanup.adopt(() => ovsdb.close());
  await ovsdb.monitor(Object.fromEntries(tableNames.map((t) => [t, {}])));
  const infrastructure: RowOwner[] = [
    ...[...view.vpcs.keys()].map((id) => ({ kind: 'vpc' as const, id })),
    ...[...view.subnets.keys()].map((id) => ({ kind: 'subnet' as const, id })),
    ...[...view.securityGroups.keys()].map((id) => ({ kind: 'securitygroup' as const, id })),
  ];
  await ovsdb.transact(insertOps(view, infrastructure));
  const ports = [...view.ports.keys()].map((id): RowOwner => ({ kind: 'port', id }));
  const ms = await timed(async () => {
    for (const port of ports) await ovsdb.transact(insertOps(view, [port]));
    await allPortsIn(ovsdb);
  });
  await closeOvsdb();
  await nb.stop();
  return ms;
}

/** What the reconciler's diff sends for resources with no rows yet, the rows they join there (the infrastructure goes first). */
export function insertOps(view: View, refs: readonly RowOwner[]): Operation[] {
  const work: ResourceDiffInput[] = refs.map((ref) => ({ desired: desiredRows(view, ref, own)?.rows ?? [], actual: [] }));
  return diff(work, () => [], () => true);
}

/** Waits (briefly) until the client's cache holds every port's LSP; throws if it never does. */
async function allPortsIn(ovsdb: OvsdbClient): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const count = [...ovsdb.cache.table('Logical_Switch_Port').values()]
      .filter((row) => (row.external_ids as Record<string, string> | undefined)?.[ExternalId.kind] === 'port').length;
    if (count === PORTS) return;
    if (Date.now() > deadline) throw new Error(`the Northbound holds ${count} of ${PORTS} ports`);
    await sleep(10);
  }
}
