// PVC usage from the kubelet's volume stats in Prometheus (kubelet_volume_stats_used_bytes /
// _capacity_bytes): what Kubernetes itself can't say, since a PVC object only knows its size.
import { vlindersNamespaces, type Config } from '../config/schema.js';
import { errorMessage } from '../core/errors.js';
import { STATUS_EMOJI, type ReportSection, type ReportStatus } from '../core/report.js';
import type { PrometheusClient } from '../prometheus/client.js';
import { formatByteChange, formatBytes } from './format.js';

export interface PvcUsage {
  namespace: string;
  pvc: string;
  usedBytes: number;
  capacityBytes: number;
  percent: number;
  /** Used bytes now minus a week ago, when asked for and known. */
  weekChangeBytes?: number;
}

const keyOf = (m: Record<string, string>) => `${m.namespace ?? ''}/${m.persistentvolumeclaim ?? ''}`;

/** Usage of every PVC in the Vlinders namespaces, fullest first. `weekAgo` adds the change over 7 days. */
export async function pvcUsage(prom: PrometheusClient, config: Config, opts: { signal?: AbortSignal; now: number; weekAgo?: boolean }): Promise<PvcUsage[]> {
  const q = config.prometheus.queries;
  const time = opts.now / 1000;
  const [used, capacity, before] = await Promise.all([
    prom.query(q.pvcUsedBytes, { time, signal: opts.signal }),
    prom.query(q.pvcCapacityBytes, { time, signal: opts.signal }),
    opts.weekAgo ? prom.query(q.pvcUsedBytes, { time: time - 7 * 86_400, signal: opts.signal }) : Promise.resolve([]),
  ]);
  const watched = new Set(vlindersNamespaces(config.namespaces));
  const capacityOf = new Map(capacity.map((s) => [keyOf(s.metric), s.value]));
  const beforeOf = new Map(before.map((s) => [keyOf(s.metric), s.value]));
  const out: PvcUsage[] = [];
  for (const s of used) {
    const namespace = s.metric.namespace;
    const pvc = s.metric.persistentvolumeclaim;
    if (!namespace || !pvc || !watched.has(namespace)) continue;
    const cap = capacityOf.get(keyOf(s.metric));
    if (cap === undefined || !(cap > 0)) continue;
    const prior = beforeOf.get(keyOf(s.metric));
    out.push({ namespace, pvc, usedBytes: s.value, capacityBytes: cap, percent: Math.round((s.value / cap) * 1000) / 10, weekChangeBytes: prior === undefined ? undefined : s.value - prior });
  }
  return out.sort((a, b) => b.percent - a.percent);
}

export const pvcStatus = (u: PvcUsage, warnPercent: number): ReportStatus => (u.percent >= 95 ? 'fail' : u.percent >= warnPercent ? 'warn' : 'ok');

/** The PVC usage section and its worst status; says why when it can't be measured. */
export async function pvcUsageSection(prom: PrometheusClient | undefined, config: Config, opts: { signal?: AbortSignal; now: number; weekAgo?: boolean }): Promise<{ section: ReportSection; status: ReportStatus; usage: PvcUsage[] }> {
  const title = 'PVC usage';
  if (!prom) return { section: { title, lines: ['not measured: prometheus.url is not configured'] }, status: 'info', usage: [] };
  let usage: PvcUsage[];
  try {
    usage = await pvcUsage(prom, config, opts);
  } catch (err) {
    return { section: { title, lines: [`⚠️ not measured: ${errorMessage(err)}`] }, status: 'warn', usage: [] };
  }
  if (usage.length === 0) return { section: { title, lines: ['Prometheus has no kubelet volume stats for PVCs in the Vlinders namespaces'] }, status: 'warn', usage };
  const warn = config.digest.pvcWarnPercent;
  const statuses = usage.map((u) => pvcStatus(u, warn));
  return {
    section: {
      title,
      header: ['pvc', 'used', 'capacity', 'use', ...(opts.weekAgo ? ['7 d change'] : [])],
      rows: usage.map((u, i) => [
        `${STATUS_EMOJI[statuses[i] ?? 'ok']} ${u.namespace}/${u.pvc}`,
        formatBytes(u.usedBytes),
        formatBytes(u.capacityBytes),
        `${u.percent}%`,
        ...(opts.weekAgo ? [u.weekChangeBytes === undefined ? 'new' : formatByteChange(u.weekChangeBytes)] : []),
      ]),
    },
    status: statuses.includes('fail') ? 'fail' : statuses.includes('warn') ? 'warn' : 'ok',
    usage,
  };
}
