// k6's end-of-test summary, read from the k6 pod's log, and the runbook's thresholds judged
// on it. Two documented shapes are read: `--summary-export` (metrics flattened: a trend's
// "p(95)", a rate's "value", a counter's "rate") and handleSummary's data (the same numbers
// under metrics.<name>.values). The JSON is found in the log as k6 prints it: an indented
// block from a line "{" to a line "}", or one line of JSON; at most maxBytes are held.
import type { Config } from '../config/schema.js';

export interface K6Measures {
  p95Ms: number | undefined;
  /** http_req_failed as a fraction, 0–1. */
  errorRate: number | undefined;
  requestsPerSecond: number | undefined;
  requests: number | undefined;
}

type Metric = Record<string, unknown> & { values?: Record<string, unknown> };

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const field = (m: Metric | undefined, ...names: string[]): number | undefined => {
  for (const n of names) {
    const v = num(m?.values?.[n]) ?? num(m?.[n]);
    if (v !== undefined) return v;
  }
  return undefined;
};

export function measuresOf(summary: unknown): K6Measures | undefined {
  const metrics = (summary as { metrics?: Record<string, Metric> } | null)?.metrics;
  if (!metrics || typeof metrics !== 'object') return undefined;
  return {
    p95Ms: field(metrics.http_req_duration, 'p(95)'),
    errorRate: field(metrics.http_req_failed, 'rate', 'value'),
    requestsPerSecond: field(metrics.http_reqs, 'rate'),
    requests: field(metrics.http_reqs, 'count'),
  };
}

/**
 * The first k6 summary JSON in the log lines, or undefined when there is none. The log is read
 * to its end (client-node's log stream, cut short, rejects where no one can catch it), keeping
 * nothing once the summary is found.
 */
export async function summaryFromLog(lines: AsyncIterable<string>, maxBytes = 1 << 20): Promise<unknown> {
  let found: unknown;
  let block: string[] | undefined;
  let size = 0;
  for await (const line of lines) {
    if (found !== undefined) continue;
    if (block) {
      size += line.length + 1;
      if (size > maxBytes) block = undefined;
      else {
        block.push(line);
        if (line === '}') {
          const parsed = tryJson(block.join('\n'));
          if (measuresOf(parsed)) found = parsed;
          block = undefined;
        }
      }
      continue;
    }
    if (line === '{') {
      block = [line];
      size = 2;
    } else if (line.startsWith('{') && line.endsWith('}') && line.length <= maxBytes) {
      const parsed = tryJson(line);
      if (measuresOf(parsed)) found = parsed;
    }
  }
  return found;
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export interface ThresholdResult {
  name: string;
  target: string;
  measured: string;
  pass: boolean;
}

type Thresholds = Config['loadtest']['thresholds'];

const fmt = (n: number, digits: number) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });

/** Each of the runbook's thresholds, pass or fail, with the measured value beside the target. A missing metric fails. */
export function judge(m: K6Measures, t: Thresholds): ThresholdResult[] {
  const row = (name: string, target: string, value: number | undefined, show: (v: number) => string, pass: (v: number) => boolean): ThresholdResult => ({
    name,
    target,
    measured: value === undefined ? 'not in the summary' : show(value),
    pass: value !== undefined && pass(value),
  });
  return [
    row('P95 latency (http_req_duration)', `< ${fmt(t.p95Ms, 1)} ms`, m.p95Ms, (v) => `${fmt(v, 1)} ms`, (v) => v < t.p95Ms),
    row('Error rate (http_req_failed)', `< ${fmt(t.errorRatePercent, 2)} %`, m.errorRate, (v) => `${fmt(v * 100, 2)} %`, (v) => v * 100 < t.errorRatePercent),
    row('Throughput (http_reqs)', `> ${fmt(t.minRequestsPerSecond, 1)} req/s`, m.requestsPerSecond, (v) => `${fmt(v, 1)} req/s`, (v) => v > t.minRequestsPerSecond),
  ];
}
