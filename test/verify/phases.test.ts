// verify --phase N against the seeded cluster: each phase's conditions hold on the seeded
// platform, and each fails with the object that holds it up when that object is broken.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/schema.js';
import { checksFor, runChecks, type CheckOutcome } from '../../src/preflight/run.js';
import { startPlatformApi, type PlatformApiStub } from '../../src/sandbox/platform-api/server.js';
import type { KubeObject } from '../../src/sandbox/kube/contract.js';
import type { WorldOptions } from '../../src/sandbox/kube/world/index.js';
import { PHASE_CHECKS } from '../../src/verify/phase-checks.js';
import { startCluster } from '../e2e/cluster.js';
import { startPlatformPeers, type PlatformPeers } from '../preflight/world.js';

let peers: PlatformPeers;
let serve: PlatformApiStub;
beforeAll(async () => {
  peers = await startPlatformPeers();
  // Ray Serve's own proxy: the OpenAI routes without the platform's accounts.
  serve = await startPlatformApi({ requireAuth: false });
});
afterAll(async () => {
  await peers.close();
  await serve.close();
});
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function phase(n: number, world: WorldOptions = {}, change?: (cluster: Awaited<ReturnType<typeof startCluster>>) => void, config: Config = peers.config({ rayServeUrl: serve.url })) {
  const cluster = await startCluster(peers.world(world));
  closers.push(() => cluster.close());
  change?.(cluster);
  const outcomes = await runChecks(checksFor(PHASE_CHECKS, n), { kube: cluster.client, config, signal: new AbortController().signal, now: new Date() }, 5000);
  return { outcomes, failed: failures(outcomes) };
}
const failures = (outcomes: CheckOutcome[]) => outcomes.flatMap((o) => o.results.filter((r) => r.status !== 'pass').map((r) => `${o.check.id}: ${r.detail}`));

describe('verify --phase N', () => {
  it.each([
    [1, ['namespaces', 'secrets', 'configmaps', 'pvcs-bound']],
    [2, ['databases', 'schema']],
    [3, ['ray-head', 'serve-models']],
    [4, ['kong']],
    [5, ['monitoring-ready']],
  ])('phase %i is complete on the seeded platform', async (n, ids) => {
    const { outcomes, failed } = await phase(n);
    expect(outcomes.map((o) => o.check.id)).toEqual(ids);
    expect(failed).toEqual([]);
  });

  it('phase 1: an unbound PVC and a missing namespace', async () => {
    const { failed } = await phase(1, { unboundPvc: true }, (c) => c.kube.remove('v1', 'Namespace', undefined, 'vlinders-monitoring'));
    expect(failed).toEqual([
      'namespaces: vlinders-monitoring does not exist',
      expect.stringMatching(/^pvcs-bound: 1\/\d+ not Bound: pvc vlinders-platform\/vlinders-uploads: Pending, not Bound \(storage class gp3-encrypted\)$/),
    ]);
  });

  it('phase 2: Redis with no ready replica', async () => {
    const { failed } = await phase(2, {}, (c) => {
      const redis = c.kube.get('apps/v1', 'Deployment', 'vlinders-platform', 'redis') as KubeObject;
      c.kube.replace({ ...redis, status: { ...redis.status, readyReplicas: 0, availableReplicas: 0 } });
    });
    expect(failed).toEqual(['databases: Deployment vlinders-platform/redis 0/1 ready']);
  });

  it('phase 2: a schema without one of its tables', async () => {
    const { failed } = await phase(2, {}, undefined, peers.config({ rayServeUrl: serve.url, schemaTables: ['users', 'billing.invoices'] }));
    expect(failed).toEqual(['schema: vlinders lacks billing.invoices']);
  });

  it('phase 3: Ray Serve answering 503 shows the status and the body', async () => {
    serve.fail.models = { status: 503, body: { detail: 'Service Unavailable: no replicas of deployment VLLMDeployment' } };
    try {
      const { failed } = await phase(3);
      expect(failed).toEqual([expect.stringMatching(new RegExp(`^serve-models: GET ${serve.url}/v1/models: HTTP 503 in \\d+ ms: .*no replicas of deployment VLLMDeployment`))]);
    } finally {
      delete serve.fail.models;
    }
  });

  it('phase 4: Kong without a LoadBalancer address yet', async () => {
    const { failed } = await phase(4, {}, (c) => {
      const svc = c.kube.get('v1', 'Service', 'vlinders-platform', 'kong-gateway-proxy') as KubeObject;
      c.kube.replace({ ...svc, status: { loadBalancer: {} } });
    });
    expect(failed).toEqual(['kong: Service vlinders-platform/kong-gateway-proxy has no LoadBalancer address yet']);
  });

  it('phase 5: Grafana in ImagePullBackOff', async () => {
    const { failed } = await phase(5, { imagePullBackOff: true });
    expect(failed).toEqual(['monitoring-ready: Deployment vlinders-monitoring/grafana 0/1 ready']);
  });
});
