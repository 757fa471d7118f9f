// KubeRay's objects, shaped like the v1.7.0 CRDs and samples in test/fixtures/captured/kuberay:
// the Vlinders RayCluster (a head and one GPU worker group), the RayService that may own it,
// the pods KubeRay makes from the group templates, and the status KubeRay computes.
import type { KubeObject } from '../contract.js';
import type { Condition, Container, Pod, PodSpec, Quantities } from './objects.js';
import { GPU, isReady, ownerRef, quantity, randomSuffix, timestamp } from './objects.js';

export const RAY_API = 'ray.io/v1';
export const CLUSTER_LABEL = 'ray.io/cluster';
export const NODE_TYPE_LABEL = 'ray.io/node-type';
export const GROUP_LABEL = 'ray.io/group';
export const HEAD_GROUP = 'headgroup';
const RAY_VERSION = '2.52.0';
const RAY_IMAGE = `rayproject/ray-llm:${RAY_VERSION}-py311-cu128`;
const PORTS = { gcs: 6379, dashboard: 8265, client: 10001, serve: 8000, metrics: 8080 };

interface PodTemplate {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: PodSpec;
}

export interface WorkerGroupSpec {
  groupName: string;
  replicas?: number;
  minReplicas?: number;
  maxReplicas?: number;
  numOfHosts?: number;
  suspend?: boolean;
  rayStartParams: Record<string, string>;
  scaleStrategy?: { workersToDelete?: string[] };
  template: PodTemplate;
}

export interface RayCluster extends KubeObject {
  spec: {
    rayVersion: string;
    enableInTreeAutoscaling?: boolean;
    headGroupSpec: { serviceType?: string; rayStartParams: Record<string, string>; template: PodTemplate };
    workerGroupSpecs?: WorkerGroupSpec[];
    [key: string]: unknown;
  };
}

export interface RayClusterOptions {
  name: string;
  namespace: string;
  /** The group's replicas; undefined writes the group without it (the CRD's default makes it 0). */
  workers: number | undefined;
  minWorkers: number;
  maxWorkers: number;
  gpusPerWorker: number;
  autoscaling?: boolean;
}

const resources = (cpu: string, memory: string, extra: Quantities = {}): Container['resources'] => ({
  limits: { cpu, memory, ...extra },
  requests: { cpu, memory, ...extra },
});

export function buildRayCluster(o: RayClusterOptions): RayCluster {
  const ports = Object.entries(PORTS).map(([name, containerPort]) => ({ containerPort, name, protocol: 'TCP' }));
  return {
    apiVersion: RAY_API,
    kind: 'RayCluster',
    metadata: { name: o.name, namespace: o.namespace, labels: { 'app.kubernetes.io/part-of': 'vlinders' } },
    spec: {
      rayVersion: RAY_VERSION,
      ...(o.autoscaling
        ? { enableInTreeAutoscaling: true, autoscalerOptions: { upscalingMode: 'Default', idleTimeoutSeconds: 60, imagePullPolicy: 'IfNotPresent', resources: resources('500m', '512Mi') } }
        : {}),
      headGroupSpec: {
        serviceType: 'ClusterIP',
        rayStartParams: { 'dashboard-host': '0.0.0.0', 'num-cpus': '0' },
        template: { spec: { containers: [{ name: 'ray-head', image: RAY_IMAGE, ports, resources: resources('4', '16Gi') }] } },
      },
      workerGroupSpecs: [
        {
          groupName: 'gpu-workers',
          ...(o.workers === undefined ? {} : { replicas: o.workers }),
          minReplicas: o.minWorkers,
          maxReplicas: o.maxWorkers,
          numOfHosts: 1,
          rayStartParams: {},
          template: {
            spec: {
              containers: [{ name: 'ray-worker', image: RAY_IMAGE, resources: resources('8', '64Gi', { [GPU]: String(o.gpusPerWorker) }) }],
              nodeSelector: { 'nvidia.com/gpu.present': 'true' },
              tolerations: [{ key: GPU, operator: 'Exists', effect: 'NoSchedule' }],
            },
          },
        },
      ],
    },
  };
}

