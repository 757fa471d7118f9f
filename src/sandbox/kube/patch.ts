// The three patch types the apiserver accepts (server-side apply is not emulated), with its
// status codes: a patch that doesn't decode is a 400; a JSON patch that decodes but doesn't
// apply (a failed `test`, a missing path) is the handler's generic 422, which drops the
// library's error; an unsupported type a 415.
import { ApiError, badRequest, patchNotApplied, unsupportedMediaType } from './status.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

export const JSON_PATCH = 'application/json-patch+json';
export const MERGE_PATCH = 'application/merge-patch+json';
export const STRATEGIC_PATCH = 'application/strategic-merge-patch+json';
const APPLY_PATCH = 'application/apply-patch+yaml';

/** Errors of the patch document itself (still 400s); the rest happen while applying it. */
const DECODE_ERRORS = new Set(['jsonpatch: operation must be an object']);

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Applies a PATCH body of the given Content-Type to a copy of `doc`. */
export function applyPatch(doc: object, contentType: string, body: string, opts: { custom: boolean; kind: string }): JsonObject {
  const type = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  const accepted = [JSON_PATCH, MERGE_PATCH, ...(opts.custom ? [] : [STRATEGIC_PATCH]), APPLY_PATCH];
  if (!accepted.includes(type) || type === APPLY_PATCH) throw unsupportedMediaType(accepted);
  let patch: unknown;
  try {
    patch = JSON.parse(body);
  } catch (e) {
    throw badRequest(`error decoding patch: ${(e as Error).message}`);
  }
  const copy = structuredClone(doc) as JsonObject;
  if (type === JSON_PATCH) {
    if (!Array.isArray(patch)) throw badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
    try {
      return jsonPatch(copy, patch);
    } catch (err) {
      // jsonpatch.DecodePatch accepts any array of objects; everything that goes wrong after is Apply's error.
      if (err instanceof ApiError && err.code === 400 && !DECODE_ERRORS.has(err.message)) throw patchNotApplied();
      throw err;
    }
  }
  if (!isObject(patch)) throw badRequest('error decoding patch: a patch must be a JSON object');
  if (type === MERGE_PATCH) return mergePatch(copy, patch) as JsonObject;
  return strategicMerge(copy, patch, [], opts.kind);
}

// --- RFC 6902 -------------------------------------------------------------------------------------

