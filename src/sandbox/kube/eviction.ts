// pods/<name>/eviction: the policy/v1 Eviction subresource as the apiserver's eviction REST
// (pkg/registry/core/pod/storage/eviction.go) handles it. A pod that isn't running (Pending,
// Succeeded, Failed) or is already terminating is deleted at once. Otherwise the one
// PodDisruptionBudget whose selector matches it decides, from the status the disruption
// controller wrote: a budget not yet processed, or with no disruption left, is a 429 the
// client retries; an allowed one is decremented (status.disruptedPods records the pod) before
// the pod is deleted, gracefully, with the Eviction's deleteOptions.
import type { KubeObject } from './contract.js';
import { parseDeleteOptions, parseObject, type Route } from './rest.js';
import { labelSelectorMatcher, type LabelSelector } from './selectors.js';
import { ApiError, badRequest, failure, internal, notFound, type Status } from './status.js';
import { type Store, materialize, nowTimestamp } from './store.js';

const EVICTION_VERSIONS = ['policy/v1', 'policy/v1beta1'];
/** policyv1.DisruptionBudgetCause: the cause type of an eviction refused for a budget. */
const DISRUPTION_BUDGET_CAUSE = 'DisruptionBudget';
/** eviction.go's MaxDisruptedPodSize: more unconfirmed evictions than this and the budget refuses. */
const MAX_DISRUPTED_POD_SIZE = 2000;

export interface PdbStatus {
  observedGeneration?: number;
  disruptedPods?: Record<string, string>;
  disruptionsAllowed?: number;
  currentHealthy?: number;
  desiredHealthy?: number;
  expectedPods?: number;
  conditions?: Array<Record<string, unknown>>;
}

export interface Pdb extends KubeObject {
  spec: { selector?: LabelSelector; minAvailable?: number | string; maxUnavailable?: number | string; unhealthyPodEvictionPolicy?: 'IfHealthyBudget' | 'AlwaysAllow' };
  status?: PdbStatus & Record<string, unknown>;
}

/** The message every budget refusal carries (errors.NewTooManyRequests in eviction.go). */
export const PDB_VIOLATION = "Cannot evict pod as it would violate the pod's disruption budget.";

function tooManyRequests(cause: string, retryAfterSeconds: number): ApiError {
  return failure(429, 'TooManyRequests', PDB_VIOLATION, { causes: [{ reason: DISRUPTION_BUDGET_CAUSE, message: cause }], ...(retryAfterSeconds ? { retryAfterSeconds } : {}) });
}