/** The RayService that serves vLLM on the cluster; its status names the active RayCluster. */
export function buildRayService(name: string, rc: RayCluster): KubeObject {
  const serveConfigV2 = [
    'applications:',
    '- name: llm',
    '  route_prefix: /',
    '  import_path: ray.serve.llm:build_openai_app',
    '  deployments:',
    '  - name: VLLMDeployment',
    '    num_replicas: 1',
    '  runtime_env:',
    '    env_vars:',
    '      MODEL_ID: "meta-llama/Llama-3.1-8B-Instruct"',
    '      TENSOR_PARALLELISM: "1"',
    '',
  ].join('\n');
  const now = timestamp();
  const running = { status: 'RUNNING', healthLastUpdateTime: now };
  return {
    apiVersion: RAY_API,
    kind: 'RayService',
    metadata: { name, namespace: rc.metadata.namespace, labels: { 'app.kubernetes.io/part-of': 'vlinders' } },
    spec: { serveConfigV2, rayClusterConfig: rc.spec },
    status: {
      serviceStatus: 'Running',
      numServeEndpoints: 1,
      observedGeneration: 1,
      lastUpdateTime: now,
      activeServiceStatus: {
        rayClusterName: rc.metadata.name,
        applicationStatuses: { llm: { ...running, serveDeploymentStatuses: { VLLMDeployment: { status: 'HEALTHY', healthLastUpdateTime: now } } } },
      },
      pendingServiceStatus: {},
      conditions: [
        { type: 'Ready', status: 'True', reason: 'NonZeroServeEndpoints', message: 'Number of serve endpoints is greater than 0', lastTransitionTime: now, observedGeneration: 1 },
        { type: 'UpgradeInProgress', status: 'False', reason: 'NoPendingCluster', message: 'Active Ray cluster exists and no pending Ray cluster', lastTransitionTime: now, observedGeneration: 1 },
      ],
    },
  };
}

export const headServiceName = (rc: KubeObject): string => `${rc.metadata.name}-head-svc`;
const fqdn = (rc: KubeObject): string => `${headServiceName(rc)}.${rc.metadata.namespace}.svc.cluster.local`;

/** The head Service KubeRay makes (all Ray ports), or a RayService's serve Service (port 8000, serving pods). */
export function buildHeadService(rc: RayCluster, clusterIP: string, name = headServiceName(rc), serve = false): KubeObject {
  const selector = serve ? { [CLUSTER_LABEL]: rc.metadata.name, 'ray.io/serve': 'true' } : { [CLUSTER_LABEL]: rc.metadata.name, [NODE_TYPE_LABEL]: 'head' };
  const ports = Object.entries(serve ? { serve: PORTS.serve } : PORTS).map(([n, port]) => ({ name: n === 'gcs' ? 'gcs-server' : n, port, protocol: 'TCP', targetPort: port, appProtocol: 'tcp' }));
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: rc.metadata.namespace, labels: { [CLUSTER_LABEL]: rc.metadata.name, 'app.kubernetes.io/created-by': 'kuberay-operator', 'app.kubernetes.io/name': 'kuberay' }, ownerReferences: [ownerRef(rc)] },
    spec: { type: 'ClusterIP', clusterIP, clusterIPs: [clusterIP], ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack', ports, selector, sessionAffinity: 'None', internalTrafficPolicy: 'Cluster' },
    status: { loadBalancer: {} },
  };
}

/** Workers KubeRay keeps for a group: replicas clamped to [minReplicas, maxReplicas] (0 when suspended). */
export function desiredReplicas(g: WorkerGroupSpec): number {
  if (g.suspend) return 0;
  const min = g.minReplicas ?? 0;
  const max = g.maxReplicas ?? Number.MAX_SAFE_INTEGER;
  return Math.min(Math.max(g.replicas ?? min, min), max) * (g.numOfHosts ?? 1);
}

/** `ray start` as KubeRay writes it into the container, from rayStartParams and the resources. */
function rayStart(rc: RayCluster, c: Container, params: Record<string, string>, head: boolean): string {
  const gpus = quantity(c.resources?.limits?.[GPU]);
  const all: Record<string, string> = {
    ...(head ? {} : { address: `${fqdn(rc)}:${PORTS.gcs}` }),
    'dashboard-agent-listen-port': '52365',
    'metrics-export-port': String(PORTS.metrics),
    'num-cpus': String(quantity(c.resources?.limits?.cpu)),
    memory: String(quantity(c.resources?.limits?.memory)),
    ...(gpus ? { 'num-gpus': String(gpus) } : {}),
    ...params,
  };
  const flags = Object.keys(all).sort().map((k) => `--${k}=${all[k]}`);
  return `ulimit -n 65536; ray start ${head ? '--head ' : ''}--block ${flags.join(' ')}`;
}

