// The seeded Vlinders cluster, read back through the emulator: every object is there with a
// status consistent with its pods, and each breakage switch breaks exactly one thing the way
// a real cluster shows it (checked against the captured kubectl outputs in test/fixtures/captured).
import { afterEach, describe, expect, it } from 'vitest';
import { KubeApiEmulator, type KubeObject } from '../../src/sandbox/kube/index.js';
import { seedVlindersCluster } from '../../src/sandbox/kube/world/index.js';
import { readCaptured } from '../fixtures/captured.js';

let emu: KubeApiEmulator | undefined;
afterEach(async () => {
  await emu?.close();
  emu = undefined;
});

async function start(): Promise<KubeApiEmulator> {
  emu = await KubeApiEmulator.start({ tls: false });
  return emu;
}

// Tests read nested object JSON freely; the shapes are asserted, not typed.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = KubeObject & { spec: Record<string, any>; status: Record<string, any> };
const all = (e: KubeApiEmulator, apiVersion: string, kind: string, ns?: string) => e.list(apiVersion, kind, ns) as Obj[];
const cond = (o: Obj, type: string) => (o.status.conditions as Array<Record<string, string>>).find((c) => c.type === type);
const ready = (p: Obj) => cond(p, 'Ready')?.status === 'True';
const VLINDERS = ['vlinders-platform', 'vlinders-inference', 'vlinders-monitoring'];

