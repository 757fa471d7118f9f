// The Prometheus and Alertmanager clients against the real Prometheus (Debian's 2.42), the
// documented responses in the shared fixtures, and the stubs for the fault shapes the real
// server can't produce (a slow answer): what they parse, and what they say when it goes wrong.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlertmanagerClient } from '../../src/prometheus/alertmanager-api.js';
import { webhookSchema } from '../../src/prometheus/alertmanager.js';
import { PrometheusClient, sampleValue } from '../../src/prometheus/client.js';
import { AlertmanagerStub, PrometheusStub, gettableFromWebhook } from '../../src/sandbox/prometheus/server.js';
import { startPrometheus, type RealPrometheus } from '../tools/prometheus.js';
import { readCaptured } from '../fixtures/captured.js';

const VECTOR = 'prometheus/api_v1_query_vector_up_docs.json';
const MATRIX = 'prometheus/api_v1_query_range_matrix_up_docs.json';

/** A server that answers every request with one fixed body, as the documentation shows it. */
async function verbatim(body: string, status = 200): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = createServer((_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((r) => server.close(() => r())) };
}

/** The structure of a JSON value (keys and types, arrays by their first element), to compare shapes. */
function shape(v: unknown): unknown {
  if (Array.isArray(v)) return v.length === 0 ? [] : [shape(v[0])];
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)).map(([k, x]) => [k, k === 'metric' ? 'labels' : shape(x)]));
  return typeof v;
}

describe('Prometheus client', () => {
  let stub: PrometheusStub;
  let real: RealPrometheus;
  beforeAll(async () => {
    // No scrape targets; one short history backfilled by promtool.
    const history = '# HELP vlinders_test_backfilled A backfilled gauge.\n# TYPE vlinders_test_backfilled gauge\nvlinders_test_backfilled{job="history"} 7 1700000000\nvlinders_test_backfilled{job="history"} 8 1700000060\n# EOF\n';
    [stub, real] = await Promise.all([PrometheusStub.start(), startPrometheus({ targets: [], history })]);
  });
  afterAll(() => Promise.all([stub.close(), real.stop()]));

  it('parses the documented vector and matrix responses', async () => {
    for (const [file, read] of [
      [VECTOR, (c: PrometheusClient) => c.query('up')],
      [MATRIX, (c: PrometheusClient) => c.queryRange('up', { start: 1435781430, end: 1435781460, stepSeconds: 15 })],
    ] as const) {
      const server = await verbatim(readCaptured(file));
      try {
        const got = await read(new PrometheusClient(server.url));
        const doc = JSON.parse(readCaptured(file)) as { data: { result: Array<{ metric: Record<string, string>; value?: [number, string]; values?: Array<[number, string]> }> } };
        expect(got.map((s) => s.metric)).toEqual(doc.data.result.map((r) => r.metric));
        if (file === VECTOR) expect(got.map((s) => ('value' in s ? s.value : undefined))).toEqual(doc.data.result.map((r) => Number(r.value?.[1])));
        else expect(got.map((s) => ('points' in s ? s.points : undefined))).toEqual(doc.data.result.map((r) => r.values?.map(([t, v]) => [t, Number(v)])));
      } finally {
        await server.close();
      }
    }
  });

  it('the real Prometheus and the stub answer in the documented shapes', async () => {
    const t = 1435781451.781;
    const labelled = 'label_replace(vector(1), "job", "prometheus", "", "")';
    const realVector = await (await fetch(`${real.url}/api/v1/query?query=${encodeURIComponent(labelled)}&time=${t}`)).json();
    const realMatrix = await (await fetch(`${real.url}/api/v1/query_range?query=${encodeURIComponent(labelled)}&start=${t - 30}&end=${t}&step=15`)).json();
    expect(shape(realVector)).toEqual(shape(JSON.parse(readCaptured(VECTOR))));
    expect(shape(realMatrix)).toEqual(shape(JSON.parse(readCaptured(MATRIX))));
    expect(await new PrometheusClient(real.url).queryRange(labelled, { start: t - 30, end: t, stepSeconds: 15 })).toEqual([{ metric: { job: 'prometheus' }, points: [[t - 30, 1], [t - 15, 1], [t, 1]] }]);

    stub.setInstant('up', [{ metric: { __name__: 'up', job: 'prometheus', instance: 'localhost:9090' }, value: 1 }]);
    stub.setRange('up', [{ metric: { __name__: 'up', job: 'node', instance: 'localhost:9091' }, at: (t) => (t > 1435781450 ? 1 : 0) }]);
    const vector = await (await fetch(`${stub.url}/api/v1/query?query=up&time=1435781451.781`)).json();
    const matrix = await (await fetch(`${stub.url}/api/v1/query_range?query=up&start=1435781430.781&end=1435781460.781&step=15`)).json();
    expect(shape(vector)).toEqual(shape(JSON.parse(readCaptured(VECTOR))));
    expect(shape(matrix)).toEqual(shape(JSON.parse(readCaptured(MATRIX))));
    const series = await new PrometheusClient(stub.url).queryRange('up', { start: 1435781430.781, end: 1435781460.781, stepSeconds: 15 });
    expect(series[0]?.points.map(([, v]) => v)).toEqual([0, 0, 1]);
  });

  it('reads special floats, and an unknown series is an empty answer', async () => {
    expect([sampleValue('NaN'), sampleValue('+Inf'), sampleValue('-Inf'), sampleValue('0.25')]).toEqual([NaN, Infinity, -Infinity, 0.25]);
    const prom = new PrometheusClient(real.url);
    expect((await prom.query('vector(0) / vector(0)'))[0]?.value).toBeNaN();
    expect((await prom.query('vector(1) / vector(0)'))[0]?.value).toBe(Infinity);
    // A scalar answer is one sample without labels.
    expect(await prom.query('scalar(vector(-1) / vector(0))', { time: 1435781451 })).toEqual([{ metric: {}, at: 1435781451, value: -Infinity }]);
    expect(await prom.query('absent_metric')).toEqual([]);
    // A short history backfilled with promtool before the start.
    expect(await prom.query('vlinders_test_backfilled', { time: 1700000090 })).toEqual([{ metric: { __name__: 'vlinders_test_backfilled', job: 'history' }, at: 1700000090, value: 8 }]);
  });

  it('says what Prometheus refused, and what could not be reached', async () => {
    await expect(new PrometheusClient(real.url).query('sum(')).rejects.toThrow(/^Prometheus refused `sum\(`: bad_data: invalid parameter "query": 1:5: parse error: unclosed left parenthesis$/);
    await expect(new PrometheusClient(real.url).queryRange('up', { start: 100, end: 100 + 86_400 * 7, stepSeconds: 1 })).rejects.toThrow('exceeded maximum resolution of 11,000 points per timeseries');
    const closed = await verbatim('{}');
    await closed.close();
    await expect(new PrometheusClient(closed.url).query('up')).rejects.toThrow(/Could not reach Prometheus \(GET http:\/\/127\.0\.0\.1:\d+\/api\/v1\/query\): ECONNREFUSED/);
    const html = await verbatim('<html>502 Bad Gateway</html>', 502);
    await expect(new PrometheusClient(html.url).query('up')).rejects.toThrow('answered HTTP 502 with something that is not JSON');
    await html.close();
    const wrong = await verbatim(readCaptured(MATRIX));
    await expect(new PrometheusClient(wrong.url).query('up')).rejects.toThrow('expected a vector, got matrix');
    await wrong.close();
  });

  it('refuses an answer too big to hold', async () => {
    // A thousand points of one series: about 20 KiB of JSON.
    const range = { start: 1_000_000, end: 1_000_000 + 999 * 15, stepSeconds: 15 };
    expect((await new PrometheusClient(real.url).queryRange('vector(1)', range))[0]?.points).toHaveLength(1000);
    await expect(new PrometheusClient(real.url, 5000, 4096).queryRange('vector(1)', range)).rejects.toThrow('answered more than 4 KiB; narrow the query');
  });

  it('gives up after its timeout, and when the caller aborts', async () => {
    stub.delayMs = 1500;
    try {
      await expect(new PrometheusClient(stub.url, 200).query('up')).rejects.toThrow(/^Prometheus did not answer GET http:\/\/127\.0\.0\.1:\d+\/api\/v1\/query within 200 ms\.$/);
      const abort = new AbortController();
      const pending = new PrometheusClient(stub.url, 5000).query('up', { signal: abort.signal });
      abort.abort();
      await expect(pending).rejects.toThrow(/^Stopped: GET http:\/\/127\.0\.0\.1:\d+\/api\/v1\/query to Prometheus was aborted\.$/);
    } finally {
      stub.delayMs = 0;
    }
  });
});

