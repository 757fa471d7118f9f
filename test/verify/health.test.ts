// verify's health pass on a healthy and a broken seeded cluster: every broken thing named,
// and a Service whose only pod is not Ready has no endpoints.
import { afterEach, describe, expect, it } from 'vitest';
import { runChecks } from '../../src/preflight/run.js';
import type { WorldOptions } from '../../src/sandbox/kube/world/index.js';
import { clusterHealth, serviceEndpoints } from '../../src/verify/health.js';
import { clusterConfig, startCluster } from '../e2e/cluster.js';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function health(world: WorldOptions = {}) {
  const cluster = await startCluster(world);
  closers.push(() => cluster.close());
  const outcomes = await runChecks([clusterHealth, serviceEndpoints], { kube: cluster.client, config: clusterConfig(), signal: new AbortController().signal, now: new Date() }, 10_000);
  return { cluster, results: outcomes.flatMap((o) => o.results) };
}

describe('verify health', () => {
  it('on the seeded cluster: pods, workloads, PVCs, GPU nodes and endpoints all ✅', async () => {
    const { results } = await health();
    expect(results.map((r) => r.status)).toEqual(['pass', 'pass', 'pass', 'pass', 'pass']);
    expect(results.map((r) => r.detail)).toEqual([
      expect.stringMatching(/^Pods: \d+ Running and Ready$/),
      expect.stringMatching(/^Workloads: \d+ with every replica ready$/),
      expect.stringMatching(/^PVCs: \d+ Bound$/),
      'GPU nodes: 4 Ready',
      expect.stringMatching(/^\d+ Services each have Ready endpoints$/),
    ]);
  });

  it('on a broken cluster names the crashing pod, the unbound PVC, the lost GPU node and the Service left without endpoints', async () => {
    const { cluster, results } = await health({ crashLoopApiPod: true, unboundPvc: true, notReadyGpuNode: true, imagePullBackOff: true });
    const [pods, workloads, pvcs, gpus, endpoints] = results;
    expect(pods?.status).toBe('fail');
    expect(pods?.detail).toContain(`${cluster.world.cluster.broken.crashLoopPod}: CrashLoopBackOff`);
    expect(pods?.detail).toContain(`${cluster.world.cluster.broken.imagePullPod}: Pending: ImagePullBackOff`);
    expect(workloads?.detail).toContain('deployment vlinders-monitoring/grafana: 0/1 replicas ready');
    expect(pvcs).toMatchObject({ status: 'warn', detail: expect.stringContaining('pvc vlinders-platform/vlinders-uploads: Pending, not Bound') });
    expect(gpus).toMatchObject({ status: 'fail', detail: 'GPU nodes: 1/4 not Ready (vlinders-gpu-4)' });
    expect(endpoints).toMatchObject({ status: 'fail', detail: 'no Ready endpoints: vlinders-monitoring/grafana' });
  });
});
