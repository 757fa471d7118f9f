// The Ray dashboard client against the stub (documented shapes from test/fixtures/captured/ray) and
// against servers that misbehave: wording of each failure, and the declarative config a GET
// gives back for a PUT.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { RayDashboard, declarativeConfig, type ServeApplicationsResponse } from '../../src/ray/dashboard.js';
import { RayDashboardStub } from '../../src/sandbox/ray/dashboard-stub.js';
import { readCaptured } from '../fixtures/captured.js';
import { refusedUrl } from '../models/ops-world.js';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

async function stub() {
  const s = await RayDashboardStub.start({ deployMs: 50 });
  closers.push(() => s.close());
  return { s, client: new RayDashboard({ dashboardUrl: s.url, serveUrl: s.url, timeoutMs: 2000 }) };
}

async function server(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const srv: Server = createServer(handler);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  closers.push(async () => {
    srv.closeAllConnections();
    await new Promise((r) => srv.close(r));
  });
  return `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
}

describe('declarativeConfig', () => {
  it('turns the documented GET response into the body PUT takes', () => {
    const doc = JSON.parse(readCaptured('ray/serve_api_applications_GET_response_docs.json')) as ServeApplicationsResponse;
    const config = declarativeConfig(doc);
    expect(config.proxy_location).toBe('EveryNode');
    expect(config.http_options).toEqual({ host: '0.0.0.0', port: 8000, root_path: '', keep_alive_timeout_s: 5 });
    expect(config.applications).toEqual([doc.applications.app1?.deployed_app_config]);
  });
});

describe('RayDashboard', () => {
  it('reads applications, PUTs a config that moves the app DEPLOYING → RUNNING, and lists models', async () => {
    const { s, client } = await stub();
    const state = await client.getApplications();
    expect(state.applications['vlinders-llm']?.status).toBe('RUNNING');
    expect(state.controller_info).toBeDefined();
    const config = declarativeConfig(state);
    const app = config.applications[0];
    if (!app) throw new Error('no app');
    app.runtime_env = { env_vars: { MODEL_ID: 'org/other' } };
    await client.putApplications(config);
    expect((await client.getApplications()).applications['vlinders-llm']?.status).toBe('DEPLOYING');
    await new Promise((r) => setTimeout(r, 120));
    expect((await client.getApplications()).applications['vlinders-llm']?.status).toBe('RUNNING');
    expect((await client.listModels()).data.map((m) => m.id)).toEqual(['org/other']);
    expect(s.puts).toHaveLength(1);
  });

  it('submits a Ray job and reads its status in the documented JobDetails shape', async () => {
    const { client } = await stub();
    const { submission_id } = await client.submitJob({ entrypoint: 'serve deploy /x.yaml', runtime_env: { env_vars: { MODEL_ID: 'org/next' } } });
    expect(submission_id).toMatch(/^raysubmit_/);
    expect((await client.getJob(submission_id)).status).toMatch(/PENDING|RUNNING/);
    await new Promise((r) => setTimeout(r, 120));
    const done = await client.getJob(submission_id);
    expect(done).toMatchObject({ status: 'SUCCEEDED', type: 'SUBMISSION', entrypoint: 'serve deploy /x.yaml' });
    expect((await client.listModels()).data.map((m) => m.id)).toEqual(['org/next']);
    await expect(client.getJob('raysubmit_nope')).rejects.toThrow('The Ray dashboard answered 404 to GET');
  });

  it('says so when the dashboard is unreachable, slow, failing or not JSON, with secrets redacted', async () => {
    const url = await refusedUrl();
    const down = new RayDashboard({ dashboardUrl: url, serveUrl: url, timeoutMs: 1000 });
    await expect(down.getApplications()).rejects.toThrow(`Could not reach the Ray dashboard (GET ${url}/api/serve/applications/): ECONNREFUSED.`);
    const slow = await server(() => undefined);
    await expect(new RayDashboard({ dashboardUrl: slow, serveUrl: slow, timeoutMs: 300 }).getApplications()).rejects.toThrow(/^The Ray dashboard did not answer GET http:\/\/127\.0\.0\.1:\d+\/api\/serve\/applications\/ within 300 ms\.$/);
    const failing = await server((_req, res) => res.writeHead(500).end('controller died; DATABASE_URL=postgres://u:hunter2@db/x'));
    const err = await new RayDashboard({ dashboardUrl: failing, serveUrl: failing, timeoutMs: 1000 }).getApplications().catch((e: Error) => e);
    expect(String(err)).toContain('answered 500');
    expect(String(err)).not.toContain('hunter2');
    const html = await server((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>login</html>'));
    await expect(new RayDashboard({ dashboardUrl: html, serveUrl: html, timeoutMs: 1000 }).getApplications()).rejects.toThrow('not JSON');
    // An answer no Serve or Jobs call gives (a proxy streaming something else) is cut off, not held.
    const endless = await server((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(1 << 20, 0x20);
      const more = () => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once('drain', more);
      };
      more();
    });
    await expect(new RayDashboard({ dashboardUrl: endless, serveUrl: endless, timeoutMs: 5000 }).getApplications()).rejects.toThrow('with more than 16 MiB; that is not a Serve or Jobs answer');
    const aborted = new AbortController();
    aborted.abort();
    await expect(new RayDashboard({ dashboardUrl: slow, serveUrl: slow, timeoutMs: 5000 }).getApplications(aborted.signal)).rejects.toThrow('was aborted');
  });

  it('the stub refuses an invalid PUT with 400, as Serve validates its schema', async () => {
    const { s } = await stub();
    const res = await fetch(`${s.url}/api/serve/applications/`, { method: 'PUT', body: JSON.stringify({ applications: [{ name: 'x' }] }) });
    expect(res.status).toBe(400);
    expect(s.appStatus('vlinders-llm')).toBe('RUNNING');
  });
});
