// metrics.k8s.io/v1beta1, shaped like metrics-server's answers: usage comes from the world's
// MetricsSource for the nodes and pods that exist in the store.
import type { ServerResponse } from 'node:http';
import type { KubeObject, MetricsSource } from './contract.js';
import type { Route } from './rest.js';
import { sendJson } from './respond.js';
import { parseLabelSelector } from './selectors.js';
import { failure } from './status.js';
import { type Entry, type Store, materialize, nowTimestamp } from './store.js';

const API_VERSION = 'metrics.k8s.io/v1beta1';
const WINDOW = '20.036s';

function meta(obj: KubeObject): Record<string, unknown> {
  const m: Record<string, unknown> = { name: obj.metadata.name };
  if (obj.metadata.namespace) m.namespace = obj.metadata.namespace;
  m.creationTimestamp = nowTimestamp();
  if (obj.metadata.labels) m.labels = obj.metadata.labels;
  return m;
}

function nodeMetrics(src: MetricsSource | undefined, e: Entry, now: string): object | undefined {
  const usage = src?.node(e.name);
  if (!usage) return undefined;
  return { metadata: meta(materialize(e)), timestamp: now, window: WINDOW, usage: { cpu: usage.cpu, memory: usage.memory } };
}

function podMetrics(src: MetricsSource | undefined, e: Entry, now: string): object | undefined {
  const containers = src?.pod(e.namespace, e.name);
  if (!containers) return undefined;
  return {
    metadata: meta(materialize(e)),
    timestamp: now,
    window: WINDOW,
    containers: containers.map((c) => ({ name: c.name, usage: { cpu: c.cpu, memory: c.memory } })),
  };
}

export function serveMetrics(store: Store, src: MetricsSource | undefined, res: ServerResponse, route: Route, q: URLSearchParams): void {
  const nodes = route.type.kind === 'NodeMetrics';
  const typeKey = nodes ? 'v1/Node' : 'v1/Pod';
  const render = nodes ? nodeMetrics : podMetrics;
  const now = nowTimestamp();
  if (route.name) {
    const e = store.entry(typeKey, route.namespace ?? '', route.name);
    const item = e && render(src, e, now);
    if (!item) throw failure(404, 'NotFound', `${route.type.resource}.metrics.k8s.io "${route.name}" not found`, { name: route.name, group: 'metrics.k8s.io', kind: route.type.resource });
    return sendJson(res, 200, { kind: route.type.kind, apiVersion: API_VERSION, ...item });
  }
  const labels = parseLabelSelector(q.get('labelSelector'));
  const items: object[] = [];
  for (const e of store.entries(typeKey, route.namespace)) {
    if (labels && !labels(e.labels)) continue;
    const item = render(src, e, now);
    if (item) items.push(item);
  }
  sendJson(res, 200, { kind: `${route.type.kind}List`, apiVersion: API_VERSION, metadata: {}, items });
}
