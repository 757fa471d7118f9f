// The object store behind the emulator. Each object is kept as its serialized JSON plus the
// few fields selectors need, so lists of tens of thousands of pods stream without
// re-serializing, and every read hands out a fresh copy (callers may mutate what they get).
// Entries are immutable: a page snapshot or watch history can hold old ones safely.
import { randomBytes, randomUUID } from 'node:crypto';
import type { ClusterState, KubeObject, WatchEvent, WatchEventType } from './contract.js';
import { applySchemaDefaults } from './defaults.js';
import { lookupKind } from './resources.js';
import { alreadyExists, conflict, failure, forbiddenField, notFound, preconditionFailed, tooLarge } from './status.js';
import { validateObject } from './validate.js';
import { type Condition, isReady } from './world/objects.js';

export interface Entry {
  readonly typeKey: string; // apiVersion/kind
  readonly key: string; // 'ns/name', or 'name' when cluster-scoped: the list order
  readonly namespace: string;
  readonly name: string;
  readonly rv: number;
  readonly labels: Readonly<Record<string, string>>;
  /** Field values for field selectors (status.phase, spec.nodeName, ...). */
  readonly fields: Readonly<Record<string, string>>;
  /** The object's JSON without its leading kind/apiVersion (as items of built-in lists are). */
  readonly body: string;
  /** `{"kind":..,"apiVersion":..,` to prepend to body[1..] for the full object. */
  readonly head: string;
  readonly uid: string;
  /** uids of its ownerReferences: what the garbage collector follows. */
  readonly owners: readonly string[];
  /** Being deleted, and which finalizers still hold it. */
  readonly deleting?: { gracePeriodSeconds: number; finalizers: readonly string[] };
}

export type PropagationPolicy = 'Orphan' | 'Background' | 'Foreground';

/** meta/v1 DeleteOptions, as the REST layer parsed them from the body and the query. */
export interface DeleteOptions {
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  propagationPolicy?: PropagationPolicy;
  dryRun?: boolean;
}

/** The finalizers the garbage collector acts on (metav1.FinalizerOrphanDependents / FinalizerDeleteDependents). */
export const ORPHAN_FINALIZER = 'orphan';
export const FOREGROUND_FINALIZER = 'foregroundDeletion';
/** etcd's default --max-request-bytes: a larger object is refused by storage. */
export const MAX_STORED_BYTES = 1.5 * 1024 * 1024;
/** A pod's default spec.terminationGracePeriodSeconds. */
const DEFAULT_POD_GRACE_SECONDS = 30;

export interface StoreEvent {
  type: WatchEventType;
  rv: number;
  entry: Entry;
  /** The previous version, for MODIFIED/DELETED: lets selector watches see objects leave. */
  prev?: Entry;
}

export const fullJson = (e: Entry): string => e.head + e.body.slice(1);
export const materialize = (e: Entry): KubeObject => JSON.parse(fullJson(e)) as KubeObject;

export const INDEXED_FIELDS = ['status.phase', 'spec.nodeName', 'spec.restartPolicy', 'spec.schedulerName', 'spec.serviceAccountName', 'status.podIP', 'spec.unschedulable', 'type', 'involvedObject.name', 'involvedObject.kind', 'involvedObject.namespace', 'reason'];
const META_ORDER = ['name', 'generateName', 'namespace', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'labels', 'annotations', 'ownerReferences', 'finalizers'];
const HISTORY = 20_000;

export const nowTimestamp = (at = Date.now()): string => new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Resource name for messages: the registry's plural, or a guess for kinds it doesn't serve. */
export function describeKind(apiVersion: string, kind: string): { resource: string; group: string; namespaced?: boolean } {
  const t = lookupKind(apiVersion, kind);
  const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
  return t ? { resource: t.resource, group, namespaced: t.namespaced } : { resource: `${kind.toLowerCase()}s`, group };
}

function pick(obj: unknown, path: string): string | undefined {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur === undefined || cur === null || typeof cur === 'object' ? undefined : String(cur);
}

