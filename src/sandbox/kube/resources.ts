// The resources the emulator serves, and the discovery documents built from them
// (legacy /api, /apis and the aggregated apidiscovery.k8s.io/v2 form kubectl prefers).
import type { SchemaDefaults } from './defaults.js';

export interface PrinterColumn {
  name: string;
  type: string;
  jsonPath: string;
  priority?: number;
  format?: string;
}

export interface ResourceType {
  group: string; // '' for core
  version: string;
  resource: string; // plural, as in URLs
  kind: string;
  singular: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  /** Subresources the REST layer serves (status, log, exec, eviction). */
  subresources: string[];
  /** Custom resources: items in lists carry apiVersion/kind; no strategic merge patch. */
  custom?: boolean;
  /** Served from hooks.metrics rather than the store: read-only. */
  metrics?: boolean;
  /** A CRD's additionalPrinterColumns. */
  columns?: PrinterColumn[];
  /** A CRD's structural-schema defaults, which the apiserver fills in on every write. */
  defaults?: SchemaDefaults;
}

const RW_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const RO_VERBS = ['get', 'list'];

function core(resource: string, kind: string, namespaced: boolean, extra: Partial<ResourceType> = {}): ResourceType {
  return { group: '', version: 'v1', resource, kind, singular: kind.toLowerCase(), namespaced, subresources: [], ...extra };
}

function grouped(
  group: string,
  version: string,
  resource: string,
  kind: string,
  extra: Partial<ResourceType> = {},
): ResourceType {
  return { group, version, resource, kind, singular: kind.toLowerCase(), namespaced: true, subresources: [], ...extra };
}

