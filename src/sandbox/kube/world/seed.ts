// The seeded Vlinders cluster: nodes, the platform's workloads in their namespaces, the GPU
// Operator and CNI, and the RayCluster with its head and GPU workers, all with consistent
// status. Switches break one thing each, the way it breaks for real, for the status tests;
// extraCpuNodes/extraPods grow it to benchmark size.
import type { ClusterState, KubeObject } from '../contract.js';
import type { CaptureName } from './nodes.js';
import { buildNode } from './nodes.js';
import type { Node, Pod, PodHealth } from './objects.js';
import { GPU, event, ipv4, ownerRef } from './objects.js';
import type { RayCluster } from './ray.js';
import { CLUSTER_LABEL, NODE_TYPE_LABEL, buildHeadService, buildRayCluster, buildRayService } from './ray.js';
import { reconcileRayCluster } from './reconcile.js';
import { Seeder, addWorkload, pvc } from './workloads.js';
import { type PlatformOptions, seedPlatformObjects } from './platform.js';

export const NAMESPACES = { platform: 'vlinders-platform', inference: 'vlinders-inference', monitoring: 'vlinders-monitoring', gpuOperator: 'gpu-operator', system: 'kube-system' } as const;

export interface SeedOptions extends PlatformOptions {
  cpuNodes?: number; // default 3
  gpuNodes?: number; // default 4
  gpusPerNode?: number; // default 1
  /** GPU model per GPU node, cycled (default all 'h100'); it picks the node's labels and nvidia-smi capture. */
  gpuModels?: CaptureName[];
  workers?: number; // initial worker replicas, default 3
  /** The worker group is written without replicas, minReplicas alone saying how many run (the CRD defaults replicas to 0). */
  omitWorkerReplicas?: boolean;
  minWorkers?: number; // default 1
  maxWorkers?: number; // default 8
  gpusPerWorker?: number; // default 1
  rayClusterName?: string; // default 'vlinders-ray-cluster'
  /** A RayService `vlinders-llm` owns the RayCluster and names it in status.activeServiceStatus.rayClusterName. */
  rayService?: boolean;
  enableInTreeAutoscaling?: boolean;
  /** Scale: more CPU nodes, and more pods (healthy Deployments of up to 1,000 replicas) spread over the CPU nodes. */
  extraCpuNodes?: number;
  extraPods?: number;
  extraPodsNamespace?: string; // default 'tenant-workloads'
  // Breakage switches.
  /** The last GPU node stops reporting (Ready Unknown, unreachable taints); seeded workers avoid it. */
  notReadyGpuNode?: boolean;
  /** The first vlinders-api pod is in CrashLoopBackOff (7 restarts, last exit code 1). */
  crashLoopApiPod?: boolean;
  /** A Deployment `vlinders-embedder` whose pod asks for more GPUs than any node has: Pending, Unschedulable. */
  pendingPod?: boolean;
  /** A PVC `vlinders-uploads` on a StorageClass that doesn't exist: Pending. */
  unboundPvc?: boolean;
  /** Grafana's image tag doesn't exist: its pod is in ImagePullBackOff. */
  imagePullBackOff?: boolean;
  /** A PodDisruptionBudget `vlinders-ray-workers` over the GPU workers, as operators of a serving cluster set one. */
  workerPdb?: { minAvailable?: number | string; maxUnavailable?: number | string };
}

export interface SeededCluster {
  namespaces: typeof NAMESPACES;
  nodes: { cpu: string[]; gpu: string[] };
  ray: { namespace: string; cluster: string; service?: string; group: string; head: string; headService: string; workers: string[]; pendingWorkers: string[] };
  apiPods: string[];
  broken: { notReadyNode?: string; crashLoopPod?: string; pendingPod?: string; unboundPvc?: string; imagePullPod?: string };
  counts: { nodes: number; pods: number };
}

const ZONES = ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'];
const req = (cpu: string, memory: string, limits?: { cpu?: string; memory: string }) => ({ requests: { cpu, memory }, limits: { ...(limits?.cpu ? { cpu: limits.cpu } : {}), memory: limits?.memory ?? memory } });
const ports = (...list: Array<[string, number]>) => list.map(([name, containerPort]) => ({ name, containerPort, protocol: 'TCP' }));

