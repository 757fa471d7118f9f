// One HTTP call to an outside JSON API (Prometheus, Alertmanager, the Ray dashboard, the
// platform API): a deadline over the call and its answer, the caller's abort, and the body read
// up to a limit, so an answer far too big (a query that selects everything, a proxy streaming
// something else) is cut off instead of filling the heap. Failures name the system, the call
// and why, never a bare "fetch failed".
import { deadlineSignal } from './deadline.js';
import { UnreachableError, errorMessage } from './errors.js';
import { redactText } from './redact.js';

export interface HttpFetchOptions {
  /** The system as messages name it mid-sentence: "Prometheus", "the Ray dashboard". */
  system: string;
  timeoutMs: number;
  signal?: AbortSignal;
  /** The body is read up to this many bytes; beyond, `cut` is set and the rest is not read. */
  maxBytes: number;
}

export interface HttpFetchResult {
  status: number;
  ok: boolean;
  text: string;
  cut: boolean;
  /** From the request to the last byte read. */
  ms: number;
}

/** The URL without credentials or query, fit for a message. */
export const shownUrl = (url: URL): string => `${url.protocol}//${url.host}${url.pathname}`;

const seconds = (ms: number) => (ms < 1000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`);
const sentence = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

export async function httpFetch(url: URL, init: { method?: string; headers?: Record<string, string>; body?: string | Uint8Array<ArrayBuffer> }, opts: HttpFetchOptions): Promise<HttpFetchResult> {
  const method = init.method ?? 'GET';
  const call = `${method} ${redactText(shownUrl(url))}`;
  const deadline = deadlineSignal(opts.timeoutMs, opts.signal);
  const started = performance.now();
  try {
    const res = await fetch(url, { ...init, method, signal: deadline.signal });
    const body = await readBodyCapped(res, opts.maxBytes);
    return { status: res.status, ok: res.ok, ...body, ms: Math.round(performance.now() - started) };
  } catch (err) {
    if (deadline.timedOut()) throw new UnreachableError(`${sentence(opts.system)} did not answer ${call} within ${seconds(opts.timeoutMs)}.`);
    if (opts.signal?.aborted) throw new UnreachableError(`Stopped: ${call} to ${opts.system} was aborted.`);
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new UnreachableError(`Could not reach ${opts.system} (${call}): ${redactText(cause?.code ?? cause?.message ?? errorMessage(err))}.`);
  } finally {
    deadline.done();
  }
}

/** A Response's body as text, read up to `maxBytes` (the stream is cancelled beyond). */
export async function readBodyCapped(res: Response, maxBytes: number): Promise<{ text: string; cut: boolean }> {
  const reader = res.body?.getReader();
  if (!reader) return { text: '', cut: false };
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      return { text: Buffer.concat(chunks).toString('utf8'), cut: true };
    }
    chunks.push(value);
  }
  return { text: Buffer.concat(chunks).toString('utf8'), cut: false };
}
