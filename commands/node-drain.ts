import type { V1Pod, V1PodDisruptionBudget } from '@kubernetes/client-node';
import { z } from 'zod';
import { defineCommand, type CommandContext } from '../src/core/command.js';
import { NotFoundError, NothingToDoError, errorMessage } from '../src/core/errors.js';
import type { Report } from '../src/core/report.js';
import type { KubeClient } from '../src/kube/client.js';
import { nodeNameArg } from '../src/kube/cordon.js';
import { budgetFor, drainTargets, evictPod, isCordoned, listBudgets, podRef, podsOnNode, readNode, setUnschedulable } from '../src/kube/drain.js';
import { KubeTooManyRequestsError } from '../src/kube/errors.js';
import { isNodeReady } from '../src/kube/health.js';
import { durationSeconds } from '../src/loadtest/k6-job.js';
import { desiredWorkers, findWorkerGroup, resolveRayCluster } from '../src/ray/raycluster.js';
import { isWorkerReady, listWorkers } from '../src/ray/workers.js';

const USAGE = 'node drain <node> [--timeout D] [--cluster NAME]';
const DEFAULT_TIMEOUT = '5m';
/** Retrying an eviction a budget holds back: from FIRST_RETRY_MS, doubling, at most MAX_RETRY_MS (or the server's Retry-After). */
const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 5000;
const POLL_MS = 300;
/**
 * How long an evicted pod may stay Terminating on a node that isn't Ready before the drain stops
 * waiting for it (kubectl drain's --skip-wait-for-delete-timeout idea). An unreachable kubelet
 * finishes nothing, however long the grace period: the pod stays until the node is back or its
 * Node object is deleted. The node controller calls a node NotReady only after 40 s of silence,
 * so a short wait is enough to catch a kubelet that is just coming back.
 */
const UNREACHABLE_WAIT_MS = 5000;
/** The plan card lists at most this many pods by name. */
const LISTED = 40;

const args = z.object({ node: nodeNameArg, timeout: z.string().max(20).optional() });

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
const budgetRef = (pdb: V1PodDisruptionBudget) => `${pdb.metadata?.namespace ?? '?'}/${pdb.metadata?.name ?? '?'}`;

/**
 * Why draining the node would leave no GPU worker serving: every Ready KubeRay worker of the
 * configured cluster runs on it. Undefined when at least one stays Ready elsewhere (or none is Ready now).
 */
async function lastWorkerRefusal(ctx: CommandContext, kube: KubeClient, node: string): Promise<string | undefined> {
  const { namespaces, ray } = ctx.config;
  const { raycluster } = await resolveRayCluster(kube, { namespace: namespaces.inference, cluster: ray.cluster, service: ray.service });
  const { group } = findWorkerGroup(raycluster, ray.workerGroup);
  const ready = (await listWorkers(kube, raycluster.metadata.namespace, raycluster.metadata.name, group.groupName)).filter(isWorkerReady);
  const here = ready.filter((p) => p.spec?.nodeName === node);
  if (here.length === 0 || here.length < ready.length) return undefined;
  const names = here.map((p) => p.metadata?.name ?? '?').join(', ');
  return `Draining ${node} would take the last Ready GPU worker of ${raycluster.metadata.name} (${names}): no model would be served until a worker is Ready on another node. Add a worker first (\`scale-gpu ${desiredWorkers(group) + 1}\`), wait until it is Ready elsewhere, then drain.`;
}

function refused(node: string, why: string): Report {
  return { title: `node drain ${node}`, status: 'fail', summary: `Refused: ${why}` };
}

const stuckWhy = (node: string) => `they stay Terminating until ${node} is Ready again or its Node object is deleted`;

/** The drain's end when every pod left is evicted but stuck Terminating on the unreachable node. */
function strandedReport(node: string, total: number, stranded: V1Pod[]): Report {
  const refs = stranded.map(podRef);
  const force = `\`kubectl delete pod -n <namespace> <pod> --grace-period=0 --force\``;
  return {
    title: `node drain ${node}`,
    status: 'warn',
    summary:
      `${node} is not Ready (its kubelet is unreachable): ${total - stranded.length}/${total} pods are gone and ${plural(stranded.length, 'evicted pod')} stay Terminating there (${refs.join(', ')}). ` +
      `Kubernetes doesn't finish a pod whose kubelet it can't reach: ${stuckWhy(node)}; until then a StatefulSet doesn't recreate that pod, and the volumes it held stay attached. ` +
      `${node} stays cordoned. Next: bring ${node} back, or if the machine is gone for good, delete its Node object (\`kubectl delete node ${node}\`) and the pod garbage collector removes them. ` +
      `Force-deleting one (${force}) is a manual step for when you are sure the machine is off: if its containers still run, two copies run at once. The bot force-deletes nothing.`,
    sections: [{ title: 'Terminating on the unreachable node', header: ['pod', 'why'], rows: refs.map((r) => [r, 'evicted; its kubelet is unreachable']) }],
  };
}

