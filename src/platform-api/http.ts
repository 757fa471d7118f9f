// One HTTP call to the platform (its API, or Ray Serve) with a deadline and its latency. The
// body is kept only as parsed JSON and a short redacted excerpt: tokens never leave here raw
// except in `json`, which callers use and never print.
import { httpFetch } from '../core/http-fetch.js';
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

/** `system`: how messages name what answers at baseUrl (default: the platform API). */
export async function httpCall(baseUrl: string, method: string, path: string, opts: { body?: unknown; token?: string; timeoutMs: number; signal?: AbortSignal; system?: string }): Promise<HttpAnswer> {
  const url = new URL(path.replace(/^\//, ''), baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
  // A cut body still gives its excerpt; its JSON then fails to parse and counts as none.
  const { status, text, ms } = await httpFetch(
    url,
    {
      method,
      headers: { accept: 'application/json', ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}), ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}) },
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    },
    { system: opts.system ?? 'the platform API', timeoutMs: opts.timeoutMs, signal: opts.signal, maxBytes: MAX_BODY },
  );
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  // Redact before cutting, so a cut can't leave half a token unrecognised.
  const redacted = redactText(json === undefined ? text : JSON.stringify(redactValue(json)));
  return { status, ms, json, excerpt: redacted.length > EXCERPT ? `${redacted.slice(0, EXCERPT)}…` : redacted };
}


/** The model ids of an OpenAI-style GET /v1/models answer ({object: 'list', data: [{id}]}). */
export function modelIds(json: unknown): string[] {
  const data = (json as { data?: Array<{ id?: unknown }> } | undefined)?.data;
  return Array.isArray(data) ? data.map((m) => m.id).filter((id): id is string => typeof id === 'string' && id !== '') : [];
}
