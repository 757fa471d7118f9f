// The ops server over real HTTP: probes, draining, extra routes, and a close that doesn't hang.
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { OpsMetrics } from '../../src/http/metrics.js';
import { route, startOpsServer, type OpsServer, type OpsServerOptions } from '../../src/http/ops-server.js';
import type { Readiness } from '../../src/http/readiness.js';
import { pause, shutdownInOrder } from '../../src/http/shutdown.js';
import { base, readyz, testLogger } from './helpers.js';

let servers: OpsServer[] = [];
async function serve(opts: Partial<OpsServerOptions> = {}): Promise<OpsServer> {
  const server = await startOpsServer({
    port: 0,
    metrics: new OpsMetrics({ defaultMetrics: false }),
    readiness: async () => ({ ready: true, checks: { everything: { ok: true } } }),
    ...opts,
  });
  servers.push(server);
  return server;
}
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

describe('ops server: probes', () => {
  it('/healthz answers 200 ok', async () => {
    const server = await serve();
    const res = await fetch(`${base(server)}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('ok\n');
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('/healthz stays 200 while not ready and while draining: liveness is only the event loop', async () => {
    const server = await serve({ readiness: async () => ({ ready: false, checks: { cluster: { ok: false } } }) });
    expect((await fetch(`${base(server)}/healthz`)).status).toBe(200);
    server.setDraining();
    expect((await fetch(`${base(server)}/healthz`)).status).toBe(200);
  });

  it('/readyz: 200 with every check when ready, 503 naming the failing ones otherwise', async () => {
    let state: Readiness = { ready: true, checks: { slack: { ok: true, detail: 'Socket Mode connected' }, cluster: { ok: true, detail: 'v1.34.2' } } };
    const server = await serve({ readiness: async () => state });
    const ok = await readyz(server);
    expect(ok).toEqual({ status: 200, body: { ready: true, checks: state.checks } });

    state = { ready: false, checks: { slack: { ok: true }, cluster: { ok: false, detail: 'no answer within 2000 ms' } } };
    const bad = await readyz(server);
    expect(bad.status).toBe(503);
    expect(bad.body).toEqual({ ready: false, failing: ['cluster'], checks: state.checks });
  });

  it('/readyz is 503 when the checks themselves throw, and says nothing of the error text', async () => {
    const { log, captured } = testLogger();
    const server = await serve({ log, readiness: async () => Promise.reject(new Error('boom at https://user:pw@x')) });
    const res = await readyz(server);
    expect(res.status).toBe(503);
    expect(JSON.stringify(res.body)).not.toContain('boom');
    expect(captured.lines.some((l) => l.msg === 'readiness checks failed to run')).toBe(true);
  });

  it('/readyz turns 503 once draining, without running the checks', async () => {
    let runs = 0;
    const server = await serve({
      readiness: async () => {
        runs++;
        return { ready: true, checks: {} };
      },
    });
    expect((await readyz(server)).status).toBe(200);
    expect(server.draining).toBe(false);
    server.setDraining();
    expect(server.draining).toBe(true);
    const res = await readyz(server);
    expect(res).toEqual({ status: 503, body: { ready: false, draining: true, checks: {} } });
    expect(runs).toBe(1);
    // /metrics keeps answering while draining, so the last scrape sees the end.
    expect((await fetch(`${base(server)}/metrics`)).status).toBe(200);
  });

  it('HEAD works where GET does (no body); unknown paths are 404; wrong methods 405 with Allow', async () => {
    const server = await serve();
    const head = await fetch(`${base(server)}/readyz`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    expect((await fetch(`${base(server)}/nope`)).status).toBe(404);
    expect((await fetch(`${base(server)}/`)).status).toBe(404);
    const post = await fetch(`${base(server)}/metrics`, { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET');
    // The query string doesn't change the route.
    expect((await fetch(`${base(server)}/healthz?verbose=1`)).status).toBe(200);
  });

  it('binds 127.0.0.1 by default', async () => {
    const server = await serve();
    const res = await fetch(`http://127.0.0.1:${server.port()}/healthz`);
    expect(res.status).toBe(200);
    expect(server.port()).toBeGreaterThan(0);
  });
});

describe('ops server: extra routes', () => {
  it('routes given at start and added later are served; a throwing handler is a 500 and a log line', async () => {
    const { log, captured } = testLogger();
    const seen: string[] = [];
    const server = await serve({
      log,
      routes: [
        route('post', '/alertmanager', async (req, res) => {
          let body = '';
          for await (const chunk of req) body += String(chunk);
          seen.push(body);
          res.writeHead(202).end();
        }),
      ],
    });
    server.route('GET', '/boom', () => {
      throw new Error('handler broke');
    });
    const posted = await fetch(`${base(server)}/alertmanager`, { method: 'POST', body: '{"status":"firing"}' });
    expect(posted.status).toBe(202);
    expect(seen).toEqual(['{"status":"firing"}']);
    expect((await fetch(`${base(server)}/alertmanager`)).status).toBe(405);
    const boom = await fetch(`${base(server)}/boom`);
    expect(boom.status).toBe(500);
    expect(await boom.text()).not.toContain('handler broke');
    expect(captured.lines.some((l) => l.msg === 'ops endpoint failed' && l.path === '/boom')).toBe(true);
  });

  it('refuses a second handler for the same method and path', async () => {
    const server = await serve();
    expect(() => server.route('GET', '/metrics', () => undefined)).toThrow(/already routed/);
  });
});

describe('ops server: close', () => {
  it('closes with a keep-alive connection open, and refuses connections afterwards', async () => {
    const server = await serve();
    const port = server.port();
    const agent = new (await import('node:http')).Agent({ keepAlive: true });
    await new Promise<void>((resolve, reject) => {
      request({ host: '127.0.0.1', port, path: '/healthz', agent }, (res) => {
        res.resume();
        res.on('end', resolve);
      })
        .on('error', reject)
        .end();
    });
    const started = Date.now();
    await server.close();
    expect(Date.now() - started).toBeLessThan(1_000);
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    agent.destroy();
  });

  it('lets a request in progress finish within the grace period', async () => {
    let release: () => void = () => undefined;
    const server = await serve({ closeGraceMs: 5_000 });
    server.route('GET', '/slow', async (_req, res) => {
      await new Promise<void>((r) => (release = r));
      res.end('done');
    });
    const slow = fetch(`${base(server)}/slow`).then((r) => r.text());
    await new Promise((r) => setTimeout(r, 50));
    const started = Date.now();
    const closed = server.close();
    release();
    expect(await slow).toBe('done');
    await closed;
    // The finished response ended its connection: close() didn't wait out the client's keep-alive.
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('cuts a request that outlives the grace period', async () => {
    const server = await serve({ closeGraceMs: 100 });
    server.route('GET', '/stuck', () => new Promise(() => undefined));
    const stuck = fetch(`${base(server)}/stuck`).then(
      () => 'answered',
      () => 'cut',
    );
    await new Promise((r) => setTimeout(r, 50));
    await server.close();
    expect(await stuck).toBe('cut');
  });
});

describe('shutdown sequence', () => {
  it('runs steps in order; a failing or stuck step is reported and the rest still run', async () => {
    const order: string[] = [];
    const server = await serve();
    const results = await shutdownInOrder(
      [
        { name: 'drain', run: () => void (order.push('drain'), server.setDraining()) },
        { name: 'wait', run: pause(20) },
        { name: 'slack', run: async () => void order.push('slack') },
        { name: 'broken', run: () => Promise.reject(new Error('no luck')) },
        { name: 'stuck', run: () => new Promise(() => undefined), timeoutMs: 50 },
        { name: 'lease', run: () => void order.push('lease') },
        { name: 'ops server', run: () => server.close() },
      ],
      { stepTimeoutMs: 1_000 },
    );
    expect(order).toEqual(['drain', 'slack', 'lease']);
    expect(results.map((r) => [r.name, r.ok])).toEqual([
      ['drain', true],
      ['wait', true],
      ['slack', true],
      ['broken', false],
      ['stuck', false],
      ['lease', true],
      ['ops server', true],
    ]);
    expect(results[3]?.detail).toBe('no luck');
    expect(results[4]?.detail).toBe('did not finish within 50 ms');
    expect(server.draining).toBe(true);
  });
});
