// The Eviction subresource (pods/<name>/eviction, policy/v1 Eviction) held to the real clients:
// the real `kubectl drain` finds it through discovery, skips DaemonSet and mirror pods, evicts
// the rest and stops at a PodDisruptionBudget with the apiserver's 429; client-node sees the
// exact Status bodies (429 with its cause, 404, 400, 500 for two budgets) and the budget's
// status the world's disruption controller keeps.
import { ApiException, CoreV1Api, KubeConfig, PolicyV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeApiEmulator, type KubeObject } from '../../src/sandbox/kube/index.js';
import { startDisruptionController, startKubelet, type Controller } from '../../src/sandbox/kube/world/index.js';
import { Kubectl, namespace, node, pod, until } from './kube-helpers.js';

const NS = 'serving';
let emu: KubeApiEmulator;
let core: CoreV1Api;
let policy: PolicyV1Api;
let kubectl: Kubectl;
const controllers: Controller[] = [];
let disruptionController: Controller;

const owned = (o: KubeObject, owner: KubeObject): KubeObject => ({
  ...o,
  metadata: { ...o.metadata, ownerReferences: [{ apiVersion: owner.apiVersion, kind: owner.kind, name: owner.metadata.name, uid: owner.metadata.uid as string, controller: true }] },
});
const readyPod = (name: string, nodeName: string, labels: Record<string, string>): KubeObject => {
  const p = pod(NS, name, { node: nodeName, labels });
  (p.status as Record<string, unknown>).conditions = [{ type: 'Ready', status: 'True' }];
  return p;
};
const pdb = (name: string, spec: Record<string, unknown>): KubeObject => ({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name, namespace: NS }, spec });
const pdbStatus = (name: string) => emu.get('policy/v1', 'PodDisruptionBudget', NS, name)?.status as { disruptionsAllowed?: number; currentHealthy?: number; desiredHealthy?: number; observedGeneration?: number; disruptedPods?: Record<string, string> } | undefined;
const evictionOf = (name: string, extra: Record<string, unknown> = {}) => ({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace: NS }, ...extra });

const errorOf = async (p: Promise<unknown>): Promise<{ code: number; body: Record<string, unknown>; headers: Record<string, string> }> => {
  try {
    await p;
  } catch (e) {
    if (e instanceof ApiException) return { code: e.code, body: JSON.parse(String(e.body)) as Record<string, unknown>, headers: e.headers };
    throw e;
  }
  throw new Error('expected the call to fail');
};

beforeAll(async () => {
  emu = await KubeApiEmulator.start();
  for (const ns of ['default', NS, 'kube-system']) emu.create(namespace(ns));
  for (const n of ['gpu-1', 'gpu-2', 'gpu-3']) emu.create(node(n, { gpus: 1 }));
  // The kubelet finishes graceful deletions quickly; the disruption controller keeps budgets current.
  disruptionController = startDisruptionController(emu);
  controllers.push(startKubelet(emu, { terminationMs: 100 }), disruptionController);
  const kc = new KubeConfig();
  kc.loadFromString(emu.kubeconfig());
  core = kc.makeApiClient(CoreV1Api);
  policy = kc.makeApiClient(PolicyV1Api);
  kubectl = await Kubectl.for(emu);
});

afterAll(async () => {
  controllers.forEach((c) => c.stop());
  await kubectl?.cleanup();
  await emu?.close();
});

