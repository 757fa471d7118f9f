// Reading Web API arguments the way Slack does: form posts carry everything as strings (nested
// values such as `blocks` and `files` as JSON text), JSON posts carry real values.

import type { IncomingMessage } from 'node:http';

export type Args = Record<string, unknown>;

/** A string argument; numbers and booleans (JSON posts) are turned into their form spelling. */
export function str(args: Args, key: string): string | undefined {
  const v = args[key];
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

export type JsonArg = { ok: true; value: unknown } | { ok: false };

/** A nested argument: JSON text in a form post, a value in a JSON post. */
export function jsonArg(args: Args, key: string): JsonArg {
  const v = args[key];
  if (typeof v !== 'string') return { ok: true, value: v };
  try {
    return { ok: true, value: JSON.parse(v) as unknown };
  } catch {
    return { ok: false };
  }
}

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Parses an API request body by its content type; unknown types yield no arguments (Slack ignores them). */
export async function parseArgs(contentType: string | undefined, body: Buffer): Promise<Args> {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase();
  if (type === 'application/json') {
    const parsed: unknown = body.length ? JSON.parse(body.toString('utf8')) : {};
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Args) : {};
  }
  if (type === 'application/x-www-form-urlencoded') {
    return Object.fromEntries(new URLSearchParams(body.toString('utf8')));
  }
  if (type === 'multipart/form-data') {
    // Node's fetch Response already implements multipart parsing; no need for a hand-rolled parser.
    const form = await new Response(new Uint8Array(body), { headers: { 'content-type': contentType ?? '' } }).formData();
    const out: Args = {};
    for (const [key, value] of form) {
      out[key] = typeof value === 'string' ? value : Buffer.from(await value.arrayBuffer());
    }
    return out;
  }
  return {};
}

/**
 * The bearer token of a request, or else the `token` argument of a form or query. Slack ignores a token
 * inside a JSON body: JSON posts must authenticate with the header.
 */
export function tokenOf(req: IncomingMessage, args: Args): string | undefined {
  const auth = req.headers.authorization;
  const m = auth ? /^Bearer\s+(\S+)$/i.exec(auth) : null;
  if (m?.[1]) return m[1];
  const isJson = (req.headers['content-type'] ?? '').toLowerCase().startsWith('application/json');
  return isJson ? undefined : str(args, 'token');
}