/** A custom resource's CRD defaults, filled in as the apiserver decodes every write. */
function applyCrdDefaults(obj: KubeObject): void {
  const defaults = lookupKind(obj.apiVersion, obj.kind)?.defaults;
  if (defaults) applySchemaDefaults(obj, defaults);
}

/** Serializes with the real server's key order: kind, apiVersion, metadata (ordered), ..., status last. */
function ordered(obj: KubeObject): { head: string; body: string } {
  const meta: Record<string, unknown> = {};
  for (const k of META_ORDER) if (obj.metadata[k] !== undefined) meta[k] = obj.metadata[k];
  for (const [k, v] of Object.entries(obj.metadata)) if (!(k in meta) && v !== undefined) meta[k] = v;
  const rest: Record<string, unknown> = { metadata: meta };
  for (const [k, v] of Object.entries(obj)) if (k !== 'kind' && k !== 'apiVersion' && k !== 'metadata' && k !== 'status') rest[k] = v;
  if (obj.status !== undefined) rest.status = obj.status;
  return { head: `{"kind":${JSON.stringify(obj.kind)},"apiVersion":${JSON.stringify(obj.apiVersion)},`, body: JSON.stringify(rest) };
}

interface Bucket {
  all: Map<string, Entry>;
  byNs: Map<string, Set<string>>;
  sortedAll?: string[];
  sortedNs: Map<string, string[]>;
}

export class Store implements ClusterState {
  private readonly buckets = new Map<string, Bucket>();
  private readonly history: StoreEvent[] = [];
  private readonly subscribers = new Set<(e: StoreEvent) => void>();
  private readonly pending: StoreEvent[] = [];
  private draining = false;
  private rvCounter = 1000;
  /** uid → where the live object is: the garbage collector's view of who still exists. */
  private readonly byUid = new Map<string, { typeKey: string; key: string }>();
  /** owner uid → dependents' uids. */
  private readonly dependents = new Map<string, Set<string>>();
  /** Owners the collector must look at: gone (Background), or held by orphan/foregroundDeletion. */
  private readonly gcQueue = new Set<string>();
  private gcScheduled = false;
  /** The end of a pod's grace period, when the kubelet would have killed it. */
  private readonly graceTimers = new Map<string, NodeJS.Timeout>();
  private closed = false;

  get resourceVersion(): number {
    return this.rvCounter;
  }

  // --- ClusterState -------------------------------------------------------------------------

  create(obj: KubeObject): KubeObject {
    return materialize(this.insert(obj));
  }

  get(apiVersion: string, kind: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const e = this.entry(`${apiVersion}/${kind}`, namespace ?? '', name);
    return e && materialize(e);
  }

  list(apiVersion: string, kind: string, namespace?: string): KubeObject[] {
    return this.entries(`${apiVersion}/${kind}`, namespace).map(materialize);
  }

  replace(obj: KubeObject): KubeObject {
    return materialize(this.update(obj));
  }

  /**
   * Removes the object at once, as the kubelet's final delete or a controller's would (finalizers
   * still hold it); a no-op when it is already gone. The REST layer uses requestDelete().
   */
  remove(apiVersion: string, kind: string, namespace: string | undefined, name: string): void {
    const e = this.entry(`${apiVersion}/${kind}`, namespace ?? '', name);
    if (!e) return;
    if (e.deleting?.finalizers.length || (!e.deleting && materialize(e).metadata.finalizers?.length)) {
      this.requestDelete(apiVersion, kind, namespace, name, { gracePeriodSeconds: 0 });
      return;
    }
    this.delete(apiVersion, kind, namespace, name);
  }

  terminate(apiVersion: string, kind: string, namespace: string | undefined, name: string): void {
    if (this.entry(`${apiVersion}/${kind}`, namespace ?? '', name)) this.requestDelete(apiVersion, kind, namespace, name);
  }

  watch(listener: (event: WatchEvent) => void): () => void {
    const sub = (e: StoreEvent): void => listener({ type: e.type, object: materialize(e.entry) });
    this.subscribers.add(sub);
    return () => this.subscribers.delete(sub);
  }

  // --- internal API for the REST layer --------------------------------------------------------

  entry(typeKey: string, namespace: string, name: string): Entry | undefined {
    return this.buckets.get(typeKey)?.all.get(namespace ? `${namespace}/${name}` : name);
  }

