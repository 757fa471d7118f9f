// The bot's small state (pending actions, locks, incident threads) behind one interface.
// Memory here; a Kubernetes ConfigMap store implements the same contract for HA.
// Values are JSON: the in-memory store round-trips them so it behaves like the real one.

export interface StoreEntry<T> {
  value: T;
  /** Opaque; changes on every write (resourceVersion in Kubernetes). */
  version: string;
}

export interface Store {
  /** Create-if-absent. False when the key exists: someone else claimed it first. */
  create<T>(kind: string, key: string, value: T): Promise<boolean>;
  get<T>(kind: string, key: string): Promise<StoreEntry<T> | undefined>;
  /** Compare-and-swap on version. False when the entry changed or vanished since it was read. */
  update<T>(kind: string, key: string, value: T, expectedVersion: string): Promise<boolean>;
  delete(kind: string, key: string): Promise<void>;
  list<T>(kind: string): Promise<Array<{ key: string; entry: StoreEntry<T> }>>;
}

/**
 * Runs a store write again when it throws (a dropped connection, an apiserver 5xx), with a
 * growing pause: `attempts` tries in all, then the last error is thrown.
 */
export async function retryingStoreWrite<T>(work: () => Promise<T>, opts: { attempts?: number; firstDelayMs?: number } = {}): Promise<T> {
  const attempts = opts.attempts ?? 4;
  let delay = opts.firstDelayMs ?? 250;
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (err) {
      if (attempt >= attempts) throw err;
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay *= 2;
    }
  }
}

/** Deletes the entries of `kind` that `stale` picks (a sweep); returns how many. */
export async function deleteWhere<T>(store: Store, kind: string, stale: (value: T, key: string) => boolean): Promise<number> {
  let removed = 0;
  for (const { key, entry } of await store.list<T>(kind)) {
    if (!stale(entry.value, key)) continue;
    await store.delete(kind, key);
    removed++;
  }
  return removed;
}

/** Read-modify-write with compare-and-swap, retried on a lost race; the entry as written, or undefined when it is gone. */
export async function editEntry<T>(store: Store, kind: string, key: string, change: (v: T) => T, attempts = 10): Promise<T | undefined> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    const entry = await store.get<T>(kind, key);
    if (!entry) return undefined;
    const next = change(entry.value);
    if (await store.update(kind, key, next, entry.version)) return next;
  }
  throw new Error(`${kind}/${key}: too many concurrent changes`);
}

export class MemoryStore implements Store {
  private data = new Map<string, { json: string; version: number }>();
  private counter = 0;

  private id(kind: string, key: string) {
    return `${kind}/${key}`;
  }

  async create<T>(kind: string, key: string, value: T): Promise<boolean> {
    const id = this.id(kind, key);
    if (this.data.has(id)) return false;
    this.data.set(id, { json: JSON.stringify(value), version: ++this.counter });
    return true;
  }

  async get<T>(kind: string, key: string): Promise<StoreEntry<T> | undefined> {
    const hit = this.data.get(this.id(kind, key));
    return hit ? { value: JSON.parse(hit.json) as T, version: String(hit.version) } : undefined;
  }

  async update<T>(kind: string, key: string, value: T, expectedVersion: string): Promise<boolean> {
    const id = this.id(kind, key);
    const hit = this.data.get(id);
    if (!hit || String(hit.version) !== expectedVersion) return false;
    this.data.set(id, { json: JSON.stringify(value), version: ++this.counter });
    return true;
  }

  async delete(kind: string, key: string): Promise<void> {
    this.data.delete(this.id(kind, key));
  }

  async list<T>(kind: string): Promise<Array<{ key: string; entry: StoreEntry<T> }>> {
    const prefix = `${kind}/`;
    const out: Array<{ key: string; entry: StoreEntry<T> }> = [];
    for (const [id, hit] of this.data) {
      if (id.startsWith(prefix)) {
        out.push({ key: id.slice(prefix.length), entry: { value: JSON.parse(hit.json) as T, version: String(hit.version) } });
      }
    }
    return out;
  }
}
