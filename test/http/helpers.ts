// Reading the ops server as Prometheus and the kubelet do: over HTTP, then the text format parsed.
import { createLogger } from '../../src/core/log.js';
import type { OpsServer } from '../../src/http/ops-server.js';
import { captureLog } from '../fixtures/engine.js';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition (comments skipped). */
export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!m) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1] as string] = (l[2] as string).replace(/\\(.)/g, '$1');
    samples.push({ name: m[1] as string, labels, value: Number(m[3]) });
  }
  return samples;
}

/** The value of one series, or undefined when it isn't there. */
export function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

export const base = (ops: OpsServer) => `http://127.0.0.1:${ops.port()}`;

export async function scrape(ops: OpsServer): Promise<{ status: number; type: string | null; samples: Sample[]; text: string }> {
  const res = await fetch(`${base(ops)}/metrics`);
  const text = await res.text();
  return { status: res.status, type: res.headers.get('content-type'), samples: parseExposition(text), text };
}

export interface ReadyBody {
  ready: boolean;
  draining?: boolean;
  failing?: string[];
  checks: Record<string, { ok: boolean; detail?: string }>;
}

export async function readyz(ops: OpsServer): Promise<{ status: number; body: ReadyBody }> {
  const res = await fetch(`${base(ops)}/readyz`);
  return { status: res.status, body: (await res.json()) as ReadyBody };
}

/** Polls until `probe` returns something truthy, or fails after `ms`. */
export async function eventually<T>(probe: () => Promise<T | undefined | false>, ms = 5_000, stepMs = 25): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > until) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** A pino logger whose lines the test can read. */
export function testLogger() {
  const { stream, captured } = captureLog();
  return { log: createLogger('info', stream), captured };
}