const ALL = ['all'];
const RAY_CLUSTER_COLUMNS: PrinterColumn[] = [
  { name: 'desired workers', type: 'integer', jsonPath: '.status.desiredWorkerReplicas' },
  { name: 'available workers', type: 'integer', jsonPath: '.status.availableWorkerReplicas' },
  { name: 'cpus', type: 'string', jsonPath: '.status.desiredCPU' },
  { name: 'memory', type: 'string', jsonPath: '.status.desiredMemory' },
  { name: 'gpus', type: 'string', jsonPath: '.status.desiredGPU' },
  { name: 'tpus', type: 'string', jsonPath: '.status.desiredTPU', priority: 1 },
  { name: 'status', type: 'string', jsonPath: '.status.state' },
  { name: 'age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  { name: 'head pod IP', type: 'string', jsonPath: '.status.head.podIP', priority: 1 },
  { name: 'head service IP', type: 'string', jsonPath: '.status.head.serviceIP', priority: 1 },
];

/**
 * RayClusterSpec's defaults outside its pod templates, as the KubeRay v1.7.0 CRDs declare them
 * (`+kubebuilder:default` in ray-operator/apis/ray/v1/raycluster_types.go). With these, a worker
 * group written without `replicas` reads back `replicas: 0`, as on a real cluster.
 */
const RAY_CLUSTER_SPEC_DEFAULTS: SchemaDefaults = {
  properties: {
    networkPolicy: { properties: { mode: { default: 'DenyAll' } } },
    workerGroupSpecs: {
      items: {
        properties: {
          replicas: { default: 0 },
          minReplicas: { default: 0 },
          maxReplicas: { default: 2147483647 },
          numOfHosts: { default: 1 },
          priority: { default: 0 },
        },
      },
    },
  },
};

export const RESOURCES: ResourceType[] = [
  core('namespaces', 'Namespace', false, { shortNames: ['ns'], subresources: ['status'] }),
  core('nodes', 'Node', false, { shortNames: ['no'], subresources: ['status'] }),
  core('pods', 'Pod', true, { shortNames: ['po'], categories: ALL, subresources: ['status', 'log', 'exec', 'eviction'] }),
  core('services', 'Service', true, { shortNames: ['svc'], categories: ALL, subresources: ['status'] }),
  core('endpoints', 'Endpoints', true, { shortNames: ['ep'], singular: 'endpoints' }),
  core('configmaps', 'ConfigMap', true, { shortNames: ['cm'] }),
  core('secrets', 'Secret', true),
  core('persistentvolumeclaims', 'PersistentVolumeClaim', true, { shortNames: ['pvc'], subresources: ['status'] }),
  core('events', 'Event', true, { shortNames: ['ev'] }),
  core('serviceaccounts', 'ServiceAccount', true, { shortNames: ['sa'] }),
  grouped('apps', 'v1', 'deployments', 'Deployment', { shortNames: ['deploy'], categories: ALL, subresources: ['status'] }),
  grouped('apps', 'v1', 'statefulsets', 'StatefulSet', { shortNames: ['sts'], categories: ALL, subresources: ['status'] }),
  grouped('apps', 'v1', 'daemonsets', 'DaemonSet', { shortNames: ['ds'], categories: ALL, subresources: ['status'] }),
  grouped('apps', 'v1', 'replicasets', 'ReplicaSet', { shortNames: ['rs'], categories: ALL, subresources: ['status'] }),
  grouped('batch', 'v1', 'jobs', 'Job', { categories: ALL, subresources: ['status'] }),
  grouped('policy', 'v1', 'poddisruptionbudgets', 'PodDisruptionBudget', { shortNames: ['pdb'], subresources: ['status'] }),
  // A real server lists storage.k8s.io before coordination.k8s.io.
  grouped('storage.k8s.io', 'v1', 'storageclasses', 'StorageClass', { namespaced: false, shortNames: ['sc'] }),
  grouped('coordination.k8s.io', 'v1', 'leases', 'Lease'),
  grouped('metrics.k8s.io', 'v1beta1', 'nodes', 'NodeMetrics', { namespaced: false, metrics: true }),
  grouped('metrics.k8s.io', 'v1beta1', 'pods', 'PodMetrics', { metrics: true }),
  grouped('ray.io', 'v1', 'rayclusters', 'RayCluster', {
    categories: ALL,
    subresources: ['status'],
    custom: true,
    columns: RAY_CLUSTER_COLUMNS,
    defaults: { properties: { spec: RAY_CLUSTER_SPEC_DEFAULTS } },
  }),
  grouped('ray.io', 'v1', 'rayservices', 'RayService', {
    categories: ALL,
    subresources: ['status'],
    custom: true,
    columns: [
      { name: 'service status', type: 'string', jsonPath: '.status.serviceStatus' },
      { name: 'num serve endpoints', type: 'string', jsonPath: '.status.numServeEndpoints' },
    ],
    // The RayService CRD embeds RayClusterSpec as spec.rayClusterConfig, defaults and all.
    defaults: { properties: { spec: { properties: { rayClusterConfig: RAY_CLUSTER_SPEC_DEFAULTS } } } },
  }),
  grouped('ray.io', 'v1', 'rayjobs', 'RayJob', { categories: ALL, subresources: ['status'], custom: true }),
];

export const apiVersionOf = (t: ResourceType): string => (t.group ? `${t.group}/${t.version}` : t.version);

const byPath = new Map(RESOURCES.map((t) => [`${apiVersionOf(t)}/${t.resource}`, t]));
const byKind = new Map(RESOURCES.map((t) => [`${apiVersionOf(t)}/${t.kind}`, t]));

export function lookupResource(apiVersion: string, resource: string): ResourceType | undefined {
  return byPath.get(`${apiVersion}/${resource}`);
}

export function lookupKind(apiVersion: string, kind: string): ResourceType | undefined {
  return byKind.get(`${apiVersion}/${kind}`);
}

/** Groups in the order the real server lists them (core first, then registration order). */
function groups(): Array<{ name: string; versions: string[] }> {
  const out: Array<{ name: string; versions: string[] }> = [];
  for (const t of RESOURCES) {
    if (!t.group) continue;
    const g = out.find((x) => x.name === t.group);
    if (!g) out.push({ name: t.group, versions: [t.version] });
    else if (!g.versions.includes(t.version)) g.versions.push(t.version);
  }
  return out;
}

const verbsOf = (t: ResourceType): string[] => (t.metrics ? RO_VERBS : RW_VERBS);

/** Subresources whose body is another API's kind: pods/eviction takes a policy/v1 Eviction. */
const SUBRESOURCE_KINDS: Record<string, { group: string; version: string; kind: string }> = { eviction: { group: 'policy', version: 'v1', kind: 'Eviction' } };

function subresourceVerbs(sub: string): string[] {
  if (sub === 'status') return ['get', 'patch', 'update'];
  if (sub === 'exec') return ['create', 'get'];
  if (sub === 'eviction') return ['create'];
  return ['get'];
}

export function apiVersions(): object {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1:6443' }] };
}

function groupDoc(name: string, versions: string[]): object {
  const vs = versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v }));
  return { name, versions: vs, preferredVersion: vs[0] };
}

