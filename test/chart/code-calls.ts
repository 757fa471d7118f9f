// Reads, from the source itself, every Kubernetes API call the bot can make, as RBAC sees it:
// API group, resource, verb, and where (cluster-wide, the Vlinders namespaces, the inference
// namespace, or the bot's own namespace). Two readers, whose union is what the Roles must grant:
//   - KubeCall literals `{ verb: 'list', resource: 'deployments.apps', namespace, ... }`, the
//     description every call carries for its error messages (src/kube/errors.ts);
//   - calls on client-node's typed APIs (`.core.listNamespacedPod(`, `.coordination.
//     readNamespacedLease(`...), which catch a call made without a KubeCall (the Lease).
// Exec, Jobs and Secrets are followed further, to the call site that decides their namespace
// and object name (ATTRIBUTIONS): those are granted per namespace and per name.
// Anything these readers don't understand fails the test instead of being skipped.
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../../src/config/schema.js';
import { watchedTlsSecrets } from '../../src/digest/tls.js';
import { postgresSettings } from '../../src/postgres/index.js';
import { callersOf, siteAt, type Site } from './call-graph.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * cluster: cluster-scoped, or across all namespaces. vlinders: any of the Vlinders namespaces.
 * inference: the inference namespace only. store: the bot's own namespace (config.store).
 */
export type Scope = 'cluster' | 'vlinders' | 'inference' | 'store';

/** Where one call goes, from the config the bot loads: a namespace ('*': cluster-wide), and the object's name when the code fixes it. */
export interface Place {
  namespace: string;
  name?: string;
}

/** A call site that decides the namespace (and name) of an exec, Job or Secret call. */
export interface Attribution {
  /** The file and the named function the call is made in. */
  path: string;
  within: string;
  /** What it calls: the KubeClient method or forwarding function, or the KubeCall's resource. */
  calls: string;
  /** Where it goes: the namespace role, for messages and tests. */
  role: 'platform' | 'inference' | 'loadtest' | 'store' | 'configured';
  places(config: Config): Place[];
  /**
   * That the code reads as `places` says: each pattern must match the function's text (a
   * RegExp), or a file's ({ path, pattern }). Changing how the call gets its namespace or
   * name breaks one, and the table must be looked at again.
   */
  evidence: Array<RegExp | { path: string; pattern: RegExp }>;
}

export interface Need {
  group: string;
  resource: string;
  verb: string;
  /** A scope, or for exec, Jobs and Secrets the call site that says where they go. */
  target: Scope | Attribution;
  /** file:line of each call that needs it. */
  from: string[];
}

/** Where a need goes, in the namespaces (and names) of this config. */
export function placesOf(need: Need, config: Config): Place[] {
  const { platform, inference, monitoring } = config.namespaces;
  switch (need.target) {
    case 'cluster':
      return [{ namespace: '*' }];
    case 'vlinders':
      return [...new Set([platform, inference, monitoring])].map((namespace) => ({ namespace }));
    case 'inference':
      return [{ namespace: inference }];
    case 'store':
      return [{ namespace: config.store.namespace }];
    default:
      return need.target.places(config);
  }
}

/** Calls followed to the site that decides their namespace and name, not granted per scope. */
export const ATTRIBUTED = new Set(['pods/exec', 'jobs', 'secrets']);

/**
 * Functions that take the namespace (and name) of an exec, Job or Secret call from their
 * caller: the call is attributed where they are called. `method`: a KubeClient method.
 */
