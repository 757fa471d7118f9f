// /readyz against real peers: the kube-apiserver emulator through client-node, and Slack's
// Socket Mode client and WebClient against the workspace emulator.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { App, LogLevel as BoltLogLevel, SocketModeReceiver } from '@slack/bolt';
import { SocketModeClient } from '@slack/socket-mode';
import { LogLevel, WebClient } from '@slack/web-api';
import { OpsMetrics } from '../../src/http/metrics.js';
import { startOpsServer, type OpsServer } from '../../src/http/ops-server.js';
import {
  cached,
  clusterReachable,
  readinessOf,
  slackAuthVerified,
  socketModeConnected,
  type AuthTestClient,
  type Check,
  type CheckResult,
  type SocketModeClientLike,
} from '../../src/http/readiness.js';
import { KubeApiEmulator } from '../../src/sandbox/kube/index.js';
import { MANIFEST_SCOPES, seedConversations } from '../fixtures/world.js';
import { SlackWorkspaceEmulator } from '../../src/sandbox/slack/index.js';
import { clientFor } from '../kube/kube-client.js';
import { eventually, readyz } from './helpers.js';

let servers: OpsServer[] = [];
async function serve(checks: Record<string, Check>): Promise<OpsServer> {
  const server = await startOpsServer({ port: 0, metrics: new OpsMetrics({ defaultMetrics: false }), readiness: readinessOf(checks) });
  servers.push(server);
  return server;
}
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

describe('readinessOf', () => {
  it('is ready only when every check passes; a throwing or hanging check fails alone', async () => {
    const readiness = readinessOf(
      {
        sync: () => ({ ok: true }),
        async: async () => ({ ok: true, detail: 'fine' }),
        throws: () => {
          throw new Error('nope, token xoxb-1234567890-secret');
        },
        hangs: () => new Promise<CheckResult>(() => undefined),
      },
      { timeoutMs: 100 },
    );
    const started = Date.now();
    const r = await readiness();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(r.ready).toBe(false);
    expect(r.checks.sync).toEqual({ ok: true });
    expect(r.checks.async).toEqual({ ok: true, detail: 'fine' });
    expect(r.checks.throws?.ok).toBe(false);
    expect(r.checks.throws?.detail).toContain('nope');
    expect(r.checks.throws?.detail).not.toContain('xoxb-1234567890-secret');
    expect(r.checks.hangs).toEqual({ ok: false, detail: 'no answer within 100 ms' });
    expect(await readinessOf({ a: () => ({ ok: true }) })()).toEqual({ ready: true, checks: { a: { ok: true } } });
  });

  it('cached() reuses an answer for its ttl and shares one call between concurrent probes', async () => {
    let clock = 0;
    let calls = 0;
    let release: (r: CheckResult) => void = () => undefined;
    const check = cached(
      () => {
        calls++;
        return new Promise<CheckResult>((r) => (release = r));
      },
      1_000,
      () => clock,
    );
    const a = check();
    const b = check();
    release({ ok: true, detail: 'first' });
    expect(await a).toEqual({ ok: true, detail: 'first' });
    expect(await b).toEqual({ ok: true, detail: 'first' });
    expect(calls).toBe(1);
    clock = 999;
    expect(await check()).toEqual({ ok: true, detail: 'first' });
    expect(calls).toBe(1);
    clock = 1_000;
    const c = check();
    release({ ok: false, detail: 'second' });
    expect(await c).toEqual({ ok: false, detail: 'second' });
    expect(calls).toBe(2);
  });
});

