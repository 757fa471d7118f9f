// What the rendered Roles and ClusterRoles let the bot's ServiceAccount do, compared with
// what the code calls (code-calls.ts): every call granted, nothing granted that no call needs.
import type { K8sObject } from './helm.js';
import type { Need, Scope } from './code-calls.js';

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

export interface Where {
  /** Namespaces of the Vlinders platform, from the rendered config. */
  vlinders: string[];
  inference: string;
  store: string;
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
            if (rule.resourceNames?.length && !['get', 'patch', 'update', 'delete'].includes(verb)) {
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

function namespacesOf(scope: Scope, where: Where): string[] {
  switch (scope) {
    case 'cluster':
      return ['*'];
    case 'vlinders':
      return where.vlinders;
    case 'inference':
      return [where.inference];
    case 'store':
      return [where.store];
  }
}

const same = (g: Grant, n: { group: string; resource: string; verb: string }) => g.group === n.group && g.resource === n.resource && g.verb === n.verb;
const describe = (n: { group: string; resource: string; verb: string }) => `${n.verb} ${n.resource}${n.group ? `.${n.group}` : ''}`;

export function compare(needs: readonly Need[], objects: readonly K8sObject[], serviceAccount: { name: string; namespace: string }, where: Where): RbacReport {
  const { grants, problems } = grantsOf(objects, serviceAccount);
  const missing: string[] = [];
  const excess = [...problems];

  for (const need of needs) {
    for (const namespace of namespacesOf(need.scope, where)) {
      const ok = grants.some((g) => same(g, need) && (g.namespace === '*' || g.namespace === namespace));
      if (!ok) missing.push(`${describe(need)} ${namespace === '*' ? 'cluster-wide' : `in ${namespace}`} (${need.from.join(', ')})`);
    }
  }
  for (const g of grants) {
    const needed = needs.some((n) => same(g, n) && (g.namespace === '*' ? n.scope === 'cluster' : namespacesOf(n.scope, where).includes(g.namespace)));
    if (!needed) {
      excess.push(`${g.role} grants ${describe(g)} ${g.namespace === '*' ? 'cluster-wide' : `in ${g.namespace}`}, which no call needs`);
      continue;
    }
    if (g.namespace !== '*' && grants.some((c) => c.namespace === '*' && same(c, g))) excess.push(`${g.role} repeats ${describe(g)} in ${g.namespace}, already granted cluster-wide`);
  }
  return { grants, missing, excess };
}