  /** Entries in etcd key order (namespace, then name); all namespaces when namespace is undefined. */
  entries(typeKey: string, namespace?: string): Entry[] {
    const b = this.buckets.get(typeKey);
    if (!b) return [];
    let keys: string[];
    if (namespace === undefined || namespace === '') {
      keys = b.sortedAll ??= [...b.all.keys()].sort();
    } else {
      const set = b.byNs.get(namespace);
      if (!set) return [];
      keys = b.sortedNs.get(namespace) ?? [...set].sort();
      b.sortedNs.set(namespace, keys);
    }
    const out: Entry[] = new Array<Entry>(keys.length);
    for (let i = 0; i < keys.length; i++) out[i] = b.all.get(keys[i] as string) as Entry;
    return out;
  }

  /** With dryRun, validates and renders the result without storing it (the server's dryRun=All). */
  insert(input: KubeObject, dryRun = false): Entry {
    const obj = structuredClone(input);
    const { resource, group, namespaced } = describeKind(obj.apiVersion, obj.kind);
    const meta = obj.metadata ?? (obj.metadata = { name: '' });
    if (!meta.name && typeof meta.generateName === 'string') meta.name = meta.generateName + suffix();
    if (!meta.name) throw failure(422, 'Invalid', `${obj.kind} "" is invalid: metadata.name: Required value: name or generateName is required`);
    applyCrdDefaults(obj);
    validateObject(obj, group);
    if (namespaced === false) delete meta.namespace;
    else if (namespaced && !meta.namespace) meta.namespace = 'default';
    if (this.entry(`${obj.apiVersion}/${obj.kind}`, meta.namespace ?? '', meta.name)) throw alreadyExists(resource, group, meta.name);
    meta.uid = randomUUID();
    meta.creationTimestamp = nowTimestamp();
    if (obj.spec !== undefined) meta.generation = 1;
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    return this.commit(obj, 'ADDED', undefined, dryRun);
  }

  /** Replaces an object; a stale metadata.resourceVersion is a Conflict, none means unconditional. */
  update(input: KubeObject, previous?: Entry, dryRun = false): Entry {
    const obj = structuredClone(input);
    const { resource, group } = describeKind(obj.apiVersion, obj.kind);
    const ns = obj.metadata.namespace ?? '';
    const prev = previous ?? this.entry(`${obj.apiVersion}/${obj.kind}`, ns, obj.metadata.name);
    if (!prev) throw notFound(resource, group, obj.metadata.name);
    const want = obj.metadata.resourceVersion;
    if (want !== undefined && want !== '' && want !== String(prev.rv)) throw conflict(resource, group, obj.metadata.name);
    const old = materialize(prev);
    obj.metadata.uid = old.metadata.uid;
    obj.metadata.creationTimestamp = old.metadata.creationTimestamp;
    if (!prev.namespace) delete obj.metadata.namespace;
    applyCrdDefaults(obj);
    validateObject(obj, group);
    // System fields: deletion is started only by DELETE, and a deleting object takes no new finalizers.
    for (const k of ['deletionTimestamp', 'deletionGracePeriodSeconds'] as const) {
      if (old.metadata[k] === undefined) delete obj.metadata[k];
      else Object.assign(obj.metadata, { [k]: old.metadata[k] });
    }
    const finalizers = obj.metadata.finalizers ?? [];
    if (prev.deleting) {
      const added = finalizers.filter((f) => !old.metadata.finalizers?.includes(f));
      if (added.length)
        throw forbiddenField(obj.kind, group, obj.metadata.name, 'metadata.finalizers', `no new finalizers can be added if the object is being deleted, found new finalizers []string{${added.map((f) => JSON.stringify(f)).join(', ')}}`);
      // The last finalizer gone and no grace left: the update is the deletion.
      if (!finalizers.length && prev.deleting.gracePeriodSeconds === 0 && !dryRun) return this.delete(obj.apiVersion, obj.kind, prev.namespace || undefined, prev.name, this.commit(obj, 'MODIFIED', prev, true));
    }
    const gen = old.metadata.generation;
    if (gen !== undefined || obj.spec !== undefined) {
      const changed = JSON.stringify(old.spec) !== JSON.stringify(obj.spec);
      obj.metadata.generation = (gen ?? 0) + (changed || gen === undefined ? 1 : 0);
    }
    return this.commit(obj, 'MODIFIED', prev, dryRun);
  }

