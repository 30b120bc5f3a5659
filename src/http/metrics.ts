import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { View } from '../../projections/mod.js';
import type { IntakeObserver } from '../intake/intake.js';
import type { ReconcilerObserver } from '../reconcile/reconciler.js';

/** What the gauges read at each scrape: the engine's views and sequences, never a copy kept up to date. */
export interface MetricsSource {
  /** The view commands are decided on. */
  view(): View;
  /** The last sequence of the log (from NATS; undefined when it cannot be asked now). */
  logHead(): Promise<number | undefined>;
  /** The sequence of the last commit the reconciler folded. */
  reconciledSeq(): number;
  /**
   * The reconciler's own event loop (it runs on a thread of its own): its delay since the last
   * scrape, in seconds; it answers once that loop turns, so a scrape waits at most as long as a command to the reconciler would.
   */
  reconcilerLoopLag(): Promise<{ readonly p50: number; readonly p99: number; readonly max: number }>;
}

/** Latency buckets in seconds: a commit takes about a millisecond, a resync of a big cloud seconds. */
const SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const RESOURCES = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512];

/**
 * The engine's Prometheus metrics (prom-client), in the text format on `/metrics`. The
 * overlay spec's names (`overlay_network_*`) stay as given; novanet's own are `novanet_*`.
 * It is the intake's and the reconciler's observer: they report what happened and know
 * nothing of Prometheus.
 */
export class Metrics {
  readonly registry = new Registry();
  private source: MetricsSource | undefined;
  private readonly commands: Counter<'operation' | 'result'>;
  private readonly commandSeconds: Histogram<'operation'>;
  private readonly commitSeconds: Histogram;
  private readonly batchResources: Histogram;
  private readonly batchSeconds: Histogram;
  private readonly ovnSeconds: Histogram<'operation' | 'result'>;
  private readonly resyncSeconds: Histogram;
  private readonly swept: Counter<'what'>;
  private readonly statusFailures: Counter;
  private readonly writer: Gauge;

  constructor() {
    const registers = [this.registry];
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- prom-client calls collect with the metric as `this`
    const self = this;
    // Event-loop lag (nodejs_eventloop_lag_seconds and its percentiles), heap, GC, CPU.
    collectDefaultMetrics({ register: this.registry });
    const counted = (help: string, count: (view: View) => number) => ({
      help, registers, collect(this: Gauge) { if (self.source) this.set(count(self.source.view())); },
    });
    new Gauge({ name: 'overlay_network_vpcs_total', ...counted('VPCs in the view', (v) => v.vpcs.size) });
    new Gauge({ name: 'overlay_network_subnets_total', ...counted('subnets in the view', (v) => v.subnets.size) });
    new Gauge({ name: 'overlay_network_ports_total', ...counted('ports in the view', (v) => v.ports.size) });
    new Gauge({
      name: 'overlay_network_ip_allocations_total', labelNames: ['kind'], help: 'addresses allocated: port addresses, load-balancer VIPs, external IPs', registers,
      collect(this: Gauge<'kind'>) {
        const view = self.source?.view();
        if (!view) return;
        this.set({ kind: 'port' }, view.ports.size);
        this.set({ kind: 'loadbalancer' }, view.loadBalancers.size);
        this.set({ kind: 'externalip' }, view.externalIps.size);
      },
    });
    this.ovnSeconds = new Histogram({
      name: 'overlay_network_ovn_operations_duration_seconds', help: 'OVN Northbound operations (one transaction per reconcile batch) by result', labelNames: ['operation', 'result'], buckets: SECONDS, registers,
    });
    this.commands = new Counter({ name: 'novanet_commands_total', help: 'requests answered, by operation and result (ok or the error code)', labelNames: ['operation', 'result'], registers });
    this.commandSeconds = new Histogram({ name: 'novanet_command_duration_seconds', help: 'from a request reaching the intake to its answer', labelNames: ['operation'], buckets: SECONDS, registers });
    this.commitSeconds = new Histogram({ name: 'novanet_commit_duration_seconds', help: 'from an append being sent to JetStream confirming it', buckets: SECONDS, registers });
    this.batchResources = new Histogram({ name: 'novanet_reconcile_batch_resources', help: 'resources per reconcile batch', buckets: RESOURCES, registers });
    this.batchSeconds = new Histogram({ name: 'novanet_reconcile_batch_duration_seconds', help: 'one reconcile batch: render, diff, transaction, statuses', buckets: SECONDS, registers });
    this.resyncSeconds = new Histogram({ name: 'novanet_resync_duration_seconds', help: 'a full resync (start, takeover, OVSDB reconnect): from reading the stored statuses until every resource it marked was reconciled', buckets: SECONDS, registers });
    this.swept = new Counter({ name: 'novanet_resync_swept_total', help: 'what the paced resync re-checked: resources (rendered, stored status read) and owned rows (looked at for orphans)', labelNames: ['what'], registers });
    this.statusFailures = new Counter({ name: 'novanet_status_publish_failures_total', help: 'statuses that could not be published (retried)', registers });
    new Gauge({
      name: 'novanet_reconcile_lag_commits', help: 'the log head minus the last commit the reconciler folded', registers,
      async collect(this: Gauge) {
        const head = await self.source?.logHead();
        if (head !== undefined && self.source) this.set(Math.max(0, head - self.source.reconciledSeq()));
      },
    });
    new Gauge({
      name: 'novanet_reconciler_eventloop_lag_seconds', labelNames: ['quantile'], registers,
      help: 'the reconciler thread\'s event-loop delay since the last scrape (nodejs_eventloop_lag_* are the command path\'s: the main thread\'s)',
      async collect(this: Gauge<'quantile'>) {
        const lag = await self.source?.reconcilerLoopLag().catch(() => undefined);
        if (!lag) return;
        this.set({ quantile: '0.5' }, lag.p50);
        this.set({ quantile: '0.99' }, lag.p99);
        this.set({ quantile: '1' }, lag.max);
      },
    });
    this.writer = new Gauge({ name: 'novanet_reconciler_writing', help: '1 while this engine\'s reconciler is the writer (holds the writer lease), else 0', registers });
    new Gauge({ name: 'novanet_reconciled_seq', help: 'the last commit the reconciler folded', registers, collect(this: Gauge) { if (self.source) this.set(self.source.reconciledSeq()); } });
  }

  /** Where the gauges read from, once the engine is up (before, they are absent). */
  attach(source: MetricsSource): void {
    this.source = source;
  }

  readonly intake: IntakeObserver = {
    answered: (operation, result, seconds) => {
      this.commands.inc({ operation, result });
      this.commandSeconds.observe({ operation }, seconds);
    },
    committed: (seconds) => this.commitSeconds.observe(seconds),
  };

  readonly reconciler: ReconcilerObserver = {
    batch: (resources, seconds) => {
      this.batchResources.observe(resources);
      this.batchSeconds.observe(seconds);
    },
    transaction: (result, seconds) => this.ovnSeconds.observe({ operation: 'transact', result }, seconds),
    resync: (seconds) => this.resyncSeconds.observe(seconds),
    sweep: (resources, rows) => {
      this.swept.inc({ what: 'resources' }, resources);
      this.swept.inc({ what: 'rows' }, rows);
    },
    statusPublishFailed: (count) => this.statusFailures.inc(count),
    writing: (writing) => this.writer.set(writing ? 1 : 0),
  };
}
