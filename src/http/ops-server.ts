// The operations endpoints on plain node:http, apart from Slack's HTTP receiver: Prometheus
// scrapes /metrics, the kubelet probes /healthz and /readyz. Later endpoints (the
// Alertmanager webhook) plug in through route().
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Readiness } from './readiness.js';

export type RouteHandler = (req: IncomingMessage, res: ServerResponse, url: URL) => void | Promise<void>;

export interface OpsRoute {
  method: string;
  /** An exact path: `/alertmanager`. */
  path: string;
  handler: RouteHandler;
}

/** One extra endpoint; a handler that throws gets a 500 and a log line. */
export function route(method: string, path: string, handler: RouteHandler): OpsRoute {
  return { method: method.toUpperCase(), path, handler };
}

/** What /metrics serves: OpsMetrics fits. */
export interface MetricsSource {
  readonly contentType: string;
  scrape(): Promise<string>;
}

export interface OpsServerOptions {
  /** 0 picks a free port. */
  port: number;
  /** 127.0.0.1 by default; pass 0.0.0.0 in a pod so the kubelet and Prometheus reach it. */
  host?: string;
  metrics: MetricsSource;
  readiness: () => Promise<Readiness>;
  routes?: OpsRoute[];
  log?: Logger;
  /** How long close() lets requests in progress finish before it cuts them (default 5 s). */
  closeGraceMs?: number;
}

export interface OpsServer {
  port(): number;
  /** Adds an endpoint after start (the Alertmanager webhook needs the bot first). */
  route(method: string, path: string, handler: RouteHandler): void;
  /** From now on /readyz answers 503, so the Service stops sending work here; the rest keeps answering. */
  setDraining(): void;
  readonly draining: boolean;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8', headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store', ...headers });
  res.end(body);
}

const sendJson = (res: ServerResponse, status: number, body: unknown) => send(res, status, `${JSON.stringify(body)}\n`, 'application/json; charset=utf-8');

export async function startOpsServer(opts: OpsServerOptions): Promise<OpsServer> {
  const routes = new Map<string, Map<string, RouteHandler>>();
  const add = (r: OpsRoute) => {
    const byMethod = routes.get(r.path) ?? new Map<string, RouteHandler>();
    if (byMethod.has(r.method)) throw new Error(`ops server: ${r.method} ${r.path} is already routed`);
    routes.set(r.path, byMethod.set(r.method, r.handler));
  };

  let draining = false;
  add(
    route('GET', '/metrics', async (_req, res) => {
      const text = await opts.metrics.scrape();
      send(res, 200, text, opts.metrics.contentType);
    }),
  );
  // Liveness is only "the event loop answers": anything more (Slack, the cluster) would get a
  // healthy pod restarted for someone else's outage.
  add(route('GET', '/healthz', (_req, res) => send(res, 200, 'ok\n')));
  add(
    route('GET', '/readyz', async (_req, res) => {
      if (draining) return sendJson(res, 503, { ready: false, draining: true, checks: {} });
      let result: Readiness;
      try {
        result = await opts.readiness();
      } catch (err) {
        opts.log?.warn({ err }, 'readiness checks failed to run');
        return sendJson(res, 503, { ready: false, checks: { readiness: { ok: false, detail: 'the checks could not run; see the log' } } });
      }
      // Draining may have started while the checks ran.
      if (draining) return sendJson(res, 503, { ready: false, draining: true, checks: result.checks });
      if (result.ready) return sendJson(res, 200, { ready: true, checks: result.checks });
      const failing = Object.keys(result.checks).filter((name) => !result.checks[name]?.ok);
      sendJson(res, 503, { ready: false, failing, checks: result.checks });
    }),
  );
  for (const r of opts.routes ?? []) add(r);

  // Responses in progress: once close() starts they end their connection instead of keeping
  // it alive, so close() waits for the work, not for clients' keep-alive timers.
  const active = new Set<ServerResponse>();
  let closing: Promise<void> | undefined;
  const endConnection = (res: ServerResponse) => {
    if (!res.headersSent) res.setHeader('Connection', 'close');
  };

  const server: Server = createServer((req, res) => {
    active.add(res);
    res.on('close', () => active.delete(res));
    if (closing) endConnection(res);
    const url = new URL(req.url ?? '/', 'http://ops.invalid');
    const byMethod = routes.get(url.pathname);
    if (!byMethod) return send(res, 404, 'not found\n');
    // HEAD is GET without a body; node:http drops the body for HEAD by itself.
    const method = req.method === 'HEAD' && !byMethod.has('HEAD') ? 'GET' : (req.method ?? 'GET');
    const handler = byMethod.get(method);
    if (!handler) return send(res, 405, 'method not allowed\n', undefined, { Allow: [...byMethod.keys()].join(', ') });
    Promise.resolve()
      .then(() => handler(req, res, url))
      .catch((err: unknown) => {
        opts.log?.error({ err, path: url.pathname }, 'ops endpoint failed');
        if (!res.headersSent) send(res, 500, 'internal error\n');
        else res.destroy();
      });
  });
  // Probes and scrapes are tiny; a slow client shouldn't hold a socket for long.
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });

  return {
    port: () => (server.address() as AddressInfo).port,
    route: (method, path, handler) => add(route(method, path, handler)),
    setDraining: () => {
      draining = true;
    },
    get draining() {
      return draining;
    },
    close() {
      draining = true;
      closing ??= new Promise<void>((resolve) => {
        for (const res of active) endConnection(res);
        const cut = setTimeout(() => server.closeAllConnections(), opts.closeGraceMs ?? 5_000);
        cut.unref();
        server.close(() => {
          clearTimeout(cut);
          resolve();
        });
        // Keep-alive sockets between scrapes would otherwise hold close() open.
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}
