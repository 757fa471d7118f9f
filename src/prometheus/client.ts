// The Prometheus HTTP API: instant queries (/api/v1/query, a vector) and range queries
// (/api/v1/query_range, a matrix), parsed from the documented response envelope.
import { z } from 'zod';
import { UnreachableError } from '../core/errors.js';
import type { Config } from '../config/schema.js';
import { getJson, shownUrl } from './http.js';

export interface Sample {
  metric: Record<string, string>;
  /** Unix seconds. */
  at: number;
  value: number;
}

export interface Series {
  metric: Record<string, string>;
  /** [unix seconds, value], oldest first. */
  points: Array<[number, number]>;
}

const samplePair = z.tuple([z.number(), z.string()]);
const envelope = z.discriminatedUnion('status', [
  z.object({ status: z.literal('success'), data: z.object({ resultType: z.string(), result: z.unknown() }), warnings: z.array(z.string()).optional() }),
  z.object({ status: z.literal('error'), errorType: z.string(), error: z.string() }),
]);
const vector = z.array(z.object({ metric: z.record(z.string(), z.string()), value: samplePair }));
const matrix = z.array(z.object({ metric: z.record(z.string(), z.string()), values: z.array(samplePair) }));

/** Prometheus writes special floats as strings: "NaN", "+Inf", "-Inf". */
export function sampleValue(text: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return Number(text);
}

export class PrometheusClient {
  private base: URL;

  constructor(
    baseUrl: string,
    private timeoutMs = 15_000,
    /** The largest answer held in memory (default 16 MiB). */
    private maxBytes?: number,
  ) {
    this.base = new URL(baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
  }

  /** An instant query; a scalar answer comes back as one sample without labels. */
  async query(promql: string, opts: { time?: number; signal?: AbortSignal } = {}): Promise<Sample[]> {
    const params: Record<string, string> = { query: promql };
    if (opts.time !== undefined) params.time = String(opts.time);
    const data = await this.get('api/v1/query', params, promql, opts.signal);
    if (data.resultType === 'scalar') {
      const pair = samplePair.safeParse(data.result);
      if (pair.success) return [{ metric: {}, at: pair.data[0], value: sampleValue(pair.data[1]) }];
    }
    const parsed = vector.safeParse(data.result);
    if (data.resultType !== 'vector' || !parsed.success) throw this.unexpected(promql, `expected a vector, got ${data.resultType}`);
    return parsed.data.map((s) => ({ metric: s.metric, at: s.value[0], value: sampleValue(s.value[1]) }));
  }

  /** A range query from `start` to `end` (unix seconds) every `stepSeconds`. */
  async queryRange(promql: string, range: { start: number; end: number; stepSeconds: number }, opts: { signal?: AbortSignal } = {}): Promise<Series[]> {
    const params = { query: promql, start: String(range.start), end: String(range.end), step: String(range.stepSeconds) };
    const data = await this.get('api/v1/query_range', params, promql, opts.signal);
    const parsed = matrix.safeParse(data.result);
    if (data.resultType !== 'matrix' || !parsed.success) throw this.unexpected(promql, `expected a matrix, got ${data.resultType}`);
    return parsed.data.map((s) => ({ metric: s.metric, points: s.values.map(([t, v]) => [t, sampleValue(v)] as [number, number]) }));
  }

  private async get(path: string, params: Record<string, string>, promql: string, signal?: AbortSignal): Promise<{ resultType: string; result: unknown }> {
    const url = new URL(path, this.base);
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    const { status, body } = await getJson(url, { system: 'Prometheus', timeoutMs: this.timeoutMs, signal, maxBytes: this.maxBytes });
    const parsed = envelope.safeParse(body);
    if (!parsed.success) throw new UnreachableError(`Prometheus (${shownUrl(url)}) answered HTTP ${status} without its API envelope.`);
    if (parsed.data.status === 'error') throw new UnreachableError(`Prometheus refused \`${clip(promql)}\`: ${parsed.data.errorType}: ${parsed.data.error}`);
    return parsed.data.data;
  }

  private unexpected(promql: string, why: string): Error {
    return new UnreachableError(`Prometheus answered \`${clip(promql)}\` oddly: ${why}.`);
  }
}

const clip = (s: string) => (s.length > 120 ? `${s.slice(0, 117)}…` : s);

/** The configured Prometheus, or undefined when `prometheus.url` is not set. */
export function prometheusFrom(config: Config): PrometheusClient | undefined {
  return config.prometheus.url ? new PrometheusClient(config.prometheus.url, config.prometheus.timeoutSeconds * 1000) : undefined;
}
