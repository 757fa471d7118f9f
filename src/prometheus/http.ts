// One GET of a JSON API (Prometheus, Alertmanager) with a deadline, the caller's abort, and
// errors that name the system and say what went wrong, never a bare "fetch failed".
import { UnreachableError, errorMessage } from '../core/errors.js';
import { readBodyCapped } from '../core/http-body.js';

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

/** The URL without credentials or query, fit for a message. */
export const shownUrl = (url: URL): string => `${url.protocol}//${url.host}${url.pathname}`;

/** GET `url` and parse JSON; any status is returned with its body so callers can read API errors. */
export async function getJson(url: URL, opts: JsonGetOptions): Promise<{ status: number; body: unknown }> {
  const deadline = AbortSignal.timeout(opts.timeoutMs);
  const signal = opts.signal ? AbortSignal.any([opts.signal, deadline]) : deadline;
  let res: Response;
  try {
    res = await fetch(url, { headers: { accept: 'application/json' }, signal });
  } catch (err) {
    if (deadline.aborted) throw new UnreachableError(`${opts.system} did not answer within ${opts.timeoutMs < 1000 ? `${opts.timeoutMs} ms` : `${Math.round(opts.timeoutMs / 1000)} s`} (${shownUrl(url)}).`);
    if (opts.signal?.aborted) throw new UnreachableError(`Stopped: the ${opts.system} request was aborted.`);
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new UnreachableError(`Could not reach ${opts.system} at ${shownUrl(url)}: ${cause?.code ?? cause?.message ?? errorMessage(err)}.`);
  }
  let body: { text: string; cut: boolean };
  const max = opts.maxBytes ?? MAX_BYTES;
  try {
    body = await readBodyCapped(res, max);
  } catch (err) {
    throw new UnreachableError(`${opts.system} (${shownUrl(url)}) broke off its answer: ${deadline.aborted ? 'timed out' : errorMessage(err)}.`);
  }
  const { text } = body;
  if (body.cut) throw new UnreachableError(`${opts.system} (${shownUrl(url)}) answered more than ${Math.round(max / 1024)} KiB; narrow the query (an aggregate is expected).`);
  try {
    return { status: res.status, body: JSON.parse(text) as unknown };
  } catch {
    throw new UnreachableError(`${opts.system} (${shownUrl(url)}) answered HTTP ${res.status} with something that is not JSON: ${JSON.stringify(text.slice(0, 120))}.`);
  }
}
