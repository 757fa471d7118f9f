// The Helm chart through the real helm v4: lint --strict and template with default and full
// values, every rendered object validated against the Kubernetes schemas, and the properties
// the runbook relies on (restricted pods, secrets by reference, config rolled on change).
import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { chartNodeFlags } from '../../bench/bot-process.js';
import { loadEnv, parseConfigText } from '../../src/config/load.js';
import { CHART_DIR, FULL_VALUES, NAMESPACE, byKind, helm, one, render, valueArgs, type K8sObject } from './helm.js';
import { validateAll, validateObject } from './k8s-schema.js';

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string }; fieldRef?: { fieldPath: string } };
}
interface Container {
  name: string;
  env?: EnvVar[];
  ports?: Array<{ name: string; containerPort: number }>;
  volumeMounts?: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
  securityContext?: Record<string, unknown>;
  livenessProbe?: { httpGet?: { path: string; port: string } };
  readinessProbe?: { httpGet?: { path: string; port: string } };
  startupProbe?: { httpGet?: { path: string; port: string } };
}
interface PodSpec {
  serviceAccountName: string;
  securityContext: Record<string, unknown>;
  containers: Container[];
  volumes: Array<{ name: string; emptyDir?: { sizeLimit?: string }; configMap?: { name: string } }>;
}
interface DeploymentShape {
  spec: { replicas: number; selector: { matchLabels: Record<string, string> }; template: { metadata: { labels: Record<string, string>; annotations: Record<string, string> }; spec: PodSpec } };
}

const deploymentOf = (objects: K8sObject[]) => one(objects, 'Deployment') as unknown as K8sObject & DeploymentShape;
const containerOf = (objects: K8sObject[]) => deploymentOf(objects).spec.template.spec.containers[0] as Container;
const configTextOf = (objects: K8sObject[]) => (one(objects, 'ConfigMap') as unknown as { data: Record<string, string> }).data['vlinders-ops.yaml'] as string;

const MINIMAL = ['rbac.create=false', 'serviceAccount.create=false', 'networkPolicy.enabled=false', 'pdb.enabled=false', 'replicaCount=1'];

let defaults: K8sObject[];
let full: K8sObject[];
let minimal: K8sObject[];
let httpMode: K8sObject[];

beforeAll(async () => {
  [defaults, full, minimal, httpMode] = await Promise.all([
    render(),
    render({ files: [FULL_VALUES] }),
    render({ set: MINIMAL }),
    render({ set: ['slack.mode=http'] }),
  ]);
});

