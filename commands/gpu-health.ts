import { z } from 'zod';
import { defineCommand } from '../src/core/command.js';
import { UsageError } from '../src/core/errors.js';
import { gpuHealthReport, readGpuHealth } from '../src/gpu/dcgm-health.js';
import { prometheusFrom } from '../src/prometheus/client.js';
import { durationSeconds } from '../src/slo/promql.js';

const USAGE = 'gpu health [--since 24h|2026-01-31T08:00Z] [--cluster NAME]';
/** Prometheus keeps 15 days by default; further back there is nothing to read. */
const MAX_SINCE_SECONDS = 31 * 86_400;

/** `--since` as a PromQL range: a duration as given, or the seconds from a time until now. */
export function sinceRange(text: string, now: number): string {
  const seconds = durationSeconds(text);
  if (seconds !== undefined) {
    if (seconds > MAX_SINCE_SECONDS) throw new UsageError(`--since ${text} reaches back more than 31 days.`, USAGE);
    return text;
  }
  const at = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(text) ? Date.parse(text) : NaN;
  if (!Number.isFinite(at)) throw new UsageError(`--since expects a duration like 24h or 7d, or a UTC time like 2026-01-31T08:00Z; got ${JSON.stringify(text)}.`, USAGE);
  const back = Math.ceil((now - at) / 1000);
  if (back <= 0) throw new UsageError(`--since ${text} is in the future.`, USAGE);
  if (back > MAX_SINCE_SECONDS) throw new UsageError(`--since ${text} reaches back more than 31 days.`, USAGE);
  return `${back}s`;
}

export default defineCommand({
  name: 'gpu health',
  summary: "XIDs by node and GPU since a time with NVIDIA's action for each, row-remap failures, uncorrectable ECC and thermal throttling (DCGM exporter); offers cordon and drain",
  usage: USAGE,
  args: z.object({ since: z.string().max(40).optional() }),
  role: 'viewer',
  risk: 'read',
  examples: ['gpu health', 'gpu health --since 7d'],
  run: async (ctx, { since }) => {
    const { config, signal } = ctx;
    const prometheus = prometheusFrom(config);
    if (!prometheus) throw new UsageError('prometheus.url is not configured: gpu health reads the DCGM exporter from Prometheus.', USAGE);
    const range = sinceRange(since ?? config.gpuHealth.since, Date.now());
    await ctx.progress(`Asking Prometheus for the DCGM exporter's XIDs, ECC and throttling over ${range}…`);
    const reading = await readGpuHealth(prometheus, config, { since: range, signal });
    // Nothing answered: Prometheus is unreachable, one clear line rather than a table of errors.
    if (reading.unread.length && reading.gpusReporting === 0 && reading.xids.length === 0 && reading.findings.length === 0) {
      return { title: 'gpu health', status: 'fail', summary: `Prometheus could not be read: ${reading.unread[0]?.replace(/^\w+: /, '')}` };
    }
    const verdict = gpuHealthReport(reading, { now: Date.now() });
    return {
      title: `gpu health · since ${range} ago`,
      status: verdict.status,
      summary: verdict.headline,
      sections: verdict.sections,
      offers: verdict.offers.length ? verdict.offers : undefined,
    };
  },
});