  /**
   * A DELETE as the apiserver handles it: preconditions, then either the object goes now or it
   * starts terminating (deletionTimestamp set) — a scheduled pod for its grace period, any object
   * for as long as finalizers (including the garbage collector's orphan/foregroundDeletion) hold it.
   */
  requestDelete(apiVersion: string, kind: string, namespace: string | undefined, name: string, opts: DeleteOptions = {}): Entry {
    const typeKey = `${apiVersion}/${kind}`;
    const { resource, group } = describeKind(apiVersion, kind);
    const prev = this.entry(typeKey, namespace ?? '', name);
    if (!prev) throw notFound(resource, group, name);
    const obj = materialize(prev);
    const pre = opts.preconditions;
    if (pre?.uid !== undefined && pre.uid !== prev.uid) throw preconditionFailed(resource, group, name, prev, 'UID', pre.uid, prev.uid);
    if (pre?.resourceVersion !== undefined && pre.resourceVersion !== String(prev.rv))
      throw preconditionFailed(resource, group, name, prev, 'ResourceVersion', pre.resourceVersion, String(prev.rv));
    const isPod = apiVersion === 'v1' && kind === 'Pod';
    const finalizers = [...(obj.metadata.finalizers ?? [])];
    if (prev.deleting) {
      // Already terminating: only a shorter grace period for a pod changes anything.
      const grace = opts.gracePeriodSeconds;
      if (!isPod || grace === undefined || grace >= prev.deleting.gracePeriodSeconds || opts.dryRun) return prev;
      if (grace === 0 && !finalizers.length) return this.delete(apiVersion, kind, namespace, name);
      return this.startDeleting(obj, prev, grace, finalizers);
    }
    const policy = opts.propagationPolicy ?? defaultPropagation(apiVersion, kind);
    if (policy === 'Orphan' && !finalizers.includes(ORPHAN_FINALIZER)) finalizers.push(ORPHAN_FINALIZER);
    if (policy === 'Foreground' && !finalizers.includes(FOREGROUND_FINALIZER)) finalizers.push(FOREGROUND_FINALIZER);
    const grace = isPod ? podGracePeriod(obj, opts.gracePeriodSeconds) : 0;
    if (opts.dryRun) return prev;
    if (grace === 0 && !finalizers.length) return this.delete(apiVersion, kind, namespace, name);
    return this.startDeleting(obj, prev, grace, finalizers);
  }

  private startDeleting(obj: KubeObject, prev: Entry, grace: number, finalizers: string[]): Entry {
    obj.metadata.deletionTimestamp = nowTimestamp(Date.now() + grace * 1000);
    obj.metadata.deletionGracePeriodSeconds = grace;
    if (finalizers.length) obj.metadata.finalizers = finalizers;
    const entry = this.commit(obj, 'MODIFIED', prev);
    const timerKey = `${entry.typeKey}\n${entry.key}`;
    clearTimeout(this.graceTimers.get(timerKey));
    if (grace > 0 && !this.closed) {
      // The kubelet kills what is still running when the grace period ends (the world's kubelet is quicker).
      const timer = setTimeout(() => {
        this.graceTimers.delete(timerKey);
        const cur = this.entry(entry.typeKey, entry.namespace, entry.name);
        // An unreachable kubelet kills nothing: the pod stays Terminating (see nodeChanged).
        if (cur?.uid === entry.uid && cur.deleting && kubeletCanFinish(this, materialize(cur))) this.requestDelete(obj.apiVersion, obj.kind, cur.namespace || undefined, cur.name, { gracePeriodSeconds: 0 });
      }, grace * 1000);
      timer.unref();
      this.graceTimers.set(timerKey, timer);
    }
    if (finalizers.includes(ORPHAN_FINALIZER) || finalizers.includes(FOREGROUND_FINALIZER)) this.collectSoon(entry.uid);
    return entry;
  }