describe('helm lint --strict', () => {
  for (const [name, files] of [
    ['default values', []],
    ['full values', [FULL_VALUES]],
  ] as const) {
    it(`is clean with ${name}`, async () => {
      const r = await helm(['lint', '--strict', CHART_DIR, '--namespace', NAMESPACE, ...valueArgs({ files })]);
      expect(r.exitCode, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toContain('0 chart(s) failed');
      expect(r.stdout + r.stderr).not.toMatch(/\[(WARNING|ERROR)\]/);
    });
  }
});

describe('helm template', () => {
  it('renders the expected objects', () => {
    const kinds = (objects: K8sObject[]) => [...new Set(objects.map((o) => o.kind))].sort();
    expect(kinds(defaults)).toEqual(['ClusterRole', 'ClusterRoleBinding', 'ConfigMap', 'Deployment', 'NetworkPolicy', 'PodDisruptionBudget', 'Role', 'RoleBinding', 'Service', 'ServiceAccount']);
    expect(kinds(full)).toEqual([...kinds(defaults), 'ServiceMonitor'].sort());
    expect(kinds(minimal)).toEqual(['ConfigMap', 'Deployment', 'Service']);
    expect(byKind(defaults, 'ServiceMonitor')).toHaveLength(0); // off by default
  });

  it('validates every rendered object against the Kubernetes schemas', () => {
    for (const objects of [defaults, full, minimal, httpMode]) {
      expect(objects.length).toBeGreaterThan(2);
      expect(validateAll(objects)).toEqual([]);
    }
  });

  it('gives every object a valid name, and every namespaced one its namespace', () => {
    const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
    const dns1035Label = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
    const clusterScoped = new Set(['ClusterRole', 'ClusterRoleBinding']);
    for (const o of [...defaults, ...full]) {
      const id = `${o.kind}/${o.metadata.name}`;
      expect(o.metadata.name.length, id).toBeLessThanOrEqual(o.kind === 'Service' ? 63 : 253);
      expect(o.metadata.name, id).toMatch(o.kind === 'Service' ? dns1035Label : dns1123Subdomain);
      if (clusterScoped.has(o.kind)) expect(o.metadata.namespace, id).toBeUndefined();
      else expect(o.metadata.namespace, id).toMatch(dns1123Subdomain);
      for (const [k, v] of Object.entries(o.metadata.labels ?? {})) expect(v.length, `${id} label ${k}`).toBeLessThanOrEqual(63);
    }
  });
});

describe('schema validation catches broken objects', () => {
  // Tests poke at arbitrary paths of rendered objects.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  type Loose = Record<string, any>;
  const broken = (edit: (d: Loose) => void, kind = 'Deployment') => {
    const copy = structuredClone(one(defaults, kind)) as Loose;
    edit(copy);
    return validateObject(copy as K8sObject);
  };

  it('the unbroken Deployment passes', () => {
    expect(broken(() => {})).toEqual([]);
  });

  it('an unknown (misindented) field', () => {
    const problems = broken((d) => {
      d.spec.template.spec.containers[0].readinessprobe = d.spec.template.spec.containers[0].readinessProbe;
    });
    expect(problems.join('\n')).toMatch(/containers\[0\]\.readinessprobe: unknown field/);
    expect(broken((d) => (d.spec.template.spec.securityContext.readOnlyRootFilesystem = true)).join('\n')).toMatch(/securityContext\.readOnlyRootFilesystem: unknown field \(not in V1PodSecurityContext\)/);
  });

  it('a wrong type', () => {
    expect(broken((d) => (d.spec.replicas = '2')).join('\n')).toMatch(/replicas/);
    expect(broken((d) => (d.spec.template.spec.containers[0].ports[0].containerPort = 'http')).join('\n')).toMatch(/containerPort/);
    expect(broken((d) => (d.spec.template.spec.containers = { name: 'x' })).join('\n')).toMatch(/containers/);
  });

  it('a missing required field', () => {
    expect(broken((d) => delete d.spec.selector).join('\n')).toMatch(/selector/);
    expect(broken((d) => delete d.spec.template.spec.containers[0].name).join('\n')).toMatch(/name/);
  });

  it('a value outside an enum, and in other kinds', () => {
    expect(broken((d) => (d.spec.ports[0].protocol = 'HTTP'), 'Service').join('\n')).toMatch(/protocol/);
    expect(broken((d) => (d.rules[0].verbs = 'list'), 'ClusterRole').join('\n')).toMatch(/verbs/);
    expect(broken((d) => (d.spec.policyTypes = ['Inbound']), 'NetworkPolicy').join('\n')).toMatch(/policyTypes/);
  });

  it('a broken ServiceMonitor, and a kind with no schema', () => {
    const sm = structuredClone(one(full, 'ServiceMonitor')) as K8sObject & { spec: { endpoints: unknown } };
    expect(validateObject(sm)).toEqual([]);
    sm.spec.endpoints = 'http-ops';
    expect(validateObject(sm).join('\n')).toMatch(/endpoints/);
    expect(validateObject({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } })).toEqual(['Widget/w: no schema for example.com/v1 Widget']);
  });
});

