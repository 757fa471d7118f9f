// The world's KubeRay and Job controllers running inside the emulator: worker pods follow
// workerGroupSpecs[].replicas within [min, max], get GPUs or stay Pending with the scheduler's
// message, turn Ready after the delay, and the RayCluster status keeps up.
import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { KubeClient } from '../../src/kube/client.js';
import { findWorkerGroup, patchWorkerReplicas, type RayClusterObject } from '../../src/ray/raycluster.js';
import { KubeApiEmulator, type KubeObject } from '../../src/sandbox/kube/index.js';
import { type Controller, type SeedOptions, seedVlindersCluster, startJobController, startKubeRayController, startKubelet } from '../../src/sandbox/kube/world/index.js';
import { until } from './kube-helpers.js';

const NS = 'vlinders-inference';
const RC = 'vlinders-ray-cluster';
// Tests read nested object JSON freely; the shapes are asserted, not typed.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = KubeObject & { spec: Record<string, any>; status: Record<string, any> };

let emu: KubeApiEmulator | undefined;
let controllers: Controller[] = [];
afterEach(async () => {
  for (const c of controllers) c.stop();
  controllers = [];
  await emu?.close();
  emu = undefined;
});

async function world(seed: SeedOptions = {}, readyDelayMs = 100) {
  emu = await KubeApiEmulator.start({ tls: false });
  const seeded = seedVlindersCluster(emu, seed);
  controllers.push(startKubeRayController(emu, { readyDelayMs }), startKubelet(emu, { terminationMs: 50 }));
  return { e: emu, seeded };
}

const rayCluster = (e: KubeApiEmulator, name = RC) => e.get('ray.io/v1', 'RayCluster', NS, name) as Obj;
const workers = (e: KubeApiEmulator, cluster = RC) =>
  (e.list('v1', 'Pod', NS) as Obj[]).filter((p) => p.metadata.labels?.['ray.io/cluster'] === cluster && p.metadata.labels['ray.io/node-type'] === 'worker');
const isReady = (p: Obj) => p.status.conditions?.some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True') ?? false;
const scheduled = (p: Obj) => p.status.conditions?.find((c: { type: string }) => c.type === 'PodScheduled');

function setReplicas(e: KubeApiEmulator, replicas: number, patch: (g: Record<string, unknown>) => void = () => {}): void {
  const rc = rayCluster(e);
  rc.spec.workerGroupSpecs[0].replicas = replicas;
  patch(rc.spec.workerGroupSpecs[0]);
  e.replace(rc);
}

