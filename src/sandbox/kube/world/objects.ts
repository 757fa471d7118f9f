// Shapes and builders shared by the seeded world and its controllers: the few Kubernetes types
// the world reads and writes, and pod statuses shaped like the kubelet's (one function per
// health, so the seeder and the controllers agree on what "Running and Ready" looks like).
import { createHash, randomBytes } from 'node:crypto';
import type { KubeObject, ObjectMeta } from '../contract.js';

export type Quantities = Record<string, string>;
export type Labels = Record<string, string>;

export interface Toleration {
  key?: string;
  operator?: 'Exists' | 'Equal';
  value?: string;
  effect?: string;
  tolerationSeconds?: number;
}

export interface Taint {
  key: string;
  value?: string;
  effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
  timeAdded?: string;
}

export interface Container {
  name: string;
  image: string;
  resources?: { requests?: Quantities; limits?: Quantities };
  [key: string]: unknown;
}

export interface PodSpec {
  containers: Container[];
  nodeName?: string;
  nodeSelector?: Labels;
  tolerations?: Toleration[];
  [key: string]: unknown;
}

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  [key: string]: unknown;
}

export interface PodStatus {
  phase: 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';
  conditions?: Condition[];
  containerStatuses?: Array<Record<string, unknown> & { name: string; ready: boolean; restartCount: number; state: Record<string, unknown> }>;
  [key: string]: unknown;
}

// Labels stay optional: the world also reads pods and nodes that tests or clients created.
export interface Pod extends KubeObject {
  metadata: ObjectMeta & { namespace: string };
  spec: PodSpec;
  status: PodStatus;
}

export interface Node extends KubeObject {
  spec: { taints?: Taint[]; unschedulable?: boolean; [key: string]: unknown };
  status: { capacity: Quantities; allocatable: Quantities; conditions: Condition[]; addresses: Array<{ type: string; address: string }>; [key: string]: unknown };
}

export const isPod = (o: KubeObject): o is Pod => o.apiVersion === 'v1' && o.kind === 'Pod';
export const objectKey = (o: KubeObject): string => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;

/** Timestamps as the API server writes them: seconds precision. */
export const timestamp = (ms = Date.now()): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

// The alphabet the API server uses for generateName suffixes (no vowels, no 0/1/3).
const ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
const SPACE = ALPHABET.length ** 5;

export const randomSuffix = (): string => [...randomBytes(5)].map((b) => ALPHABET[b % ALPHABET.length]).join('');

/** The n-th of 27^5 distinct suffixes, scrambled so they look random (seeding 30,000 pods must not collide). */
export function suffixFor(n: number): string {
  let x = (n * 7_368_787 + 1_234_567) % SPACE; // 7368787 is coprime with 3^15 = 27^5: a bijection
  let out = '';
  for (let i = 0; i < 5; i++, x = Math.floor(x / ALPHABET.length)) out += ALPHABET[x % ALPHABET.length];
  return out;
}

/** A stable pod-template-hash-like string for a name. */
export function templateHash(name: string, length = 10): string {
  const digest = createHash('sha256').update(name).digest();
  return [...digest.subarray(0, length)].map((b) => ALPHABET[b % ALPHABET.length]).join('');
}

/** Stable hex digits derived from a name (instance ids, machine ids, container ids). */
export const hex = (name: string, length: number): string => createHash('sha256').update(name).digest('hex').slice(0, length);

/** A stable number in [0, 1) for a string (FNV-1a): deterministic "randomness" for usage and logs. */
export function noise(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  // murmur3's finalizer, so names differing in their last character land far apart.
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return ((h ^ (h >>> 16)) >>> 0) / 2 ** 32;
}

export const ipv4 = (n: number, base: [number, number] = [10, 244]): string =>
  `${base[0]}.${base[1] + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`;

export function ownerRef(owner: KubeObject): NonNullable<ObjectMeta['ownerReferences']>[number] & { blockOwnerDeletion: boolean } {
  return { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.metadata.name, uid: owner.metadata.uid ?? '', controller: true, blockOwnerDeletion: true };
}

// Quantity and GPU arithmetic are deliberately not shared with src/kube/health.ts: the world
// checks the product, so it must not inherit the product's mistakes.

