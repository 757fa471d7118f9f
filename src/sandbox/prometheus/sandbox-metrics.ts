// The sandbox's Prometheus: what the digests, their charts and `diagnose latency` ask of it,
// answered for the seeded cluster (its GPU nodes, its PVCs) with values that move over the day,
// so the console shows real charts. Only the configured queries are answered, as a stub does.
import type { Config } from '../../config/schema.js';
import { parseQuantity } from '../../kube/health.js';
import type { KubeApiEmulator } from '../kube/index.js';
import type { PrometheusStub } from './server.js';

const GiB = 2 ** 30;
const wave = (t: number, period: number, phase = 0) => Math.sin((2 * Math.PI * t) / period + phase);

export function seedSandboxMetrics(prom: PrometheusStub, queries: Config['prometheus']['queries'], kube: KubeApiEmulator): void {
  const nodes = kube.list('v1', 'Node').filter((n) => Number((n.status as { allocatable?: Record<string, string> } | undefined)?.allocatable?.['nvidia.com/gpu'] ?? 0) > 0);
  const gpu = nodes.map((n, i) => ({ metric: { Hostname: n.metadata.name }, at: (t: number) => Math.max(2, Math.min(99, 55 + 30 * wave(t, 86_400, i) + 5 * wave(t, 6 * 3_600, i))) }));
  prom.setRange(queries.gpuUtilizationPercent, gpu);
  const p95 = (t: number) => 0.33 + 0.12 * wave(t, 86_400) + 0.05 * wave(t, 6 * 3_600);
  prom.setRange(queries.p95Latency, [{ metric: {}, at: p95 }]);
  prom.setInstant(queries.p95Latency, [{ metric: {}, value: p95 }]);
  prom.setInstant(queries.requestsWaiting, [{ metric: {}, value: 0 }]);
  prom.setInstant(queries.requestsRunning, [{ metric: {}, value: 6 }]);
  const gpuNodes = (t: number) => nodes.length - (wave(t, 86_400) < -0.6 ? 1 : 0);
  prom.setRange(queries.gpuNodes, [{ metric: {}, at: gpuNodes }]);
  prom.setInstant(queries.gpuNodes, [{ metric: {}, value: gpuNodes }]);
  const db = (t: number) => 12 * GiB + ((t / 86_400) % 365) * 40 * 2 ** 20;
  prom.setRange(queries.dbSizeBytes, [{ metric: { datname: 'vlinders' }, at: db }]);
  prom.setInstant(queries.dbSizeBytes, [{ metric: { datname: 'vlinders' }, value: db }]);
  prom.setInstant(queries.nodeDiskUsedPercent, kube.list('v1', 'Node').slice(0, 8).map((n, i) => ({ metric: { instance: n.metadata.name }, value: 35 + i * 4 })));
  const pvcs = kube.list('v1', 'PersistentVolumeClaim').map((p, i) => {
    const capacity = parseQuantity((p.spec as { resources?: { requests?: { storage?: string } } } | undefined)?.resources?.requests?.storage) || 10 * GiB;
    const metric = { namespace: p.metadata.namespace ?? '', persistentvolumeclaim: p.metadata.name };
    return { metric, capacity, used: (t: number) => capacity * (0.3 + 0.05 * i + 0.02 * ((t / 86_400) % 30)) };
  });
  prom.setRange(queries.pvcUsedBytes, pvcs.map((p) => ({ metric: p.metric, at: p.used })));
  prom.setInstant(queries.pvcUsedBytes, pvcs.map((p) => ({ metric: p.metric, value: p.used })));
  prom.setInstant(queries.pvcCapacityBytes, pvcs.map((p) => ({ metric: p.metric, value: p.capacity })));
}
