// Seeding workloads the way their controllers would leave them: a Deployment (with its
// ReplicaSet), StatefulSet or DaemonSet, its pods with full kubelet status, PVCs from
// volumeClaimTemplates, and a Service; the owner's status counts what its pods really are.
import type { ClusterState, KubeObject } from '../contract.js';
import type { Container, Node, Pod, PodHealth, PodSpec, Toleration } from './objects.js';
import { GPU, ipv4, isReady, nodeIP, ownerRef, podStatus, suffixFor, templateHash, timestamp, troubleEvent } from './objects.js';
import { GpuLedger, placePod } from './scheduler.js';

export interface WorkloadSpec {
  kind: 'Deployment' | 'StatefulSet' | 'DaemonSet';
  name: string;
  namespace: string;
  component?: string;
  /** Labels of the pods beyond the standard ones (what the real chart sets, e.g. k8s-app). */
  podLabels?: Record<string, string>;
  replicas?: number; // not for DaemonSets
  containers: Container[];
  podSpec?: Partial<PodSpec>;
  /** DaemonSets: the nodes they run on. */
  nodes?: readonly Node[];
  /** Per-pod trouble; default: Running and Ready (not Ready on a NotReady node). */
  health?: (index: number) => PodHealth | undefined;
  /** StatefulSets: one PVC per pod, named `<claim>-<pod>`. */
  volumeClaims?: Array<{ name: string; size: string; mountPath: string }>;
  service?: { name?: string; type?: 'ClusterIP' | 'LoadBalancer'; ports: Array<{ name: string; port: number }>; ingressIP?: string };
}

// What the admission chain adds to every pod.
const DEFAULT_TOLERATIONS: Toleration[] = [
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
];

const isNodeReady = (n: Node): boolean => isReady(n.status.conditions);

/** Object factory with the seeder's counters: unique names, pod and service IPs, spread placement. */
export class Seeder {
  readonly ledger = new GpuLedger();
  readonly now = timestamp();
  private names = 0;
  private podIps = 0;
  private serviceIps = 10; // 10.96.0.1 is the kubernetes Service; keep clear of it
  private spread = 0;
  private cpuNodes?: Node[];
  pods = 0;

  constructor(
    readonly state: ClusterState,
    readonly nodes: Node[],
  ) {}

  suffix = (): string => suffixFor(this.names++);
  podIP = (): string => ipv4(++this.podIps);
  serviceIP = (): string => ipv4(++this.serviceIps, [10, 96]);

  create<T extends KubeObject>(obj: T): T {
    const made = this.state.create(obj) as T;
    if (obj.kind === 'Pod') this.pods++;
    return made;
  }

  /** Where a pod goes: through the scheduler's filters when it needs GPUs or a node selector, else spread over CPU nodes. */
  place(pod: Pod): Node | { message: string } {
    if (pod.spec.nodeSelector || pod.spec.tolerations?.some((t) => t.key === GPU)) {
      const r = placePod(pod, this.nodes, this.ledger);
      return 'node' in r ? r.node : r;
    }
    const cpu = (this.cpuNodes ??= this.nodes.filter((n) => !n.spec.taints?.length && isNodeReady(n)));
    return cpu[this.spread++ % cpu.length] as Node;
  }

  /** Creates the pod on its node (none when unschedulable) with the kubelet's status for its health. */
  bind(pod: Pod, node: Node | undefined, health: PodHealth): Pod {
    const at = node && { hostIP: nodeIP(node), podIP: pod.spec.hostNetwork ? nodeIP(node) : this.podIP(), now: this.now };
    if (node) pod.spec.nodeName = node.metadata.name;
    pod.status = podStatus(pod, health, at);
    let made = this.create(pod);
    // The back-off message names the pod's uid, which only exists once it's created.
    if (health.kind === 'crashloop' && at) made = this.state.replace({ ...made, status: podStatus(made, health, { ...at, uid: made.metadata.uid ?? '' }) }) as Pod;
    const why = troubleEvent(made, health);
    if (why) this.state.create(why);
    this.ledger.observe(made);
    return made;
  }
}

const omitZero = (o: Record<string, number | undefined>): Record<string, number> =>
  Object.fromEntries(Object.entries(o).filter((e): e is [string, number] => e[1] !== undefined && e[1] !== 0));