/** Kubernetes quantities as numbers of the base unit ('500m' → 0.5, '16Gi' → 17179869184). */
export function quantity(value: string | number | undefined): number {
  if (value === undefined) return 0;
  if (typeof value === 'number') return value;
  const m = /^(\d+(?:\.\d+)?)([a-zA-Z]*)$/.exec(value.trim());
  if (!m) return 0;
  const unit: Record<string, number> = { '': 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };
  return Number(m[1]) * (unit[m[2] ?? ''] ?? 1);
}

export const GPU = 'nvidia.com/gpu';

/** GPUs a pod holds: per container the larger of request and limit (they must match anyway). */
export const podGpus = (pod: { spec?: { containers?: Container[] } }): number =>
  (pod.spec?.containers ?? []).reduce((n, c) => n + Math.max(quantity(c.resources?.requests?.[GPU]), quantity(c.resources?.limits?.[GPU])), 0);

export const isReady = (conditions: Condition[] | undefined): boolean => conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
export const nodeIP = (node: Node): string => node.status.addresses.find((a) => a.type === 'InternalIP')?.address ?? '';

/** What a pod is going through; podStatus turns it into the kubelet's status. */
export type PodHealth =
  | { kind: 'running' }
  | { kind: 'creating' } // scheduled, containers being created
  | { kind: 'unschedulable'; message: string }
  | { kind: 'crashloop'; restarts: number; exitCode: number }
  | { kind: 'imagepull'; image: string }
  | { kind: 'node-lost' } // on a node that stopped reporting: still Running, no longer Ready
  | { kind: 'succeeded' }
  | { kind: 'failed'; exitCode: number };

export interface Placement {
  hostIP: string;
  podIP: string;
  now: string;
  uid?: string;
}

/** Where a bound pod already is, to give it a new status there. */
export const placementOf = (pod: Pod): Placement => ({ hostIP: String(pod.status.hostIP ?? ''), podIP: String(pod.status.podIP ?? ''), now: timestamp() });

const cond = (type: string, ok: boolean, now: string, reason?: string, message?: string): Condition => ({
  type,
  status: ok ? 'True' : 'False',
  lastProbeTime: null,
  lastTransitionTime: now,
  ...(reason ? { reason } : {}),
  ...(message ? { message } : {}),
});