describe('seedVlindersCluster', () => {
  it('creates the namespaces, nodes with GPU-feature-discovery labels, and the gp3 StorageClass', async () => {
    const e = await start();
    const seeded = seedVlindersCluster(e);
    const names = all(e, 'v1', 'Namespace').map((n) => n.metadata.name);
    expect(names).toEqual(expect.arrayContaining([...VLINDERS, 'gpu-operator', 'kube-system']));
    expect(e.get('storage.k8s.io/v1', 'StorageClass', undefined, 'gp3')).toMatchObject({ provisioner: 'ebs.csi.aws.com' });

    expect(seeded.nodes.cpu).toHaveLength(3);
    expect(seeded.nodes.gpu).toHaveLength(4);
    const gpu = e.get('v1', 'Node', undefined, seeded.nodes.gpu[0] as string) as Obj;
    expect(gpu.metadata.labels).toMatchObject({
      'nvidia.com/gpu.product': 'NVIDIA-H100-80GB-HBM3',
      'nvidia.com/gpu.count': '1',
      'nvidia.com/gpu.memory': '81559',
      'nvidia.com/gpu.present': 'true',
      'node.kubernetes.io/instance-type': 'p5.4xlarge',
    });
    expect(gpu.status.capacity['nvidia.com/gpu']).toBe('1');
    expect(gpu.status.allocatable['nvidia.com/gpu']).toBe('1');
    expect(gpu.status.nodeInfo.kubeletVersion).toMatch(/^v1\.\d+\.\d+/);
    for (const n of all(e, 'v1', 'Node')) {
      expect(cond(n, 'Ready')?.status).toBe('True');
      for (const p of ['MemoryPressure', 'DiskPressure', 'PIDPressure']) expect(cond(n, p)?.status).toBe('False');
      expect(Object.keys(n.status.allocatable)).toEqual(expect.arrayContaining(['cpu', 'memory', 'pods']));
    }
    const cpu = e.get('v1', 'Node', undefined, seeded.nodes.cpu[0] as string) as Obj;
    expect(cpu.status.capacity['nvidia.com/gpu']).toBeUndefined();
  });

  it('seeds every workload with pods Running and Ready, and owner status that counts them', async () => {
    const e = await start();
    seedVlindersCluster(e);
    const pods = all(e, 'v1', 'Pod');
    for (const p of pods) {
      expect(p.status.phase, p.metadata.name).toBe('Running');
      expect(ready(p), p.metadata.name).toBe(true);
      expect(p.spec.nodeName).toBeTruthy();
      expect(p.status.podIP).toMatch(/^10\./);
      expect(p.metadata.ownerReferences?.[0]?.uid).toBeTruthy();
      for (const c of p.status.containerStatuses) expect(c).toMatchObject({ ready: true, restartCount: 0, state: { running: {} } });
    }
    const names = pods.map((p) => p.metadata.name);
    expect(names).toContain('postgres-0');
    expect(names).toContain('qdrant-0');
    expect(names).toContain('prometheus-0');
    expect(names).toContain('loki-0');
    for (const prefix of ['redis-', 'vlinders-api-', 'kong-gateway-', 'grafana-', 'gpu-operator-', 'nvidia-device-plugin-daemonset-', 'calico-node-'])
      expect(names.some((n) => n.startsWith(prefix)), prefix).toBe(true);
    expect(pods.filter((p) => p.metadata.name.startsWith('vlinders-api-'))).toHaveLength(3);
    expect(pods.filter((p) => p.metadata.name.startsWith('calico-node-'))).toHaveLength(7);
    expect(pods.filter((p) => p.metadata.name.startsWith('nvidia-device-plugin-daemonset-'))).toHaveLength(4);

    for (const d of all(e, 'apps/v1', 'Deployment')) {
      expect(d.status, d.metadata.name).toMatchObject({ replicas: d.spec.replicas, readyReplicas: d.spec.replicas, availableReplicas: d.spec.replicas, updatedReplicas: d.spec.replicas });
      const owned = pods.filter((p) => p.metadata.namespace === d.metadata.namespace && p.metadata.labels?.['app.kubernetes.io/instance'] === d.metadata.name);
      expect(owned).toHaveLength(d.spec.replicas);
      expect(owned[0]?.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'ReplicaSet' });
    }
    for (const s of all(e, 'apps/v1', 'StatefulSet')) expect(s.status, s.metadata.name).toMatchObject({ replicas: 1, readyReplicas: 1, currentReplicas: 1 });
    for (const ds of all(e, 'apps/v1', 'DaemonSet')) expect(ds.status.numberReady, ds.metadata.name).toBe(ds.status.desiredNumberScheduled);

    const pvcs = all(e, 'v1', 'PersistentVolumeClaim');
    expect(pvcs.map((p) => p.metadata.name).sort()).toEqual(['data-postgres-0', 'prometheus-data-prometheus-0', 'qdrant-storage-qdrant-0', 'storage-loki-0']);
    for (const p of pvcs) expect(p).toMatchObject({ spec: { storageClassName: 'gp3' }, status: { phase: 'Bound' } });

    const kong = e.get('v1', 'Service', 'vlinders-platform', 'kong-gateway-proxy') as Obj;
    expect(kong.spec.type).toBe('LoadBalancer');
    expect(kong.status.loadBalancer.ingress[0].ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
  });

  it('seeds the RayCluster like the KubeRay samples, with its head and GPU workers and a ready status', async () => {
    const e = await start();
    const seeded = seedVlindersCluster(e);
    const rc = e.get('ray.io/v1', 'RayCluster', 'vlinders-inference', 'vlinders-ray-cluster') as Obj;
    const group = rc.spec.workerGroupSpecs[0];
    expect(group).toMatchObject({ groupName: 'gpu-workers', replicas: 3, minReplicas: 1, maxReplicas: 8, rayStartParams: {} });
    expect(group.template.spec.containers[0].resources.limits['nvidia.com/gpu']).toBe('1');
    expect(rc.spec.headGroupSpec.rayStartParams).toMatchObject({ 'dashboard-host': '0.0.0.0' });
    expect(rc.spec.enableInTreeAutoscaling).toBeUndefined();
    expect(rc.status).toMatchObject({ state: 'ready', readyWorkerReplicas: 3, availableWorkerReplicas: 3, desiredWorkerReplicas: 3, minWorkerReplicas: 1, maxWorkerReplicas: 8, desiredGPU: '3' });

    const head = e.get('v1', 'Pod', 'vlinders-inference', seeded.ray.head) as Obj;
    const svc = e.get('v1', 'Service', 'vlinders-inference', seeded.ray.headService) as Obj;
    expect(rc.status.head).toMatchObject({ podIP: head.status.podIP, serviceIP: svc.spec.clusterIP, podName: seeded.ray.head });
    expect(head.metadata.labels).toMatchObject({ 'ray.io/cluster': 'vlinders-ray-cluster', 'ray.io/node-type': 'head' });

    expect(seeded.ray.workers).toHaveLength(3);
    expect(seeded.ray.pendingWorkers).toEqual([]);
    const hosts = new Set<string>();
    for (const name of seeded.ray.workers) {
      expect(name).toMatch(/^vlinders-ray-cluster-gpu-workers-worker-[a-z0-9]{5}$/);
      const w = e.get('v1', 'Pod', 'vlinders-inference', name) as Obj;
      expect(w.metadata.labels).toMatchObject({ 'ray.io/cluster': 'vlinders-ray-cluster', 'ray.io/node-type': 'worker', 'ray.io/group': 'gpu-workers' });
      expect(w.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'RayCluster', name: 'vlinders-ray-cluster', uid: rc.metadata.uid });
      expect(w.spec.containers[0].resources.requests['nvidia.com/gpu']).toBe('1');
      expect(seeded.nodes.gpu).toContain(w.spec.nodeName);
      hosts.add(w.spec.nodeName);
      expect(ready(w)).toBe(true);
    }
    expect(hosts.size).toBe(3); // one GPU per node: one worker per node
  });

  it('optionally puts a RayService in front that names the RayCluster, and turns on in-tree autoscaling', async () => {
    const e = await start();
    const seeded = seedVlindersCluster(e, { rayService: true, enableInTreeAutoscaling: true, rayClusterName: 'vlinders-llm-x7k2p' });
    const svc = e.get('ray.io/v1', 'RayService', 'vlinders-inference', 'vlinders-llm') as Obj;
    expect(svc.status.activeServiceStatus.rayClusterName).toBe('vlinders-llm-x7k2p');
    const rc = e.get('ray.io/v1', 'RayCluster', 'vlinders-inference', 'vlinders-llm-x7k2p') as Obj;
    expect(rc.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'RayService', name: 'vlinders-llm', uid: svc.metadata.uid });
    expect(rc.spec.enableInTreeAutoscaling).toBe(true);
    const head = e.get('v1', 'Pod', 'vlinders-inference', seeded.ray.head) as Obj;
    expect(head.spec.containers.map((c: { name: string }) => c.name)).toEqual(['ray-head', 'autoscaler']);
    expect(seeded.ray).toMatchObject({ cluster: 'vlinders-llm-x7k2p', service: 'vlinders-llm' });
  });

  it('breaks things the way real clusters show them', async () => {
    const e = await start();
    const seeded = seedVlindersCluster(e, { notReadyGpuNode: true, crashLoopApiPod: true, pendingPod: true, unboundPvc: true, imagePullBackOff: true });
    const { broken } = seeded;

    // CrashLoopBackOff: mirrors holmesgpt_pod_crashloopbackoff_kubectl_get_yaml (Running, not Ready, waiting + lastState terminated).
    const fixture = readCaptured('k8s/holmesgpt_pod_crashloopbackoff_kubectl_get_yaml.body.yaml');
    expect(fixture).toContain('reason: CrashLoopBackOff');
    const crash = e.get('v1', 'Pod', 'vlinders-platform', broken.crashLoopPod as string) as Obj;
    const cs = crash.status.containerStatuses[0];
    expect(crash.status.phase).toBe('Running');
    expect(cond(crash, 'Ready')).toMatchObject({ status: 'False', reason: 'ContainersNotReady', message: 'containers with unready status: [api]' });
    expect(cs).toMatchObject({ ready: false, started: false, restartCount: 7, lastState: { terminated: { exitCode: 1, reason: 'Error' } }, state: { waiting: { reason: 'CrashLoopBackOff' } } });
    expect(cs.state.waiting.message).toBe(`back-off 5m0s restarting failed container=api pod=${crash.metadata.name}_vlinders-platform(${crash.metadata.uid})`);
    expect((e.get('apps/v1', 'Deployment', 'vlinders-platform', 'vlinders-api') as Obj).status).toMatchObject({ readyReplicas: 2, unavailableReplicas: 1 });

    // Pending: the scheduler's FitError, worded like holmesgpt_kubectl_describe_pending_insufficient_gpu.
    expect(readCaptured('k8s/holmesgpt_kubectl_describe_pending_insufficient_gpu.body.txt')).toContain('0/1 nodes are available: 1 Insufficient nvidia.com/gpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.');
    const pending = e.get('v1', 'Pod', 'vlinders-inference', broken.pendingPod as string) as Obj;
    expect(pending.status.phase).toBe('Pending');
    expect(pending.spec.nodeName).toBeUndefined();
    expect(cond(pending, 'PodScheduled')).toMatchObject({ status: 'False', reason: 'Unschedulable' });
    expect(cond(pending, 'PodScheduled')?.message).toBe(
      "0/7 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/unreachable: }, 3 Insufficient nvidia.com/gpu, 3 node(s) didn't match Pod's node affinity/selector. preemption: 0/7 nodes are available: 3 No preemption victims found for incoming pod, 4 Preemption is not helpful for scheduling.",
    );

    const node = e.get('v1', 'Node', undefined, broken.notReadyNode as string) as Obj;
    expect(broken.notReadyNode).toBe(seeded.nodes.gpu.at(-1));
    expect(cond(node, 'Ready')).toMatchObject({ status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.' });
    expect(node.spec.taints).toEqual(expect.arrayContaining([expect.objectContaining({ key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' })]));
    // Its DaemonSet pods stay Running but lose Ready; no Ray worker was put there.
    const stranded = all(e, 'v1', 'Pod').filter((p) => p.spec.nodeName === broken.notReadyNode);
    expect(stranded.length).toBeGreaterThan(0);
    for (const p of stranded) expect([p.metadata.labels?.['app.kubernetes.io/name'], p.status.phase, ready(p)]).toEqual([expect.stringMatching(/calico|nvidia/), 'Running', false]);

    expect((e.get('v1', 'PersistentVolumeClaim', 'vlinders-platform', broken.unboundPvc as string) as Obj).status.phase).toBe('Pending');
    const pull = e.get('v1', 'Pod', 'vlinders-monitoring', broken.imagePullPod as string) as Obj;
    expect(pull.status.phase).toBe('Pending');
    expect(pull.status.containerStatuses[0].state.waiting).toMatchObject({ reason: 'ImagePullBackOff', message: expect.stringContaining('Back-off pulling image "grafana/grafana:11.99.0"') });

    // Nothing else is broken.
    const unhealthy = all(e, 'v1', 'Pod')
      .filter((p) => VLINDERS.includes(p.metadata.namespace ?? ''))
      .filter((p) => p.status.phase !== 'Running' || !ready(p))
      .map((p) => p.metadata.name)
      .sort();
    expect(unhealthy).toEqual([broken.crashLoopPod, broken.imagePullPod, broken.pendingPod].sort());
  });

  it('seeds 1,000 nodes and 30,000 pods in seconds, with unique names', async () => {
    const e = await start();
    const t0 = performance.now();
    const seeded = seedVlindersCluster(e, { extraCpuNodes: 993, extraPods: 30_000 });
    const ms = performance.now() - t0;
    expect(seeded.counts.nodes).toBe(1000);
    expect(all(e, 'v1', 'Pod', 'tenant-workloads')).toHaveLength(30_000);
    expect(seeded.counts.pods).toBeGreaterThan(31_000); // plus a calico-node per node and the platform
    expect(ms).toBeLessThan(15_000); // typically 2.5-4 s on CI's two cores
  }, 60_000);
});