describe('/readyz: the cluster', () => {
  let emu: KubeApiEmulator;
  beforeAll(async () => {
    emu = await KubeApiEmulator.start();
  });
  afterAll(async () => {
    await emu.close();
  });
  const versionCalls = () => emu.requests.filter((r) => r.path === '/version').length;

  it('200 while the kube-apiserver answers /version; probes within the cache window share one call', async () => {
    const server = await serve({ cluster: clusterReachable(clientFor(emu, 'prod'), { cacheMs: 60_000 }) });
    const before = versionCalls();
    const answers = await Promise.all([readyz(server), readyz(server), readyz(server)]);
    for (const a of answers) {
      expect(a.status).toBe(200);
      expect(a.body.checks.cluster?.ok).toBe(true);
      expect(a.body.checks.cluster?.detail).toMatch(/^prod: v1\.34\.2 \(\d+ ms\)$/);
    }
    expect((await readyz(server)).status).toBe(200);
    expect(versionCalls() - before).toBe(1);
  });

  it('503 while the apiserver hangs (the call is cut at its deadline), 200 again once it answers', async () => {
    // Generous deadline: a fresh TLS connection on a loaded CI machine must still make it.
    const server = await serve({ cluster: clusterReachable(clientFor(emu), { timeoutMs: 400, cacheMs: 0 }) });
    expect((await readyz(server)).status).toBe(200);
    emu.failNext({ path: /.*/ }, 'hang', 2);
    const started = Date.now();
    const hung = await readyz(server);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(hung.status).toBe(503);
    expect(hung.body).toMatchObject({ ready: false, failing: ['cluster'] });
    expect(hung.body.checks.cluster?.detail).toBe('test: no answer from the Kubernetes API within 400 ms');
    expect((await readyz(server)).status).toBe(503);
    // The faults are used up: the apiserver answers again.
    const back = await eventually(async () => {
      const r = await readyz(server);
      return r.status === 200 && r;
    });
    expect(back.body.checks.cluster?.ok).toBe(true);
  });

  it('stays 503 for as long as the apiserver hangs', async () => {
    const server = await serve({ cluster: clusterReachable(clientFor(emu), { timeoutMs: 300, cacheMs: 0 }) });
    emu.failNext({ path: /^\/version$/ }, 'hang', 4);
    for (let i = 0; i < 4; i++) expect((await readyz(server)).status).toBe(503);
    await eventually(async () => (await readyz(server)).status === 200);
  });

  it('503 when the apiserver answers with an error, naming it', async () => {
    const server = await serve({ cluster: clusterReachable(clientFor(emu), { cacheMs: 0 }) });
    emu.failNext({ path: /^\/version$/ }, { status: 503, message: 'etcd leader changed' });
    const bad = await readyz(server);
    expect(bad.status).toBe(503);
    expect(bad.body.checks.cluster?.detail).toMatch(/^test: .*503/);
    await eventually(async () => (await readyz(server)).status === 200);
  });

  it('the cached answer expires: an outage shows within cacheMs', async () => {
    let clock = 0;
    const server = await serve({ cluster: clusterReachable(clientFor(emu), { timeoutMs: 300, cacheMs: 5_000, now: () => clock }) });
    expect((await readyz(server)).status).toBe(200);
    emu.failNext({ path: /^\/version$/ }, 'hang', 1);
    clock = 4_999;
    expect((await readyz(server)).status).toBe(200); // still the cached answer: no call made
    clock = 5_000;
    expect((await readyz(server)).status).toBe(503);
  });

  it('takes a client factory: a kubeconfig that fails to load is a failing check, retried on the next probe', async () => {
    let attempts = 0;
    const server = await serve({
      cluster: clusterReachable(
        () => {
          if (++attempts === 1) throw new Error('cluster prod: cannot load its kubeconfig: ENOENT');
          return clientFor(emu, 'prod');
        },
        { cacheMs: 0 },
      ),
    });
    const first = await readyz(server);
    expect(first.status).toBe(503);
    expect(first.body.checks.cluster?.detail).toContain('cannot load its kubeconfig');
    expect((await readyz(server)).status).toBe(200);
    expect((await readyz(server)).status).toBe(200);
    expect(attempts).toBe(2);
  });

  it('503 once the apiserver is gone', async () => {
    const gone = await KubeApiEmulator.start();
    const server = await serve({ cluster: clusterReachable(clientFor(gone), { cacheMs: 0 }) });
    expect((await readyz(server)).status).toBe(200);
    await gone.close();
    const down = await readyz(server);
    expect(down.status).toBe(503);
    expect(down.body.checks.cluster?.detail).toContain('ECONNREFUSED');
  });
});