describe('kubectl drain', () => {
  it('cordons, skips DaemonSet and mirror pods, evicts what the budget allows and stops at it with the 429', async () => {
    const ds = emu.create({ apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'dcgm-exporter', namespace: 'kube-system' }, spec: { selector: { matchLabels: { app: 'dcgm' } }, template: { metadata: { labels: { app: 'dcgm' } }, spec: { containers: [{ name: 'x', image: 'busybox' }] } } } });
    emu.create(owned(pod('kube-system', 'dcgm-exporter-x7k2p', { node: 'gpu-2', labels: { app: 'dcgm' } }), ds));
    const mirror = pod('kube-system', 'kube-proxy-gpu-2', { node: 'gpu-2' });
    mirror.metadata.annotations = { 'kubernetes.io/config.mirror': '3f9c1d2e' };
    emu.create(mirror);
    const rs = emu.create({ apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'llm-5d8f', namespace: NS }, spec: { replicas: 3, selector: { matchLabels: { app: 'llm' } }, template: { metadata: { labels: { app: 'llm' } }, spec: { containers: [{ name: 'x', image: 'busybox' }] } } } });
    for (const [name, at] of [['llm-a', 'gpu-2'], ['llm-b', 'gpu-2'], ['llm-c', 'gpu-1']] as const) emu.create(owned(readyPod(name, at, { app: 'llm' }), rs));
    emu.create(pdb('llm', { minAvailable: 2, selector: { matchLabels: { app: 'llm' } } }));
    await until('the budget allowing one disruption', () => pdbStatus('llm')?.disruptionsAllowed === 1);

    const mark = emu.mark();
    const r = await kubectl.run(['drain', 'gpu-2', '--ignore-daemonsets', '--timeout=2s'], { timeout: 20_000 });
    expect(r.exitCode, String(r.stderr)).toBe(1);
    expect(r.stdout).toContain('node/gpu-2 cordoned');
    expect(r.stderr).toContain('Warning: ignoring DaemonSet-managed Pods: kube-system/dcgm-exporter-x7k2p');
    expect(r.stderr).toMatch(/error when evicting pods\/"llm-[ab]" -n "serving" \(will retry after 5s\): Cannot evict pod as it would violate the pod's disruption budget\./);
    expect(r.stderr).toMatch(/error: unable to drain node "gpu-2" due to error: error when evicting pods\/"llm-[ab]" -n "serving": global timeout reached: 2s/);
    expect(r.stdout).toMatch(/pod\/llm-[ab] evicted/);

    expect((emu.get('v1', 'Node', undefined, 'gpu-2')?.spec as { unschedulable?: boolean }).unschedulable).toBe(true);
    const left = ['llm-a', 'llm-b'].filter((n) => emu.get('v1', 'Pod', NS, n));
    expect(left).toHaveLength(1);
    expect(emu.get('v1', 'Pod', 'kube-system', 'dcgm-exporter-x7k2p')).toBeDefined();
    expect(emu.get('v1', 'Pod', 'kube-system', 'kube-proxy-gpu-2')).toBeDefined();
    // Both went through the Eviction API, never a DELETE; the DaemonSet and mirror pods were not touched.
    emu.expectCalls(
      [
        { call: 'patch /api/v1/nodes/gpu-2' },
        { call: 'create /api/v1/namespaces/serving/pods/llm-a/eviction', times: 'some' },
        { call: 'create /api/v1/namespaces/serving/pods/llm-b/eviction', times: 'some' },
      ],
      { since: mark, ignore: [/^(get|list) /] },
    );
    const evictions = emu.requests.slice(mark).filter((q) => q.path.endsWith('/eviction'));
    expect(evictions.map((q) => q.status).sort()).toEqual([201, 429]);
  }, 30_000);

  it('finds the Eviction API in discovery as policy/v1 pods/eviction', async () => {
    const r = await kubectl.run(['get', '--raw', '/api/v1']);
    const resources = (JSON.parse(String(r.stdout)) as { resources: Array<Record<string, unknown>> }).resources;
    expect(resources.find((x) => x.name === 'pods/eviction')).toEqual({ name: 'pods/eviction', singularName: '', namespaced: true, group: 'policy', version: 'v1', kind: 'Eviction', verbs: ['create'] });
    const pdbs = await kubectl.run(['get', 'pdb', '-n', NS, '--no-headers']);
    // The drain above spent the one disruption llm allowed.
    expect(String(pdbs.stdout).trim().split(/\s+/).slice(0, 4)).toEqual(['llm', '2', 'N/A', '0']);
  });
});