function parsePointer(path: unknown): string[] {
  if (typeof path !== 'string') throw badRequest('jsonpatch: missing path');
  if (path === '') return [];
  if (!path.startsWith('/')) throw badRequest(`jsonpatch: invalid path "${path}"`);
  return path
    .slice(1)
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** Container and last key of a pointer; undefined when the parent is missing. */
function resolveParent(doc: Json, parts: string[]): { parent: JsonObject | Json[]; key: string } | undefined {
  let cur: Json = doc;
  for (const p of parts.slice(0, -1)) {
    if (Array.isArray(cur)) {
      const i = Number(p);
      if (!/^\d+$/.test(p) || i >= cur.length) return undefined;
      cur = cur[i] as Json;
    } else if (isObject(cur)) {
      if (!Object.hasOwn(cur, p)) return undefined;
      cur = cur[p] as Json;
    } else return undefined;
  }
  if (!Array.isArray(cur) && !isObject(cur)) return undefined;
  return { parent: cur, key: parts[parts.length - 1] as string };
}

function getAt(doc: Json, parts: string[]): Json | undefined {
  if (!parts.length) return doc;
  const r = resolveParent(doc, parts);
  if (!r) return undefined;
  if (Array.isArray(r.parent)) return /^\d+$/.test(r.key) ? r.parent[Number(r.key)] : undefined;
  return Object.hasOwn(r.parent, r.key) ? r.parent[r.key] : undefined;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

function jsonPatch(doc: JsonObject, ops: unknown[]): JsonObject {
  let root: Json = doc;
  for (const raw of ops) {
    if (!isObject(raw)) throw badRequest('jsonpatch: operation must be an object');
    const op = raw.op;
    const path = parsePointer(raw.path);
    const pathText = String(raw.path);
    const missing = (what: string): never => {
      throw badRequest(`${String(op)} operation does not apply: doc is missing ${what}: ${JSON.stringify(pathText)}: missing value`);
    };
    const add = (target: string[], value: Json): void => {
      if (!target.length) {
        root = value;
        return;
      }
      const r = resolveParent(root, target) ?? missing('path');
      if (Array.isArray(r.parent)) {
        const i = r.key === '-' ? r.parent.length : Number(r.key);
        if (!/^(\d+|-)$/.test(r.key) || i > r.parent.length) throw badRequest(`add operation does not apply: index out of bounds: ${i}`);
        r.parent.splice(i, 0, value);
      } else r.parent[r.key] = value;
    };
    const remove = (target: string[]): Json => {
      const r = resolveParent(root, target) ?? missing('path');
      if (Array.isArray(r.parent)) {
        const i = Number(r.key);
        if (!/^\d+$/.test(r.key) || i >= r.parent.length) return missing('path');
        return r.parent.splice(i, 1)[0] as Json;
      }
      if (!Object.hasOwn(r.parent, r.key)) return missing('path');
      const v = r.parent[r.key] as Json;
      delete r.parent[r.key];
      return v;
    };
    switch (op) {
      case 'add':
        if (!('value' in raw)) throw badRequest('add operation does not apply: missing value');
        add(path, structuredClone(raw.value as Json));
        break;
      case 'remove':
        remove(path);
        break;
      case 'replace':
        if (getAt(root, path) === undefined) missing('key');
        if (path.length) remove(path);
        add(path, structuredClone(raw.value as Json));
        break;
      case 'move':
      case 'copy': {
        const from = parsePointer(raw.from);
        const v = getAt(root, from);
        if (v === undefined) missing('from path');
        if (op === 'move') remove(from);
        add(path, structuredClone(v as Json));
        break;
      }
      case 'test':
        if (!deepEqual(getAt(root, path), raw.value)) throw patchNotApplied();
        break;
      default:
        throw badRequest(`Unexpected kind: ${String(op)}`);
    }
  }
  if (!isObject(root)) throw badRequest('jsonpatch: the patched document is not an object');
  return root;
}

// --- RFC 7386 -------------------------------------------------------------------------------------

function mergePatch(target: Json | undefined, patch: Json): Json {
  if (!isObject(patch)) return structuredClone(patch);
  const out: JsonObject = isObject(target) ? target : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

// --- strategic merge patch ------------------------------------------------------------------------

/** patchMergeKey of the list fields the Kubernetes types merge; every other list is replaced. */
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  imagePullSecrets: 'name',
  ownerReferences: 'uid',
  conditions: 'type',
  hostAliases: 'ip',
  topologySpreadConstraints: 'topologyKey',
  resourceClaims: 'name',
  ports: 'containerPort',
};
/** Primitive lists with patchStrategy merge. */
const MERGED_PRIMITIVE_LISTS = new Set(['finalizers']);

function mergeKey(field: string, path: string[], kind: string): string | undefined {
  // Service.spec.ports merges by port; container ports by containerPort.
  if (field === 'ports' && kind === 'Service' && path.join('.') === 'spec') return 'port';
  return MERGE_KEYS[field];
}

function strategicMerge(target: JsonObject, patch: JsonObject, path: string[], kind: string): JsonObject {
  if (patch.$patch === 'replace') {
    const { $patch: _, ...rest } = patch;
    return rest;
  }
  if (patch.$patch === 'delete') return {};
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$retainKeys' || k === '$patch' || k.startsWith('$setElementOrder/')) continue;
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const field = k.slice('$deleteFromPrimitiveList/'.length);
      const cur = target[field];
      if (Array.isArray(cur) && Array.isArray(v)) target[field] = cur.filter((x) => !v.some((d) => deepEqual(d, x)));
      continue;
    }
    if (v === null) {
      delete target[k];
      continue;
    }
    const cur = target[k];
    if (isObject(v)) {
      target[k] = strategicMerge(isObject(cur) ? cur : {}, v, [...path, k], kind);
      if (v.$patch === 'delete') delete target[k];
    } else if (Array.isArray(v)) {
      target[k] = mergeList(Array.isArray(cur) ? cur : [], v, k, [...path, k], kind);
    } else target[k] = v;
  }
  return target;
}

function mergeList(cur: Json[], patch: Json[], field: string, path: string[], kind: string): Json[] {
  const key = mergeKey(field, path.slice(0, -1), kind);
  if (MERGED_PRIMITIVE_LISTS.has(field)) return [...cur, ...patch.filter((p) => !cur.some((c) => deepEqual(c, p)))];
  if (!key) {
    const replace = patch.find((p) => isObject(p) && p.$patch === 'replace');
    return replace ? patch.filter((p) => p !== replace) : patch;
  }
  if (patch.some((p) => isObject(p) && p.$patch === 'replace')) return patch.filter((p) => !(isObject(p) && p.$patch === 'replace'));
  const out = [...cur];
  for (const item of patch) {
    if (!isObject(item)) throw badRequest(`json: cannot unmarshal ${typeof item} into a list with merge key ${key}`);
    const i = out.findIndex((c) => isObject(c) && deepEqual(c[key], item[key]));
    if (item.$patch === 'delete') {
      if (i >= 0) out.splice(i, 1);
    } else if (i >= 0) out[i] = strategicMerge(out[i] as JsonObject, item, path, kind);
    else out.push(strategicMerge({}, item, path, kind));
  }
  return out;
}
