// The object store behind the emulator. Each object is kept as its serialized JSON plus the
// few fields selectors need, so lists of tens of thousands of pods stream without
// re-serializing, and every read hands out a fresh copy (callers may mutate what they get).
// Entries are immutable: a page snapshot or watch history can hold old ones safely.
import { randomBytes, randomUUID } from 'node:crypto';
import type { ClusterState, KubeObject, WatchEvent, WatchEventType } from './contract.js';
import { lookupKind } from './resources.js';
import { alreadyExists, conflict, failure, notFound } from './status.js';

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
}

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

export const nowTimestamp = (): string => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

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

  /** Removes the object; a no-op when it is already gone (the REST layer uses delete()). */
  remove(apiVersion: string, kind: string, namespace: string | undefined, name: string): void {
    if (this.entry(`${apiVersion}/${kind}`, namespace ?? '', name)) this.delete(apiVersion, kind, namespace, name);
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
    if (namespaced === false) delete meta.namespace;
    else if (namespaced && !meta.namespace) meta.namespace = 'default';
    if (this.entry(`${obj.apiVersion}/${obj.kind}`, meta.namespace ?? '', meta.name)) throw alreadyExists(resource, group, meta.name);
    meta.uid = randomUUID();
    meta.creationTimestamp = nowTimestamp();
    if (obj.spec !== undefined) meta.generation = 1;
    delete meta.deletionTimestamp;
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
    const gen = old.metadata.generation;
    if (gen !== undefined || obj.spec !== undefined) {
      const changed = JSON.stringify(old.spec) !== JSON.stringify(obj.spec);
      obj.metadata.generation = (gen ?? 0) + (changed || gen === undefined ? 1 : 0);
    }
    return this.commit(obj, 'MODIFIED', prev, dryRun);
  }

  delete(apiVersion: string, kind: string, namespace: string | undefined, name: string): Entry {
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
    const obj = materialize(prev);
    obj.metadata.resourceVersion = String(rv);
    const entry = { ...prev, rv, ...ordered(obj) };
    this.emit({ type: 'DELETED', rv, entry, prev });
    if (kind === 'Namespace' && apiVersion === 'v1') this.deleteNamespaceContents(name);
    return entry;
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
    const entry: Entry = { typeKey, key, namespace, name, rv, labels: { ...obj.metadata.labels }, fields, ...ordered(obj) };
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
    b.all.set(key, entry);
    this.emit({ type, rv, entry, ...(prev ? { prev } : {}) });
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

export function splitTypeKey(typeKey: string): [string, string] {
  const i = typeKey.lastIndexOf('/');
  return [typeKey.slice(0, i), typeKey.slice(i + 1)];
}

/** A 5-character suffix for generateName, from the same alphabet the real server uses. */
function suffix(): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  return [...randomBytes(5)].map((b) => alphabet[b % alphabet.length]).join('');
}