/** A pod status as the kubelet (or scheduler, for unschedulable pods) reports it. */
export function podStatus(pod: { metadata: ObjectMeta; spec: PodSpec }, health: PodHealth, at?: Placement): PodStatus {
  const now = at?.now ?? timestamp();
  if (health.kind === 'unschedulable') {
    return { phase: 'Pending', conditions: [cond('PodScheduled', false, now, 'Unschedulable', health.message)], qosClass: qosClass(pod.spec) };
  }
  const names = pod.spec.containers.map((c) => c.name);
  const done = health.kind === 'succeeded' || health.kind === 'failed';
  const ready = health.kind === 'running';
  // A lost node's pods are marked not Ready by the node lifecycle controller; their last
  // container statuses (ready, started) stay as the kubelet last reported them.
  const containersReady = ready || health.kind === 'node-lost';
  const phase = health.kind === 'succeeded' ? 'Succeeded' : health.kind === 'failed' ? 'Failed' : health.kind === 'creating' || health.kind === 'imagepull' ? 'Pending' : 'Running';
  const why: [string, string | undefined] = done ? ['PodCompleted', undefined] : ['ContainersNotReady', `containers with unready status: [${names.join(' ')}]`];
  const conditions = [
    cond('PodReadyToStartContainers', !done, now),
    cond('Initialized', true, now),
    ready ? cond('Ready', true, now) : health.kind === 'node-lost' ? cond('Ready', false, now) : cond('Ready', false, now, ...why),
    containersReady ? cond('ContainersReady', true, now) : cond('ContainersReady', false, now, ...why),
    cond('PodScheduled', true, now),
  ];
  const containerStatuses = pod.spec.containers.map((c) => {
    const id = `containerd://${hex(`${pod.metadata.name}/${c.name}`, 64)}`;
    const image = imageRef(c.image);
    const base = { name: c.name, image, imageID: imageID(image), containerID: id, ready: containersReady, restartCount: 0, started: containersReady };
    switch (health.kind) {
      case 'running':
      case 'node-lost':
        return { ...base, state: { running: { startedAt: now } }, lastState: {} };
      case 'creating':
        return { name: c.name, image: c.image, imageID: '', ready: false, restartCount: 0, started: false, state: { waiting: { reason: 'ContainerCreating' } }, lastState: {} };
      case 'imagepull':
        return {
          name: c.name, image: health.image, imageID: '', ready: false, restartCount: 0, started: false, lastState: {},
          state: { waiting: { reason: 'ImagePullBackOff', message: pullBackOff(imageRef(health.image), health.image) } },
        };
      case 'crashloop':
        return {
          ...base, restartCount: health.restarts,
          lastState: { terminated: { containerID: id, exitCode: health.exitCode, reason: 'Error', startedAt: now, finishedAt: now } },
          state: { waiting: { reason: 'CrashLoopBackOff', message: `back-off 5m0s restarting failed container=${c.name} pod=${pod.metadata.name}_${pod.metadata.namespace}(${at?.uid ?? pod.metadata.uid ?? ''})` } },
        };
      case 'succeeded':
      case 'failed': {
        const exitCode = health.kind === 'failed' ? health.exitCode : 0;
        return { ...base, state: { terminated: { containerID: id, exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', startedAt: now, finishedAt: now } }, lastState: {} };
      }
    }
  });
  const ips = at ? { hostIP: at.hostIP, hostIPs: [{ ip: at.hostIP }], podIP: at.podIP, podIPs: [{ ip: at.podIP }] } : {};
  return { phase, conditions, containerStatuses, ...ips, qosClass: qosClass(pod.spec), startTime: now };
}

// containerd's words for a tag that does not exist, as the kubelet passes them on (1.30+).
const pullBackOff = (ref: string, image: string): string =>
  `Back-off pulling image "${image}": ErrImagePull: rpc error: code = NotFound desc = failed to pull and unpack image "${ref}": failed to resolve reference "${ref}": ${ref}: not found`;

/** The fully qualified reference containerd reports: docker.io/library/redis:7.4, ghcr.io/x/y:1. */
function imageRef(image: string): string {
  const first = image.split('/')[0] ?? '';
  if (image.includes('/') && (first.includes('.') || first.includes(':'))) return image;
  return image.includes('/') ? `docker.io/${image}` : `docker.io/library/${image}`;
}

const digests = new Map<string, string>();
const imageID = (ref: string): string => {
  let id = digests.get(ref);
  if (!id) digests.set(ref, (id = `${ref.split(':')[0]}@sha256:${createHash('sha256').update(ref).digest('hex')}`));
  return id;
};

/** Guaranteed when every container's requests equal its limits (and both are set). */
function qosClass(spec: PodSpec): string {
  const rs = spec.containers.map((c) => c.resources ?? {});
  if (rs.every((r) => !r.requests && !r.limits)) return 'BestEffort';
  const same = rs.every((r) => r.limits?.cpu && r.limits.memory && ['cpu', 'memory'].every((k) => (r.requests?.[k] ?? r.limits?.[k]) === r.limits?.[k]));
  return same ? 'Guaranteed' : 'Burstable';
}

/** A core/v1 Event about an object, as `kubectl describe` and `get events` show them. */
export function event(about: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string, source: string): KubeObject {
  const now = timestamp();
  return {
    apiVersion: 'v1',
    kind: 'Event',
    // Named like the recorder does: the object's name and a hex timestamp.
    metadata: { name: `${about.metadata.name}.${(Date.now() * 1e6 + Math.floor(Math.random() * 1e6)).toString(16)}`, namespace: about.metadata.namespace ?? 'default' },
    involvedObject: { apiVersion: about.apiVersion, kind: about.kind, name: about.metadata.name, namespace: about.metadata.namespace, uid: about.metadata.uid, resourceVersion: about.metadata.resourceVersion },
    type,
    reason,
    message,
    source: { component: source },
    firstTimestamp: now,
    lastTimestamp: now,
    count: 1,
    reportingComponent: source,
    reportingInstance: '',
  };
}

/** The Warning `kubectl describe` shows under Events for a pod in trouble. */
export function troubleEvent(pod: Pod, health: PodHealth): KubeObject | undefined {
  const container = pod.spec.containers[0]?.name ?? '';
  switch (health.kind) {
    case 'unschedulable':
      return event(pod, 'Warning', 'FailedScheduling', health.message, 'default-scheduler');
    case 'crashloop':
      return event(pod, 'Warning', 'BackOff', `Back-off restarting failed container ${container} in pod ${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid ?? ''})`, 'kubelet');
    case 'imagepull':
      return event(pod, 'Warning', 'Failed', 'Error: ImagePullBackOff', 'kubelet');
    default:
      return undefined;
  }
}
