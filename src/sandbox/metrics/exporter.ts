// The world's metrics exporter: one HTTP server on loopback serving each scrape job's families
// at /metrics/<job> in the text exposition format, read from the cluster state and the facts
// timeline at the moment of the scrape. The same families read at past times are the world's
// history: OpenMetrics with timestamps, served once at /history for a Prometheus that accepts
// out-of-order samples (or backfilled with `promtool tsdb create-blocks-from openmetrics`).
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ClusterState } from '../kube/contract.js';
import type { CollectContext, MetricsFamilySource } from './family.js';
import { FactsTimeline, healthyFacts } from './facts.js';
import { type MetricFamily, openMetricsHistory, textExposition } from './exposition.js';
import { WORLD_FAMILIES } from './families/index.js';

export interface ScrapeTarget {
  job: string;
  /** host:port */
  address: string;
  path: string;
  /** Timestamped history, scraped once: Prometheus must accept out-of-order samples. */
  history?: boolean;
}

export interface WorldMetricsOptions {
  state: ClusterState;
  /** The facts over time (default: healthy since an hour ago). */
  timeline?: FactsTimeline;
  families?: readonly MetricsFamilySource[];
}

/** The world's series without a server: what each job serves at a time. */
export class WorldMetrics {
  readonly timeline: FactsTimeline;
  readonly families: readonly MetricsFamilySource[];
  private readonly state: ClusterState;

  constructor(opts: WorldMetricsOptions) {
    this.state = opts.state;
    this.timeline = opts.timeline ?? new FactsTimeline(Math.floor(Date.now() / 1000) - 3600, healthyFacts());
    this.families = opts.families ?? WORLD_FAMILIES;
  }

  get jobs(): string[] {
    return [...new Set(this.families.map((f) => f.job))];
  }

  /** Every family of `job` (all jobs when omitted) read at unix second `t`. */
  collect(t: number, job?: string): MetricFamily[] {
    const ctx: CollectContext = { state: this.state, facts: this.timeline.at(t), t, integral: (rate) => this.timeline.integral(t, rate) };
    return this.families.filter((f) => job === undefined || f.job === job).flatMap((f) => f.collect(ctx));
  }

  /**
   * History as OpenMetrics with timestamps. Each span is read as two scrapes a minute apart at
   * every `stepSeconds` from `start` to `end` (unix seconds): an instant query at a step sees a
   * sample, and `rate(...[5m])` has two. Spans pick their jobs and steps, so history holds only
   * what the queries ask. `labels` are what a scrape of the job adds (job, instance), so
   * history and the live scrapes are the same series.
   */
  history(spans: readonly HistorySpan[], labels: (job: string) => Record<string, string>): string {
    const snapshots: Array<{ t: number; families: MetricFamily[] }> = [];
    for (const span of spans)
      for (let step = span.start; step <= span.end; step += span.stepSeconds)
        for (const t of [step - 60, step])
          for (const job of span.jobs ?? this.jobs) snapshots.push({ t, families: this.collect(t, job).map((f) => withLabels(f, labels(job))) });
    // One series' samples must come oldest first.
    return openMetricsHistory(snapshots.sort((a, b) => a.t - b.t));
  }
}

export interface HistorySpan {
  start: number;
  end: number;
  stepSeconds: number;
  /** Default: every job. */
  jobs?: readonly string[];
}

/** Labels a scrape adds under the sample's own (honor_labels: the sample's win). */
const withLabels = (f: MetricFamily, labels: Record<string, string>): MetricFamily => ({ ...f, samples: f.samples.map((s) => ({ ...s, labels: { ...labels, ...s.labels } })) });

export class MetricsExporter {
  private historyBody?: string;
  private historyServed = false;

  private constructor(
    private readonly server: Server,
    readonly metrics: WorldMetrics,
    readonly address: string,
  ) {}

  static async start(metrics: WorldMetrics): Promise<MetricsExporter> {
    const holder: { exporter?: MetricsExporter } = {};
    const server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://exporter');
      if (req.method === 'GET' && url.pathname === '/history' && holder.exporter?.historyBody !== undefined) return holder.exporter.sendHistory(res);
      const job = url.pathname.startsWith('/metrics/') ? decodeURIComponent(url.pathname.slice('/metrics/'.length)) : '';
      if (req.method !== 'GET' || !metrics.jobs.includes(job)) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end(`no metrics at ${url.pathname}\n`);
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(textExposition(metrics.collect(Date.now() / 1000, job)));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    holder.exporter = new MetricsExporter(server, metrics, `127.0.0.1:${(server.address() as AddressInfo).port}`);
    return holder.exporter;
  }

  /** One scrape target per job, and the history target once `serveHistory` was called. */
  get targets(): ScrapeTarget[] {
    const live = this.metrics.jobs.map((job) => ({ job, address: this.address, path: `/metrics/${encodeURIComponent(job)}` }));
    return this.historyBody === undefined ? live : [...live, { job: 'history', address: this.address, path: '/history', history: true }];
  }

  /** The world's history as these targets' scrapes would have recorded it (see WorldMetrics.history). */
  history(spans: readonly HistorySpan[]): string {
    return this.metrics.history(spans, (job) => ({ job, instance: this.address }));
  }

  /**
   * Serve the history of `spans` at /history, once: its samples carry their timestamps and
   * labels, so a Prometheus with an out-of-order window files them under the live series.
   * Later scrapes get an empty answer (a sample with a timestamp gets no staleness marker).
   */
  serveHistory(spans: readonly HistorySpan[]): void {
    this.historyBody = this.history(spans);
    this.historyServed = false;
  }

  private sendHistory(res: ServerResponse): void {
    const body = this.historyServed ? '# EOF\n' : (this.historyBody ?? '# EOF\n');
    // Only a scrape that got it all counts: a timed-out one gets the history again.
    res.on('finish', () => (this.historyServed = true));
    res.writeHead(200, { 'content-type': 'application/openmetrics-text; version=1.0.0; charset=utf-8' }).end(body);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }
}
