// A small apps/v1 Deployment controller for the world: when a Deployment's pod template changes
// (a `kubectl rollout restart` sets the restartedAt annotation), it makes a new ReplicaSet and
// replaces the pods one at a time (maxSurge 1, maxUnavailable 0): a new pod is created, turns
// Ready after a delay, then one old pod goes. The Deployment's status counts what its pods are
// (observedGeneration, updated/ready/available replicas, Progressing), as a real rollout does.
// A test switch makes the new pods crash (CrashLoopBackOff), so the rollout never completes.
import type { ClusterState, KubeObject } from '../contract.js';
import type { Node, Pod, PodSpec } from './objects.js';
import { ipv4, isReady, nodeIP, ownerRef, podStatus, randomSuffix, templateHash, timestamp, troubleEvent } from './objects.js';
import { startLoop } from './loop.js';
import type { Controller } from './kuberay-controller.js';

export interface DeploymentControllerOptions {
  /** How long a new pod takes to turn Ready (default 300 ms). */
  readyDelayMs?: number;
  /** New pods of these Deployments crash instead of turning Ready. */
  crash?: (deployment: KubeObject) => boolean;
}

interface Template {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: PodSpec;
}

interface Deployment extends KubeObject {
  spec: { replicas?: number; selector: { matchLabels?: Record<string, string> }; template: Template };
  status?: Record<string, unknown>;
}

const HASH = 'pod-template-hash';
const REVISION = 'deployment.kubernetes.io/revision';

/** The template without the hash label: what the controller compares. */
function templateKey(t: Template): string {
  const labels = { ...t.metadata?.labels };
  delete labels[HASH];
  return JSON.stringify({ labels, annotations: t.metadata?.annotations ?? {}, spec: t.spec });
}

const ownedBy = (o: KubeObject, owner: KubeObject): boolean => o.metadata.ownerReferences?.some((r) => r.uid === owner.metadata.uid) ?? false;

