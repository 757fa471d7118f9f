// One call of a JSON API (Prometheus, Alertmanager) through core/http-fetch.ts (deadline, abort,
// capped answer, errors that name the system); any status comes back with its parsed body.
import { UnreachableError } from '../core/errors.js';
import { httpFetch, shownUrl } from '../core/http-fetch.js';

export { shownUrl };

export interface JsonGetOptions {
  /** What to call the system in messages: "Prometheus", "Alertmanager". */
  system: string;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Answers larger than this are refused rather than held in memory. */
  maxBytes?: number;
}

/** The digests ask for aggregates; a bigger answer means a query that selects far too much. */
const MAX_BYTES = 16 * 1024 * 1024;

/** GET `url` and parse JSON; any status is returned with its body so callers can read API errors. */
export function getJson(url: URL, opts: JsonGetOptions): Promise<{ status: number; body: unknown }> {
  return requestJson(url, opts);
}

/**
 * `method` with `json` as the request body (when given); the answer parsed as JSON, or as
 * undefined when empty (Alertmanager's DELETE answers 200 with no body).
 */
export async function requestJson(url: URL, opts: JsonGetOptions & { method?: string; json?: unknown }): Promise<{ status: number; body: unknown }> {
  const max = opts.maxBytes ?? MAX_BYTES;
  const init = opts.json === undefined ? {} : { body: JSON.stringify(opts.json) };
  const headers: Record<string, string> = { accept: 'application/json', ...(opts.json === undefined ? {} : { 'content-type': 'application/json' }) };
  const { status, text, cut } = await httpFetch(url, { method: opts.method, headers, ...init }, { system: opts.system, timeoutMs: opts.timeoutMs, signal: opts.signal, maxBytes: max });
  if (cut) throw new UnreachableError(`${opts.system} (${shownUrl(url)}) answered more than ${Math.round(max / 1024)} KiB; narrow the query (an aggregate is expected).`);
  if (text.trim() === '' && opts.method !== undefined && opts.method !== 'GET') return { status, body: undefined };
  try {
    return { status, body: JSON.parse(text) as unknown };
  } catch {
    throw new UnreachableError(`${opts.system} (${shownUrl(url)}) answered HTTP ${status} with something that is not JSON: ${JSON.stringify(text.slice(0, 120))}.`);
  }
}