function ownerStatus(kind: WorkloadSpec['kind'], n: number, ready: number, revision: string): Record<string, unknown> {
  if (kind === 'DaemonSet')
    return { currentNumberScheduled: n, desiredNumberScheduled: n, numberMisscheduled: 0, ...omitZero({ numberAvailable: ready, numberReady: ready, numberUnavailable: n - ready }), observedGeneration: 1, updatedNumberScheduled: n };
  if (kind === 'StatefulSet')
    return { observedGeneration: 1, replicas: n, ...omitZero({ readyReplicas: ready, availableReplicas: ready }), currentReplicas: n, updatedReplicas: n, currentRevision: revision, updateRevision: revision, collisionCount: 0 };
  // Deployments stay Available while no more than maxUnavailable (25%, rounded down) are missing.
  const available = ready >= n - Math.floor(n * 0.25);
  const t = timestamp();
  return {
    observedGeneration: 1,
    replicas: n,
    updatedReplicas: n,
    ...omitZero({ readyReplicas: ready, availableReplicas: ready, unavailableReplicas: n - ready }),
    conditions: [
      available
        ? { type: 'Available', status: 'True', lastUpdateTime: t, lastTransitionTime: t, reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' }
        : { type: 'Available', status: 'False', lastUpdateTime: t, lastTransitionTime: t, reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.' },
      { type: 'Progressing', status: 'True', lastUpdateTime: t, lastTransitionTime: t, reason: 'NewReplicaSetAvailable', message: `ReplicaSet "${revision}" has successfully progressed.` },
    ],
  };
}

/** Creates the workload, its pods and what goes with them; returns the pods. */
export function addWorkload(seed: Seeder, spec: WorkloadSpec): Pod[] {
  const { kind, name, namespace } = spec;
  const selector = { 'app.kubernetes.io/name': name, 'app.kubernetes.io/instance': name };
  const labels = { ...selector, 'app.kubernetes.io/part-of': 'vlinders', ...(spec.component ? { 'app.kubernetes.io/component': spec.component } : {}) };
  const hash = templateHash(`${namespace}/${name}`);
  const revision = kind === 'Deployment' ? `${name}-${hash}` : `${name}-${hash.slice(0, 8)}`;
  const volumes = (spec.volumeClaims ?? []).map((v) => ({ name: v.name, mountPath: v.mountPath }));
  const containers = spec.containers.map((c, i) => (i === 0 && volumes.length ? { ...c, volumeMounts: volumes } : c));
  const podSpec: PodSpec = { containers, restartPolicy: 'Always', dnsPolicy: 'ClusterFirst', schedulerName: 'default-scheduler', serviceAccountName: 'default', terminationGracePeriodSeconds: 30, ...spec.podSpec };
  podSpec.tolerations = [...(spec.podSpec?.tolerations ?? []), ...DEFAULT_TOLERATIONS];

  const count = kind === 'DaemonSet' ? (spec.nodes ?? []).length : (spec.replicas ?? 1);
  const podName = (i: number): string => (kind === 'StatefulSet' ? `${name}-${i}` : kind === 'Deployment' ? `${revision}-${seed.suffix()}` : `${name}-${seed.suffix()}`);
  const drafts: Pod[] = [];
  for (let i = 0; i < count; i++) {
    const pname = podName(i);
    const podLabels: Record<string, string> = { ...labels, ...spec.podLabels };
    if (kind === 'Deployment') podLabels['pod-template-hash'] = hash;
    else podLabels['controller-revision-hash'] = kind === 'StatefulSet' ? revision : hash.slice(0, 10);
    if (kind === 'StatefulSet') Object.assign(podLabels, { 'apps.kubernetes.io/pod-index': String(i), 'statefulset.kubernetes.io/pod-name': pname });
    if (kind === 'DaemonSet') podLabels['pod-template-generation'] = '1';
    const claims = (spec.volumeClaims ?? []).map((v) => ({ name: v.name, persistentVolumeClaim: { claimName: `${v.name}-${pname}` } }));
    const draft: Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: pname, namespace, labels: podLabels, ...(kind === 'StatefulSet' ? {} : { generateName: pname.slice(0, -5) }) },
      // Shallow: the store copies what it keeps, and each pod only sets its own nodeName.
      spec: { ...podSpec, ...(claims.length ? { volumes: claims } : {}), ...(kind === 'StatefulSet' ? { hostname: pname, subdomain: name } : {}) },
      status: { phase: 'Pending' },
    };
    drafts.push(draft);
  }

  // Where each pod goes and how it fares, decided up front: the owners' status counts it.
  const placed = drafts.map((d, i): Node | { message: string } => (kind === 'DaemonSet' ? (spec.nodes?.[i] as Node) : seed.place(d)));
  const healths = placed.map((at, i): PodHealth => {
    if (!('metadata' in at)) return { kind: 'unschedulable', message: at.message };
    return spec.health?.(i) ?? (isNodeReady(at) ? { kind: 'running' } : { kind: 'node-lost' });
  });
  const ready = healths.filter((h) => h.kind === 'running').length;

  // Owners first: their uids go into ownerReferences.
  const template = { metadata: { labels: drafts[0]?.metadata.labels ?? labels }, spec: podSpec };
  const ownerSpec: Record<string, unknown> = { selector: { matchLabels: selector }, template };
  if (kind !== 'DaemonSet') ownerSpec.replicas = count;
  if (kind === 'StatefulSet') {
    ownerSpec.serviceName = spec.service?.name ?? name;
    ownerSpec.volumeClaimTemplates = (spec.volumeClaims ?? []).map((v) => ({ metadata: { name: v.name }, spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'gp3', resources: { requests: { storage: v.size } } } }));
  }
  const owner = seed.create({ apiVersion: 'apps/v1', kind, metadata: { name, namespace, labels }, spec: ownerSpec, status: ownerStatus(kind, count, ready, revision) });
  let podOwner: KubeObject = owner;
  if (kind === 'Deployment') {
    podOwner = seed.create({
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: revision, namespace, labels: { ...labels, 'pod-template-hash': hash }, annotations: { 'deployment.kubernetes.io/desired-replicas': String(count), 'deployment.kubernetes.io/max-replicas': String(count + Math.ceil(count * 0.25)), 'deployment.kubernetes.io/revision': '1' }, ownerReferences: [ownerRef(owner)] },
      spec: { replicas: count, selector: { matchLabels: { ...selector, 'pod-template-hash': hash } }, template: { metadata: { labels: { ...labels, 'pod-template-hash': hash } }, spec: podSpec } },
      status: { ...omitZero({ replicas: count, fullyLabeledReplicas: count, readyReplicas: ready, availableReplicas: ready }), observedGeneration: 1 },
    });
  }

  const pods = drafts.map((d, i) => {
    d.metadata.ownerReferences = [ownerRef(podOwner)];
    const at = placed[i] as Node | { message: string };
    return seed.bind(d, 'metadata' in at ? at : undefined, healths[i] as PodHealth);
  });
  for (const v of spec.volumeClaims ?? []) for (const p of pods) seed.create(pvc(`${v.name}-${p.metadata.name}`, namespace, v.size, { ...selector }));
  if (spec.service) seed.create(service(seed, spec.service.name ?? name, namespace, selector, spec.service));
  return pods;
}

