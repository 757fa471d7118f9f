// Small PromQL helpers shared by `slo` and `gpu health`: durations as Prometheus writes them,
// selectors built from a metric name plus label matchers from the config, and a set of queries
// asked at once.
import { setMaxListeners } from 'node:events';
import { errorMessage } from '../core/errors.js';
import type { PrometheusClient, Sample } from '../prometheus/client.js';

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** "90s", "30m", "1h", "7d" in seconds; undefined for anything else. */
export function durationSeconds(text: string): number | undefined {
  const m = /^([1-9]\d{0,5})([smhd])$/.exec(text);
  return m ? Number(m[1]) * (UNIT_SECONDS[m[2] as string] ?? 0) : undefined;
}

/** `metric{a="b",c=~"d"}`; empty matchers are left out. */
export function selector(metric: string, ...matchers: string[]): string {
  const inner = matchers.map((m) => m.trim().replace(/,$/, '')).filter(Boolean).join(',');
  return inner ? `${metric}{${inner}}` : metric;
}

/** A PromQL string literal. */
export function quoted(value: string): string {
  return JSON.stringify(value);
}

/**
 * Every query at once, each on its own: one that fails is named in `unread` ("name: why") and
 * answers empty, the others still count. The queries share one child of `signal`, which may
 * hold more listeners than Node's default of 10 without a warning.
 */
export async function queryAll<K extends string>(prometheus: PrometheusClient, queries: Record<K, string>, signal?: AbortSignal): Promise<{ answers: Record<K, Sample[]>; unread: string[] }> {
  const fanOut = new AbortController();
  setMaxListeners(0, fanOut.signal);
  const forward = () => fanOut.abort(signal?.reason);
  if (signal?.aborted) forward();
  else signal?.addEventListener('abort', forward, { once: true });
  const unread: string[] = [];
  try {
    const entries = await Promise.all(
      (Object.entries(queries) as Array<[K, string]>).map(async ([name, promql]) => {
        try {
          return [name, await prometheus.query(promql, { signal: fanOut.signal })] as const;
        } catch (err) {
          unread.push(`${name}: ${errorMessage(err)}`);
          return [name, [] as Sample[]] as const;
        }
      }),
    );
    return { answers: Object.fromEntries(entries) as Record<K, Sample[]>, unread: unread.sort() };
  } finally {
    signal?.removeEventListener('abort', forward);
  }
}
