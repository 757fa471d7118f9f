// What the rendered Roles and ClusterRoles let the bot's ServiceAccount do, compared with
// what the code calls (code-calls.ts): every call granted, nothing granted that no call needs.
import { parseConfigText } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { one, type K8sObject } from './helm.js';
import { ATTRIBUTED, placesOf, type Need, type Place } from './code-calls.js';

/** A namespace, or '*' for a ClusterRole bound cluster-wide. */
export interface Grant {
  namespace: string;
  group: string;
  resource: string;
  verb: string;
  /** Limited to these object names (get/patch/update/delete only). */
  resourceNames?: string[];
  /** Role or ClusterRole it comes from. */
  role: string;
}

interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  verbs?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}
interface RoleRef {
  kind: string;
  name: string;
}
interface Subject {
  kind: string;
  name: string;
  namespace?: string;
}

export interface RbacReport {
  grants: Grant[];
  /** Needed and not granted. */
  missing: string[];
  /** Granted and not needed, or not allowed at all (wildcards, unbound roles...). */
  excess: string[];
}

const rulesOf = (o: K8sObject) => ((o as { rules?: PolicyRule[] }).rules ?? []) as PolicyRule[];

/** The grants of one ServiceAccount, from the rendered bindings. */
export function grantsOf(objects: readonly K8sObject[], serviceAccount: { name: string; namespace: string }): { grants: Grant[]; problems: string[] } {
  const problems: string[] = [];
  const grants: Grant[] = [];
  const roles = objects.filter((o) => o.kind === 'Role' || o.kind === 'ClusterRole');
  const bound = new Set<K8sObject>();
  const isOurs = (s: Subject) => s.kind === 'ServiceAccount' && s.name === serviceAccount.name && s.namespace === serviceAccount.namespace;

  for (const binding of objects.filter((o) => o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding')) {
    const id = `${binding.kind} ${binding.metadata.namespace ?? ''}/${binding.metadata.name}`;
    const subjects = ((binding as { subjects?: Subject[] }).subjects ?? []) as Subject[];
    if (subjects.length === 0 || !subjects.every(isOurs)) problems.push(`${id} binds someone other than ServiceAccount ${serviceAccount.namespace}/${serviceAccount.name}`);
    if (!subjects.some(isOurs)) continue;
    const ref = (binding as unknown as { roleRef: RoleRef }).roleRef;
    const role = roles.find((r) => r.kind === ref.kind && r.metadata.name === ref.name && (r.kind === 'ClusterRole' || r.metadata.namespace === binding.metadata.namespace));
    if (!role) {
      problems.push(`${id} refers to ${ref.kind} ${ref.name}, which the chart does not render`);
      continue;
    }
    bound.add(role);
    const namespace = binding.kind === 'ClusterRoleBinding' ? '*' : (binding.metadata.namespace as string);
    for (const rule of rulesOf(role)) {
      if (rule.nonResourceURLs?.length) problems.push(`${role.kind} ${role.metadata.name} grants non-resource URLs ${rule.nonResourceURLs.join(', ')}`);
      for (const group of rule.apiGroups ?? []) {
        for (const resource of rule.resources ?? []) {
          for (const verb of rule.verbs ?? []) {
            if ([group, resource, verb].some((x) => x.includes('*'))) problems.push(`${role.kind} ${role.metadata.name} grants a wildcard: ${verb} ${resource} in group "${group}"`);
            // A subresource's create names its object in the URL (POST pods/postgres-0/exec), so
            // resourceNames limits it; a plain create names nothing the authorizer sees.
            if (rule.resourceNames?.length && !['get', 'patch', 'update', 'delete'].includes(verb) && !(verb === 'create' && resource.includes('/'))) {
              problems.push(`${role.kind} ${role.metadata.name}: resourceNames can't limit ${verb} (${resource}), so the rule grants more than it reads`);
            }
            grants.push({ namespace, group, resource, verb, resourceNames: rule.resourceNames, role: `${role.kind} ${role.metadata.name}` });
          }
        }
      }
    }
  }
  for (const role of roles) if (!bound.has(role)) problems.push(`${role.kind} ${role.metadata.namespace ?? ''}/${role.metadata.name} is bound to nothing`);
  return { grants, problems };
}

const same = (g: Grant, n: { group: string; resource: string; verb: string }) => g.group === n.group && g.resource === n.resource && g.verb === n.verb;
const describe = (n: { group: string; resource: string; verb: string }) => `${n.verb} ${n.resource}${n.group ? `.${n.group}` : ''}`;
const inNamespace = (namespace: string) => (namespace === '*' ? 'cluster-wide' : `in ${namespace}`);
/** Whether a grant in force at this namespace covers a call to this place (an unnamed call needs an unnamed grant). */
const covers = (g: Grant, need: Need, place: Place) =>
  (g.namespace === '*' || g.namespace === place.namespace) && (!ATTRIBUTED.has(need.resource) || !g.resourceNames?.length || (place.name !== undefined && g.resourceNames.includes(place.name)));

/**
 * Every call granted, nothing granted that no call needs: per namespace, and for exec, Jobs
 * and Secrets per object name (a grant for any name where the code names its objects is excess).
 */
export function compare(needs: readonly Need[], objects: readonly K8sObject[], serviceAccount: { name: string; namespace: string }, config: Config): RbacReport {
  const { grants, problems } = grantsOf(objects, serviceAccount);
  const missing: string[] = [];
  const excess = [...problems];
  const placed = needs.map((need) => ({ need, places: placesOf(need, config) }));

  for (const { need, places } of placed) {
    for (const place of places) {
      if (!grants.some((g) => same(g, need) && covers(g, need, place))) missing.push(`${describe(need)} ${inNamespace(place.namespace)}${place.name ? ` on ${place.name}` : ''} (${need.from.join(', ')})`);
    }
  }
  for (const g of grants) {
    // The places of this verb the grant is in force for: cluster-wide ones only for a cluster-wide grant.
    const here = placed.filter(({ need }) => same(g, need)).flatMap(({ places }) => places.filter((p) => p.namespace === g.namespace));
    if (here.length === 0) {
      excess.push(`${g.role} grants ${describe(g)} ${inNamespace(g.namespace)}, which no call needs`);
      continue;
    }
    if (g.namespace !== '*' && grants.some((c) => c.namespace === '*' && same(c, g))) excess.push(`${g.role} repeats ${describe(g)} in ${g.namespace}, already granted cluster-wide`);
    if (!ATTRIBUTED.has(g.resource)) continue;
    const names = [...new Set(here.map((p) => p.name))];
    if (!g.resourceNames?.length) {
      if (!names.includes(undefined)) excess.push(`${g.role} grants ${describe(g)} ${inNamespace(g.namespace)} on every object, where the code only uses ${[...names].sort().join(', ')}: limit it with resourceNames`);
      continue;
    }
    const unused = g.resourceNames.filter((n) => !names.includes(n));
    if (unused.length) excess.push(`${g.role} grants ${describe(g)} ${inNamespace(g.namespace)} on ${unused.join(', ')}, which no call names`);
    if (grants.some((c) => c !== g && same(c, g) && c.namespace === g.namespace && !c.resourceNames?.length)) excess.push(`${g.role} repeats ${describe(g)} in ${g.namespace} by name, already granted for every name`);
  }
  return { grants, missing, excess };
}

/** The config the bot will load (the rendered ConfigMap): where its calls go. */
export function renderedConfig(objects: readonly K8sObject[]): Config {
  const text = (one(objects, 'ConfigMap') as unknown as { data: Record<string, string> }).data['vlinders-ops.yaml'] as string;
  return parseConfigText(text, 'ConfigMap');
}

function renderedServiceAccount(objects: readonly K8sObject[]) {
  const d = one(objects, 'Deployment') as unknown as { metadata: { namespace: string }; spec: { template: { spec: { serviceAccountName: string } } } };
  return { name: d.spec.template.spec.serviceAccountName, namespace: d.metadata.namespace };
}

/** compare() for a rendered chart: its Deployment's ServiceAccount, its ConfigMap's config. */
export const compareRendered = (needs: readonly Need[], objects: readonly K8sObject[]) => compare(needs, objects, renderedServiceAccount(objects), renderedConfig(objects));