describe('KubeRay controller', () => {
  it('scales 3 → 5 when replicas are patched; new workers turn Ready after the delay', async () => {
    const { e } = await world({ gpuNodes: 6 }, 500);
    setReplicas(e, 5);
    const five = await until('5 workers', () => workers(e).length === 5 && workers(e));
    const fresh = five.filter((p) => !isReady(p));
    expect(fresh).toHaveLength(2);
    for (const p of fresh) {
      expect(p.metadata.name).toMatch(/^vlinders-ray-cluster-gpu-workers-worker-[a-z0-9]{5}$/);
      expect(p.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'RayCluster', name: RC, controller: true });
      expect(p.spec.nodeName).toMatch(/^vlinders-gpu-/);
      expect(p.status.phase).toBe('Pending');
      expect(p.status.containerStatuses[0].state.waiting.reason).toBe('ContainerCreating');
    }
    expect(new Set(five.map((p) => p.spec.nodeName)).size).toBe(5);
    await until('desired 5 in status', () => rayCluster(e).status.desiredWorkerReplicas === 5);
    expect(rayCluster(e).status.readyWorkerReplicas).toBe(3);

    await until('5 ready', () => workers(e).filter(isReady).length === 5);
    await until('status 5 ready', () => rayCluster(e).status.readyWorkerReplicas === 5);
    expect(rayCluster(e).status).toMatchObject({ state: 'ready', availableWorkerReplicas: 5, desiredGPU: '5' });
  });

  it('follows a JSON patch sent by the product over the REST API', async () => {
    const { e } = await world({ gpuNodes: 5 });
    const kc = new KubeConfig();
    kc.loadFromString(e.kubeconfig());
    const kube = new KubeClient('emulator', kc, 5000);
    const rc = rayCluster(e) as unknown as RayClusterObject;
    const { index, group } = findWorkerGroup(rc, 'gpu-workers');
    await patchWorkerReplicas(kube, rc, index, group, 4);
    await until('4 ready', () => workers(e).filter(isReady).length === 4);
  });

  it('leaves workers Pending with the scheduler message when GPUs run out, and binds them when GPUs free up', async () => {
    const { e, seeded } = await world({ gpuNodes: 4 });
    // Something else takes the spare GPU node's only GPU.
    const spare = seeded.nodes.gpu[3] as string;
    e.create({
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'cuda-debug', namespace: NS },
      spec: { nodeName: spare, containers: [{ name: 'debug', image: 'nvidia/cuda:12.6.3-base-ubuntu24.04', resources: { limits: { 'nvidia.com/gpu': '1' } } }] },
      status: { phase: 'Running' },
    });
    setReplicas(e, 5);
    const pending = await until('2 pending workers', () => {
      const p = workers(e).filter((w) => !w.spec.nodeName);
      return p.length === 2 && p.every((w) => scheduled(w)?.reason === 'Unschedulable') && p;
    });
    for (const p of pending) {
      expect(p.status.phase).toBe('Pending');
      expect(scheduled(p)).toMatchObject({ status: 'False', reason: 'Unschedulable' });
      expect(scheduled(p).message).toBe(
        "0/7 nodes are available: 3 node(s) didn't match Pod's node affinity/selector, 4 Insufficient nvidia.com/gpu. preemption: 0/7 nodes are available: 3 Preemption is not helpful for scheduling, 4 No preemption victims found for incoming pod.",
      );
    }
    const events = (e.list('v1', 'Event', NS) as Obj[]).filter((ev) => ev.reason === 'FailedScheduling');
    expect(events.map((ev) => (ev.involvedObject as { name: string }).name).sort()).toEqual(pending.map((p) => p.metadata.name).sort());
    await until('status', () => rayCluster(e).status.desiredWorkerReplicas === 5);
    expect(rayCluster(e).status).toMatchObject({ readyWorkerReplicas: 3, availableWorkerReplicas: 3, state: 'ready' }); // ready stays, as in KubeRay

    // The GPU comes free: the oldest Pending worker gets it and turns Ready; the other still waits.
    e.remove('v1', 'Pod', NS, 'cuda-debug');
    await until('4 ready', () => workers(e).filter(isReady).length === 4);
    const still = workers(e).filter((w) => !w.spec.nodeName);
    expect(still).toHaveLength(1);
    expect(workers(e).find((w) => w.spec.nodeName === spare)).toBeTruthy();
    await until('status 4 ready', () => rayCluster(e).status.readyWorkerReplicas === 4);
  });

  it('does not schedule onto a NotReady node: its taint is named in the message', async () => {
    const { e } = await world({ gpuNodes: 4, notReadyGpuNode: true });
    setReplicas(e, 4);
    const p = await until('a pending worker', () => workers(e).find((w) => scheduled(w)?.reason === 'Unschedulable'));
    expect(scheduled(p).message).toMatch(/^0\/7 nodes are available: 1 node\(s\) had untolerated taint \{node\.kubernetes\.io\/unreachable: \}, 3 Insufficient nvidia\.com\/gpu, 3 node\(s\) didn't match/);
  });

  it('scales down by deleting workers, Pending ones first, and honours workersToDelete', async () => {
    const { e } = await world({ gpuNodes: 4, workers: 3 });
    setReplicas(e, 6); // one binds, two stay Pending
    await until('6 workers, 4 ready', () => workers(e).length === 6 && workers(e).filter(isReady).length === 4);
    const keep = workers(e).filter(isReady);
    const named = keep[0]?.metadata.name as string;
    setReplicas(e, 2, (g) => (g.scaleStrategy = { workersToDelete: [named] }));
    const left = await until('2 workers', () => workers(e).length === 2 && workers(e));
    expect(left.every((w) => isReady(w) && w.metadata.name !== named)).toBe(true);
    await until('status 2', () => rayCluster(e).status.desiredWorkerReplicas === 2 && rayCluster(e).status.readyWorkerReplicas === 2);
  });

  it('clamps replicas to [minReplicas, maxReplicas]', async () => {
    const { e } = await world({ gpuNodes: 10, minWorkers: 2, maxWorkers: 4 });
    setReplicas(e, 9);
    await until('desired 4', () => rayCluster(e).status.desiredWorkerReplicas === 4);
    await until('4 ready', () => workers(e).filter(isReady).length === 4);
    expect(workers(e)).toHaveLength(4);
    setReplicas(e, 0);
    await until('2 workers', () => workers(e).length === 2);
    expect(rayCluster(e).spec.workerGroupSpecs[0].replicas).toBe(0); // the operator clamps, it doesn't rewrite spec
  });

  it('brings up a new RayCluster from scratch (head, head service, workers) and cleans up when it is deleted', async () => {
    const { e } = await world({ gpuNodes: 6, workers: 2 });
    const rc = structuredClone(rayCluster(e));
    const spec = { ...rc.spec, workerGroupSpecs: [{ ...rc.spec.workerGroupSpecs[0], replicas: 2 }] };
    e.create({ apiVersion: 'ray.io/v1', kind: 'RayCluster', metadata: { name: 'batch-ray', namespace: NS }, spec });
    await until('head and 2 workers ready', () => workers(e, 'batch-ray').filter(isReady).length === 2);
    const status = await until('status', () => rayCluster(e, 'batch-ray').status?.state === 'ready' && rayCluster(e, 'batch-ray').status);
    expect(status.head).toMatchObject({ podName: expect.stringMatching(/^batch-ray-head-[a-z0-9]{5}$/), serviceName: 'batch-ray-head-svc', serviceIP: expect.any(String) });
    expect(e.get('v1', 'Service', NS, 'batch-ray-head-svc')).toBeTruthy();

    e.remove('ray.io/v1', 'RayCluster', NS, 'batch-ray');
    // The garbage collector deletes the owned pods gracefully: Terminating first, then gone when the kubelet is done.
    await until('pods terminating', () => workers(e, 'batch-ray').length === 2 && workers(e, 'batch-ray').every((p) => p.metadata.deletionTimestamp));
    await until('pods gone', () => (e.list('v1', 'Pod', NS) as Obj[]).every((p) => p.metadata.labels?.['ray.io/cluster'] !== 'batch-ray'));
    expect(e.get('v1', 'Service', NS, 'batch-ray-head-svc')).toBeUndefined();
    expect(workers(e)).toHaveLength(2); // the seeded cluster is untouched
  });

  it('stops cleanly: no more reconciling after stop()', async () => {
    const { e } = await world({ gpuNodes: 5 }, 50);
    for (const c of controllers) c.stop();
    setReplicas(e, 5);
    await new Promise((r) => setTimeout(r, 200));
    expect(workers(e)).toHaveLength(3);
  });
});