export function apiGroupList(): object {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: groups().map((g) => groupDoc(g.name, g.versions)) };
}

export function apiGroup(name: string): object | undefined {
  const g = groups().find((x) => x.name === name);
  return g && { kind: 'APIGroup', apiVersion: 'v1', ...groupDoc(g.name, g.versions) };
}

/** APIResourceList for /api/v1 or /apis/<group>/<version>; undefined when not served. */
export function apiResourceList(group: string, version: string): object | undefined {
  const types = RESOURCES.filter((t) => t.group === group && t.version === version);
  if (!types.length) return undefined;
  const resources: object[] = [];
  for (const t of types) {
    resources.push({
      name: t.resource,
      singularName: t.singular,
      namespaced: t.namespaced,
      kind: t.kind,
      verbs: verbsOf(t),
      ...(t.shortNames ? { shortNames: t.shortNames } : {}),
      ...(t.categories ? { categories: t.categories } : {}),
    });
    for (const sub of t.subresources) {
      const kind = SUBRESOURCE_KINDS[sub];
      // A subresource of another kind names its group and version (kubectl drain finds the Eviction API this way).
      resources.push({ name: `${t.resource}/${sub}`, singularName: '', namespaced: t.namespaced, ...(kind ? { group: kind.group, version: kind.version } : {}), kind: kind?.kind ?? t.kind, verbs: subresourceVerbs(sub) });
    }
  }
  const groupVersion = group ? `${group}/${version}` : version;
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion, resources };
}

function discoveryResource(t: ResourceType): object {
  return {
    resource: t.resource,
    responseKind: { group: '', version: '', kind: t.kind },
    scope: t.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: t.singular,
    verbs: verbsOf(t),
    ...(t.shortNames ? { shortNames: t.shortNames } : {}),
    ...(t.categories ? { categories: t.categories } : {}),
    ...(t.subresources.length
      ? {
          subresources: t.subresources.map((sub) => ({
            subresource: sub,
            responseKind: SUBRESOURCE_KINDS[sub] ?? { group: '', version: '', kind: sub === 'log' || sub === 'exec' ? 'Status' : t.kind },
            verbs: subresourceVerbs(sub),
          })),
        }
      : {}),
  };
}

/** Aggregated discovery (apidiscovery.k8s.io/v2) for /api (core) or /apis (every group). */
export function aggregatedDiscovery(coreOnly: boolean): object {
  const names = coreOnly ? [''] : groups().map((g) => g.name);
  const items = names.map((name) => {
    const versions = [...new Set(RESOURCES.filter((t) => t.group === name).map((t) => t.version))];
    return {
      metadata: { name, creationTimestamp: null },
      versions: versions.map((version) => ({
        version,
        resources: RESOURCES.filter((t) => t.group === name && t.version === version).map(discoveryResource),
        freshness: 'Current',
      })),
    };
  });
  return { kind: 'APIGroupDiscoveryList', apiVersion: 'apidiscovery.k8s.io/v2', metadata: {}, items };
}

export const DISCOVERY_V2 = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';