const isPodReady = (pod: KubeObject): boolean => ((pod.status as { conditions?: Array<{ type: string; status: string }> } | undefined)?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

/** The budgets in the pod's namespace whose (non-empty) selector matches its labels. */
export function budgetsFor(store: Store, pod: { namespace: string; labels: Readonly<Record<string, string>> }): Pdb[] {
  return store
    .entries('policy/v1/PodDisruptionBudget', pod.namespace)
    .map((e) => materialize(e) as Pdb)
    .filter((pdb) => labelSelectorMatcher(pdb.spec.selector)?.(pod.labels) ?? false);
}

/** The condition the apiserver and the disruption controller keep on a budget (pdbhelper.UpdateDisruptionAllowedCondition). */
export function disruptionAllowedCondition(pdb: Pdb, previous: Array<Record<string, unknown>> | undefined): Array<Record<string, unknown>> {
  const allowed = (pdb.status?.disruptionsAllowed ?? 0) > 0;
  const status = allowed ? 'True' : 'False';
  const before = previous?.find((c) => c.type === 'DisruptionAllowed');
  const rest = (previous ?? []).filter((c) => c.type !== 'DisruptionAllowed');
  return [...rest, { type: 'DisruptionAllowed', status, observedGeneration: pdb.metadata.generation ?? 1, lastTransitionTime: before?.status === status ? before.lastTransitionTime : nowTimestamp(), reason: allowed ? 'SufficientPods' : 'InsufficientPods', message: '' }];
}

function parseEviction(route: Route, body: string): { deleteOptions: object } {
  const eviction = parseObject(body) as KubeObject & { deleteOptions?: unknown };
  if (eviction.apiVersion && !EVICTION_VERSIONS.includes(eviction.apiVersion)) throw badRequest(`the API version in the data (${eviction.apiVersion}) does not match the expected API version (policy/v1)`);
  if (eviction.kind && eviction.kind !== 'Eviction') throw badRequest(`the kind in the data (${eviction.kind}) does not match the expected kind (Eviction)`);
  if (eviction.metadata.namespace && eviction.metadata.namespace !== route.namespace) throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
  if (eviction.metadata.name !== route.name) throw badRequest('name in URL does not match name in Eviction object');
  const options = eviction.deleteOptions;
  if (options !== undefined && options !== null && (typeof options !== 'object' || Array.isArray(options))) throw badRequest('deleteOptions: expected an object');
  return { deleteOptions: (options ?? {}) as object };
}

/** Handles POST pods/<name>/eviction; returns the Success Status (201) or throws the refusal. */
export function evict(store: Store, route: Route, body: string, q: URLSearchParams, dryRun: boolean): Status {
  const { deleteOptions } = parseEviction(route, body);
  const namespace = route.namespace as string;
  const name = route.name as string;
  const entry = store.entry('v1/Pod', namespace, name);
  if (!entry) throw notFound('pods', '', name);
  const options = parseDeleteOptions(deleteOptions, q, dryRun);
  const pod = materialize(entry);
  const phase = (pod.status as { phase?: string } | undefined)?.phase;
  const created: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 };
  const remove = (): Status => {
    store.requestDelete('v1', 'Pod', namespace, name, options);
    return created;
  };
  // A pod that isn't running can't be disrupted further; a terminating one is already on its way.
  if (entry.deleting || phase === 'Succeeded' || phase === 'Failed' || phase === 'Pending') return remove();
  const budgets = budgetsFor(store, entry);
  if (budgets.length > 1) throw internal('This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.');
  const pdb = budgets[0];
  if (!pdb) return remove();
  const status = pdb.status ?? {};
  // An unready pod doesn't count as healthy: evicting it costs the budget nothing when the rest are enough.
  if (!isPodReady(pod)) {
    const desired = status.desiredHealthy ?? 0;
    if (pdb.spec.unhealthyPodEvictionPolicy === 'AlwaysAllow' || ((status.currentHealthy ?? 0) >= desired && desired > 0)) return remove();
  }
  if ((status.observedGeneration ?? 0) < (pdb.metadata.generation ?? 1)) throw tooManyRequests(`The disruption budget ${pdb.metadata.name} is still being processed by the server.`, 10);
  const allowed = status.disruptionsAllowed ?? 0;
  if (allowed < 0) throw failure(403, 'Forbidden', `poddisruptionbudgets.policy "${pdb.metadata.name}" is forbidden: pdb disruptions allowed is negative`, { name: pdb.metadata.name, group: 'policy', kind: 'poddisruptionbudgets' });
  if (Object.keys(status.disruptedPods ?? {}).length > MAX_DISRUPTED_POD_SIZE)
    throw failure(403, 'Forbidden', `poddisruptionbudgets.policy "${pdb.metadata.name}" is forbidden: DisruptedPods map too big - too many evictions not confirmed by PDB controller`, { name: pdb.metadata.name, group: 'policy', kind: 'poddisruptionbudgets' });
  if (allowed === 0) throw tooManyRequests(`The disruption budget ${pdb.metadata.name} needs ${status.desiredHealthy ?? 0} healthy pods and has ${status.currentHealthy ?? 0} currently`, 0);
  if (!dryRun) {
    const next: Pdb = { ...pdb, status: { ...status, disruptionsAllowed: allowed - 1, disruptedPods: { ...status.disruptedPods, [name]: nowTimestamp() } } };
    next.status = { ...next.status, conditions: disruptionAllowedCondition(next, status.conditions) };
    store.update(next);
  }
  return remove();
}