  /** Removes the object now (no grace, no finalizers): the final step of a deletion. */
  delete(apiVersion: string, kind: string, namespace: string | undefined, name: string, finalState?: Entry): Entry {
    const typeKey = `${apiVersion}/${kind}`;
    const prev = this.entry(typeKey, namespace ?? '', name);
    if (!prev) {
      const { resource, group } = describeKind(apiVersion, kind);
      throw notFound(resource, group, name);
    }
    const b = this.buckets.get(typeKey) as Bucket;
    b.all.delete(prev.key);
    if (prev.namespace) {
      b.byNs.get(prev.namespace)?.delete(prev.key);
      b.sortedNs.delete(prev.namespace);
    }
    b.sortedAll = undefined;
    const rv = ++this.rvCounter;
    // A deleted object is reported with the resourceVersion of its deletion, like the real watch.
    const obj = materialize(finalState ?? prev);
    obj.metadata.resourceVersion = String(rv);
    const entry = { ...prev, rv, ...ordered(obj) };
    this.unindex(prev);
    const timerKey = `${typeKey}\n${prev.key}`;
    clearTimeout(this.graceTimers.get(timerKey));
    this.graceTimers.delete(timerKey);
    this.emit({ type: 'DELETED', rv, entry, prev });
    if (kind === 'Namespace' && apiVersion === 'v1') this.deleteNamespaceContents(name);
    if (kind === 'Node' && apiVersion === 'v1') this.nodeChanged(name, 'deleted');
    // Its dependents are now orphans of a gone owner: the collector deletes them (Background).
    if (this.dependents.get(prev.uid)?.size) this.collectSoon(prev.uid);
    return entry;
  }

  /** Stops the grace-period timers (the emulator is closing). */
  close(): void {
    this.closed = true;
    for (const t of this.graceTimers.values()) clearTimeout(t);
    this.graceTimers.clear();
  }

  /**
   * The pods a node held back: once its kubelet is back (Ready), those whose grace period ended
   * while it was away are killed; once the Node object is gone, the pod GC force-deletes every pod
   * still bound to it (its orphan rule). Asynchronous, like the controllers that do it.
   */
  private nodeChanged(node: string, how: 'ready' | 'deleted'): void {
    if (this.closed) return;
    setImmediate(() => {
      for (const e of this.entries('v1/Pod')) {
        if (e.fields['spec.nodeName'] !== node || this.closed) continue;
        const cur = this.entry(e.typeKey, e.namespace, e.name);
        if (!cur || cur.uid !== e.uid) continue;
        const graceOver = cur.deleting && Date.parse(String(materialize(cur).metadata.deletionTimestamp)) <= Date.now();
        if (how === 'deleted' || graceOver) this.requestDelete('v1', 'Pod', cur.namespace, cur.name, { gracePeriodSeconds: 0 });
      }
    });
  }

  // --- garbage collector ----------------------------------------------------------------------

  private collectSoon(uid: string): void {
    this.gcQueue.add(uid);
    if (this.gcScheduled || this.closed) return;
    this.gcScheduled = true;
    // Asynchronous, like the real collector: the DELETE answers first.
    setImmediate(() => {
      this.gcScheduled = false;
      const uids = [...this.gcQueue];
      this.gcQueue.clear();
      for (const u of uids) this.collect(u);
    });
  }

  private byUidEntry(uid: string): Entry | undefined {
    const at = this.byUid.get(uid);
    return at && this.buckets.get(at.typeKey)?.all.get(at.key);
  }