/** A Ray pod as KubeRay creates it from a group template: `<cluster>-head-xxxxx` or `<cluster>-<group>-worker-xxxxx`. */
export function buildRayPod(rc: RayCluster, group: WorkerGroupSpec | 'head', suffix = randomSuffix()): Pod {
  const head = group === 'head';
  const spec = head ? rc.spec.headGroupSpec : group;
  const groupName = head ? HEAD_GROUP : group.groupName;
  const template = structuredClone(spec.template);
  const env = [
    { name: 'RAY_CLUSTER_NAME', value: rc.metadata.name },
    { name: 'RAY_CLUSTER_NAMESPACE', value: rc.metadata.namespace },
    { name: 'FQ_RAY_IP', value: fqdn(rc) },
    { name: 'RAY_IP', value: headServiceName(rc) },
    { name: 'RAY_USAGE_STATS_KUBERAY_IN_USE', value: '1' },
  ];
  const containers: Container[] = template.spec.containers.map((c, i) =>
    i === 0 ? { ...c, command: ['/bin/bash', '-lc', '--'], args: [rayStart(rc, c, spec.rayStartParams, head)], env: [...((c.env as unknown[]) ?? []), ...env] } : c,
  );
  if (head && rc.spec.enableInTreeAutoscaling) {
    const image = containers[0]?.image ?? RAY_IMAGE;
    containers.push({ name: 'autoscaler', image, command: ['/bin/bash', '-lc', '--'], args: ['ray kuberay-autoscaler --cluster-name $(RAY_CLUSTER_NAME) --cluster-namespace $(RAY_CLUSTER_NAMESPACE)'], env, resources: resources('500m', '512Mi') });
  }
  const name = head ? `${rc.metadata.name}-head-${suffix}` : `${rc.metadata.name}-${groupName}-worker-${suffix}`;
  const nodeType = head ? 'head' : 'worker';
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      generateName: name.slice(0, -suffix.length),
      namespace: rc.metadata.namespace as string,
      labels: {
        ...template.metadata?.labels,
        'app.kubernetes.io/created-by': 'kuberay-operator',
        'app.kubernetes.io/name': 'kuberay',
        [CLUSTER_LABEL]: rc.metadata.name,
        [GROUP_LABEL]: groupName,
        'ray.io/identifier': `${rc.metadata.name}-${nodeType}`,
        'ray.io/is-ray-node': 'yes',
        [NODE_TYPE_LABEL]: nodeType,
      },
      annotations: { ...template.metadata?.annotations, 'ray.io/ft-enabled': 'false' },
      ownerReferences: [ownerRef(rc)],
    },
    spec: { ...template.spec, containers, restartPolicy: 'Always', schedulerName: 'default-scheduler', serviceAccountName: 'default', terminationGracePeriodSeconds: 30, enableServiceLinks: true, dnsPolicy: 'ClusterFirst' },
    status: { phase: 'Pending' },
  };
}

export const isWorkerOf = (p: Pod, group: string): boolean => p.metadata.labels?.[NODE_TYPE_LABEL] === 'worker' && p.metadata.labels?.[GROUP_LABEL] === group;
const runningAndReady = (p: Pod): boolean => p.status?.phase === 'Running' && isReady(p.status.conditions);

/** Sum of the pod template's requests (limits where no request), as KubeRay's CalculatePodResource. */
function podResources(spec: PodSpec): Map<string, number> {
  const sum = new Map<string, number>();
  for (const c of spec.containers)
    for (const [k, v] of Object.entries({ ...c.resources?.limits, ...c.resources?.requests })) sum.set(k, (sum.get(k) ?? 0) + quantity(v));
  return sum;
}

const formatCpu = (n: number): string => (Number.isInteger(n) ? String(n) : `${Math.round(n * 1000)}m`);
const formatMemory = (bytes: number): string => (bytes % 2 ** 30 === 0 ? `${bytes / 2 ** 30}Gi` : `${Math.round(bytes / 2 ** 20)}Mi`);