describe('/readyz: Slack', () => {
  let slack: SlackWorkspaceEmulator;
  beforeAll(async () => {
    slack = await SlackWorkspaceEmulator.start({ scopes: MANIFEST_SCOPES });
    seedConversations(slack);
  });
  afterAll(async () => {
    await slack.close();
  });

  it('Socket Mode: 503 before the socket is up, 200 once Slack said hello, 503 after disconnect', async () => {
    const client = new SocketModeClient({ appToken: slack.appToken, logLevel: LogLevel.ERROR, clientOptions: { slackApiUrl: slack.apiUrl } });
    // The real client fits the structural type the check takes.
    const like: SocketModeClientLike = client;
    const server = await serve({ slack: socketModeConnected(like) });
    const before = await readyz(server);
    expect(before.status).toBe(503);
    expect(before.body.checks.slack).toEqual({ ok: false, detail: 'Socket Mode not started' });

    await client.start();
    const up = await readyz(server);
    expect(up.status).toBe(200);
    expect(up.body.checks.slack).toEqual({ ok: true, detail: 'Socket Mode connected' });

    // A check wired after the start trusts the open socket.
    const late = socketModeConnected(client);
    expect(await late()).toEqual({ ok: true, detail: 'Socket Mode connected' });

    await client.disconnect();
    const down = await readyz(server);
    expect(down.status).toBe(503);
    expect(down.body.checks.slack?.detail).toMatch(/^Socket Mode (disconnected|socket closed; reconnecting)$/);
    expect((await late()).ok).toBe(false);
    await slack.waitFor(() => slack.socketConnections === 0);
  });

  it('Socket Mode through Bolt: the SocketModeReceiver’s client, wired before app.start()', async () => {
    const receiver = new SocketModeReceiver({ appToken: slack.appToken, logLevel: BoltLogLevel.ERROR, installerOptions: { clientOptions: { slackApiUrl: slack.apiUrl } } });
    const app = new App({ receiver, token: slack.botToken, logLevel: BoltLogLevel.ERROR, clientOptions: { slackApiUrl: slack.apiUrl } });
    const server = await serve({ slack: socketModeConnected(receiver.client) });
    expect((await readyz(server)).status).toBe(503);
    await app.start();
    expect((await readyz(server)).body.checks.slack).toEqual({ ok: true, detail: 'Socket Mode connected' });
    await app.stop();
    expect((await readyz(server)).status).toBe(503);
    await slack.waitFor(() => slack.socketConnections === 0);
  });

  it('HTTP mode: ready once auth.test succeeded; a bad token is 503 naming Slack’s error', async () => {
    const good: AuthTestClient = new WebClient(slack.botToken, { slackApiUrl: slack.apiUrl, logLevel: LogLevel.ERROR });
    const bad = new WebClient('xoxb-revoked', { slackApiUrl: slack.apiUrl, logLevel: LogLevel.ERROR, retryConfig: { retries: 0 } });
    const okServer = await serve({ slack: slackAuthVerified(good) });
    const ok = await readyz(okServer);
    expect(ok.status).toBe(200);
    expect(ok.body.checks.slack).toEqual({ ok: true, detail: 'authenticated as vlinders-ops in Vlinders Emulator' });
    const badServer = await serve({ slack: slackAuthVerified(bad) });
    const no = await readyz(badServer);
    expect(no.status).toBe(503);
    expect(no.body.checks.slack?.detail).toContain('invalid_auth');
    expect(no.body.checks.slack?.detail).not.toContain('xoxb-revoked');
  });

  it('HTTP mode: a failed auth.test is retried after retryMs, and a success is kept', async () => {
    let clock = 0;
    const answers = [new Error('fetch failed'), { ok: true, user: 'bot', team: 'T' }];
    let calls = 0;
    const client: AuthTestClient = {
      auth: {
        test: async () => {
          const next = answers[Math.min(calls++, answers.length - 1)];
          if (next instanceof Error) throw next;
          return next as { ok: boolean; user: string; team: string };
        },
      },
    };
    const check = slackAuthVerified(client, { retryMs: 30_000, now: () => clock });
    expect(await check()).toEqual({ ok: false, detail: 'auth.test failed: fetch failed' });
    clock = 10_000;
    expect((await check()).ok).toBe(false);
    expect(calls).toBe(1);
    clock = 30_000;
    expect(await check()).toEqual({ ok: true, detail: 'authenticated as bot in T' });
    clock = 1_000_000;
    expect((await check()).ok).toBe(true);
    expect(calls).toBe(2);
  });

  it('both together: 503 names only what fails', async () => {
    const emu = await KubeApiEmulator.start();
    try {
      const server = await serve({
        slack: slackAuthVerified(new WebClient(slack.botToken, { slackApiUrl: slack.apiUrl, logLevel: LogLevel.ERROR })),
        cluster: clusterReachable(clientFor(emu), { timeoutMs: 300, cacheMs: 0 }),
      });
      expect((await readyz(server)).status).toBe(200);
      emu.failNext({ path: /.*/ }, 'hang', 100);
      const r = await readyz(server);
      expect(r.status).toBe(503);
      expect(r.body.failing).toEqual(['cluster']);
      expect(r.body.checks.slack?.ok).toBe(true);
    } finally {
      await emu.close();
    }
  });
});