  /** One owner: orphan its dependents, delete them (foreground, or owner gone), and release its GC finalizers. */
  private collect(ownerUid: string): void {
    const owner = this.byUidEntry(ownerUid);
    const finalizers = owner?.deleting?.finalizers ?? [];
    const dependents = [...(this.dependents.get(ownerUid) ?? [])].map((u) => this.byUidEntry(u)).filter((e): e is Entry => !!e);
    for (const dep of dependents) {
      const [apiVersion, kind] = splitTypeKey(dep.typeKey);
      if (owner && finalizers.includes(ORPHAN_FINALIZER)) {
        const o = materialize(dep);
        o.metadata.ownerReferences = o.metadata.ownerReferences?.filter((r) => r.uid !== ownerUid);
        if (!o.metadata.ownerReferences?.length) delete o.metadata.ownerReferences;
        delete o.metadata.resourceVersion;
        this.update(o, dep);
      } else if (!dep.deleting && (owner ? finalizers.includes(FOREGROUND_FINALIZER) : dep.owners.every((u) => !this.byUid.has(u)))) {
        this.requestDelete(apiVersion, kind, dep.namespace || undefined, dep.name, { propagationPolicy: 'Background' });
      }
    }
    if (!owner) return;
    const release = finalizers.includes(ORPHAN_FINALIZER) ? ORPHAN_FINALIZER : finalizers.includes(FOREGROUND_FINALIZER) && !this.dependents.get(ownerUid)?.size ? FOREGROUND_FINALIZER : undefined;
    if (!release) return;
    const o = materialize(owner);
    o.metadata.finalizers = (o.metadata.finalizers ?? []).filter((f) => f !== release);
    delete o.metadata.resourceVersion;
    this.update(o, owner);
  }

  private index(e: Entry): void {
    this.byUid.set(e.uid, { typeKey: e.typeKey, key: e.key });
    for (const o of e.owners) {
      let set = this.dependents.get(o);
      if (!set) this.dependents.set(o, (set = new Set()));
      set.add(e.uid);
    }
  }

  private unindex(e: Entry): void {
    this.byUid.delete(e.uid);
    for (const o of e.owners) {
      const set = this.dependents.get(o);
      set?.delete(e.uid);
      if (set?.size === 0) this.dependents.delete(o);
      // A foreground owner waits for its last dependent.
      const owner = this.byUidEntry(o);
      if (owner?.deleting?.finalizers.includes(FOREGROUND_FINALIZER) && !set?.size) this.collectSoon(o);
    }
  }

  /** Events after resourceVersion `since`, or undefined when history no longer reaches back that far. */
  eventsSince(since: number): StoreEvent[] | undefined {
    if (since >= this.rvCounter) return [];
    const first = this.history[0];
    if (!first || first.rv > since + 1) return undefined;
    let lo = 0;
    while (lo < this.history.length && (this.history[lo] as StoreEvent).rv <= since) lo++;
    return this.history.slice(lo);
  }

  /** Subscribes to raw store events, delivered asynchronously in order. */
  subscribe(fn: (e: StoreEvent) => void): () => void {
    this.subscribers.add(fn);
    return () => this.subscribers.delete(fn);
  }

  // --- internals --------------------------------------------------------------------------------

  private deleteNamespaceContents(ns: string): void {
    for (const [typeKey, b] of this.buckets) {
      const keys = b.byNs.get(ns);
      if (!keys?.size) continue;
      const [apiVersion, kind] = splitTypeKey(typeKey);
      for (const key of [...keys]) this.delete(apiVersion, kind, ns, key.slice(ns.length + 1));
    }
  }

  private commit(obj: KubeObject, type: WatchEventType, prev?: Entry, dryRun = false): Entry {
    const rv = dryRun ? (prev?.rv ?? 0) : ++this.rvCounter;
    if (dryRun && !prev) delete obj.metadata.resourceVersion;
    else obj.metadata.resourceVersion = String(rv);
    const namespace = obj.metadata.namespace ?? '';
    const name = obj.metadata.name;
    const key = namespace ? `${namespace}/${name}` : name;
    const fields: Record<string, string> = { 'metadata.name': name, 'metadata.namespace': namespace };
    for (const f of INDEXED_FIELDS) {
      const v = pick(obj, f);
      if (v !== undefined) fields[f] = v;
    }
    const typeKey = `${obj.apiVersion}/${obj.kind}`;
    const uid = obj.metadata.uid ?? '';
    const owners = (obj.metadata.ownerReferences ?? []).map((r) => r.uid);
    const deleting = obj.metadata.deletionTimestamp
      ? { gracePeriodSeconds: Number(obj.metadata.deletionGracePeriodSeconds ?? 0), finalizers: [...(obj.metadata.finalizers ?? [])] }
      : undefined;
    const entry: Entry = { typeKey, key, namespace, name, rv, labels: { ...obj.metadata.labels }, fields, ...ordered(obj), uid, owners, ...(deleting ? { deleting } : {}) };
    if (entry.head.length + entry.body.length > MAX_STORED_BYTES) throw tooLarge();
    if (dryRun) return entry;
    let b = this.buckets.get(typeKey);
    if (!b) this.buckets.set(typeKey, (b = { all: new Map(), byNs: new Map(), sortedNs: new Map() }));
    if (!b.all.has(key)) {
      b.sortedAll = undefined;
      if (namespace) {
        let set = b.byNs.get(namespace);
        if (!set) b.byNs.set(namespace, (set = new Set()));
        set.add(key);
        b.sortedNs.delete(namespace);
      }
    }
    if (prev) this.unindex(prev);
    b.all.set(key, entry);
    this.index(entry);
    this.emit({ type, rv, entry, ...(prev ? { prev } : {}) });
    if (typeKey === 'v1/Node' && type === 'MODIFIED' && prev && !nodeIsReady(materialize(prev)) && nodeIsReady(obj)) this.nodeChanged(name, 'ready');
    return entry;
  }

