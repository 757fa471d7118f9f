// One HTTP call to the platform (its API, or Ray Serve) with a deadline and its latency. The
// body is kept only as parsed JSON and a short redacted excerpt: tokens never leave here raw
// except in `json`, which callers use and never print.
import { deadlineSignal } from '../core/deadline.js';
import { UnreachableError, errorMessage } from '../core/errors.js';
import { readBodyCapped } from '../core/http-body.js';
import { redactText, redactValue } from '../core/redact.js';

export interface HttpAnswer {
  status: number;
  ms: number;
  json: unknown;
  /** The first 200 characters of the body, secrets and tokens redacted. */
  excerpt: string;
}

const EXCERPT = 200;
/** Platform API answers are small; a body beyond this is cut rather than held in memory. */
const MAX_BODY = 1 << 20;

export async function httpCall(baseUrl: string, method: string, path: string, opts: { body?: unknown; token?: string; timeoutMs: number; signal?: AbortSignal }): Promise<HttpAnswer> {
  const url = new URL(path.replace(/^\//, ''), baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
  const started = performance.now();
  const deadline = deadlineSignal(opts.timeoutMs, opts.signal);
  let res: Response;
  let text: string;
  try {
    res = await fetch(url, {
      method,
      headers: { accept: 'application/json', ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}), ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}) },
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      signal: deadline.signal,
    });
    // A cut body still gives its excerpt; its JSON then fails to parse and counts as none.
    ({ text } = await readBodyCapped(res, MAX_BODY));
  } catch (err) {
    const why = deadline.timedOut() ? `no answer within ${Math.round(opts.timeoutMs / 1000)} s` : errorMessage((err as { cause?: unknown }).cause ?? err);
    throw new UnreachableError(`${method} ${url.origin}${url.pathname}: ${redactText(why)}`);
  } finally {
    deadline.done();
  }
  const ms = Math.round(performance.now() - started);
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  // Redact before cutting, so a cut can't leave half a token unrecognised.
  const redacted = redactText(json === undefined ? text : JSON.stringify(redactValue(json)));
  return { status: res.status, ms, json, excerpt: redacted.length > EXCERPT ? `${redacted.slice(0, EXCERPT)}…` : redacted };
}


/** The model ids of an OpenAI-style GET /v1/models answer ({object: 'list', data: [{id}]}). */
export function modelIds(json: unknown): string[] {
  const data = (json as { data?: Array<{ id?: unknown }> } | undefined)?.data;
  return Array.isArray(data) ? data.map((m) => m.id).filter((id): id is string => typeof id === 'string' && id !== '') : [];
}