describe('the Deployment', () => {
  it('runs 2 replicas by default, restricted: non-root, read-only root, no privilege escalation, no capabilities', () => {
    const d = deploymentOf(defaults);
    expect(d.spec.replicas).toBe(2);
    const pod = d.spec.template.spec;
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
    expect(containerOf(defaults).securityContext).toEqual({
      runAsNonRoot: true,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
  });

  it('writes only to an emptyDir at /tmp, and mounts the config read-only where VLINDERS_OPS_CONFIG points', () => {
    const c = containerOf(defaults);
    const pod = deploymentOf(defaults).spec.template.spec;
    const tmp = c.volumeMounts?.find((m) => m.mountPath === '/tmp');
    expect(pod.volumes.find((v) => v.name === tmp?.name)?.emptyDir).toBeDefined();
    const configPath = c.env?.find((e) => e.name === 'VLINDERS_OPS_CONFIG')?.value as string;
    const mount = c.volumeMounts?.find((m) => configPath.startsWith(`${m.mountPath}/`));
    expect(mount?.readOnly).toBe(true);
    expect(pod.volumes.find((v) => v.name === mount?.name)?.configMap?.name).toBe(one(defaults, 'ConfigMap').metadata.name);
    expect(configTextOf(defaults)).toBeDefined();
    expect(configPath.slice((mount?.mountPath.length ?? 0) + 1)).toBe('vlinders-ops.yaml');
    expect(c.volumeMounts?.filter((m) => !m.readOnly).map((m) => m.mountPath)).toEqual(['/tmp']);
  });

  it('probes /healthz and /readyz on the ops port', () => {
    const c = containerOf(defaults);
    expect(c.ports).toEqual([{ name: 'http-ops', containerPort: 8080, protocol: 'TCP' }]);
    expect(c.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'http-ops' });
    expect(c.startupProbe?.httpGet).toEqual({ path: '/healthz', port: 'http-ops' });
    expect(c.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'http-ops' });
  });

  it('takes Slack tokens only from the existing Secret: socket mode by default, HTTP mode on request', () => {
    const secretEnv = (objects: K8sObject[]) =>
      Object.fromEntries((containerOf(objects).env ?? []).filter((e) => e.valueFrom?.secretKeyRef).map((e) => [e.name, e.valueFrom?.secretKeyRef]));
    expect(secretEnv(defaults)).toEqual({
      SLACK_BOT_TOKEN: { name: 'vlinders-ops-slack', key: 'SLACK_BOT_TOKEN' },
      SLACK_APP_TOKEN: { name: 'vlinders-ops-slack', key: 'SLACK_APP_TOKEN' },
    });
    expect(secretEnv(httpMode)).toEqual({
      SLACK_BOT_TOKEN: { name: 'vlinders-ops-slack', key: 'SLACK_BOT_TOKEN' },
      SLACK_SIGNING_SECRET: { name: 'vlinders-ops-slack', key: 'SLACK_SIGNING_SECRET' },
    });
    expect(secretEnv(full)).toEqual({
      SLACK_BOT_TOKEN: { name: 'slack-credentials', key: 'bot-token' },
      SLACK_SIGNING_SECRET: { name: 'slack-credentials', key: 'signing-secret' },
      AWS_ACCESS_KEY_ID: { name: 'backup-s3', key: 'access-key-id' },
      AWS_SECRET_ACCESS_KEY: { name: 'backup-s3', key: 'secret-access-key' },
      ALERTMANAGER_TOKEN: { name: 'alertmanager-webhook', key: 'bearer-token' },
    });
    // The chart renders no Secret, and no credential-looking value anywhere.
    for (const objects of [defaults, full, httpMode]) {
      expect(byKind(objects, 'Secret')).toEqual([]);
      expect(JSON.stringify(objects)).not.toMatch(/xox[abp]-|xapp-|AKIA[0-9A-Z]{16}/);
    }
  });

  it('in HTTP mode, listens for Slack on config.slack.port, behind the Service port http-slack', () => {
    const c = containerOf(full);
    expect(c.ports).toEqual([
      { name: 'http-ops', containerPort: 9000, protocol: 'TCP' },
      { name: 'http-slack', containerPort: 3100, protocol: 'TCP' },
    ]);
    const svc = one(full, 'Service') as unknown as { spec: { ports: Array<{ name: string; port: number; targetPort: string }> } };
    expect(svc.spec.ports.map((p) => [p.name, p.port, p.targetPort])).toEqual([
      ['http-ops', 9000, 'http-ops'],
      ['http-slack', 80, 'http-slack'],
    ]);
    const socketSvc = one(defaults, 'Service') as unknown as { spec: { ports: Array<{ name: string }> } };
    expect(socketSvc.spec.ports.map((p) => p.name)).toEqual(['http-ops']);
  });

  it('tells each replica how many share the app’s Slack limits (it paces itself to its share)', async () => {
    const replicas = (objects: K8sObject[]) => (containerOf(objects).env ?? []).find((e) => e.name === 'VLINDERS_OPS_REPLICAS')?.value;
    expect(replicas(defaults)).toBe('2');
    expect(replicas(await render({ set: ['replicaCount=3'] }))).toBe('3');
    expect(loadEnv({ VLINDERS_OPS_REPLICAS: replicas(defaults) }).VLINDERS_OPS_REPLICAS).toBe(2);
  });

  it('carries the Lease identity from the downward API', () => {
    const env = containerOf(defaults).env ?? [];
    expect(env.find((e) => e.name === 'POD_NAME')?.valueFrom?.fieldRef?.fieldPath).toBe('metadata.name');
  });

  it('caps the V8 heap at half the container memory limit but never under 1536 MB (V8 sizes it from the machine otherwise), with the flags the benchmarks run the bot with', async () => {
    const nodeOptions = (objects: K8sObject[]) => (containerOf(objects).env ?? []).find((e) => e.name === 'NODE_OPTIONS')?.value;
    expect(nodeOptions(defaults)).toBe('--max-old-space-size=1536 --max-semi-space-size=2');
    expect(nodeOptions(defaults)).toBe(chartNodeFlags().join(' '));
    expect(nodeOptions(await render({ set: ['resources.limits.memory=2Gi'] }))).toBe(chartNodeFlags(1536).join(' '));
    expect(nodeOptions(await render({ set: ['resources.limits.memory=4Gi'] }))).toBe(chartNodeFlags(2048).join(' '));
    expect(nodeOptions(await render({ set: ['resources.limits=null'] }))).toBeUndefined();
  });

  it('rolls its pods when the config changes: the checksum annotation is the config’s', async () => {
    const checksum = (objects: K8sObject[]) => deploymentOf(objects).spec.template.metadata.annotations['checksum/config'];
    expect(checksum(defaults)).toBe(createHash('sha256').update(configTextOf(defaults).replace(/\n$/, '')).digest('hex'));
    const changed = await render({ set: ['config.limits.maxGpuWorkers=8'] });
    expect(checksum(changed)).not.toBe(checksum(defaults));
    expect(checksum(await render())).toBe(checksum(defaults));
  });
});

