// Issue 13, item 8: the chart granted `pods/exec` into every pod and Job creation in all three
// Vlinders namespaces, monitoring included. The code execs into the postgres pod (platform, the
// `exec` transport) and the GPU workers (inference), starts Jobs in inference and in
// loadtest.namespace, and reads the postgres password Secret only with the `direct`
// transport. The chart now grants exactly that, and the RBAC comparison (test/chart) checks it
// per namespace and per object name, following each call to the site that decides both.
import { beforeAll, describe, expect, it } from 'vitest';
import { ATTRIBUTIONS, extractKubeCalls, placesOf, productionSources, type Need, type Source } from '../chart/code-calls.js';
import { FULL_VALUES, render, type K8sObject } from '../chart/helm.js';
import { compareRendered, renderedConfig, type Grant } from '../chart/rbac-grants.js';

let needs: Need[];
let defaults: K8sObject[];
let full: K8sObject[];
let direct: K8sObject[];
let loadtestInMonitoring: K8sObject[];

beforeAll(async () => {
  needs = extractKubeCalls().needs;
  [defaults, full, direct, loadtestInMonitoring] = await Promise.all([
    render(),
    render({ files: [FULL_VALUES] }),
    render({ set: ['config.backup.transport=direct', 'config.backup.secret.name=pg-password'] }),
    render({ set: ['config.loadtest.namespace=vlinders-monitoring'] }),
  ]);
});

const grantsOf = (objects: K8sObject[]) => compareRendered(needs, objects).grants;
/** `namespace verb [names]` of each grant of a resource, sorted. */
const granted = (objects: K8sObject[], resource: string) =>
  grantsOf(objects)
    .filter((g) => g.resource === resource)
    .map((g) => `${g.namespace} ${g.verb}${g.resourceNames ? ` [${g.resourceNames.join(',')}]` : ''}`)
    .sort();

describe('the rendered chart grants exec, Jobs and Secrets only where the code uses them', () => {
  it('matches the code exactly with the `direct` transport and with loadtest in monitoring', () => {
    for (const objects of [direct, loadtestInMonitoring]) {
      const report = compareRendered(needs, objects);
      expect(report.missing).toEqual([]);
      expect(report.excess).toEqual([]);
    }
  });

  it('execs into the GPU workers (any pod of inference) and the postgres pod by name, nowhere else', () => {
    expect(granted(defaults, 'pods/exec')).toEqual([
      'vlinders-inference create',
      'vlinders-inference get',
      'vlinders-platform create [postgres-0]',
      'vlinders-platform get [postgres-0]',
    ]);
    expect(granted(full, 'pods/exec')).toEqual(['llm-inference create', 'llm-inference get', 'llm-platform create [llm-postgres-0]', 'llm-platform get [llm-postgres-0]']);
    // The `direct` transport runs psql in the bot: no exec into the platform at all.
    expect(granted(direct, 'pods/exec')).toEqual(['vlinders-inference create', 'vlinders-inference get']);
  });

  it('starts Jobs in inference and in loadtest.namespace only', () => {
    const jobs = (objects: K8sObject[]) => [...new Set(grantsOf(objects).filter((g) => g.resource === 'jobs').map((g) => g.namespace))].sort();
    expect(jobs(defaults)).toEqual(['vlinders-inference', 'vlinders-platform']);
    expect(jobs(full)).toEqual(['llm-inference', 'llm-platform']);
    expect(jobs(loadtestInMonitoring)).toEqual(['vlinders-inference', 'vlinders-monitoring']);
    expect(grantsOf(defaults).filter((g) => g.resource === 'jobs' && g.resourceNames)).toEqual([]);
  });

  it('reads the postgres password Secret by name with the `direct` transport, and not with `exec`', () => {
    expect(granted(direct, 'secrets').filter((g) => g.startsWith('vlinders-platform'))).toEqual(['vlinders-platform get [vlinders-secrets,vlinders-tls,pg-password]']);
    expect(granted(defaults, 'secrets').join('\n')).not.toMatch(/postgres-credentials/);
    expect(granted(full, 'secrets').join('\n')).not.toMatch(/llm-postgres-credentials/);
  });

  it('gives the monitoring namespace no exec, no Jobs and no Secrets: only what status, restart and diagnose read', () => {
    const monitoring = (objects: K8sObject[], ns: string) => grantsOf(objects).filter((g: Grant) => g.namespace === ns);
    for (const [objects, ns] of [
      [defaults, 'vlinders-monitoring'],
      [full, 'observability'],
      [direct, 'vlinders-monitoring'],
    ] as const) {
      const there = monitoring(objects, ns);
      expect(there.length).toBeGreaterThan(0);
      expect(there.filter((g) => ['pods/exec', 'jobs', 'secrets'].includes(g.resource)).map((g) => `${g.verb} ${g.resource}`)).toEqual([]);
    }
  });
});

