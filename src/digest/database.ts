// Database health for the weekly report: connections against max_connections, size and its
// trend, and the slowest statements (pg_stat_statements, when installed). The live reading
// comes from the platform's PostgreSQL (a DatabaseHealthSource); the trend from Prometheus
// (postgres-exporter's pg_database_size_bytes now, 7 and 28 days ago), since the bot keeps no
// history of its own.
import type { Config } from '../config/schema.js';
import { errorMessage } from '../core/errors.js';
import type { ReportSection, ReportStatus } from '../core/report.js';
import type { PrometheusClient } from '../prometheus/client.js';
import { formatByteChange, formatBytes } from './format.js';
import type { DatabaseHealthSource } from './sources.js';

const DAY_S = 86_400;

/**
 * A statement as the report shows it. pg_stat_statements replaces constants with $n, but
 * utility statements (ALTER ROLE … PASSWORD '…') keep their text: those are hidden whole.
 */
export function shownStatement(query: string): string {
  if (/password|secret/i.test(query)) return '(hidden: the statement names a password)';
  const oneLine = query.replace(/\s+/g, ' ').trim();
  return oneLine.length > 200 ? `${oneLine.slice(0, 199)}…` : oneLine;
}

export function connectionStatus(connections: number, max: number): ReportStatus {
  const share = max > 0 ? connections / max : 1;
  return share >= 0.9 ? 'fail' : share >= 0.75 ? 'warn' : 'ok';
}

export async function sizeTrend(prom: PrometheusClient, promql: string, nowS: number, signal?: AbortSignal): Promise<{ now?: number; weekAgo?: number; monthAgo?: number }> {
  const at = async (t: number) => (await prom.query(promql, { time: t, signal }))[0]?.value;
  const [now, weekAgo, monthAgo] = await Promise.all([at(nowS), at(nowS - 7 * DAY_S), at(nowS - 28 * DAY_S)]);
  return { now, weekAgo, monthAgo };
}

export async function databaseSection(source: DatabaseHealthSource | undefined, prom: PrometheusClient | undefined, config: Config, opts: { now: number; signal?: AbortSignal }): Promise<{ sections: ReportSection[]; status: ReportStatus; headline: string }> {
  const lines: string[] = [];
  const fields: Array<{ label: string; value: string }> = [];
  const sections: ReportSection[] = [];
  let status: ReportStatus = 'ok';
  let headline = 'DB not checked';
  if (!source) {
    lines.push('live reading not available here: no PostgreSQL connection was given to this report');
    status = 'info';
  } else {
    try {
      const r = await source.read({ signal: opts.signal });
      status = connectionStatus(r.connections, r.maxConnections);
      headline = `DB ${r.connections}/${r.maxConnections} connections`;
      fields.push({ label: 'Connections', value: `${r.connections} of max_connections ${r.maxConnections} (${Math.round((r.connections / Math.max(1, r.maxConnections)) * 100)}%)` });
      fields.push({ label: 'Size', value: formatBytes(r.sizeBytes) });
      if (r.slowestProblem) lines.push(`⚠️ slowest statements: ${r.slowestProblem}`);
      else if (r.slowest === undefined) lines.push('slowest statements: pg_stat_statements is not installed');
      else if (r.slowest.length > 0) sections.push({ title: 'Slowest statements (mean time)', header: ['mean', 'calls', 'statement'], rows: r.slowest.map((s) => [`${s.meanMs.toFixed(1)} ms`, String(s.calls), shownStatement(s.query)]) });
    } catch (err) {
      status = 'fail';
      headline = 'DB unreachable';
      lines.push(`❌ ${errorMessage(err)}`);
    }
  }
  if (!prom) lines.push('size trend: not measured (prometheus.url is not configured)');
  else {
    try {
      const t = await sizeTrend(prom, config.prometheus.queries.dbSizeBytes, Math.floor(opts.now / 1000), opts.signal);
      if (t.now === undefined) lines.push('size trend: Prometheus has no samples for prometheus.queries.dbSizeBytes');
      else {
        fields.push({ label: 'Size (Prometheus)', value: formatBytes(t.now) });
        fields.push({ label: 'Change over 7 days', value: t.weekAgo === undefined ? 'no sample a week ago' : formatByteChange(t.now - t.weekAgo) });
        fields.push({ label: 'Change over 28 days', value: t.monthAgo === undefined ? 'no sample 28 days ago' : formatByteChange(t.now - t.monthAgo) });
      }
    } catch (err) {
      lines.push(`⚠️ size trend: ${errorMessage(err)}`);
      if (status === 'ok') status = 'warn';
    }
  }
  return { sections: [{ title: 'Database', ...(fields.length > 0 ? { fields } : {}), ...(lines.length > 0 ? { lines } : {}) }, ...sections], status, headline };
}