const FORWARDERS: Array<{ path: string; fn: string; method?: boolean }> = [
  { path: 'src/kube/client.ts', fn: 'exec', method: true },
  { path: 'src/kube/jobs.ts', fn: 'createJob' },
  { path: 'src/kube/jobs.ts', fn: 'readJob' },
  { path: 'src/kube/jobs.ts', fn: 'deleteJob' },
  { path: 'src/kube/jobs.ts', fn: 'followJob' },
  { path: 'src/kube/jobs.ts', fn: 'runJob' },
  { path: 'src/models/model-jobs.ts', fn: 'runModelJob' },
  { path: 'src/models/model-jobs.ts', fn: 'verifyModel' },
  { path: 'src/gpu/probe-pods.ts', fn: 'run' },
  { path: 'src/gpu/probe-pods.ts', fn: 'probeGpuPods' },
  { path: 'src/digest/tls.ts', fn: 'tlsSecretData' },
  { path: 'src/digest/tls.ts', fn: 'readTlsCert' },
  { path: 'src/digest/tls.ts', fn: 'readTlsPair' },
  { path: 'src/digest/tls.ts', fn: 'certExpiry' },
  { path: 'src/preflight/checks/secrets.ts', fn: 'readSecret' },
];

const inference = (config: Config): Place[] => [{ namespace: config.namespaces.inference }];
const inferenceNamespace = /\bconst ns = config\.namespaces\.inference;/;
const POSTGRES = 'src/postgres/index.ts';
const postgresSettingsOf = [
  { path: POSTGRES, pattern: /const namespace = config\.namespaces\.platform;/ },
  { path: POSTGRES, pattern: /\bpod: b\.pod,/ },
  { path: POSTGRES, pattern: /\bsecret: b\.secret,/ },
  { path: POSTGRES, pattern: /const runner = settings\.transport === 'exec' \? execRunner\(ctx\.services, settings\) : directRunner\(ctx\.services, settings\);/ },
];
const tlsSecretsOf = (config: Config): Place[] => watchedTlsSecrets(config);

/**
 * Where each exec, Job and Secret call goes. Every such call must end in exactly one entry
 * here (through FORWARDERS), and every entry must be reached: a new call site fails the test
 * until it is placed.
 */
