// Resource endpoints: routing /api/v1/... and /apis/<group>/<version>/..., then get, list,
// watch, create, update, patch and delete with the real server's codes and Status bodies.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KubeObject, WorldHooks } from './contract.js';
import { type Pager, tableOf, writeList } from './list.js';
import { serveLogs } from './logs.js';
import { serveMetrics } from './metrics.js';
import { applyPatch } from './patch.js';
import { type ResourceType, apiVersionOf, lookupResource } from './resources.js';
import { evict } from './eviction.js';
import { readBody, sendJson, wantsTable } from './respond.js';
import { parseFieldSelector, parseLabelSelector } from './selectors.js';
import { badRequest, invalid, methodNotAllowed, notFound, resourceNotFound, success, unsupportedMediaType } from './status.js';
import { type DeleteOptions, type Entry, INDEXED_FIELDS, type PropagationPolicy, type Store, fullJson, materialize } from './store.js';
import type { IncludeObject } from './table.js';
import { serveWatch } from './watch.js';

/** corev1.MaxSecretSize: the most a ConfigMap's data may hold. */

export interface Route {
  type: ResourceType;
  namespace?: string;
  name?: string;
  sub?: string;
}

const FIELDS = ['metadata.name', 'metadata.namespace', ...INDEXED_FIELDS];
/** Registries with ReturnDeletedObject (pods, serviceaccounts, storageclasses; custom resources too). */
const RETURNS_DELETED_OBJECT = new Set(['v1/Pod', 'v1/ServiceAccount', 'storage.k8s.io/v1/StorageClass']);

/** A resource route, undefined for paths that are not resource paths, or a 404 for unknown resources. */
export function parseRoute(pathname: string): Route | undefined {
  const segs = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  let apiVersion: string;
  let rest: string[];
  if (segs[0] === 'api' && segs[1] === 'v1' && segs.length > 2) [apiVersion, rest] = ['v1', segs.slice(2)];
  else if (segs[0] === 'apis' && segs.length > 3) [apiVersion, rest] = [`${segs[1]}/${segs[2]}`, segs.slice(3)];
  else return undefined;
  // namespaces/<ns>/<resource>/... unless it is the namespace object itself (or its subresource).
  if (rest[0] === 'namespaces' && rest.length >= 3 && !(rest.length === 3 && (rest[2] === 'status' || rest[2] === 'finalize'))) {
    const type = lookupResource(apiVersion, rest[2] as string);
    if (!type?.namespaced || rest.length > 5) throw resourceNotFound();
    return withSub({ type, namespace: rest[1] as string, name: rest[3], sub: rest[4] });
  }
  const type = lookupResource(apiVersion, rest[0] as string);
  if (!type || rest.length > 3 || (type.namespaced && rest.length > 1)) throw resourceNotFound();
  return withSub({ type, name: rest[1], sub: rest[2] });
}

function withSub(r: Route): Route {
  if (r.sub !== undefined && !r.type.subresources.includes(r.sub)) throw resourceNotFound();
  for (const k of ['name', 'sub', 'namespace'] as const) if (r[k] === undefined) delete r[k];
  return r;
}

const flag = (v: string | null): boolean => v === 'true' || v === '1';
const typeKeyOf = (t: ResourceType): string => `${apiVersionOf(t)}/${t.kind}`;

function includeObject(q: URLSearchParams): IncludeObject {
  const v = q.get('includeObject');
  return v === 'None' || v === 'Object' ? v : 'PartialObjectMetadata';
}