describe('the comparison fails a chart that grants more', () => {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  type Rules = { rules: Array<Record<string, any>> };
  const roleIn = (objects: K8sObject[], namespace: string) => objects.find((o) => o.kind === 'Role' && o.metadata.namespace === namespace) as K8sObject & Rules;
  const edited = (change: (objects: K8sObject[]) => void) => {
    const objects = structuredClone(defaults);
    change(objects);
    return compareRendered(needs, objects);
  };

  it('exec in monitoring', () => {
    const report = edited((o) => roleIn(o, 'vlinders-monitoring').rules.push({ apiGroups: [''], resources: ['pods/exec'], verbs: ['get', 'create'] }));
    expect(report.excess.join('\n')).toMatch(/grants create pods\/exec in vlinders-monitoring, which no call needs/);
    expect(report.excess.join('\n')).toMatch(/grants get pods\/exec in vlinders-monitoring, which no call needs/);
  });

  it('exec into every pod of the platform namespace (resourceNames dropped)', () => {
    const report = edited((o) => {
      for (const rule of roleIn(o, 'vlinders-platform').rules) if (rule.resources.includes('pods/exec')) delete rule.resourceNames;
    });
    expect(report.missing).toEqual([]);
    expect(report.excess.join('\n')).toMatch(/grants create pods\/exec in vlinders-platform on every object, where the code only uses postgres-0: limit it with resourceNames/);
  });

  it('exec into another pod than the configured one', () => {
    const report = edited((o) => {
      for (const rule of roleIn(o, 'vlinders-platform').rules) if (rule.resources.includes('pods/exec')) rule.resourceNames = ['redis-0'];
    });
    expect(report.excess.join('\n')).toMatch(/pods\/exec in vlinders-platform on redis-0, which no call names/);
    expect(report.missing.join('\n')).toMatch(/create pods\/exec in vlinders-platform on postgres-0 \(src\/postgres\/index\.ts:\d+\)/);
  });

  it('Jobs in monitoring, or none in inference', () => {
    const extra = edited((o) => roleIn(o, 'vlinders-monitoring').rules.push({ apiGroups: ['batch'], resources: ['jobs'], verbs: ['create', 'get', 'delete'] }));
    expect(extra.excess.join('\n')).toMatch(/grants create jobs\.batch in vlinders-monitoring, which no call needs/);
    const gone = edited((o) => {
      const role = roleIn(o, 'vlinders-inference');
      role.rules = role.rules.filter((r) => !r.resources.includes('jobs'));
    });
    expect(gone.missing.join('\n')).toMatch(/create jobs\.batch in vlinders-inference \(.*src\/preflight\/checks\/model-files\.ts:\d+/);
  });

  it('a Secret read by a name no call reads, or on every Secret', () => {
    const named = edited((o) => roleIn(o, 'vlinders-monitoring').rules.push({ apiGroups: [''], resources: ['secrets'], verbs: ['get'], resourceNames: ['grafana-admin'] }));
    expect(named.excess.join('\n')).toMatch(/grants get secrets in vlinders-monitoring, which no call needs/);
    const any = edited((o) => {
      for (const rule of roleIn(o, 'vlinders-platform').rules) if (rule.resources.includes('secrets')) delete rule.resourceNames;
    });
    expect(any.excess.join('\n')).toMatch(/grants get secrets in vlinders-platform on every object, where the code only uses vlinders-secrets, vlinders-tls: limit it with resourceNames/);
  });

  it('the `direct` transport without its password Secret', async () => {
    const objects = structuredClone(direct);
    for (const rule of roleIn(objects, 'vlinders-platform').rules) if (rule.resources.includes('secrets')) rule.resourceNames = rule.resourceNames.filter((n: string) => n !== 'pg-password');
    expect(compareRendered(needs, objects).missing.join('\n')).toMatch(/get secrets in vlinders-platform on pg-password \(src\/postgres\/index\.ts:\d+/);
  });
});

describe('every exec, Job and Secret call is placed', () => {
  const sources = () => productionSources();
  const withFile = (path: string, text: string): Source[] => [...sources(), { path, text }];
  const replaced = (path: string, change: (text: string) => string): Source[] => sources().map((s) => (s.path === path ? { path, text: change(s.text) } : s));

  it('each call ends at the call site that decides its namespace, with the names the config gives', () => {
    const config = renderedConfig(direct);
    const where = (resource: string, verb: string) =>
      needs
        .filter((n) => n.resource === resource && n.verb === verb && typeof n.target !== 'string')
        .flatMap((n) => placesOf(n, config).map((p) => `${p.namespace}${p.name ? `/${p.name}` : ''} ← ${n.from.map((f) => f.replace(/:\d+$/, '')).join(', ')}`))
        .sort();
    expect(where('pods/exec', 'create')).toEqual(['vlinders-inference ← src/gpu/fleet.ts']);
    expect(where('secrets', 'get')).toContain('vlinders-platform/pg-password ← src/postgres/index.ts, src/postgres/index.ts');
    expect(where('jobs', 'create')).toEqual([
      'vlinders-inference ← src/models/update.ts',
      'vlinders-inference ← src/models/update.ts',
      'vlinders-inference ← src/models/update.ts',
      'vlinders-inference ← src/preflight/checks/model-files.ts',
      'vlinders-platform ← commands/loadtest.ts',
    ]);
  });

  it('a new exec call site fails until it is placed', () => {
    const rogue = 'export async function peek(kube: KubeClient, config: Config) {\n  return kube.exec(config.namespaces.monitoring, "prometheus-0", "prometheus", ["cat", "/etc/passwd"], { timeoutMs: 1000 });\n}\n';
    expect(extractKubeCalls(withFile('src/diagnose/peek.ts', rogue)).unreadable.join('\n')).toMatch(/src\/diagnose\/peek\.ts:2: exec called in peek, which neither ATTRIBUTIONS nor FORWARDERS .* place/);
  });

  it('a new Job, or a KubeClient under another name, fails until it is placed', () => {
    const job = "import { runJob } from '../kube/jobs.js';\nexport const go = (kube: KubeClient, ns: string) => runJob(kube, ns, spec, opts, read);\n";
    expect(extractKubeCalls(withFile('src/x/job.ts', job)).unreadable.join('\n')).toMatch(/src\/x\/job\.ts:2: runJob called in go/);
    const aliased = "import { runJob as start } from '../kube/jobs.js';\nexport function go(kube: KubeClient) { return start(kube, 'kube-system', spec, opts, read); }\n";
    expect(extractKubeCalls(withFile('src/x/job.ts', aliased)).unreadable.join('\n')).toMatch(/src\/x\/job\.ts:2: runJob called in go/);
    const passed = "import { runJob } from '../kube/jobs.js';\nexport const runners = [runJob];\n";
    expect(extractKubeCalls(withFile('src/x/job.ts', passed)).unreadable.join('\n')).toMatch(/src\/x\/job\.ts:2: runJob used other than by a call/);
    const client = 'export async function f(services: Services) {\n  const client = services.kube();\n  return client.exec("ns", "pod", "c", ["true"], opts);\n}\n';
    expect(extractKubeCalls(withFile('src/x/exec.ts', client)).unreadable.join('\n')).toMatch(/src\/x\/exec\.ts:3: client\.exec is neither a KubeClient \(named kube\) nor a RegExp/);
  });

  it('a call site that changes where it goes fails until the table is looked at again', () => {
    const moved = replaced('src/preflight/checks/model-files.ts', (t) => t.replace('const ns = config.namespaces.inference;', 'const ns = config.namespaces.monitoring;'));
    expect(extractKubeCalls(moved).unreadable.join('\n')).toMatch(/src\/preflight\/checks\/model-files\.ts:\d+: run no longer reads as ATTRIBUTIONS says/);
    const otherPod = replaced('src/postgres/index.ts', (t) => t.replace('.exec(s.namespace, s.pod, ', ".exec(s.namespace, 'redis-0', "));
    expect(extractKubeCalls(otherPod).unreadable.join('\n')).toMatch(/src\/postgres\/index\.ts:\d+: execRunner no longer reads as ATTRIBUTIONS says/);
  });

  it('an entry no call goes through any more fails (it would hide a new call of that name)', () => {
    const without = sources().filter((s) => s.path !== 'commands/loadtest.ts');
    expect(extractKubeCalls(without).unreadable.join('\n')).toMatch(/ATTRIBUTIONS commands\/loadtest\.ts run → runJob: no exec, Job or Secret call goes through it any more/);
    expect(ATTRIBUTIONS.length).toBeGreaterThan(0);
  });
});
