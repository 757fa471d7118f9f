// The RBAC-verbs test: the rendered Roles and ClusterRole grant every Kubernetes call the code
// makes (read from src/ and commands/ by code-calls.ts), in the namespaces the rendered config
// points it at, and nothing else: no wildcards, no unbound roles, no verb no call uses. Exec,
// Jobs and Secrets are compared per namespace and per object name: test/security/
// rbac-least-privilege.test.ts.
import { beforeAll, describe, expect, it } from 'vitest';
import { extractKubeCalls, rayCallSitesUseInference, type Need } from './code-calls.js';
import { FULL_VALUES, NAMESPACE, byKind, render, type K8sObject } from './helm.js';
import { compareRendered } from './rbac-grants.js';

let needs: Need[];
let defaults: K8sObject[];
let full: K8sObject[];
let shared: K8sObject[];

beforeAll(async () => {
  needs = extractKubeCalls().needs;
  [defaults, full, shared] = await Promise.all([
    render(),
    render({ files: [FULL_VALUES] }),
    // The platform and inference namespaces being one: one Role there, holding both sets.
    render({ set: ['config.namespaces.inference=vlinders-platform', 'config.store.namespace=vlinders-platform'] }),
  ]);
});

const check = (objects: K8sObject[]) => compareRendered(needs, objects);

describe('what the code calls', () => {
  it('is read from every KubeCall and client-node call, with nothing left unread', () => {
    const { unreadable } = extractKubeCalls();
    expect(unreadable).toEqual([]);
    expect(rayCallSitesUseInference()).toEqual([]);
  });

  it('includes the calls the runbook is known to make', () => {
    const has = (scope: string, group: string, resource: string, verb: string) =>
      needs.some((n) => (typeof n.target === 'string' ? n.target : n.target.role) === scope && n.group === group && n.resource === resource && n.verb === verb);
    expect(has('cluster', '', 'nodes', 'list')).toBe(true);
    expect(has('cluster', '', 'pods', 'list')).toBe(true);
    expect(has('cluster', 'metrics.k8s.io', 'nodes', 'list')).toBe(true);
    expect(has('cluster', '', 'nodes', 'patch')).toBe(true);
    expect(has('cluster', '', 'pods/eviction', 'create')).toBe(true);
    expect(has('cluster', 'policy', 'poddisruptionbudgets', 'list')).toBe(true);
    expect(has('platform', '', 'pods/exec', 'create')).toBe(true);
    expect(has('inference', '', 'pods/exec', 'get')).toBe(true);
    expect(has('loadtest', 'batch', 'jobs', 'create')).toBe(true);
    expect(has('vlinders', 'apps', 'deployments', 'list')).toBe(true);
    expect(has('inference', 'ray.io', 'rayclusters', 'patch')).toBe(true);
    expect(has('store', '', 'configmaps', 'create')).toBe(true);
    expect(has('store', 'coordination.k8s.io', 'leases', 'update')).toBe(true);
  });
});