export function seedVlindersCluster(state: ClusterState, opts: SeedOptions = {}): SeededCluster {
  const cpuCount = (opts.cpuNodes ?? 3) + (opts.extraCpuNodes ?? 0);
  const gpuCount = opts.gpuNodes ?? 4;
  const models = opts.gpuModels?.length ? opts.gpuModels : (['h100'] as CaptureName[]);

  for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease', ...Object.values(NAMESPACES).filter((n) => n !== 'kube-system')])
    if (!state.get('v1', 'Namespace', undefined, ns)) state.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { 'kubernetes.io/metadata.name': ns } }, spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } });
  state.create({
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name: 'gp3', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
    provisioner: 'ebs.csi.aws.com',
    parameters: { type: 'gp3', encrypted: 'true', fsType: 'ext4' },
    reclaimPolicy: 'Delete',
    volumeBindingMode: 'WaitForFirstConsumer',
    allowVolumeExpansion: true,
  });

  const nodes: Node[] = [];
  for (let i = 0; i < cpuCount; i++) nodes.push(state.create(buildNode({ name: `vlinders-cpu-${i + 1}`, ip: ipv4(10 + i, [10, 0]), zone: ZONES[i % 3] as string })) as Node);
  for (let i = 0; i < gpuCount; i++) {
    const notReady = opts.notReadyGpuNode === true && i === gpuCount - 1;
    const gpu = { model: models[i % models.length] as CaptureName, count: opts.gpusPerNode ?? 1 };
    nodes.push(state.create(buildNode({ name: `vlinders-gpu-${i + 1}`, ip: ipv4(5000 + i, [10, 0]), zone: ZONES[i % 3] as string, gpu, notReady })) as Node);
  }
  const gpuNodes = nodes.filter((n) => n.metadata.labels?.['nvidia.com/gpu.present'] === 'true');
  const seed = new Seeder(state, nodes);
  const broken: SeededCluster['broken'] = {};
  if (opts.notReadyGpuNode) broken.notReadyNode = gpuNodes.at(-1)?.metadata.name;

  // Cluster plumbing: CNI everywhere, DNS, the GPU Operator's operands on GPU nodes.
  addWorkload(seed, {
    kind: 'DaemonSet', name: 'calico-node', namespace: NAMESPACES.system, component: 'cni', nodes, podLabels: { 'k8s-app': 'calico-node' },
    containers: [{ name: 'calico-node', image: 'docker.io/calico/node:v3.29.1', resources: { requests: { cpu: '250m' } } }],
    podSpec: { hostNetwork: true, priorityClassName: 'system-node-critical', serviceAccountName: 'calico-node', tolerations: [{ operator: 'Exists', effect: 'NoSchedule' }, { operator: 'Exists', effect: 'NoExecute' }] },
  });
  addWorkload(seed, {
    kind: 'Deployment', name: 'coredns', namespace: NAMESPACES.system, component: 'dns', replicas: 2,
    containers: [{ name: 'coredns', image: '602401143452.dkr.ecr.eu-west-1.amazonaws.com/eks/coredns:v1.11.4-eksbuild.2', ports: ports(['dns', 53], ['metrics', 9153]), resources: req('100m', '70Mi', { memory: '170Mi' }) }],
    podSpec: { priorityClassName: 'system-cluster-critical', serviceAccountName: 'coredns' },
    service: { name: 'kube-dns', ports: [{ name: 'dns', port: 53 }, { name: 'metrics', port: 9153 }] },
  });
  const onGpu = { tolerations: [{ key: GPU, operator: 'Exists' as const, effect: 'NoSchedule' }], nodeSelector: { 'nvidia.com/gpu.present': 'true' } };
  if (!opts.noGpuOperator) addWorkload(seed, {
    kind: 'Deployment', name: 'gpu-operator', podLabels: { app: 'gpu-operator' }, namespace: NAMESPACES.gpuOperator, component: 'gpu-operator',
    containers: [{ name: 'gpu-operator', image: 'nvcr.io/nvidia/gpu-operator:v25.3.4', ports: ports(['metrics', 8080]), resources: req('200m', '100Mi', { cpu: '500m', memory: '350Mi' }) }],
    podSpec: { priorityClassName: 'system-node-critical', serviceAccountName: 'gpu-operator' },
  });
  if (!opts.noGpuOperator) addWorkload(seed, {
    kind: 'DaemonSet', name: 'nvidia-device-plugin-daemonset', podLabels: { app: 'nvidia-device-plugin-daemonset' }, namespace: NAMESPACES.gpuOperator, component: 'device-plugin', nodes: gpuNodes,
    containers: [{ name: 'nvidia-device-plugin', image: 'nvcr.io/nvidia/k8s-device-plugin:v0.17.4' }],
    podSpec: { ...onGpu, priorityClassName: 'system-node-critical', serviceAccountName: 'nvidia-device-plugin' },
  });
  if (!opts.noGpuOperator) addWorkload(seed, {
    kind: 'DaemonSet', name: 'nvidia-dcgm-exporter', podLabels: { app: 'nvidia-dcgm-exporter' }, namespace: NAMESPACES.gpuOperator, component: 'dcgm-exporter', nodes: gpuNodes,
    containers: [{ name: 'nvidia-dcgm-exporter', image: 'nvcr.io/nvidia/k8s/dcgm-exporter:4.2.3-4.1.3-ubuntu22.04', ports: ports(['metrics', 9400]) }],
    podSpec: { ...onGpu, priorityClassName: 'system-node-critical', serviceAccountName: 'nvidia-dcgm-exporter' },
    service: { ports: [{ name: 'gpu-metrics', port: 9400 }] },
  });

  // The platform.
  const P = NAMESPACES.platform;
  seedPlatformObjects(state, NAMESPACES, opts);
  addWorkload(seed, {
    kind: 'StatefulSet', name: 'postgres', namespace: P, component: 'database',
    containers: [{ name: 'postgres', image: 'postgres:16.6-bookworm', ports: ports(['postgres', 5432]), resources: req('2', '8Gi', { cpu: '2', memory: '8Gi' }), env: [{ name: 'POSTGRES_DB', value: 'vlinders' }, { name: 'POSTGRES_PASSWORD', valueFrom: { secretKeyRef: { name: 'postgres-credentials', key: 'password' } } }] }],
    volumeClaims: [{ name: 'data', size: '200Gi', mountPath: '/var/lib/postgresql/data' }],
    service: { ports: [{ name: 'postgres', port: 5432 }] },
  });
  addWorkload(seed, {
    kind: 'Deployment', name: 'redis', namespace: P, component: 'cache',
    containers: [{ name: 'redis', image: 'redis:7.4.1-alpine', ports: ports(['redis', 6379]), resources: req('250m', '1Gi') }],
    service: { ports: [{ name: 'redis', port: 6379 }] },
  });
  addWorkload(seed, {
    kind: 'StatefulSet', name: 'qdrant', namespace: P, component: 'vector-db',
    containers: [{ name: 'qdrant', image: 'qdrant/qdrant:v1.12.5', ports: ports(['http', 6333], ['grpc', 6334]), resources: req('1', '4Gi') }],
    volumeClaims: [{ name: 'qdrant-storage', size: '100Gi', mountPath: '/qdrant/storage' }],
    service: { ports: [{ name: 'http', port: 6333 }, { name: 'grpc', port: 6334 }] },
  });
  const apiPods = addWorkload(seed, {
    kind: 'Deployment', name: 'vlinders-api', namespace: P, component: 'api', replicas: 3,
    containers: [{
      name: 'api', image: 'ghcr.io/vlinders/vlinders-api:1.8.2', ports: ports(['http', 8080]), resources: req('500m', '1Gi', { memory: '2Gi' }),
      env: [{ name: 'DATABASE_URL', valueFrom: { secretKeyRef: { name: 'vlinders-api', key: 'database-url' } } }, { name: 'REDIS_URL', value: 'redis://redis.vlinders-platform.svc:6379/0' }, { name: 'RAY_SERVE_URL', value: 'http://vlinders-ray-cluster-head-svc.vlinders-inference.svc:8000' }],
    }],
    health: (i): PodHealth | undefined => (opts.crashLoopApiPod && i === 0 ? { kind: 'crashloop', restarts: 7, exitCode: 1 } : undefined),
    service: { ports: [{ name: 'http', port: 8080 }] },
  });
  if (opts.crashLoopApiPod) broken.crashLoopPod = apiPods[0]?.metadata.name;
  addWorkload(seed, {
    kind: 'Deployment', name: 'kong-gateway', namespace: P, component: 'gateway', replicas: 2,
    containers: [{ name: 'proxy', image: 'kong:3.8.0', ports: ports(['proxy', 8000], ['proxy-tls', 8443], ['status', 8100]), resources: req('500m', '512Mi', { memory: '1Gi' }) }],
    service: { name: 'kong-gateway-proxy', type: 'LoadBalancer', ports: [{ name: 'proxy', port: 8000 }, { name: 'proxy-tls', port: 8443 }], ingressIP: '203.0.113.10' },
  });
  if (opts.unboundPvc) {
    const claim = pvc('vlinders-uploads', P, '50Gi', { 'app.kubernetes.io/name': 'vlinders-api', 'app.kubernetes.io/part-of': 'vlinders' }, 'gp3-encrypted', false);
    const made = state.create(claim);
    state.create(event(made, 'Warning', 'ProvisioningFailed', 'storageclass.storage.k8s.io "gp3-encrypted" not found', 'persistentvolume-controller'));
    broken.unboundPvc = 'vlinders-uploads';
  }

  // Monitoring.
  const M = NAMESPACES.monitoring;
  addWorkload(seed, {
    kind: 'StatefulSet', name: 'prometheus', namespace: M, component: 'metrics',
    containers: [{ name: 'prometheus', image: 'quay.io/prometheus/prometheus:v3.0.1', ports: ports(['web', 9090]), resources: req('1', '4Gi', { memory: '8Gi' }) }],
    volumeClaims: [{ name: 'prometheus-data', size: '100Gi', mountPath: '/prometheus' }],
    service: { ports: [{ name: 'web', port: 9090 }] },
  });
  const grafanaImage = opts.imagePullBackOff ? 'grafana/grafana:11.99.0' : 'grafana/grafana:11.4.0';
  const grafana = addWorkload(seed, {
    kind: 'Deployment', name: 'grafana', namespace: M, component: 'dashboards',
    containers: [{ name: 'grafana', image: grafanaImage, ports: ports(['http', 3000]), resources: req('250m', '512Mi', { memory: '1Gi' }) }],
    health: () => (opts.imagePullBackOff ? { kind: 'imagepull', image: grafanaImage } : undefined),
    service: { ports: [{ name: 'http', port: 3000 }] },
  });
  if (opts.imagePullBackOff) broken.imagePullPod = grafana[0]?.metadata.name;
  addWorkload(seed, {
    kind: 'StatefulSet', name: 'loki', namespace: M, component: 'logs',
    containers: [{ name: 'loki', image: 'grafana/loki:3.3.2', ports: ports(['http-metrics', 3100], ['grpc', 9095]), resources: req('500m', '2Gi', { memory: '4Gi' }) }],
    volumeClaims: [{ name: 'storage', size: '50Gi', mountPath: '/var/loki' }],
    service: { ports: [{ name: 'http-metrics', port: 3100 }, { name: 'grpc', port: 9095 }] },
  });

  // Inference: the RayCluster (owned by a RayService, optionally), its head and GPU workers.
  const I = NAMESPACES.inference;
  const perWorker = opts.gpusPerWorker ?? 1;
  // vLLM's settings, which the Ray workers read when they start (the runbook edits it for CUDA OOM).
  if (!state.get('v1', 'ConfigMap', I, 'vlinders-config'))
    state.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'vlinders-config', namespace: I, labels: { 'app.kubernetes.io/part-of': 'vlinders' } }, data: { model: 'meta-llama/Llama-3.1-8B-Instruct', gpu_memory_utilization: '0.9', max_model_len: '8192', tensor_parallel_size: '1' } } as KubeObject);
  let rc = buildRayCluster({ name: opts.rayClusterName ?? 'vlinders-ray-cluster', namespace: I, workers: opts.omitWorkerReplicas ? undefined : (opts.workers ?? 3), minWorkers: opts.minWorkers ?? 1, maxWorkers: opts.maxWorkers ?? 8, gpusPerWorker: perWorker, autoscaling: opts.enableInTreeAutoscaling ?? false });
  let service: KubeObject | undefined;
  if (opts.rayService) {
    service = state.create(buildRayService('vlinders-llm', rc));
    rc.metadata.ownerReferences = [ownerRef(service)];
  }
  rc = state.create(rc) as RayCluster;
  if (service) {
    // KubeRay also fronts the active cluster with the RayService's own head and serve Services.
    const name = service.metadata.name;
    for (const [svcName, serve] of [[`${name}-head-svc`, false], [`${name}-serve-svc`, true]] as const) {
      const svc = buildHeadService(rc, seed.serviceIP(), svcName, serve);
      state.create({ ...svc, metadata: { ...svc.metadata, ownerReferences: [ownerRef(service)] } });
    }
  }
  reconcileRayCluster({ state, ledger: seed.ledger, nodes: () => nodes, podIP: seed.podIP, serviceIP: seed.serviceIP, start: 'now' }, rc);
  if (opts.workerPdb) {
    state.create({
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: 'vlinders-ray-workers', namespace: I, labels: { 'app.kubernetes.io/part-of': 'vlinders' } },
      spec: { ...opts.workerPdb, selector: { matchLabels: { [CLUSTER_LABEL]: rc.metadata.name, [NODE_TYPE_LABEL]: 'worker' } } },
    });
  }
  if (opts.pendingPod) {
    const [embedder] = addWorkload(seed, {
      kind: 'Deployment', name: 'vlinders-embedder', namespace: I, component: 'embeddings',
      containers: [{ name: 'embedder', image: 'vllm/vllm-openai:v0.6.4', resources: { requests: { cpu: '4', memory: '16Gi', [GPU]: String((opts.gpusPerNode ?? 1) + 1) }, limits: { cpu: '4', memory: '16Gi', [GPU]: String((opts.gpusPerNode ?? 1) + 1) } } }],
      podSpec: onGpu,
    });
    broken.pendingPod = embedder?.metadata.name;
  }

  const extraNs = opts.extraPodsNamespace ?? 'tenant-workloads';
  if (opts.extraPods) {
    if (!state.get('v1', 'Namespace', undefined, extraNs)) state.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: extraNs, labels: { 'kubernetes.io/metadata.name': extraNs } }, spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } });
    for (let left = opts.extraPods, k = 1; left > 0; left -= 1000, k++)
      addWorkload(seed, {
        kind: 'Deployment', name: `load-${k}`, namespace: extraNs, replicas: Math.min(left, 1000),
        containers: [{ name: 'app', image: 'nginx:1.27.3', ports: ports(['http', 8080]), resources: req('50m', '64Mi', { memory: '128Mi' }) }],
      });
  }

  const rayPods = (state.list('v1', 'Pod', I) as Pod[]).filter((p) => p.metadata.labels?.[CLUSTER_LABEL] === rc.metadata.name);
  const workers = rayPods.filter((p) => p.metadata.labels?.[NODE_TYPE_LABEL] === 'worker');
  return {
    namespaces: NAMESPACES,
    nodes: { cpu: nodes.filter((n) => !gpuNodes.includes(n)).map((n) => n.metadata.name), gpu: gpuNodes.map((n) => n.metadata.name) },
    ray: {
      namespace: I,
      cluster: rc.metadata.name,
      ...(service ? { service: service.metadata.name } : {}),
      group: 'gpu-workers',
      head: rayPods.find((p) => p.metadata.labels?.[NODE_TYPE_LABEL] === 'head')?.metadata.name ?? '',
      headService: `${rc.metadata.name}-head-svc`,
      workers: workers.filter((p) => p.spec.nodeName).map((p) => p.metadata.name),
      pendingWorkers: workers.filter((p) => !p.spec.nodeName).map((p) => p.metadata.name),
    },
    apiPods: apiPods.map((p) => p.metadata.name),
    broken,
    counts: { nodes: nodes.length, pods: seed.pods + rayPods.length },
  };
}