describe('Alertmanager API v2 client', () => {
  let am: AlertmanagerStub;
  beforeAll(async () => {
    am = await AlertmanagerStub.start();
  });
  afterAll(() => am.close());

  it('lists the alerts Alertmanager holds, made from a real webhook payload', async () => {
    const payload = webhookSchema.parse(JSON.parse(readCaptured('alertmanager/alertmanager_webhook_v4_firing_cloudeon.json')));
    am.alerts = payload.alerts.map((a, i) => gettableFromWebhook(a, payload.receiver, '2023-03-25T06:45:00.000Z', i === 2 ? 'suppressed' : 'active'));
    const alerts = await new AlertmanagerClient(am.url).alerts();
    expect(alerts.map((a) => a.fingerprint)).toEqual(payload.alerts.map((a) => a.fingerprint));
    expect(alerts.map((a) => a.status.state)).toEqual(['active', 'active', 'suppressed']);
    expect(alerts[0]?.receivers).toEqual([{ name: 'web\\.hook' }]);
  });

  it('says when Alertmanager is down or answers something else', async () => {
    am.failStatus = 503;
    await expect(new AlertmanagerClient(am.url).alerts()).rejects.toThrow('Alertmanager (http://127.0.0.1:');
    await expect(new AlertmanagerClient(am.url).alerts()).rejects.toThrow('answered HTTP 503');
    am.failStatus = undefined;
    const v1 = await verbatim(JSON.stringify({ status: 'success', data: [] }));
    await expect(new AlertmanagerClient(v1.url).alerts()).rejects.toThrow('not a list of alerts (API v2)');
    await v1.close();
  });
});