/** A PersistentVolumeClaim: Bound to a dynamically provisioned gp3 volume, or Pending on a missing class. */
export function pvc(name: string, namespace: string, size: string, labels: Record<string, string>, storageClassName = 'gp3', bound = true): KubeObject {
  const volumeName = `pvc-${templateHash(`${namespace}/${name}`, 8)}-${templateHash(name, 4)}`;
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: {
      name,
      namespace,
      labels,
      annotations: bound ? { 'pv.kubernetes.io/bind-completed': 'yes', 'pv.kubernetes.io/bound-by-controller': 'yes', 'volume.beta.kubernetes.io/storage-provisioner': 'ebs.csi.aws.com', 'volume.kubernetes.io/storage-provisioner': 'ebs.csi.aws.com' } : {},
      finalizers: ['kubernetes.io/pvc-protection'],
    },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: size } }, storageClassName, volumeMode: 'Filesystem', ...(bound ? { volumeName } : {}) },
    status: bound ? { phase: 'Bound', accessModes: ['ReadWriteOnce'], capacity: { storage: size } } : { phase: 'Pending' },
  };
}

function service(seed: Seeder, name: string, namespace: string, selector: Record<string, string>, s: NonNullable<WorkloadSpec['service']>): KubeObject {
  const clusterIP = seed.serviceIP();
  const lb = s.type === 'LoadBalancer';
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace, labels: { ...selector, 'app.kubernetes.io/part-of': 'vlinders' } },
    spec: {
      type: s.type ?? 'ClusterIP',
      clusterIP,
      clusterIPs: [clusterIP],
      ipFamilies: ['IPv4'],
      ipFamilyPolicy: 'SingleStack',
      internalTrafficPolicy: 'Cluster',
      ...(lb ? { externalTrafficPolicy: 'Cluster', allocateLoadBalancerNodePorts: true } : {}),
      ports: s.ports.map((p, i) => ({ name: p.name, port: p.port, protocol: 'TCP', targetPort: p.port, ...(lb ? { nodePort: 30080 + i } : {}) })),
      selector,
      sessionAffinity: 'None',
    },
    status: { loadBalancer: lb && s.ingressIP ? { ingress: [{ ip: s.ingressIP, ipMode: 'VIP' }] } : {} },
  };
}