  private emit(e: StoreEvent): void {
    this.history.push(e);
    if (this.history.length > HISTORY) this.history.splice(0, this.history.length - HISTORY);
    this.pending.push(e);
    if (!this.draining) {
      this.draining = true;
      queueMicrotask(() => this.drain());
    }
  }

  private drain(): void {
    // Listeners may write (and so emit) while we deliver: keep going until the queue is empty.
    for (let i = 0; i < this.pending.length; i++) {
      const e = this.pending[i] as StoreEvent;
      for (const sub of [...this.subscribers]) {
        try {
          sub(e);
        } catch (err) {
          console.error('kube emulator: a watch listener threw', err);
        }
      }
    }
    this.pending.length = 0;
    this.draining = false;
  }
}

/** The apiserver's default when DeleteOptions name no policy: batch/v1 Jobs orphan their pods (kept for compatibility). */
function defaultPropagation(apiVersion: string, kind: string): PropagationPolicy {
  return apiVersion === 'batch/v1' && kind === 'Job' ? 'Orphan' : 'Background';
}

export const nodeIsReady = (node: KubeObject): boolean => isReady((node.status as { conditions?: Condition[] } | undefined)?.conditions);

/**
 * Whether the kubelet can end a pod's deletion: not while the pod is bound to a node that isn't
 * Ready (its kubelet is unreachable). Kubernetes (1.5+) doesn't delete pods just because their node
 * is unreachable: they stay Terminating until the kubelet is back, the Node object is deleted, or
 * someone force-deletes them (kubernetes.io/docs/tasks/run-application/force-delete-stateful-set-pod/).
 * A node that doesn't exist holds nothing: the pod GC removes its orphans.
 */
export function kubeletCanFinish(state: Pick<ClusterState, 'get'>, pod: KubeObject): boolean {
  const nodeName = (pod.spec as { nodeName?: string } | undefined)?.nodeName;
  const node = nodeName ? state.get('v1', 'Node', undefined, nodeName) : undefined;
  return !node || nodeIsReady(node);
}

/** A pod's grace: the request's, else its spec's; none when it never reached a node or already finished. */
function podGracePeriod(pod: KubeObject, requested: number | undefined): number {
  const spec = (pod.spec ?? {}) as { nodeName?: string; terminationGracePeriodSeconds?: number };
  const phase = (pod.status as { phase?: string } | undefined)?.phase;
  if (!spec.nodeName || phase === 'Succeeded' || phase === 'Failed') return 0;
  return Math.max(0, requested ?? spec.terminationGracePeriodSeconds ?? DEFAULT_POD_GRACE_SECONDS);
}

export function splitTypeKey(typeKey: string): [string, string] {
  const i = typeKey.lastIndexOf('/');
  return [typeKey.slice(0, i), typeKey.slice(i + 1)];
}

/** A 5-character suffix for generateName, from the same alphabet the real server uses. */
function suffix(): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  return [...randomBytes(5)].map((b) => alphabet[b % alphabet.length]).join('');
}
