// The Prometheus text exposition format (version 0.0.4), which Prometheus scrapes, and the
// OpenMetrics text format with timestamps, which `promtool tsdb create-blocks-from openmetrics`
// backfills. Label values are escaped as both formats require (\\, \" and \n).
export type MetricType = 'gauge' | 'counter' | 'histogram';

export interface MetricSample {
  /** Appended to the family's name: '_bucket', '_sum', '_count' for histograms, '_total' for counters. */
  suffix?: string;
  labels?: Record<string, string>;
  value: number;
}

export interface MetricFamily {
  /** Without a counter's `_total` (OpenMetrics names the family so); its samples carry the suffix. */
  name: string;
  help: string;
  type: MetricType;
  samples: MetricSample[];
}

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const escapeHelp = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
const formatValue = (v: number) => (Number.isNaN(v) ? 'NaN' : v === Infinity ? '+Inf' : v === -Infinity ? '-Inf' : String(v));
const labelText = (labels: Record<string, string> | undefined) => {
  const pairs = Object.entries(labels ?? {});
  return pairs.length ? `{${pairs.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}` : '';
};

export const sampleLine = (family: MetricFamily, s: MetricSample, timestamp?: string) => `${family.name}${s.suffix ?? ''}${labelText(s.labels)} ${formatValue(s.value)}${timestamp ? ` ${timestamp}` : ''}`;

/**
 * What a scrape returns: every family with its HELP and TYPE, no timestamps (Prometheus stamps
 * the scrape). Unlike OpenMetrics, this format names a counter's family with its `_total`.
 */
export function textExposition(families: readonly MetricFamily[]): string {
  return (
    families
      .map((f) => {
        const name = f.type === 'counter' ? `${f.name}_total` : f.name;
        return [`# HELP ${name} ${escapeHelp(f.help)}`, `# TYPE ${name} ${f.type}`, ...f.samples.map((s) => sampleLine(f, s))].join('\n');
      })
      .join('\n') + '\n'
  );
}

/**
 * OpenMetrics text of the same families read at several times (unix seconds, oldest first), for
 * backfilling history: each family's samples stay together, as OpenMetrics requires, and the
 * text ends with `# EOF`.
 */
export function openMetricsHistory(snapshots: ReadonlyArray<{ t: number; families: readonly MetricFamily[] }>): string {
  const byName = new Map<string, { family: MetricFamily; lines: string[] }>();
  for (const { t, families } of snapshots)
    for (const f of families) {
      const entry = byName.get(f.name) ?? { family: f, lines: [] };
      byName.set(f.name, entry);
      for (const s of f.samples) entry.lines.push(sampleLine(f, s, String(t)));
    }
  const out: string[] = [];
  for (const { family, lines } of byName.values()) {
    out.push(`# HELP ${family.name} ${escapeHelp(family.help)}`, `# TYPE ${family.name} ${family.type}`);
    for (const line of lines) out.push(line);
  }
  out.push('# EOF');
  return out.join('\n') + '\n';
}
