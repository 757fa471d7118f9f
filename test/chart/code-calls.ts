// Reads, from the source itself, every Kubernetes API call the bot can make, as RBAC sees it:
// API group, resource, verb, and where (cluster-wide, the Vlinders namespaces, the inference
// namespace, or the bot's own namespace). Two readers, whose union is what the Roles must grant:
//   - KubeCall literals `{ verb: 'list', resource: 'deployments.apps', namespace, ... }`, the
//     description every call carries for its error messages (src/kube/errors.ts);
//   - calls on client-node's typed APIs (`.core.listNamespacedPod(`, `.coordination.
//     readNamespacedLease(`...), which catch a call made without a KubeCall (the Lease).
// Anything these readers don't understand fails the test instead of being skipped.
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * cluster: cluster-scoped, or across all namespaces. vlinders: any of the Vlinders namespaces.
 * inference: the inference namespace only. store: the bot's own namespace (config.store).
 */
export type Scope = 'cluster' | 'vlinders' | 'inference' | 'store';

export interface Need {
  group: string;
  resource: string;
  verb: string;
  scope: Scope;
  /** file:line of each call that needs it. */
  from: string[];
}

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
 * Where a namespaced call in this file goes. The store, the Lease and the backup signing
 * Secret live in the bot's own namespace; the RayCluster and RayService in the inference one (checked by
 * rayCallSitesUseInference); everything else takes a namespace of the Vlinders platform.
 */
function namespacedScope(path: string): Scope {
  if (path === 'src/kube/store.ts' || path === 'src/kube/leader.ts' || path === 'src/backup/signing.ts') return 'store';
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

const TYPED_APIS: Record<string, string> = { core: '', apps: 'apps', coordination: 'coordination.k8s.io' };
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
const KNOWN_API_CLASSES = new Set(['CoreV1Api', 'AppsV1Api', 'CoordinationV1Api', 'CustomObjectsApi', 'VersionApi']);
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
  const add = (rbac: { group: string; resource: string; verb: string }, scope: Scope, where: string) => {
    const key = `${scope}|${rbac.group}|${rbac.resource}|${rbac.verb}`;
    const need = needs.get(key) ?? { ...rbac, scope, from: [] };
    need.from.push(where);
    needs.set(key, need);
  };

  for (const { path, text } of sources) {
    if (path === 'src/kube/errors.ts') continue; // the KubeCall type itself
    const at = (index: number) => `${path}:${lineOf(text, index)}`;

    // 1. KubeCall literals.
    let literals = 0;
    for (const m of text.matchAll(/\{\s*verb:\s*'([^']+)',\s*resource:\s*'([^']+)'([^{}]*)\}/g)) {
      literals++;
      const scope = /\bnamespace\b/.test(m[3] as string) ? namespacedScope(path) : 'cluster';
      for (const rbac of rbacOfKubeCall(m[1] as string, m[2] as string)) add(rbac, scope, at(m.index));
    }
    // A helper building KubeCalls for one resource (`{ verb, resource: 'configmaps', namespace... }`),
    // called as `call('create', ...)`.
    for (const m of text.matchAll(/\{\s*verb,\s*resource:\s*'([^']+)'([^{}]*)\}/g)) {
      literals++;
      const scope = /\bnamespace\b/.test(m[2] as string) ? namespacedScope(path) : 'cluster';
      const verbs = [...text.matchAll(/\bcall\(\s*'([^']+)'/g)];
      if (verbs.length === 0) unreadable.push(`${at(m.index)}: a KubeCall helper for ${m[1]} whose calls this test can't find`);
      for (const v of verbs) for (const rbac of rbacOfKubeCall(v[1] as string, m[1] as string)) add(rbac, scope, at(v.index));
    }
    // Every `verb` property of an object literal must have been read above.
    const mentioned = [...text.matchAll(/(?:(?<!\$)\{|,)\s*verb\s*[:,}]/g)].length;
    if (mentioned !== literals) unreadable.push(`${path}: ${mentioned} KubeCall(s) but ${literals} read; write them as { verb: '...', resource: '...', ... }`);

    // 2. client-node typed API calls.
    // Method names that start like an API operation; `apps.filter(` on an unrelated `apps` is not one.
    for (const m of text.matchAll(/\.(core|apps|coordination|custom)\s*\.\s*((?:read|list|create|replace|patch|delete|get|connect)[A-Z][a-zA-Z]*)\s*\(/g)) {
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
        add({ group, resource: pluralName, verb: METHOD_VERBS[cm[1] as string] as string }, cm[2] === 'Namespaced' ? namespacedScope(path) : 'cluster', where);
        continue;
      }
      const tm = /^(read|list|create|replace|patch|deleteCollection|delete)(Namespaced)?([A-Z][a-zA-Z]*?)(ForAllNamespaces)?$/.exec(method);
      if (!tm || /(Status|Scale|Log|Ephemeralcontainers|Eviction|Binding|Proxy)$/.test(tm[3] as string)) {
        unreadable.push(`${where}: ${api}.${method} (a subresource or an unknown method: teach test/chart/code-calls.ts)`);
        continue;
      }
      const scope: Scope = tm[2] && !tm[4] ? namespacedScope(path) : 'cluster';
      add({ group: TYPED_APIS[api] as string, resource: plural(tm[3] as string), verb: METHOD_VERBS[tm[1] as string] as string }, scope, where);
    }

    // 3. Any other way into the API must be taught to this reader first.
    for (const m of text.matchAll(/makeApiClient\(\s*(\w+)\s*\)/g)) {
      if (!KNOWN_API_CLASSES.has(m[1] as string)) unreadable.push(`${at(m.index)}: client-node ${m[1]} is not read by this test`);
    }
    for (const m of text.matchAll(/new\s+(Exec|Log|Metrics|Attach|PortForward|Watch|Cp|Informer|ListWatch)\s*\(/g)) {
      if (!KNOWN_HELPERS.has(m[1] as string)) unreadable.push(`${at(m.index)}: client-node ${m[1]} is not read by this test`);
    }
  }
  return { needs: [...needs.values()], unreadable };
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