describe('the Eviction API through client-node', () => {
  it('no budget: 201 Success, and the pod terminates gracefully before it goes', async () => {
    emu.create(readyPod('solo', 'gpu-3', { app: 'solo' }));
    await core.createNamespacedPodEviction({ name: 'solo', namespace: NS, body: evictionOf('solo') });
    const last = emu.requests.at(-1);
    expect([last?.verb, last?.status]).toEqual(['create', 201]);
    expect(emu.get('v1', 'Pod', NS, 'solo')?.metadata.deletionTimestamp).toBeDefined();
    await until('the kubelet removing it', () => !emu.get('v1', 'Pod', NS, 'solo'));
  });

  it('the Eviction’s deleteOptions reach the deletion: grace 0 removes at once; dryRun changes nothing', async () => {
    emu.create(readyPod('quick', 'gpu-3', { app: 'quick' }));
    await core.createNamespacedPodEviction({ name: 'quick', namespace: NS, body: evictionOf('quick'), dryRun: 'All' });
    expect(emu.get('v1', 'Pod', NS, 'quick')?.metadata.deletionTimestamp).toBeUndefined();
    await core.createNamespacedPodEviction({ name: 'quick', namespace: NS, body: evictionOf('quick', { deleteOptions: { gracePeriodSeconds: 0 } }) });
    expect(emu.get('v1', 'Pod', NS, 'quick')).toBeUndefined();
  });

  it('a budget with no disruption left: 429 TooManyRequests with the real Status body and its cause', async () => {
    emu.create(readyPod('db-0', 'gpu-3', { app: 'db' }));
    emu.create(pdb('db', { maxUnavailable: 0, selector: { matchLabels: { app: 'db' } } }));
    // maxUnavailable needs the pods' controller's scale; db-0 has none, so the budget fails safe: nothing allowed.
    await until('the budget processed', () => pdbStatus('db')?.observedGeneration === 1);
    const e = await errorOf(core.createNamespacedPodEviction({ name: 'db-0', namespace: NS, body: evictionOf('db-0') }));
    expect(e.code).toBe(429);
    expect(e.body).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: "Cannot evict pod as it would violate the pod's disruption budget.",
      reason: 'TooManyRequests',
      details: { causes: [{ reason: 'DisruptionBudget', message: 'The disruption budget db needs 0 healthy pods and has 1 currently' }] },
      code: 429,
    });
    expect(emu.get('v1', 'Pod', NS, 'db-0')?.metadata.deletionTimestamp).toBeUndefined();
  });

  it('minAvailable counts healthy matched pods; an allowed eviction decrements the budget and records the pod', async () => {
    for (const n of ['web-1', 'web-2', 'web-3']) emu.create(readyPod(n, 'gpu-3', { app: 'web' }));
    emu.create(pdb('web', { minAvailable: '50%', selector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['web'] }] } }));
    // A percentage needs the controllers' scale too: these pods have none, so nothing is allowed.
    await until('the budget processed', () => pdbStatus('web')?.observedGeneration === 1);
    expect(pdbStatus('web')).toMatchObject({ disruptionsAllowed: 0, currentHealthy: 3 });
    await policy.replaceNamespacedPodDisruptionBudget({ name: 'web', namespace: NS, body: { ...(emu.get('policy/v1', 'PodDisruptionBudget', NS, 'web') as object), spec: { minAvailable: 2, selector: { matchLabels: { app: 'web' } } } } });
    await until('two healthy pods required, one disruption allowed', () => pdbStatus('web')?.observedGeneration === 2 && pdbStatus('web')?.disruptionsAllowed === 1);
    // The record is the apiserver's, and the controller prunes it on its next pass (web-1 is
    // terminating by then): it is read with the controller stopped, so no pass can come first.
    const disruption = controllers.splice(controllers.findIndex((c) => c === disruptionController), 1)[0];
    disruption?.stop();
    await core.createNamespacedPodEviction({ name: 'web-1', namespace: NS, body: evictionOf('web-1') });
    expect(pdbStatus('web')?.disruptedPods).toHaveProperty('web-1');
    disruptionController = startDisruptionController(emu);
    controllers.push(disruptionController);
    await until('web-1 terminating, no longer healthy', () => pdbStatus('web')?.currentHealthy === 2);
    const e = await errorOf(core.createNamespacedPodEviction({ name: 'web-2', namespace: NS, body: evictionOf('web-2') }));
    expect(e.code).toBe(429);
    expect(JSON.stringify(e.body)).toContain('The disruption budget web needs 2 healthy pods and has 2 currently');
    // The controller drops the record once the pod is terminating: its deletion is what counts from then on.
    await until('web-1 pruned from disruptedPods', () => !Object.keys(pdbStatus('web')?.disruptedPods ?? {}).includes('web-1'));
    const listed = await policy.listPodDisruptionBudgetForAllNamespaces();
    expect(listed.items.find((p) => p.metadata?.name === 'web')?.status?.disruptionsAllowed).toBe(0);
  });

  it('an unready pod is evicted without spending the budget when the healthy pods already meet it', async () => {
    const unready = readyPod('web-4', 'gpu-3', { app: 'web' });
    (unready.status as Record<string, unknown>).conditions = [{ type: 'Ready', status: 'False' }];
    emu.create(unready);
    await until('the budget seeing it', () => pdbStatus('web')?.currentHealthy === 2 && pdbStatus('web')?.disruptionsAllowed === 0);
    await core.createNamespacedPodEviction({ name: 'web-4', namespace: NS, body: evictionOf('web-4') });
    expect(emu.get('v1', 'Pod', NS, 'web-4')?.metadata.deletionTimestamp).toBeDefined();
    expect(Object.keys(pdbStatus('web')?.disruptedPods ?? {})).not.toContain('web-4');
    expect(pdbStatus('web')?.disruptionsAllowed).toBe(0);
  });

  it('a budget the controller has not processed yet: 429 naming it, with Retry-After', async () => {
    controllers.forEach((c) => c.stop());
    controllers.length = 0;
    emu.create(readyPod('cache-0', 'gpu-3', { app: 'cache' }));
    emu.create(pdb('cache', { minAvailable: 0, selector: { matchLabels: { app: 'cache' } } }));
    const e = await errorOf(core.createNamespacedPodEviction({ name: 'cache-0', namespace: NS, body: evictionOf('cache-0') }));
    expect(e.code).toBe(429);
    expect(e.headers['retry-after']).toBe('10');
    expect(e.body.details).toEqual({ causes: [{ reason: 'DisruptionBudget', message: 'The disruption budget cache is still being processed by the server.' }], retryAfterSeconds: 10 });
  });

  it('a Pending pod is evicted whatever its budget says; two budgets over one pod are a 500', async () => {
    emu.create(pod(NS, 'db-1', { state: 'pending', labels: { app: 'db' } }));
    await core.createNamespacedPodEviction({ name: 'db-1', namespace: NS, body: evictionOf('db-1') });
    expect(emu.get('v1', 'Pod', NS, 'db-1')).toBeUndefined();
    emu.create(pdb('db-too', { minAvailable: 0, selector: { matchLabels: { app: 'db' } } }));
    const e = await errorOf(core.createNamespacedPodEviction({ name: 'db-0', namespace: NS, body: evictionOf('db-0') }));
    expect([e.code, e.body.reason, e.body.message]).toEqual([500, 'InternalError', 'Internal error occurred: This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.']);
  });

  it('a missing pod is a 404; a name that differs from the URL a 400; only POST is served', async () => {
    const missing = await errorOf(core.createNamespacedPodEviction({ name: 'ghost', namespace: NS, body: evictionOf('ghost') }));
    expect([missing.code, missing.body.reason, missing.body.message]).toEqual([404, 'NotFound', 'pods "ghost" not found']);
    const mismatch = await errorOf(core.createNamespacedPodEviction({ name: 'db-0', namespace: NS, body: evictionOf('web-2') }));
    expect([mismatch.code, mismatch.body.message]).toEqual([400, 'name in URL does not match name in Eviction object']);
    const r = await kubectl.run(['get', '--raw', `/api/v1/namespaces/${NS}/pods/db-0/eviction`]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('the server does not allow this method on the requested resource');
  });
});