export function startDeploymentController(state: ClusterState, opts: DeploymentControllerOptions = {}): Controller {
  const readyDelayMs = opts.readyDelayMs ?? 300;
  let ips = 0;

  const replicaSets = (d: Deployment): KubeObject[] => state.list('apps/v1', 'ReplicaSet', d.metadata.namespace).filter((rs) => ownedBy(rs, d));
  const podsOf = (rs: KubeObject): Pod[] => (state.list('v1', 'Pod', rs.metadata.namespace) as Pod[]).filter((p) => ownedBy(p, rs) && !p.metadata.deletionTimestamp);

  /** The ReplicaSet for the current template, made when the template is new. */
  function currentReplicaSet(d: Deployment, sets: KubeObject[]): KubeObject {
    const want = templateKey(d.spec.template);
    const found = sets.find((rs) => templateKey((rs.spec as { template: Template }).template) === want);
    if (found) return found;
    const hash = templateHash(want);
    const revision = 1 + Math.max(0, ...sets.map((rs) => Number(rs.metadata.annotations?.[REVISION] ?? 0)));
    const labels = { ...d.spec.template.metadata?.labels, [HASH]: hash };
    return state.create({
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: `${d.metadata.name}-${hash}`, namespace: d.metadata.namespace, labels, annotations: { [REVISION]: String(revision) }, ownerReferences: [ownerRef(d)] },
      spec: { replicas: 0, selector: { matchLabels: { ...d.spec.selector.matchLabels, [HASH]: hash } }, template: { metadata: { ...d.spec.template.metadata, labels }, spec: structuredClone(d.spec.template.spec) } },
      status: { replicas: 0, observedGeneration: 1 },
    });
  }

  function createPod(d: Deployment, rs: KubeObject, near: Pod | undefined): void {
    const template = (rs.spec as { template: Template }).template;
    const hash = rs.metadata.labels?.[HASH] ?? '';
    const name = `${d.metadata.name}-${hash}-${randomSuffix()}`;
    const node = near?.spec.nodeName ? (state.get('v1', 'Node', undefined, near.spec.nodeName) as Node | undefined) : (state.list('v1', 'Node') as Node[]).find((n) => !n.spec.taints?.length && isReady(n.status.conditions));
    const pod: Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, generateName: `${d.metadata.name}-${hash}-`, namespace: d.metadata.namespace ?? 'default', labels: { ...template.metadata?.labels }, ...(template.metadata?.annotations ? { annotations: { ...template.metadata.annotations } } : {}), ownerReferences: [ownerRef(rs)] },
      spec: { ...structuredClone(template.spec), ...(node ? { nodeName: node.metadata.name } : {}) },
      status: { phase: 'Pending' },
    };
    const at = node ? { hostIP: nodeIP(node), podIP: ipv4(++ips, [10, 248]), now: timestamp() } : undefined;
    pod.status = podStatus(pod, { kind: 'creating' }, at);
    const made = state.create(pod) as Pod;
    loop.later(`ready:${made.metadata.namespace}/${name}`, readyDelayMs, () => start(d, made, at));
  }

  /** The kubelet's part: the containers start, or crash when the test says so. */
  function start(d: Deployment, created: Pod, at: { hostIP: string; podIP: string; now: string } | undefined): void {
    const pod = state.get('v1', 'Pod', created.metadata.namespace, created.metadata.name) as Pod | undefined;
    if (!pod || !at) return;
    const crash = opts.crash?.(d) ?? false;
    const health = crash ? ({ kind: 'crashloop', restarts: 3, exitCode: 1 } as const) : ({ kind: 'running' } as const);
    const written = state.replace({ ...pod, status: podStatus(pod, health, { ...at, now: timestamp(), uid: pod.metadata.uid ?? '' }) }) as Pod;
    const why = troubleEvent(written, health);
    if (why) state.create(why);
  }

  const ready = (p: Pod): boolean => isReady(p.status.conditions);

  function reconcile(d: Deployment): void {
    const want = d.spec.replicas ?? 1;
    const sets = replicaSets(d);
    const current = currentReplicaSet(d, sets);
    const fresh = podsOf(current);
    const old = sets.filter((rs) => rs.metadata.uid !== current.metadata.uid).flatMap(podsOf);
    const ns = d.metadata.namespace;

    // One step at a time: an old pod goes once a new one is Ready; a new pod comes while none is starting.
    const readyNew = fresh.filter(ready);
    if (old.length > 0 && readyNew.length + old.length > want) {
      const victim = [...old].sort((a, b) => Number(ready(a)) - Number(ready(b)))[0] as Pod;
      state.remove('v1', 'Pod', ns, victim.metadata.name);
      old.splice(old.indexOf(victim), 1);
    }
    const starting = fresh.filter((p) => !ready(p));
    if (fresh.length < want && starting.length === 0) createPod(d, current, old[0] ?? fresh[0]);
    if (old.length === 0 && fresh.length > want) for (const p of fresh.slice(want)) state.remove('v1', 'Pod', ns, p.metadata.name);

    // Status, on a fresh read of everything.
    const now = podsOf(current);
    const all = replicaSets(d).flatMap(podsOf);
    const updated = now.length;
    const readyCount = all.filter(ready).length;
    const done = updated === want && readyCount === want && all.length === want;
    const t = timestamp();
    for (const rs of replicaSets(d)) {
      const pods = podsOf(rs);
      const r = pods.filter(ready).length;
      const isCurrent = rs.metadata.uid === current.metadata.uid;
      const status = { replicas: pods.length, fullyLabeledReplicas: pods.length, readyReplicas: r, availableReplicas: r, observedGeneration: rs.metadata.generation ?? 1 };
      const spec = { ...(rs.spec as object), replicas: isCurrent ? want : pods.length };
      if (JSON.stringify(status) !== JSON.stringify(rs.status) || JSON.stringify(spec) !== JSON.stringify(rs.spec)) state.replace({ ...rs, spec, status });
    }
    const latest = state.get('apps/v1', 'Deployment', ns, d.metadata.name) as Deployment | undefined;
    if (!latest) return;
    const prev = latest.status ?? {};
    const status: Record<string, unknown> = {
      observedGeneration: latest.metadata.generation ?? 1,
      replicas: all.length,
      updatedReplicas: updated,
      readyReplicas: readyCount,
      availableReplicas: readyCount,
      unavailableReplicas: Math.max(0, want - readyCount),
      conditions: [
        { type: 'Available', status: readyCount >= want - Math.floor(want * 0.25) ? 'True' : 'False', lastUpdateTime: t, lastTransitionTime: t, reason: readyCount >= want - Math.floor(want * 0.25) ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable', message: 'Deployment has minimum availability.' },
        done
          ? { type: 'Progressing', status: 'True', lastUpdateTime: t, lastTransitionTime: t, reason: 'NewReplicaSetAvailable', message: `ReplicaSet "${current.metadata.name}" has successfully progressed.` }
          : { type: 'Progressing', status: 'True', lastUpdateTime: t, lastTransitionTime: t, reason: 'ReplicaSetUpdated', message: `ReplicaSet "${current.metadata.name}" is progressing.` },
      ],
    };
    for (const k of ['readyReplicas', 'availableReplicas', 'unavailableReplicas'] as const) if (status[k] === 0) delete status[k];
    const strip = (s: Record<string, unknown>): string => JSON.stringify({ ...s, conditions: (s.conditions as Array<Record<string, unknown>> | undefined)?.map((c) => ({ ...c, lastUpdateTime: undefined, lastTransitionTime: undefined })) });
    if (strip(status) !== strip(prev)) state.replace({ ...latest, status });
  }

  /** Deployments whose spec moved on since their status was written, or whose rollout is under way. */
  const active = new Set<string>();
  const loop = startLoop(state, {
    onEvent({ type, object }) {
      if (object.apiVersion === 'apps/v1' && object.kind === 'Deployment') {
        const key = `${object.metadata.namespace ?? ''}/${object.metadata.name}`;
        const observed = (object.status as { observedGeneration?: number } | undefined)?.observedGeneration ?? 0;
        if (type === 'DELETED') active.delete(key);
        else if ((object.metadata.generation ?? 0) > observed) active.add(key);
        return active.has(key);
      }
      return active.size > 0 && object.apiVersion === 'v1' && object.kind === 'Pod';
    },
    pass() {
      for (const key of [...active]) {
        const [ns, name] = key.split('/') as [string, string];
        const d = state.get('apps/v1', 'Deployment', ns, name) as Deployment | undefined;
        if (!d) {
          active.delete(key);
          continue;
        }
        reconcile(d);
        const after = state.get('apps/v1', 'Deployment', ns, name) as Deployment | undefined;
        const s = (after?.status ?? {}) as { observedGeneration?: number; updatedReplicas?: number; readyReplicas?: number; replicas?: number };
        const want = after?.spec.replicas ?? 1;
        if (after && s.observedGeneration === after.metadata.generation && s.updatedReplicas === want && s.readyReplicas === want && s.replicas === want) active.delete(key);
      }
    },
  });
  return { stop: () => loop.stop() };
}