export const ATTRIBUTIONS: Attribution[] = [
  {
    // The `exec` transport: pg_dump and psql in the postgres pod, and only there.
    path: POSTGRES,
    within: 'execRunner',
    calls: 'exec',
    role: 'platform',
    places: (config) => (config.backup.transport === 'exec' ? [{ namespace: postgresSettings(config).namespace, name: postgresSettings(config).pod }] : []),
    evidence: [/\.exec\(s\.namespace, s\.pod, /, ...postgresSettingsOf],
  },
  {
    // The `direct` transport: the password from backup.secret, in the platform namespace.
    path: POSTGRES,
    within: 'secretPassword',
    calls: 'secrets',
    role: 'platform',
    places: (config) => (config.backup.transport === 'direct' ? [{ namespace: postgresSettings(config).namespace, name: postgresSettings(config).secret.name }] : []),
    evidence: [/\{ verb: 'get', resource: 'secrets', namespace: s\.namespace, name: s\.secret\.name \}/, { path: POSTGRES, pattern: /async function secretPassword[^]*function directRunner[^]*await secretPassword\(services, s\)/ }, ...postgresSettingsOf],
  },
  {
    // nvidia-smi in the Ray GPU workers: pods of the RayCluster, listed in its namespace (the
    // inference one, rayCallSitesUseInference); KubeRay names them, so no name to pin.
    path: 'src/gpu/fleet.ts',
    within: 'readFleetGpus',
    calls: 'probeGpuPods',
    role: 'inference',
    places: inference,
    evidence: [/resolveRayCluster\(kube, \{ namespace: namespaces\.inference\b/, /const ns = raycluster\.metadata\.namespace;/, /\{ verb: 'list', resource: 'pods', namespace: ns \}/, /probeGpuPods\(kube, pods, /, { path: 'src/gpu/probe-pods.ts', pattern: /kube\.exec\(pod\.metadata\?\.namespace \?\? '', pod\.metadata\?\.name/ }],
  },
  // model update: the download, verify and cleanup Jobs on the models PVC (generated names).
  { path: 'src/models/update.ts', within: 'runModelUpdate', calls: 'runModelJob', role: 'inference', places: inference, evidence: [inferenceNamespace, /runModelJob\(kube, ns, /] },
  { path: 'src/models/update.ts', within: 'runModelUpdate', calls: 'verifyModel', role: 'inference', places: inference, evidence: [inferenceNamespace, /verifyModel\(kube, ns, /] },
  { path: 'src/models/update.ts', within: 'rollback', calls: 'runModelJob', role: 'inference', places: inference, evidence: [inferenceNamespace, /runModelJob\(kube, ns, /] },
  // preflight's model-files check: the verify Job.
  { path: 'src/preflight/checks/model-files.ts', within: 'run', calls: 'verifyModel', role: 'inference', places: inference, evidence: [inferenceNamespace, /verifyModel\(kube, ns, /] },
  {
    // The k6 Job, in loadtest.namespace (default: the platform namespace).
    path: 'commands/loadtest.ts',
    within: 'run',
    calls: 'runJob',
    role: 'loadtest',
    places: (config) => [{ namespace: config.loadtest.namespace ?? config.namespaces.platform }],
    evidence: [/const namespace = namespaceOf\(ctx\.config\);/, /runJob\(kube, namespace, /, { path: 'commands/loadtest.ts', pattern: /const ns = config\.loadtest\.namespace \?\? config\.namespaces\.platform;\s+if \(!allowed\.includes\(ns\)\) throw[^]*return ns;/ }],
  },
  {
    // The backup signing key, in the bot's own namespace.
    path: 'src/backup/signing.ts',
    within: 'readSigningKey',
    calls: 'secrets',
    role: 'store',
    places: (config) => [{ namespace: config.store.namespace, name: config.backup.signingSecret.name }],
    evidence: [/const \{ name, key \} = config\.backup\.signingSecret;/, /const namespace = config\.store\.namespace;/, /\{ verb: 'get', resource: 'secrets', namespace, name \}/],
  },
  // Certificate expiry (daily and monthly digests): the platform's TLS Secret and digest.tlsSecrets.
  { path: 'src/digest/daily.ts', within: 'buildDailyDigest', calls: 'certExpiry', role: 'configured', places: tlsSecretsOf, evidence: [/watchedTlsSecrets\(config\)\.map\(\(ref\) => certExpiry\(kube, ref, /] },
  { path: 'src/digest/monthly.ts', within: 'buildMonthlyReport', calls: 'certExpiry', role: 'configured', places: tlsSecretsOf, evidence: [/watchedTlsSecrets\(config\)\.map\(\(ref\) => certExpiry\(kube, ref, /] },
  {
    // preflight's TLS check: the platform's TLS Secret.
    path: 'src/preflight/checks/tls.ts',
    within: 'run',
    calls: 'readTlsPair',
    role: 'platform',
    places: (config) => [{ namespace: config.namespaces.platform, name: config.platform.tlsSecret }],
    evidence: [/const ref = \{ namespace: config\.namespaces\.platform, name: tlsSecret \};/, /const \{ domain, tlsSecret, tlsWarnDays \} = config\.platform;/, /readTlsPair\(kube, ref\)/],
  },
  {
    // preflight and verify --phase 1: platform.secrets, each in its namespace role.
    path: 'src/preflight/checks/secrets.ts',
    within: 'keysResult',
    calls: 'readSecret',
    role: 'configured',
    places: (config) => config.platform.secrets.map((entry) => ({ namespace: config.namespaces[entry.namespace], name: entry.name })),
    evidence: [/const namespace = ctx\.config\.namespaces\[entry\.namespace\];/, /readSecret\(ctx\.kube, namespace, entry\.name\)/, { path: 'src/preflight/checks/secrets.ts', pattern: /ctx\.config\.platform\.secrets\.map\(\(entry\) => keysResult\(ctx, entry\)\)/ }],
  },
  {
    // preflight and verify --phase 1: the JWT key pair.
    path: 'src/preflight/checks/secrets.ts',
    within: 'jwtResult',
    calls: 'readSecret',
    role: 'configured',
    places: (config) => [{ namespace: config.namespaces[config.platform.jwt.namespace], name: config.platform.jwt.secret }],
    evidence: [/const jwt = ctx\.config\.platform\.jwt;/, /const namespace = ctx\.config\.namespaces\[jwt\.namespace\];/, /readSecret\(ctx\.kube, namespace, jwt\.secret\)/],
  },
];

export interface Source {
  path: string;
  text: string;
}

/** Production sources: src/ and commands/, less the sandbox (never on the production path). */
export function productionSources(root = ROOT): Source[] {
  const out: Source[] = [];
  const visit = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      const rel = relative(root, full);
      if (entry.isDirectory()) {
        if (rel !== join('src', 'sandbox')) visit(full);
      } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
        out.push({ path: rel.split('\\').join('/'), text: readFileSync(full, 'utf8') });
      }
    }
  };
  visit(join(root, 'src'));
  visit(join(root, 'commands'));
  return out;
}

/**
 * Where a namespaced call in this file goes (exec, Jobs and Secrets aside: ATTRIBUTIONS). The
 * store and the Lease live in the bot's own namespace; the RayCluster and RayService in the
 * inference one (checked by rayCallSitesUseInference); everything else takes a namespace of the
 * Vlinders platform.
 */
function namespacedScope(path: string): Scope {
  if (path === 'src/kube/store.ts' || path === 'src/kube/leader.ts') return 'store';
  // A drain evicts whatever runs on the node, in any namespace.
  if (path === 'src/kube/drain.ts') return 'cluster';
  if (path.startsWith('src/ray/')) return 'inference';
  return 'vlinders';
}

const lineOf = (text: string, index: number) => text.slice(0, index).split('\n').length;

/** 'rayclusters.ray.io' → ray.io rayclusters; 'pods' → core pods. */
function splitResource(resource: string): { group: string; resource: string } {
  const dot = resource.indexOf('.');
  return dot < 0 ? { group: '', resource } : { group: resource.slice(dot + 1), resource: resource.slice(0, dot) };
}

/**
 * A KubeCall verb as RBAC checks it. Exec goes over a WebSocket (client-node's Exec): the
 * upgrade is a GET, authorized as `get pods/exec`, and since Kubernetes 1.35 also as
 * `create` (AuthorizePodWebsocketUpgradeCreatePermission), so it needs both.
 */
function rbacOfKubeCall(verb: string, resource: string): Array<{ group: string; resource: string; verb: string }> {
  if (verb === 'create pods/exec') return ['get', 'create'].map((v) => ({ group: '', resource: 'pods/exec', verb: v }));
  if (verb === 'get pods/log') return [{ group: '', resource: 'pods/log', verb: 'get' }];
  // GET /version (VersionApi): a non-resource URL granted to everyone by system:public-info-viewer.
  if (verb === 'get' && resource === 'version') return [];
  if (!/^(get|list|watch|create|update|patch|delete|deletecollection)$/.test(verb)) throw new Error(`unknown KubeCall verb "${verb}"`);
  return [{ ...splitResource(resource), verb }];
}

const TYPED_APIS: Record<string, string> = { core: '', apps: 'apps', coordination: 'coordination.k8s.io', policy: 'policy' };
const METHOD_VERBS: Record<string, string> = {
  read: 'get',
  list: 'list',
  create: 'create',
  replace: 'update',
  patch: 'patch',
  delete: 'delete',
  deleteCollection: 'deletecollection',
  get: 'get',
};
/**
 * The client-node APIs this reader knows; a new one must be taught here first. VersionApi
 * reads /version, a non-resource URL every authenticated identity may read (the built-in
 * system:public-info-viewer), so it needs no rule.
 */
const KNOWN_API_CLASSES = new Set(['CoreV1Api', 'AppsV1Api', 'CoordinationV1Api', 'CustomObjectsApi', 'VersionApi', 'PolicyV1Api']);
const KNOWN_HELPERS = new Set(['Exec', 'Log', 'Metrics']);

function plural(kind: string): string {
  const lower = kind.toLowerCase();
  if (lower.endsWith('y')) return `${lower.slice(0, -1)}ies`;
  if (lower.endsWith('s')) return `${lower}es`;
  return `${lower}s`;
}

/** String constants (`export const RAY_GROUP = 'ray.io'`), to resolve `group: RAY_GROUP`. */
function constants(sources: readonly Source[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const { text } of sources) for (const m of text.matchAll(/\bconst\s+([A-Z][A-Z0-9_]*)\s*=\s*'([^']*)'/g)) out.set(m[1] as string, m[2] as string);
  return out;
}

/** The text of a call's argument list, from its opening parenthesis. */
function callArguments(text: string, open: number): string {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === '(') depth++;
    else if (text[i] === ')' && --depth === 0) return text.slice(open + 1, i);
  }
  throw new Error('unbalanced parentheses');
}

export interface Extraction {
  needs: Need[];
  /** Things in the source this reader could not read: each one fails the RBAC test. */
  unreadable: string[];
}

export function extractKubeCalls(sources: readonly Source[] = productionSources()): Extraction {
  const needs = new Map<string, Need>();
  const unreadable: string[] = [];
  const consts = constants(sources);
  /** Exec, Job and Secret calls in a namespace, to be followed to where they go. */
  const pending: Array<{ rbac: { group: string; resource: string; verb: string }; site: Site }> = [];
  const add = (rbac: { group: string; resource: string; verb: string }, scope: Scope, source: Source, index: number) => {
    if (scope !== 'cluster' && ATTRIBUTED.has(rbac.resource)) {
      pending.push({ rbac, site: siteAt(source, index) });
      return;
    }
    const key = `${scope}|${rbac.group}|${rbac.resource}|${rbac.verb}`;
    const need = needs.get(key) ?? { ...rbac, target: scope, from: [] };
    need.from.push(`${source.path}:${lineOf(source.text, index)}`);
    needs.set(key, need);
  };

  for (const source of sources) {
    const { path, text } = source;
    if (path === 'src/kube/errors.ts') continue; // the KubeCall type itself
    const at = (index: number) => `${path}:${lineOf(text, index)}`;

    // 1. KubeCall literals.
    let literals = 0;
    for (const m of text.matchAll(/\{\s*verb:\s*'([^']+)',\s*resource:\s*'([^']+)'([^{}]*)\}/g)) {
      literals++;
      const scope = /\bnamespace\b/.test(m[3] as string) ? namespacedScope(path) : 'cluster';
      for (const rbac of rbacOfKubeCall(m[1] as string, m[2] as string)) add(rbac, scope, source, m.index);
    }
    // A helper building KubeCalls for one resource (`{ verb, resource: 'configmaps', namespace... }`),
    // called as `call('create', ...)`.
    for (const m of text.matchAll(/\{\s*verb,\s*resource:\s*'([^']+)'([^{}]*)\}/g)) {
      literals++;
      const scope = /\bnamespace\b/.test(m[2] as string) ? namespacedScope(path) : 'cluster';
      const verbs = [...text.matchAll(/\bcall\(\s*'([^']+)'/g)];
      if (verbs.length === 0) unreadable.push(`${at(m.index)}: a KubeCall helper for ${m[1]} whose calls this test can't find`);
      for (const v of verbs) for (const rbac of rbacOfKubeCall(v[1] as string, m[1] as string)) add(rbac, scope, source, v.index);
    }
    // Every `verb` property of an object literal must have been read above.
    const mentioned = [...text.matchAll(/(?:(?<!\$)\{|,)\s*verb\s*[:,}]/g)].length;
    if (mentioned !== literals) unreadable.push(`${path}: ${mentioned} KubeCall(s) but ${literals} read; write them as { verb: '...', resource: '...', ... }`);

    // 2. client-node typed API calls.
    // Method names that start like an API operation; `apps.filter(` on an unrelated `apps` is not one.
    for (const m of text.matchAll(/\.(core|apps|coordination|policy|custom)\s*\.\s*((?:read|list|create|replace|patch|delete|get|connect)[A-Z][a-zA-Z]*)\s*\(/g)) {
      const api = m[1] as string;
      const method = m[2] as string;
      const where = at(m.index);
      if (api === 'custom') {
        const cm = /^(get|list|create|replace|patch|delete)(Namespaced|Cluster)CustomObject$/.exec(method);
        const args = callArguments(text, m.index + m[0].length - 1);
        const pluralName = /\bplural:\s*'([^']+)'/.exec(args)?.[1];
        const groupRef = /\bgroup:\s*(?:'([^']+)'|([A-Z][A-Z0-9_]*))/.exec(args);
        const group = groupRef?.[1] ?? (groupRef?.[2] ? consts.get(groupRef[2]) : undefined);
        if (!cm || !pluralName || !group) {
          unreadable.push(`${where}: custom object call ${method} (plural and group must be literals or constants)`);
          continue;
        }
        add({ group, resource: pluralName, verb: METHOD_VERBS[cm[1] as string] as string }, cm[2] === 'Namespaced' ? namespacedScope(path) : 'cluster', source, m.index);
        continue;
      }
      // The Eviction subresource: a create of pods/eviction (POST pods/<name>/eviction).
      if (api === 'core' && method === 'createNamespacedPodEviction') {
        add({ group: '', resource: 'pods/eviction', verb: 'create' }, namespacedScope(path), source, m.index);
        continue;
      }
      const tm = /^(read|list|create|replace|patch|deleteCollection|delete)(Namespaced)?([A-Z][a-zA-Z]*?)(ForAllNamespaces)?$/.exec(method);
      if (!tm || /(Status|Scale|Log|Ephemeralcontainers|Eviction|Binding|Proxy)$/.test(tm[3] as string)) {
        unreadable.push(`${where}: ${api}.${method} (a subresource or an unknown method: teach test/chart/code-calls.ts)`);
        continue;
      }
      const scope: Scope = tm[2] && !tm[4] ? namespacedScope(path) : 'cluster';
      add({ group: TYPED_APIS[api] as string, resource: plural(tm[3] as string), verb: METHOD_VERBS[tm[1] as string] as string }, scope, source, m.index);
    }

    // 3. Any other way into the API must be taught to this reader first.
    for (const m of text.matchAll(/makeApiClient\(\s*(\w+)\s*\)/g)) {
      if (!KNOWN_API_CLASSES.has(m[1] as string)) unreadable.push(`${at(m.index)}: client-node ${m[1]} is not read by this test`);
    }
    for (const m of text.matchAll(/new\s+(Exec|Log|Metrics|Attach|PortForward|Watch|Cp|Informer|ListWatch)\s*\(/g)) {
      if (!KNOWN_HELPERS.has(m[1] as string)) unreadable.push(`${at(m.index)}: client-node ${m[1]} is not read by this test`);
    }
  }
  const reached = new Set<unknown>();
  for (const { rbac, site } of pending) {
    const found = attribute(sources, site, rbac.resource);
    unreadable.push(...found.unreadable);
    for (const r of found.reached) reached.add(r);
    for (const { attribution, at } of found.ends) {
      const key = `${attribution.path}|${attribution.within}|${attribution.calls}|${rbac.group}|${rbac.resource}|${rbac.verb}`;
      const need = needs.get(key) ?? { ...rbac, target: attribution, from: [] };
      if (!need.from.includes(at)) need.from.push(at);
      needs.set(key, need);
    }
  }
  // A stale entry would hide where a new call of the same name goes.
  for (const entry of [...FORWARDERS, ...ATTRIBUTIONS]) {
    if (!reached.has(entry)) unreadable.push(`${'within' in entry ? `ATTRIBUTIONS ${entry.path} ${entry.within} → ${entry.calls}` : `FORWARDERS ${entry.path} ${entry.fn}`}: no exec, Job or Secret call goes through it any more; remove it`);
  }
  return { needs: [...needs.values()], unreadable };
}

const forwarderAt = (site: Site) => FORWARDERS.find((f) => f.path === site.path && f.fn === site.within);

/**
 * Follows a call up through FORWARDERS to the ATTRIBUTIONS entries it ends in. A site that is
 * neither, or an entry whose evidence no longer matches the code, is unreadable.
 */
function attribute(sources: readonly Source[], start: Site, resource: string): { ends: Array<{ attribution: Attribution; at: string }>; reached: unknown[]; unreadable: string[] } {
  const ends: Array<{ attribution: Attribution; at: string }> = [];
  const reached: unknown[] = [];
  const unreadable: string[] = [];
  const seen = new Set<string>();
  const follow = (site: Site, calls: string) => {
    const at = `${site.path}:${site.line}`;
    if (seen.has(`${at}|${calls}`)) return;
    seen.add(`${at}|${calls}`);
    const attribution = ATTRIBUTIONS.find((a) => a.path === site.path && a.within === site.within && a.calls === calls);
    if (attribution) {
      for (const proof of attribution.evidence) {
        const ok = proof instanceof RegExp ? proof.test(site.withinText) : proof.pattern.test(sources.find((s) => s.path === proof.path)?.text ?? '');
        if (!ok) unreadable.push(`${at}: ${site.within} no longer reads as ATTRIBUTIONS says (${proof instanceof RegExp ? proof : `${proof.path}: ${proof.pattern}`}): where does its ${calls} call go now?`);
      }
      ends.push({ attribution, at });
      reached.push(attribution);
      return;
    }
    const forwarder = forwarderAt(site);
    if (!forwarder) {
      unreadable.push(`${at}: ${calls} called in ${site.within}, which neither ATTRIBUTIONS nor FORWARDERS in test/chart/code-calls.ts place: say which namespace (and name) it targets`);
      return;
    }
    reached.push(forwarder);
    const callers = callersOf(sources, forwarder);
    unreadable.push(...callers.unreadable);
    if (callers.sites.length === 0) unreadable.push(`${at}: nothing calls ${forwarder.fn}: is FORWARDERS still reading the right code?`);
    for (const caller of callers.sites) follow(caller, forwarder.fn);
  };
  follow(start, resource);
  return { ends, reached, unreadable };
}


/**
 * The RayCluster and RayService calls are scoped to the inference namespace above; that holds
 * while every caller of resolveRayCluster passes it (patchWorkerReplicas then patches the
 * RayCluster resolveRayCluster returned, in its own namespace).
 */
export function rayCallSitesUseInference(sources: readonly Source[] = productionSources()): string[] {
  const problems: string[] = [];
  let sites = 0;
  for (const { path, text } of sources) {
    for (const m of text.matchAll(/\bresolveRayCluster\s*\(/g)) {
      const before = text.slice(Math.max(0, m.index - 30), m.index);
      if (/function\s+$/.test(before)) continue; // the definition
      sites++;
      const args = callArguments(text, m.index + m[0].length - 1);
      if (!/\bnamespace:\s*[\w.]*\bnamespaces\.inference\b/.test(args)) problems.push(`${path}:${lineOf(text, m.index)}: resolveRayCluster without namespace: namespaces.inference`);
    }
  }
  if (sites === 0) problems.push('no resolveRayCluster call found: is this check still reading the right code?');
  return problems;
}