/** Conditions keep their lastTransitionTime while their status stays the same (meta.SetStatusCondition). */
function setCondition(list: Condition[], c: Condition): void {
  const i = list.findIndex((x) => x.type === c.type);
  const prev = list[i];
  if (prev && prev.status === c.status) list[i] = { ...c, lastTransitionTime: prev.lastTransitionTime };
  else if (prev) list[i] = c;
  else list.push(c);
}

/** RayCluster status from its pods, as KubeRay's calculateStatus: `state` turns ready once every pod runs, and stays. */
export function rayClusterStatus(rc: RayCluster, pods: readonly Pod[], service?: KubeObject): Record<string, unknown> {
  const prev = (rc.status ?? {}) as Record<string, unknown> & { conditions?: Condition[]; state?: string; stateTransitionTimes?: Record<string, string> };
  const groups = (rc.spec.workerGroupSpecs ?? []).filter((g) => !g.suspend);
  const workers = pods.filter((p) => p.metadata.labels?.[NODE_TYPE_LABEL] === 'worker');
  const head = pods.find((p) => p.metadata.labels?.[NODE_TYPE_LABEL] === 'head');
  const desired = groups.reduce((n, g) => n + desiredReplicas(g), 0);
  const totals = podResources(rc.spec.headGroupSpec.template.spec);
  for (const g of groups) for (const [k, v] of podResources(g.template.spec)) totals.set(k, (totals.get(k) ?? 0) + v * desiredReplicas(g));
  const now = timestamp();
  const conditions = structuredClone(prev.conditions ?? []);
  const headReady = head !== undefined && runningAndReady(head);
  setCondition(conditions, headReady
    ? { type: 'HeadPodReady', status: 'True', reason: 'HeadPodRunningAndReady', message: '', lastTransitionTime: now, observedGeneration: rc.metadata.generation }
    : { type: 'HeadPodReady', status: 'False', reason: head ? 'ContainersNotReady' : 'HeadPodNotFound', message: head ? 'containers with unready status: [ray-head]' : 'Head Pod not found', lastTransitionTime: now, observedGeneration: rc.metadata.generation });
  const allRunning = pods.length === desired + 1 && pods.every(runningAndReady);
  let state = prev.state;
  const transitions = { ...prev.stateTransitionTimes };
  if (allRunning && state !== 'ready') {
    state = 'ready';
    transitions.ready = now;
  }
  if (!conditions.some((c) => c.type === 'RayClusterProvisioned' && c.status === 'True'))
    setCondition(conditions, allRunning
      ? { type: 'RayClusterProvisioned', status: 'True', reason: 'AllPodRunningAndReadyFirstTime', message: 'All Ray Pods are ready for the first time', lastTransitionTime: now, observedGeneration: rc.metadata.generation }
      : { type: 'RayClusterProvisioned', status: 'False', reason: 'RayClusterPodsProvisioning', message: 'RayCluster Pods are being provisioned for first time', lastTransitionTime: now, observedGeneration: rc.metadata.generation });
  const serviceIP = (service?.spec as { clusterIP?: string } | undefined)?.clusterIP;
  return {
    availableWorkerReplicas: workers.filter((p) => p.status?.phase === 'Running').length,
    conditions,
    desiredCPU: formatCpu(totals.get('cpu') ?? 0),
    desiredGPU: String(totals.get(GPU) ?? 0),
    desiredMemory: formatMemory(totals.get('memory') ?? 0),
    desiredTPU: '0',
    desiredWorkerReplicas: desired,
    endpoints: { client: String(PORTS.client), dashboard: String(PORTS.dashboard), 'gcs-server': String(PORTS.gcs), metrics: String(PORTS.metrics), serve: String(PORTS.serve) },
    head: {
      ...(head?.status?.podIP ? { podIP: head.status.podIP } : {}),
      ...(head ? { podName: head.metadata.name } : {}),
      ...(serviceIP ? { serviceIP } : {}),
      serviceName: headServiceName(rc),
    },
    lastUpdateTime: now,
    maxWorkerReplicas: groups.reduce((n, g) => n + (g.maxReplicas ?? 0), 0),
    minWorkerReplicas: groups.reduce((n, g) => n + (g.minReplicas ?? 0), 0),
    observedGeneration: rc.metadata.generation,
    readyWorkerReplicas: workers.filter(runningAndReady).length,
    ...(state ? { state, stateTransitionTimes: transitions } : {}),
  };
}