describe('Job controller', () => {
  const job = (name: string): KubeObject => ({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: 'vlinders-platform' },
    spec: { backoffLimit: 0, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'backup', image: 'postgres:16.6-bookworm', command: ['pg_dump', '--version'] }] } } },
  });

  it('runs each Job as one pod that Succeeds after the delay, and marks the Job Complete (or Failed)', async () => {
    emu = await KubeApiEmulator.start({ tls: false });
    const e = emu;
    seedVlindersCluster(e, { gpuNodes: 1 });
    controllers.push(startJobController(e, { runMs: 100, fail: (j) => j.metadata.name === 'bad-backup' }));
    e.create(job('pg-backup'));
    e.create(job('bad-backup'));
    const podOf = (name: string) => (e.list('v1', 'Pod', 'vlinders-platform') as Obj[]).find((p) => p.metadata.labels?.['batch.kubernetes.io/job-name'] === name);
    const running = await until('job pod', () => podOf('pg-backup'));
    expect(running.status.phase).toBe('Running');
    expect(running.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'Job', name: 'pg-backup' });
    expect((e.get('batch/v1', 'Job', 'vlinders-platform', 'pg-backup') as Obj).status).toMatchObject({ active: 1 });

    const done = await until('complete', () => {
      const j = e.get('batch/v1', 'Job', 'vlinders-platform', 'pg-backup') as Obj;
      return j.status?.succeeded === 1 && j;
    });
    expect(done.status.conditions).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'Complete', status: 'True' })]));
    expect(podOf('pg-backup')?.status.phase).toBe('Succeeded');
    expect(podOf('pg-backup')?.status.containerStatuses[0].state.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });

    const failed = await until('failed', () => (e.get('batch/v1', 'Job', 'vlinders-platform', 'bad-backup') as Obj).status?.failed === 1);
    expect(failed).toBe(true);
    expect(podOf('bad-backup')?.status.phase).toBe('Failed');
  });
});
