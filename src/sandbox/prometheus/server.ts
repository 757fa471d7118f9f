// Stub Prometheus and Alertmanager HTTP servers for tests. They answer with the documented
// response shapes (fixtures/prometheus: the vector and matrix envelopes; the Alertmanager
// API v2 gettableAlert list), holding whatever series and alerts a test sets; the sandbox's
// passes the queries it holds nothing for on to a real Prometheus (forwardTo).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GettableAlert } from '../../prometheus/alertmanager-api.js';
import type { Alert } from '../../prometheus/alertmanager.js';

export interface StubSample {
  metric: Record<string, string>;
  /** The value, or the value at the query's evaluation time (unix seconds). */
  value: number | ((t: number) => number);
}

export interface StubSeries {
  metric: Record<string, string>;
  /** The value at a unix time (seconds); sampled at every step of the query's range. */
  at: (t: number) => number;
}

/** Prometheus writes sample values as strings, with special floats spelled out. */
const formatValue = (v: number) => (Number.isNaN(v) ? 'NaN' : v === Infinity ? '+Inf' : v === -Infinity ? '-Inf' : String(v));

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const send = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

export class PrometheusStub {
  /** Every query asked, in order (the PromQL text). */
  readonly asked: string[] = [];
  private instant = new Map<string, StubSample[]>();
  private range = new Map<string, StubSeries[]>();
  private errors = new Map<string, { httpStatus: number; errorType: string; error: string }>();
  /** Hold every answer this long (tests of timeouts). */
  delayMs = 0;
  /**
   * Where a query it holds no answer for goes (the sandbox's real Prometheus, world-prometheus.ts);
   * unset, such a query gets an empty answer. A rejection becomes Prometheus's error envelope.
   */
  forwardTo?: () => Promise<string>;

  private constructor(private server: Server, readonly url: string) {}

  static async start(): Promise<PrometheusStub> {
    const holder: { stub?: PrometheusStub } = {};
    const { server, url } = await listen((req, res) => void holder.stub?.handle(req, res));
    holder.stub = new PrometheusStub(server, url);
    return holder.stub;
  }

  /** What an instant query of exactly `promql` returns. Unknown queries return an empty vector, as Prometheus does for absent series. */
  setInstant(promql: string, samples: StubSample[]): void {
    this.instant.set(promql, samples);
  }

  setRange(promql: string, series: StubSeries[]): void {
    this.range.set(promql, series);
  }

  /** `promql` fails the way Prometheus fails (e.g. 400 bad_data for a parse error). */
  setError(promql: string, errorType = 'bad_data', error = 'parse error', httpStatus = 400): void {
    this.errors.set(promql, { httpStatus, errorType, error });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    if (req.method !== 'GET' && req.method !== 'POST') return send(res, 405, { status: 'error', errorType: 'bad_data', error: 'method not allowed' });
    const query = url.searchParams.get('query');
    const isRange = url.pathname === '/api/v1/query_range';
    if (url.pathname !== '/api/v1/query' && !isRange) return send(res, 404, { status: 'error', errorType: 'not_found', error: `no route ${url.pathname}` });
    if (!query) return send(res, 400, { status: 'error', errorType: 'bad_data', error: 'invalid parameter "query": no query given' });
    this.asked.push(query);
    const failure = this.errors.get(query);
    if (failure) return send(res, failure.httpStatus, { status: 'error', errorType: failure.errorType, error: failure.error });
    if (this.forwardTo && !(isRange ? this.range : this.instant).has(query)) return this.forward(this.forwardTo, req, url, res);
    if (!isRange) {
      const time = Number(url.searchParams.get('time') ?? Date.now() / 1000);
      const result = (this.instant.get(query) ?? []).map((s) => ({ metric: s.metric, value: [time, formatValue(typeof s.value === 'function' ? s.value(time) : s.value)] }));
      return send(res, 200, { status: 'success', data: { resultType: 'vector', result } });
    }
    const start = Number(url.searchParams.get('start'));
    const end = Number(url.searchParams.get('end'));
    const step = Number(url.searchParams.get('step'));
    if (!(step > 0) || !(end >= start)) return send(res, 400, { status: 'error', errorType: 'bad_data', error: 'invalid range: start, end and step are needed, end after start' });
    if ((end - start) / step > 11_000) return send(res, 400, { status: 'error', errorType: 'bad_data', error: 'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)' });
    const result = (this.range.get(query) ?? []).map((s) => {
      const values: Array<[number, string]> = [];
      for (let t = start; t <= end; t += step) values.push([t, formatValue(s.at(t))]);
      return { metric: s.metric, values };
    });
    return send(res, 200, { status: 'success', data: { resultType: 'matrix', result } });
  }

  private async forward(to: () => Promise<string>, req: IncomingMessage, url: URL, res: ServerResponse): Promise<void> {
    try {
      const body = req.method === 'POST' ? Buffer.concat(await req.toArray()) : undefined;
      const answer = await fetch(`${await to()}${url.pathname}${url.search}`, { method: req.method, body, headers: { 'content-type': req.headers['content-type'] ?? 'application/x-www-form-urlencoded' } });
      res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
      res.end(Buffer.from(await answer.arrayBuffer()));
    } catch (err) {
      send(res, 503, { status: 'error', errorType: 'unavailable', error: (err as Error).message.split('\n')[0] });
    }
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }
}

export class AlertmanagerStub {
  alerts: GettableAlert[] = [];
  /** Answer every request with this HTTP status instead (outage tests). */
  failStatus?: number;

  private constructor(private server: Server, readonly url: string) {}

  static async start(): Promise<AlertmanagerStub> {
    const holder: { stub?: AlertmanagerStub } = {};
    const { server, url } = await listen((req, res) => holder.stub?.handle(req, res));
    holder.stub = new AlertmanagerStub(server, url);
    return holder.stub;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', this.url);
    if (this.failStatus) return send(res, this.failStatus, 'Alertmanager is unavailable');
    if (req.method !== 'GET' || url.pathname !== '/api/v2/alerts') return send(res, 404, `no route ${req.method} ${url.pathname}`);
    send(res, 200, this.alerts);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }
}

/**
 * An alert as API v2 lists it, made from an alert of a real webhook payload: the same labels,
 * annotations, times and fingerprint, plus what only v2 has (receivers, updatedAt, status).
 */
export function gettableFromWebhook(alert: Alert, receiver: string, updatedAt: string, state: GettableAlert['status']['state'] = 'active'): GettableAlert {
  return {
    labels: alert.labels,
    annotations: alert.annotations,
    receivers: [{ name: receiver }],
    fingerprint: alert.fingerprint ?? Object.values(alert.labels).join('-'),
    startsAt: alert.startsAt ?? updatedAt,
    updatedAt,
    endsAt: alert.endsAt && !alert.endsAt.startsWith('0001-') ? alert.endsAt : updatedAt,
    generatorURL: alert.generatorURL,
    status: { state, silencedBy: [], inhibitedBy: [], mutedBy: [] },
  };
}
