// POST /alertmanager: Alertmanager's webhook receiver. A bearer token guards it (compared
// in constant time), a malformed body gets 400 and posts nothing, and the body is bounded.
import { timingSafeEqual, createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { parseWebhook, type AlertmanagerWebhook } from '../prometheus/alertmanager.js';
import type { AlertOutcome, AlertThreads } from './alert-threads.js';

const MAX_BODY = 1 << 20;

export interface WebhookOptions {
  token: string;
  threads: AlertThreads;
  log: Logger;
  /** After a thread opened or changed: attach a diagnosis, offer remedies. */
  onAlert?: (payload: AlertmanagerWebhook, outcome: AlertOutcome) => Promise<void>;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

function authorized(req: IncomingMessage, token: string): boolean {
  const header = req.headers.authorization ?? '';
  const presented = header.startsWith('Bearer ') ? header.slice('Bearer '.length) : '';
  // Hashing first makes the comparison constant-time whatever the lengths.
  return presented.length > 0 && timingSafeEqual(digest(presented), digest(token));
}

async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

const reply = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

export function alertmanagerWebhook(opts: WebhookOptions) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (!authorized(req, opts.token)) return reply(res, 401, { error: 'missing or wrong bearer token' });
    const body = await readBody(req);
    if (body === undefined) return reply(res, 413, { error: `body larger than ${MAX_BODY} bytes` });
    const parsed = parseWebhook(body);
    if (!parsed.ok) {
      opts.log.warn({ problems: parsed.problems }, 'malformed Alertmanager webhook');
      return reply(res, 400, { error: 'malformed Alertmanager webhook (version 4 expected)', problems: parsed.problems });
    }
    try {
      const outcome = await opts.threads.handle(parsed.payload);
      if ((outcome === 'opened' || outcome === 'updated') && opts.onAlert) {
        await opts.onAlert(parsed.payload, outcome).catch((err: unknown) => opts.log.warn({ err }, 'diagnosis for alert failed'));
      }
      reply(res, 200, { outcome });
    } catch (err) {
      opts.log.error({ err }, 'could not post the alert');
      // 5xx makes Alertmanager retry; the thread state makes the retry safe.
      reply(res, 502, { error: 'could not post the alert to Slack' });
    }
  };
}