describe('the rendered RBAC', () => {
  for (const [name, objects] of [
    ['default values', () => defaults],
    ['full values (other namespaces, a RayService, a separate store namespace)', () => full],
    ['one namespace for platform, inference and the store', () => shared],
  ] as const) {
    it(`grants exactly what the code calls, with ${name}`, () => {
      const report = check(objects());
      expect(report.missing, 'calls the Roles do not grant').toEqual([]);
      expect(report.excess, 'grants no call needs').toEqual([]);
    });
  }

  it('is cluster-wide only for nodes, node metrics, pods across namespaces (and their eviction), PodDisruptionBudgets, StorageClasses and the Vlinders namespaces by name', () => {
    const cluster = check(defaults)
      .grants.filter((g) => g.namespace === '*')
      .map((g) => `${g.verb} ${g.resource}${g.group ? `.${g.group}` : ''}`)
      .sort();
    expect(cluster).toEqual(['create pods/eviction', 'get namespaces', 'get nodes', 'list nodes', 'list nodes.metrics.k8s.io', 'list poddisruptionbudgets.policy', 'list pods', 'list storageclasses.storage.k8s.io', 'patch nodes']);
    const namespaces = check(defaults).grants.find((g) => g.resource === 'namespaces');
    expect(namespaces?.resourceNames).toEqual(['vlinders-platform', 'vlinders-inference', 'vlinders-monitoring']);
    expect(byKind(defaults, 'ClusterRole')).toHaveLength(1);
  });

  it('changes only the configured RayCluster when there is no RayService, and reads only the configured RayService', () => {
    const ray = (objects: K8sObject[]) => check(objects).grants.filter((g) => g.group === 'ray.io');
    expect(ray(defaults).map((g) => [g.namespace, g.resource, g.verb, g.resourceNames])).toEqual([
      ['vlinders-inference', 'rayclusters', 'get', ['vlinders-ray-cluster']],
      ['vlinders-inference', 'rayclusters', 'patch', ['vlinders-ray-cluster']],
      ['vlinders-inference', 'rayservices', 'get', undefined],
    ]);
    // KubeRay names the active RayCluster of a RayService itself: no name to pin it to.
    expect(ray(full).map((g) => [g.namespace, g.resource, g.verb, g.resourceNames])).toEqual([
      ['llm-inference', 'rayclusters', 'get', undefined],
      ['llm-inference', 'rayclusters', 'patch', undefined],
      ['llm-inference', 'rayservices', 'get', ['llm-serve']],
    ]);
  });

  it('puts the store and the Lease in the bot’s namespace only', () => {
    // ConfigMaps read or patched by name (gpu-memory's vLLM settings, the ones preflight checks) are not state.
    const settings = (g: { resource: string; resourceNames?: string[] }) => g.resource === 'configmaps' && (g.resourceNames?.length ?? 0) > 0;
    const state = (objects: K8sObject[]) => [...new Set(check(objects).grants.filter((g) => ['configmaps', 'leases'].includes(g.resource) && !settings(g)).map((g) => g.namespace))];
    expect(state(defaults)).toEqual([NAMESPACE]);
    expect(state(full)).toEqual(['ops-state']);
  });

  it('reads Secrets and ConfigMaps by name only: the ones preflight checks and the digest reads', () => {
    const named = (resource: string) =>
      Object.fromEntries(check(defaults).grants.filter((g) => g.resource === resource && g.verb === 'get').map((g) => [g.namespace, g.resourceNames]));
    for (const g of check(defaults).grants.filter((g) => ['secrets', 'configmaps'].includes(g.resource) && g.verb === 'get' && g.namespace !== NAMESPACE)) {
      expect(g.resourceNames?.length, `${g.resource} in ${g.namespace}`).toBeGreaterThan(0);
    }
    expect(named('secrets')['vlinders-platform']).toEqual(['vlinders-secrets', 'vlinders-tls']);
    expect(check(defaults).grants.filter((g) => g.resource === 'configmaps' && g.verb === 'get' && g.namespace === 'vlinders-platform').map((g) => g.resourceNames)).toEqual([['vlinders-api-config', 'vlinders-loadtest']]);
  });

  it('reads the backup signing Secret by name, in the bot’s own namespace only', async () => {
    const signing = (objects: K8sObject[]) =>
      check(objects)
        .grants.filter((g) => g.resource === 'secrets' && (g.resourceNames ?? []).some((n) => /signing/.test(n)))
        .map((g) => [g.namespace, g.verb, g.resourceNames]);
    expect(signing(defaults)).toEqual([[NAMESPACE, 'get', ['vlinders-ops-backup-signing']]]);
    const renamed = await render({ set: ['config.backup.signingSecret.name=ops-signing'] });
    expect(check(renamed).grants.filter((g) => g.resource === 'secrets' && g.namespace === NAMESPACE).map((g) => g.resourceNames)).toEqual([['ops-signing']]);
  });

  it("reads loadtest's script ConfigMap by name in the namespace its Job runs in", async () => {
    const namedConfigMaps = (objects: K8sObject[]) =>
      Object.fromEntries(check(objects).grants.filter((g) => g.resource === 'configmaps' && g.verb === 'get' && g.resourceNames?.length).map((g) => [g.namespace, g.resourceNames]));
    const moved = namedConfigMaps(await render({ set: ['config.loadtest.namespace=vlinders-monitoring', 'config.loadtest.scriptConfigMap=k6-script'] }));
    expect(moved['vlinders-monitoring']).toContain('k6-script');
    expect(moved['vlinders-platform']).toEqual(['vlinders-api-config']);
  });

  it('renders nothing with rbac.create=false', async () => {
    const objects = await render({ set: ['rbac.create=false'] });
    expect(objects.filter((o) => /Role/.test(o.kind))).toEqual([]);
  });
});

