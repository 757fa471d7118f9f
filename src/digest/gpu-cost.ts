// GPU cost for the weekly report: GPU node-hours × the configured hourly price. Node-hours are
// measured when Prometheus is configured (the number of GPU nodes sampled hourly over the
// week, each sample standing for the hour after it); otherwise they are estimated as today's
// GPU nodes × 168 h, and the report says it is an estimate.
import type { Config } from '../config/schema.js';
import { errorMessage } from '../core/errors.js';
import type { ReportSection } from '../core/report.js';
import type { KubeClient } from '../kube/client.js';
import { GPU_RESOURCE, parseQuantity } from '../kube/health.js';
import type { PrometheusClient, Series } from '../prometheus/client.js';

export const WEEK_HOURS = 168;

export interface GpuCost {
  nodeHours: number;
  measured: boolean;
  cost?: number;
  how: string;
  /** The hourly GPU node counts the hours were summed from (charted in the weekly report). */
  series?: Series[];
}

/** GPU nodes in the cluster now (allocatable nvidia.com/gpu > 0). */
export async function gpuNodeCount(kube: KubeClient): Promise<number> {
  let n = 0;
  for await (const node of kube.list({ verb: 'list', resource: 'nodes' }, (page) => kube.core.listNode(page))) {
    if (parseQuantity(node.status?.allocatable?.[GPU_RESOURCE]) > 0) n++;
  }
  return n;
}

/** Node-hours from a range query sampled every hour: the sum of the samples, the last one (now) excluded. */
export async function measuredNodeHours(prom: PrometheusClient, promql: string, endSeconds: number, signal?: AbortSignal): Promise<{ hours: number; series: Series[] } | undefined> {
  const series = await prom.queryRange(promql, { start: endSeconds - WEEK_HOURS * 3600, end: endSeconds, stepSeconds: 3600 }, { signal });
  if (series.length === 0) return undefined;
  let hours = 0;
  for (const s of series) for (const [t, v] of s.points) if (t < endSeconds && Number.isFinite(v)) hours += v;
  return { hours, series };
}

export async function gpuCost(kube: KubeClient, prom: PrometheusClient | undefined, config: Config, opts: { now: number; signal?: AbortSignal }): Promise<GpuCost> {
  const price = config.digest.gpuHourlyPrice;
  let problem: string | undefined;
  if (prom) {
    try {
      const measured = await measuredNodeHours(prom, config.prometheus.queries.gpuNodes, Math.floor(opts.now / 1000), opts.signal);
      if (measured !== undefined) {
        const { hours, series } = measured;
        return { nodeHours: hours, measured: true, cost: price === undefined ? undefined : hours * price, how: 'measured: GPU nodes sampled hourly over the last 7 days (Prometheus)', series };
      }
      problem = 'Prometheus has no samples for prometheus.queries.gpuNodes';
    } catch (err) {
      problem = errorMessage(err);
    }
  }
  const nodes = await gpuNodeCount(kube);
  const hours = nodes * WEEK_HOURS;
  return {
    nodeHours: hours,
    measured: false,
    cost: price === undefined ? undefined : hours * price,
    how: `estimate: today's ${nodes} GPU node${nodes === 1 ? '' : 's'} × ${WEEK_HOURS} h${problem ? ` (not measured: ${problem})` : ' (Prometheus not configured)'}`,
  };
}

/** An amount in the configured currency: EUR 2,020.00. */
export const formatMoney = (config: Config, n: number) => `${config.digest.currency} ${n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;

/** The cost as the headline says it: "≈" when the node-hours are an estimate. */
export const costLine = (cost: GpuCost, config: Config) => (cost.cost === undefined ? 'no price set' : `${cost.measured ? '' : '≈ '}${formatMoney(config, cost.cost)}`);

export function gpuCostSection(cost: GpuCost, config: Config): ReportSection {
  const price = config.digest.gpuHourlyPrice;
  const money = (n: number) => formatMoney(config, n);
  return {
    title: 'GPU cost (7 days)',
    fields: [
      { label: 'GPU node-hours', value: `${Math.round(cost.nodeHours * 10) / 10}${cost.measured ? '' : ' (estimate)'}` },
      { label: 'Hourly price', value: price === undefined ? 'not set (digest.gpuHourlyPrice)' : money(price) },
      { label: 'Cost', value: cost.cost === undefined ? 'unknown: no price set' : costLine(cost, config) },
    ],
    lines: [cost.how],
  };
}