const ownerOf = (pod: V1Pod): string => {
  const ref = pod.metadata?.ownerReferences?.find((r) => r.controller);
  return ref ? `${ref.kind} ${ref.name}` : 'none';
};

export default defineCommand({
  name: 'node drain',
  summary: 'Cordon a node and evict its pods through the Eviction API, respecting PodDisruptionBudgets (two people); refuses to take the last Ready GPU worker',
  usage: USAGE,
  args,
  positional: ['node'],
  role: 'admin',
  // Every pod on the node is stopped and moved, and a budget-less service on it goes down meanwhile.
  risk: 'destructive',
  examples: ['node drain vlinders-gpu-2', 'node drain vlinders-gpu-2 --timeout 10m'],
  plan: async (ctx, { node, timeout }) => {
    durationSeconds(timeout ?? DEFAULT_TIMEOUT, '--timeout');
    const kube = ctx.services.kube();
    const current = await readNode(kube, node);
    const targets = drainTargets(await podsOnNode(kube, node));
    if (isCordoned(current) && targets.evict.length === 0) throw new NothingToDoError(`Node ${node} is cordoned and has no pods to evict; nothing to change.`);
    const why = await lastWorkerRefusal(ctx, kube, node);
    if (why) return refused(node, why);
    const budgets = await listBudgets(kube);
    const held = new Map<string, V1PodDisruptionBudget>();
    const rows = targets.evict.slice(0, LISTED).map((pod) => {
      const pdb = budgetFor(pod, budgets);
      if (pdb && (pdb.status?.disruptionsAllowed ?? 0) === 0) held.set(budgetRef(pdb), pdb);
      return [podRef(pod), ownerOf(pod), pdb ? `${budgetRef(pdb)} (${plural(pdb.status?.disruptionsAllowed ?? 0, 'disruption')} allowed now)` : 'none'];
    });
    const more = targets.evict.length - rows.length;
    const warnings = [...held.keys()].map((ref) => `⚠️ PodDisruptionBudget ${ref} allows no disruption now: the drain waits for it, at most ${timeout ?? DEFAULT_TIMEOUT}, and then stops with the node cordoned.`);
    // What kubectl drain refuses without --force and --delete-emptydir-data: said here, before the second person approves.
    const unmanaged = targets.evict.filter((p) => ownerOf(p) === 'none');
    const emptyDir = targets.evict.filter((p) => p.spec?.volumes?.some((v) => v.emptyDir));
    if (unmanaged.length) warnings.push(`⚠️ No controller recreates ${unmanaged.map(podRef).join(', ')}: once evicted ${unmanaged.length === 1 ? 'it is' : 'they are'} gone.`);
    if (emptyDir.length) warnings.push(`⚠️ The emptyDir data of ${emptyDir.map(podRef).join(', ')} is deleted with ${emptyDir.length === 1 ? 'the pod' : 'the pods'}.`);
    if (!isNodeReady(current) && targets.evict.length) warnings.push(`⚠️ ${node} is not Ready: its kubelet can't stop the evicted pods, so ${stuckWhy(node)}. The drain says so and stops rather than waiting ${timeout ?? DEFAULT_TIMEOUT}.`);
    return {
      title: `node drain ${node}`,
      status: warnings.length ? 'warn' : 'info',
      summary: `Cordons ${node}, then evicts its ${plural(targets.evict.length, 'pod')} through the Eviction API, respecting PodDisruptionBudgets (waits at most ${timeout ?? DEFAULT_TIMEOUT}). DaemonSet pods (${targets.daemonSet.length}) and mirror pods (${targets.mirror.length}) stay. Destructive: a second person with the approver role must approve.`,
      sections: [
        ...(rows.length ? [{ title: 'Pods to evict', header: ['pod', 'controller', 'PodDisruptionBudget'], rows }] : []),
        ...(more > 0 ? [{ lines: [`… and ${more} more.`] }] : []),
        ...(warnings.length ? [{ lines: warnings }] : []),
      ],
    };
  },
  run: async (ctx, { node, timeout }) => {
    const timeoutSeconds = durationSeconds(timeout ?? DEFAULT_TIMEOUT, '--timeout');
    const kube = ctx.services.kube();
    const title = `node drain ${node}`;
    const why = await lastWorkerRefusal(ctx, kube, node);
    if (why) return refused(node, why);
    if (!isCordoned(await readNode(kube, node))) await setUnschedulable(kube, node, true);
    const targets = drainTargets(await podsOnNode(kube, node)).evict;
    const total = targets.length;
    await ctx.progress(`Cordoned ${node}. Evicting ${plural(total, 'pod')} through the Eviction API…`);

    let budgets = await listBudgets(kube);
    const started = Date.now();
    const deadline = started + timeoutSeconds * 1000;
    /** Pods whose eviction the API accepted (or that were already gone). */
    const accepted = new Set<string>();
    /** Pods a budget holds back: why, and when to ask again. */
    const waiting = new Map<string, { why: string; retryAt: number; delay: number }>();
    /** When this drain first saw each pod Terminating (its own clock: no skew with the server's). */
    const terminatingSince = new Map<string, number>();
    const uid = (pod: V1Pod) => pod.metadata?.uid ?? podRef(pod);
    let last = '';
    for (;;) {
      for (const pod of targets) {
        const key = uid(pod);
        const wait = waiting.get(key);
        if (accepted.has(key) || (wait && wait.retryAt > Date.now())) continue;
        try {
          await evictPod(kube, pod);
          accepted.add(key);
          waiting.delete(key);
        } catch (err) {
          if (err instanceof NotFoundError) {
            accepted.add(key);
            waiting.delete(key);
          } else if (err instanceof KubeTooManyRequestsError) {
            if (!wait) budgets = await listBudgets(kube);
            const pdb = budgetFor(pod, budgets);
            // A 429 without a budget's cause is the API shedding load (priority and fairness): retried alike.
            const why = err.budgetCauses.length ? `waiting on PodDisruptionBudget ${pdb ? budgetRef(pdb) : '(not listed)'}: ${err.budgetCauses.join('; ')}` : `waiting: ${errorMessage(err)}`;
            const delay = Math.min(MAX_RETRY_MS, wait ? wait.delay * 2 : FIRST_RETRY_MS);
            const retryIn = Math.max(delay, Math.min((err.retryAfterSeconds ?? 0) * 1000, 2 * MAX_RETRY_MS));
            waiting.set(key, { why, retryAt: Date.now() + retryIn, delay });
          } else {
            return {
              title,
              status: 'fail',
              summary: `Evicting ${podRef(pod)} failed: ${errorMessage(err)}. ${plural(accepted.size, 'pod')} of ${total} were evicted; ${node} stays cordoned (\`node uncordon ${node}\` to undo).`,
            } satisfies Report;
          }
        }
      }
      const onNode = await podsOnNode(kube, node);
      const present = new Set(onNode.map(uid));
      for (const p of onNode) if (p.metadata?.deletionTimestamp && !terminatingSince.has(uid(p))) terminatingSince.set(uid(p), Date.now());
      const left = targets.filter((p) => present.has(uid(p)));
      const evicted = total - left.length;
      const held = left.filter((p) => waiting.has(uid(p)));
      const byBudget = [...new Set(held.map((p) => waiting.get(uid(p))?.why.split(':')[0] ?? ''))];
      const line = `${evicted}/${total} pods evicted${held.length ? `; ${plural(held.length, 'pod')} ${byBudget.join(', ')} (${held.map(podRef).join(', ')})` : ''}`;
      if (line !== last) {
        await ctx.progress(line);
        last = line;
      }
      if (left.length === 0) {
        return { title, status: 'ok', summary: `Drained ${node}: ${plural(total, 'pod')} evicted. It stays cordoned; \`node uncordon ${node}\` lets pods back on.` } satisfies Report;
      }
      const stuckLong = (p: V1Pod) => accepted.has(uid(p)) && Date.now() - (terminatingSince.get(uid(p)) ?? Infinity) >= UNREACHABLE_WAIT_MS;
      if (left.every(stuckLong) && !isNodeReady(await readNode(kube, node))) return strandedReport(node, total, left);
      if (Date.now() >= deadline || ctx.signal.aborted) {
        return {
          title,
          status: 'warn',
          summary: `The drain of ${node} stopped ${ctx.signal.aborted ? '(the bot is shutting down)' : `after ${timeout ?? DEFAULT_TIMEOUT}`}: ${evicted}/${total} pods evicted, ${left.length} left. ${node} stays cordoned (\`node uncordon ${node}\` to undo, or \`node drain ${node}\` again).`,
          sections: [
            {
              title: 'Left on the node',
              header: ['pod', 'why'],
              rows: left.map((p) => [podRef(p), waiting.get(uid(p))?.why ?? (accepted.has(uid(p)) ? 'evicted, still terminating' : 'not evicted yet')]),
            },
          ],
        } satisfies Report;
      }
      await sleep(POLL_MS);
    }
  },
});