describe('the config file in the ConfigMap', () => {
  it('is a config the bot loads, with the store in the release namespace by default', () => {
    const config = parseConfigText(configTextOf(defaults), 'ConfigMap');
    expect(config.store.namespace).toBe(NAMESPACE);
    expect(config.clusters).toEqual([{ name: 'in-cluster' }]);
    expect(config.namespaces).toEqual({ platform: 'vlinders-platform', inference: 'vlinders-inference', monitoring: 'vlinders-monitoring' });
  });

  it('carries every value of the full file', () => {
    const config = parseConfigText(configTextOf(full), 'ConfigMap');
    expect(config.store.namespace).toBe('ops-state');
    expect(config.ray.service).toBe('llm-serve');
    expect(config.rbac.roles.operator?.channels).toEqual(['C0000OPS1']);
    expect(config.log.level).toBe('debug');
  });
});

describe('the objects around the pods', () => {
  const podLabels = (objects: K8sObject[]) => deploymentOf(objects).spec.template.metadata.labels;
  const matches = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);

  it('select the Deployment’s pods: Deployment, Service, PDB, NetworkPolicy, ServiceMonitor', () => {
    for (const objects of [defaults, full]) {
      const d = deploymentOf(objects);
      expect(matches(d.spec.selector.matchLabels, podLabels(objects))).toBe(true);
      const svc = one(objects, 'Service') as unknown as { spec: { selector: Record<string, string> }; metadata: { labels: Record<string, string> } };
      expect(matches(svc.spec.selector, podLabels(objects))).toBe(true);
      const pdb = one(objects, 'PodDisruptionBudget') as unknown as { spec: { selector: { matchLabels: Record<string, string> } } };
      expect(matches(pdb.spec.selector.matchLabels, podLabels(objects))).toBe(true);
      const np = one(objects, 'NetworkPolicy') as unknown as { spec: { podSelector: { matchLabels: Record<string, string> } } };
      expect(matches(np.spec.podSelector.matchLabels, podLabels(objects))).toBe(true);
    }
    const sm = one(full, 'ServiceMonitor') as unknown as { spec: { selector: { matchLabels: Record<string, string> }; endpoints: Array<{ port: string; path: string }> } };
    const svc = one(full, 'Service') as unknown as { metadata: { labels: Record<string, string> }; spec: { ports: Array<{ name: string }> } };
    expect(matches(sm.spec.selector.matchLabels, svc.metadata.labels)).toBe(true);
    expect(sm.spec.endpoints).toEqual([{ port: 'http-ops', path: '/metrics', interval: '15s', scrapeTimeout: '5s' }]);
    expect(svc.spec.ports.map((p) => p.name)).toContain('http-ops');
  });

  it('a PodDisruptionBudget keeps one pod through drains, and is left out for a single replica', async () => {
    expect((one(defaults, 'PodDisruptionBudget') as unknown as { spec: { minAvailable: number } }).spec.minAvailable).toBe(1);
    expect(byKind(await render({ set: ['replicaCount=1'] }), 'PodDisruptionBudget')).toEqual([]);
  });

  it('the NetworkPolicy opens only the named container ports, and lets out DNS, the API, HTTPS and the platform', () => {
    const np = one(defaults, 'NetworkPolicy') as unknown as {
      spec: { policyTypes: string[]; ingress: Array<{ ports: Array<{ port: string | number }> }>; egress: Array<{ ports: Array<{ port: number; protocol: string }>; to: unknown[] }> };
    };
    expect(np.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    const named = new Set(containerOf(defaults).ports?.map((p) => p.name));
    for (const rule of np.spec.ingress) for (const p of rule.ports) expect(named.has(String(p.port))).toBe(true);
    const egressPorts = np.spec.egress.flatMap((r) => r.ports.map((p) => `${p.port}/${p.protocol}`));
    expect(egressPorts).toEqual(expect.arrayContaining(['53/UDP', '53/TCP', '443/TCP', '6443/TCP', '5432/TCP']));
    const fullNp = one(full, 'NetworkPolicy') as unknown as { spec: { ingress: Array<{ ports: Array<{ port: string }>; from?: unknown[] }> } };
    expect(fullNp.spec.ingress[0]?.ports.map((p) => p.port)).toEqual(['http-ops', 'http-slack']);
    expect(fullNp.spec.ingress[0]?.from).toHaveLength(2);
  });

  it('the ServiceAccount carries the IRSA role when given, and the pods use it', () => {
    const sa = one(full, 'ServiceAccount');
    expect(sa.metadata.annotations).toEqual({ 'eks.amazonaws.com/role-arn': 'arn:aws:iam::123456789012:role/vlinders-ops-backups', 'example.com/owner': 'sre' });
    expect(deploymentOf(full).spec.template.spec.serviceAccountName).toBe(sa.metadata.name);
    expect(one(defaults, 'ServiceAccount').metadata.annotations).toBeUndefined();
  });
});