describe('the comparison fails a chart that is wrong', () => {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  type Rules = { rules: Array<Record<string, any>> };
  const edit = (kind: string, namespace: string | undefined, change: (role: K8sObject & Rules) => void) => {
    const objects = structuredClone(defaults);
    const role = objects.find((o) => o.kind === kind && o.metadata.namespace === namespace) as K8sObject & Rules;
    change(role);
    return check(objects);
  };

  it('a call left out', () => {
    const report = edit('Role', 'vlinders-inference', (r) => {
      r.rules = r.rules.filter((rule) => !(rule.resources as string[]).includes('rayclusters'));
    });
    expect(report.missing.join('\n')).toMatch(/get rayclusters\.ray\.io in vlinders-inference \(src\/ray\/raycluster\.ts:\d+/);
    expect(report.missing.join('\n')).toMatch(/patch rayclusters\.ray\.io in vlinders-inference/);
  });

  it('WebSocket exec without get', () => {
    const report = edit('Role', 'vlinders-platform', (r) => {
      for (const rule of r.rules) if ((rule.resources as string[]).includes('pods/exec')) rule.verbs = ['create'];
    });
    expect(report.missing.join('\n')).toMatch(/get pods\/exec in vlinders-platform/);
  });

  it('a verb no call uses, a wildcard, a secret read', () => {
    const extra = edit('Role', NAMESPACE, (r) => r.rules.push({ apiGroups: [''], resources: ['configmaps'], verbs: ['watch'] }));
    expect(extra.excess.join('\n')).toMatch(/grants watch configmaps in vlinders-ops, which no call needs/);
    const wildcard = edit('ClusterRole', undefined, (r) => r.rules.push({ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }));
    expect(wildcard.excess.join('\n')).toMatch(/wildcard/);
    const secrets = edit('ClusterRole', undefined, (r) => r.rules.push({ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }));
    expect(secrets.excess.join('\n')).toMatch(/get secrets cluster-wide, which no call needs/);
  });

  it('a namespaced call granted cluster-wide, or in a namespace the bot never calls', () => {
    const wide = edit('ClusterRole', undefined, (r) => r.rules.push({ apiGroups: [''], resources: ['pods/exec'], verbs: ['create'] }));
    expect(wide.excess.join('\n')).toMatch(/create pods\/exec cluster-wide, which no call needs/);
    const objects = structuredClone(defaults);
    const role = objects.find((o) => o.kind === 'Role' && o.metadata.namespace === 'vlinders-platform') as K8sObject;
    const binding = objects.find((o) => o.kind === 'RoleBinding' && o.metadata.namespace === 'vlinders-platform') as K8sObject;
    role.metadata.namespace = 'kube-system';
    binding.metadata.namespace = 'kube-system';
    const report = check(objects);
    expect(report.excess.join('\n')).toMatch(/in kube-system, which no call needs/);
    expect(report.missing.join('\n')).toMatch(/in vlinders-platform/);
  });

  it('a role bound to someone else, or to nobody', () => {
    const objects = structuredClone(defaults);
    const binding = objects.find((o) => o.kind === 'ClusterRoleBinding') as K8sObject & { subjects: Array<{ name: string }> };
    (binding.subjects[0] as { name: string }).name = 'default';
    const report = check(objects);
    expect(report.excess.join('\n')).toMatch(/binds someone other than ServiceAccount/);
    expect(report.excess.join('\n')).toMatch(/ClusterRole .* is bound to nothing/);
    expect(report.missing.join('\n')).toMatch(/list nodes cluster-wide/);
  });
});
