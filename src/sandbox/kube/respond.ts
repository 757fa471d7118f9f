// Writing responses: JSON bodies, Status errors, and large bodies in chunks that respect
// backpressure, so a 30,000-pod list never becomes one giant string.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, internal } from './status.js';

export function sendJson(res: ServerResponse, code: number, body: string | object, contentType = 'application/json'): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-cache, private' });
  res.end(text);
}

export function toApiError(err: unknown): ApiError {
  return err instanceof ApiError ? err : internal(err instanceof Error ? err.message : String(err));
}

export function sendError(res: ServerResponse, err: unknown): void {
  const e = toApiError(err);
  if (e.code >= 500 && !(err instanceof ApiError)) console.error('kube emulator:', err);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  // A 429 that suggests a wait says so in Retry-After too, as the apiserver's response writer does.
  const retryAfter = e.status.details?.retryAfterSeconds;
  if (retryAfter) res.setHeader('Retry-After', String(retryAfter));
  sendJson(res, e.code, e.status);
}

/** Buffers small strings and writes ~64 KiB chunks, waiting for 'drain' when the socket is full. */
export class ChunkWriter {
  private buf: string[] = [];
  private size = 0;
  constructor(private readonly res: ServerResponse) {}

  async push(s: string): Promise<void> {
    this.buf.push(s);
    this.size += s.length;
    if (this.size >= 65536) await this.flush();
  }

  async flush(): Promise<void> {
    if (!this.buf.length) return;
    const chunk = this.buf.join('');
    this.buf = [];
    this.size = 0;
    if (this.res.destroyed) throw new Error('client went away');
    if (!this.res.write(chunk)) await waitDrain(this.res);
  }

  async end(): Promise<void> {
    await this.flush();
    this.res.end();
  }
}

function waitDrain(res: ServerResponse): Promise<void> {
  return new Promise((ok, fail) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', closed);
      ok();
    };
    const closed = (): void => {
      res.off('drain', done);
      fail(new Error('client went away'));
    };
    res.once('drain', done);
    res.once('close', closed);
  });
}

/** The apiserver's --max-request-bytes default for a write: twice etcd's limit, for JSON's overhead. */
const MAX_BODY = 3 * 1024 * 1024;

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new ApiError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `Request entity too large: limit is ${MAX_BODY}`, reason: 'RequestEntityTooLarge', code: 413 });
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** True when the client asked for a meta.k8s.io Table (kubectl get). */
export function wantsTable(accept: string | undefined): boolean {
  return !!accept && accept.split(',').some((part) => /as=Table/.test(part) && /g=meta\.k8s\.io/.test(part) && /v=v1(;|$|\s)/.test(part));
}
