// Qdrant's REST API: GET /collections/{name} answers {"result":{"status":"green",...},"status":"ok","time":...}
// when the collection exists, and 404 {"status":{"error":"Not found: Collection `x` doesn't exist!"}} when not.
import { deadlineSignal } from '../core/deadline.js';
import { UnreachableError, errorMessage } from '../core/errors.js';
import { redactText } from '../core/redact.js';

export interface CollectionInfo {
  exists: boolean;
  /** green, yellow, grey or red, when it exists. */
  status?: string;
  points?: number;
  error?: string;
}

interface CollectionResponse {
  result?: { status?: string; points_count?: number | null };
  status?: string | { error?: string };
}

export async function qdrantCollection(baseUrl: string, name: string, opts: { timeoutMs: number; signal?: AbortSignal }): Promise<CollectionInfo> {
  const url = new URL(`collections/${encodeURIComponent(name)}`, baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
  const deadline = deadlineSignal(opts.timeoutMs, opts.signal);
  let res: Response;
  let body: CollectionResponse;
  try {
    res = await fetch(url, { signal: deadline.signal });
    body = (await res.json().catch(() => ({}))) as CollectionResponse;
  } catch (err) {
    const why = deadline.timedOut() ? `no answer within ${Math.round(opts.timeoutMs / 1000)} s` : errorMessage((err as { cause?: unknown }).cause ?? err);
    throw new UnreachableError(`Qdrant at ${url.origin} is unreachable: ${redactText(why)}`);
  } finally {
    deadline.done();
  }
  if (res.status === 404) return { exists: false, error: typeof body.status === 'object' ? body.status.error : undefined };
  if (!res.ok) throw new UnreachableError(`Qdrant answered ${res.status}${typeof body.status === 'object' && body.status.error ? `: ${redactText(body.status.error)}` : ''}`);
  return { exists: true, status: body.result?.status, points: body.result?.points_count ?? undefined };
}