export function parseObject(body: string): KubeObject {
  let obj: unknown;
  try {
    obj = JSON.parse(body);
  } catch (e) {
    throw badRequest(`the object provided is unrecognized: ${(e as Error).message}`);
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw badRequest('the object provided is unrecognized');
  const o = obj as KubeObject;
  o.metadata ??= { name: '' };
  return o;
}

export class Rest {
  constructor(
    private readonly store: Store,
    private readonly pager: Pager,
    private readonly hooks: () => WorldHooks,
    private readonly trackStream: (end: () => void) => () => void,
  ) {}

  async handle(req: IncomingMessage, res: ServerResponse, route: Route, q: URLSearchParams): Promise<void> {
    const { type, name, sub } = route;
    const method = req.method ?? 'GET';
    if ((type.metrics || sub === 'log') && method !== 'GET') throw methodNotAllowed();
    if (type.metrics) return serveMetrics(this.store, this.hooks().metrics, res, route, q);
    if (sub === 'log') return serveLogs(this.store, this.hooks().logs, req, res, route, q);
    if (sub === 'exec') throw badRequest('Upgrade request required');
    // The eviction REST implements create only.
    if (sub === 'eviction' && method !== 'POST') throw methodNotAllowed();
    if (method === 'GET' && !name) return this.list(req, res, route, q);
    if (method === 'GET') return this.get(req, res, route, q);
    if (method === 'POST' || method === 'PUT') requireJson(req);
    const dryRun = q.getAll('dryRun');
    if (dryRun.some((d) => d !== 'All')) throw badRequest(`dryRun: Unsupported value: "${dryRun.find((d) => d !== 'All')}": supported values: "All"`);
    const dry = dryRun.length > 0;
    if (sub === 'eviction') {
      const status = evict(this.store, route, await readBody(req), q, dry);
      return sendJson(res, status.code, status);
    }
    if (method === 'POST' && !name) return this.create(res, route, await readBody(req), dry);
    if (method === 'PUT' && name) return this.update(res, route, await readBody(req), dry);
    if (method === 'PATCH' && name) return this.patch(req, res, route, await readBody(req), dry);
    if (method === 'DELETE' && name && !sub) return this.remove(res, route, deleteOptions(await readBody(req), q, dry));
    if (method === 'DELETE' && !name) return this.deleteCollection(res, route, q, deleteOptions(await readBody(req), q, dry));
    throw methodNotAllowed();
  }

  private existing(route: Route): Entry {
    const { type, namespace, name } = route;
    const e = this.store.entry(typeKeyOf(type), namespace ?? '', name as string);
    if (!e) throw notFound(type.resource, type.group, name as string);
    return e;
  }

  private get(req: IncomingMessage, res: ServerResponse, route: Route, q: URLSearchParams): void {
    const e = this.existing(route);
    if (wantsTable(req.headers.accept)) return sendJson(res, 200, tableOf(route.type, e, includeObject(q)), 'application/json;as=Table;v=v1;g=meta.k8s.io');
    sendJson(res, 200, fullJson(e));
  }

  private async list(req: IncomingMessage, res: ServerResponse, route: Route, q: URLSearchParams): Promise<void> {
    const { type, namespace } = route;
    const labels = parseLabelSelector(q.get('labelSelector'));
    const fields = parseFieldSelector(q.get('fieldSelector'), FIELDS);
    const table = wantsTable(req.headers.accept) ? { include: includeObject(q) } : undefined;
    const typeKey = typeKeyOf(type);
    if (flag(q.get('watch'))) {
      const timeout = Number(q.get('timeoutSeconds'));
      return serveWatch(
        this.store,
        res,
        {
          type,
          typeKey,
          ...(namespace ? { namespace } : {}),
          ...(labels ? { labels } : {}),
          ...(fields ? { fields } : {}),
          ...(q.get('resourceVersion') ? { resourceVersion: q.get('resourceVersion') as string } : {}),
          ...(timeout > 0 ? { timeoutSeconds: timeout } : {}),
          sendInitialEvents: flag(q.get('sendInitialEvents')),
          allowBookmarks: flag(q.get('allowWatchBookmarks')),
          ...(table ? { table } : {}),
        },
        this.trackStream,
      );
    }
    const limit = Number(q.get('limit'));
    const listReq = {
      type,
      entries: () => this.store.entries(typeKey, namespace),
      rv: this.store.resourceVersion,
      ...(labels ? { labels } : {}),
      ...(fields ? { fields } : {}),
      ...(limit > 0 ? { limit } : {}),
      ...(q.get('continue') ? { continueToken: q.get('continue') as string } : {}),
      ...(table ? { table } : {}),
    };
    await writeList(res, listReq, this.pager.page(listReq));
  }

  private checkNamespace(route: Route, obj: KubeObject): void {
    if (!route.type.namespaced) return;
    if (obj.metadata.namespace && obj.metadata.namespace !== route.namespace)
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    obj.metadata.namespace = route.namespace as string;
  }

  private checkTypeMeta(route: Route, obj: KubeObject): void {
    const want = apiVersionOf(route.type);
    if (obj.apiVersion && obj.apiVersion !== want)
      throw badRequest(`the API version in the data (${obj.apiVersion}) does not match the expected API version (${want})`);
    if (obj.kind && obj.kind !== route.type.kind) throw badRequest(`the kind in the data (${obj.kind}) does not match the expected kind (${route.type.kind})`);
    obj.apiVersion = want;
    obj.kind = route.type.kind;
  }

  private create(res: ServerResponse, route: Route, body: string, dryRun: boolean): void {
    if (route.sub) throw methodNotAllowed();
    const obj = parseObject(body);
    this.checkTypeMeta(route, obj);
    this.checkNamespace(route, obj);
    if (route.namespace && !this.store.entry('v1/Namespace', '', route.namespace)) throw notFound('namespaces', '', route.namespace);
    delete obj.metadata.resourceVersion;
    // Objects with a status subresource start with the status the server gives them.
    if (route.type.subresources.includes('status')) {
      if (route.type.kind === 'Pod') obj.status = { phase: 'Pending' };
      else if (route.type.kind === 'Namespace') obj.status = { phase: 'Active' };
      else delete obj.status;
    }
    if (route.type.kind === 'Secret') encodeStringData(obj);
    sendJson(res, 201, fullJson(this.store.insert(obj, dryRun)));
  }

  private update(res: ServerResponse, route: Route, body: string, dryRun: boolean): void {
    const obj = parseObject(body);
    this.checkTypeMeta(route, obj);
    this.checkNamespace(route, obj);
    if (obj.metadata.name !== route.name)
      throw badRequest(`the name of the object (${obj.metadata.name}) does not match the name on the URL (${route.name})`);
    const prev = this.existing(route);
    if (route.type.custom && !obj.metadata.resourceVersion)
      throw invalid(route.type.kind, route.type.group, route.name, [{ field: 'metadata.resourceVersion', message: 'Invalid value: 0x0: must be specified for an update' }]);
    if (route.type.kind === 'Secret') encodeStringData(obj);
    sendJson(res, 200, fullJson(this.store.update(this.scoped(route, materialize(prev), obj), prev, dryRun)));
  }

  private patch(req: IncomingMessage, res: ServerResponse, route: Route, body: string, dryRun: boolean): void {
    const prev = this.existing(route);
    const current = materialize(prev);
    const contentType = req.headers['content-type'] ?? '';
    const patched = applyPatch(current, contentType, body, { custom: !!route.type.custom, kind: route.type.kind }) as unknown as KubeObject;
    const meta = (patched.metadata ?? {}) as KubeObject['metadata'];
    // The patch handler's checkName and namespace check: both are 400s, before any validation.
    if ((meta.namespace ?? '') !== (route.namespace ?? '')) throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    if (meta.name !== route.name) throw badRequest(`the name of the object (${String(meta.name)}) does not match the name on the URL (${String(route.name)})`);
    if (route.type.kind === 'Secret') encodeStringData(patched);
    sendJson(res, 200, fullJson(this.store.update(this.scoped(route, structuredClone(current), patched), prev, dryRun)));
  }

  /** Main resource writes keep the old status; /status writes change only the status. */
  private scoped(route: Route, old: KubeObject, next: KubeObject): KubeObject {
    if (!route.type.subresources.includes('status')) return next;
    if (route.sub === 'status') {
      old.status = next.status ?? {};
      old.metadata.resourceVersion = next.metadata.resourceVersion as string;
      return old;
    }
    if (old.status === undefined) delete next.status;
    else next.status = old.status;
    return next;
  }

  private remove(res: ServerResponse, route: Route, opts: DeleteOptions): void {
    const { type, namespace, name } = route;
    const e = this.store.requestDelete(apiVersionOf(type), type.kind, namespace, name as string, opts);
    // An object still terminating is answered as it now is; one gone at once, only by the
    // registries that return deleted objects, the rest with a Success Status naming it.
    if (e.deleting || type.custom || RETURNS_DELETED_OBJECT.has(typeKeyOf(type))) return sendJson(res, 200, fullJson(e));
    sendJson(res, 200, success({ name: e.name, ...(type.group ? { group: type.group } : {}), kind: type.resource, uid: e.uid }));
  }

  private deleteCollection(res: ServerResponse, route: Route, q: URLSearchParams, opts: DeleteOptions): void {
    const { type, namespace } = route;
    const labels = parseLabelSelector(q.get('labelSelector'));
    const fields = parseFieldSelector(q.get('fieldSelector'), FIELDS);
    const deleted: string[] = [];
    for (const e of this.store.entries(typeKeyOf(type), namespace)) {
      if ((labels && !labels(e.labels)) || (fields && !fields(e.fields))) continue;
      const gone = this.store.requestDelete(apiVersionOf(type), type.kind, e.namespace || undefined, e.name, opts);
      deleted.push(type.custom ? fullJson(gone) : gone.body);
    }
    sendJson(res, 200, `{"kind":"${type.kind}List","apiVersion":"${apiVersionOf(type)}","metadata":{"resourceVersion":"${this.store.resourceVersion}"},"items":[${deleted.join(',')}]}`);
  }
}

const POLICIES: readonly PropagationPolicy[] = ['Foreground', 'Background', 'Orphan'];

/** meta/v1 DeleteOptions from the body (kubectl, client-node) and the query, validated as the server does. */
function deleteOptions(body: string, q: URLSearchParams, dryRun: boolean): DeleteOptions {
  return parseDeleteOptions(body.trim() ? parseObject(body) : {}, q, dryRun);
}

/** DeleteOptions as a JSON object (a DELETE's body, or an Eviction's deleteOptions) plus the query. */
export function parseDeleteOptions(options: object, q: URLSearchParams, dryRun: boolean): DeleteOptions {
  const raw = options as {
    gracePeriodSeconds?: unknown;
    preconditions?: { uid?: unknown; resourceVersion?: unknown };
    propagationPolicy?: unknown;
    orphanDependents?: unknown;
    dryRun?: unknown;
  };
  const grace = raw.gracePeriodSeconds ?? (q.get('gracePeriodSeconds') !== null ? Number(q.get('gracePeriodSeconds')) : undefined);
  const policy = raw.propagationPolicy ?? q.get('propagationPolicy') ?? undefined;
  const orphan = raw.orphanDependents ?? (q.get('orphanDependents') !== null ? q.get('orphanDependents') === 'true' : undefined);
  const causes: Array<{ field: string; message: string }> = [];
  if (policy !== undefined && !POLICIES.includes(policy as PropagationPolicy))
    causes.push({ field: 'propagationPolicy', message: `Unsupported value: ${JSON.stringify(policy)}: supported values: ${POLICIES.map((p) => `"${p}"`).join(', ')}` });
  if (policy !== undefined && orphan !== undefined) causes.push({ field: 'propagationPolicy', message: 'Invalid value: "null": orphanDependents and deletionPropagation cannot be both set' });
  if (grace !== undefined && (typeof grace !== 'number' || !Number.isInteger(grace))) throw badRequest(`gracePeriodSeconds: invalid value ${JSON.stringify(grace)}`);
  if (causes.length) throw invalid('DeleteOptions', 'meta.k8s.io', '', causes);
  const pre = raw.preconditions;
  return {
    ...(grace !== undefined ? { gracePeriodSeconds: Math.max(0, grace) } : {}),
    ...(pre && (pre.uid !== undefined || pre.resourceVersion !== undefined)
      ? { preconditions: { ...(pre.uid != null ? { uid: String(pre.uid) } : {}), ...(pre.resourceVersion != null ? { resourceVersion: String(pre.resourceVersion) } : {}) } }
      : {}),
    ...(policy !== undefined ? { propagationPolicy: policy as PropagationPolicy } : orphan !== undefined ? { propagationPolicy: orphan ? 'Orphan' : 'Background' } : {}),
    dryRun: dryRun || (Array.isArray(raw.dryRun) && raw.dryRun.length > 0),
  };
}

/** Bodies are JSON only: kubectl's protobuf bodies (create/replace of built-in kinds) get a 415. */
function requireJson(req: IncomingMessage): void {
  const type = (req.headers['content-type'] ?? 'application/json').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json' && type !== '*/*' && type !== '') throw unsupportedMediaType(['application/json']);
}

function encodeStringData(obj: KubeObject): void {
  const sd = obj.stringData;
  if (!sd || typeof sd !== 'object') return;
  const data = (obj.data ?? {}) as Record<string, string>;
  for (const [k, v] of Object.entries(sd as Record<string, unknown>)) data[k] = Buffer.from(String(v)).toString('base64');
  obj.data = data;
  delete obj.stringData;
}
