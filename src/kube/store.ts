// The bot's state in ConfigMaps of its own namespace, so every replica sees the same
// pending actions and a restart loses none. Create is create-if-absent (409 = someone
// else has it); update sends the resourceVersion it read (409 = it changed since).
import { createHash } from 'node:crypto';
import { UnreachableError } from '../core/errors.js';
import type { V1ConfigMap } from '@kubernetes/client-node';
import type { Store, StoreEntry } from '../core/store.js';
import type { KubeClient } from './client.js';
import type { KubeCall } from './errors.js';

export const MANAGED_BY = 'app.kubernetes.io/managed-by';
const KIND_LABEL = 'vlinders-ops/kind';
const KEY_ANNOTATION = 'vlinders-ops/key';

const codeOf = (err: unknown) => (err as { code?: number }).code;

export class ConfigMapStore implements Store {
  constructor(
    private client: KubeClient,
    private namespace: string,
  ) {}

  /** ConfigMap names must be DNS names; keys may not be, so the name is a hash and the key an annotation. */
  private nameOf(kind: string, key: string): string {
    const safeKind = kind.toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 30);
    return `vlinders-ops-${safeKind}-${createHash('sha256').update(`${kind}/${key}`).digest('hex').slice(0, 32)}`;
  }

  private call(verb: KubeCall['verb'], name?: string): KubeCall {
    return { verb, resource: 'configmaps', namespace: this.namespace, name, cluster: this.client.name };
  }

  /** A call with the cluster's deadline, where 404 and 409 are answers (the store's contract), not errors. */
  private raw<T>(call: KubeCall, work: () => Promise<T>): Promise<T | { status: number }> {
    return this.client.call(call, async () => {
      try {
        return await work();
      } catch (err) {
        const code = codeOf(err);
        if (code === 404 || code === 409) return { status: code };
        throw err;
      }
    });
  }

  async create<T>(kind: string, key: string, value: T): Promise<boolean> {
    const name = this.nameOf(kind, key);
    const body: V1ConfigMap = {
      metadata: { name, namespace: this.namespace, labels: { [MANAGED_BY]: 'vlinders-ops', [KIND_LABEL]: kind }, annotations: { [KEY_ANNOTATION]: key } },
      data: { value: JSON.stringify(value) },
    };
    const res = await this.raw(this.call('create', name), () => this.client.core.createNamespacedConfigMap({ namespace: this.namespace, body }));
    // 409: the key is taken (the create-if-absent answer). 404 on a create: the namespace itself is missing.
    if ('status' in res && res.status === 404) {
      throw new UnreachableError(`The bot's state namespace ${this.namespace} does not exist on cluster ${this.client.name}: create it, or set store.namespace to the bot's namespace.`);
    }
    return !('status' in res);
  }

  async get<T>(kind: string, key: string): Promise<StoreEntry<T> | undefined> {
    const name = this.nameOf(kind, key);
    const res = await this.raw(this.call('get', name), () => this.client.core.readNamespacedConfigMap({ name, namespace: this.namespace }));
    if ('status' in res) return undefined;
    return entryOf<T>(res);
  }

  async update<T>(kind: string, key: string, value: T, expectedVersion: string): Promise<boolean> {
    const name = this.nameOf(kind, key);
    const body: V1ConfigMap = {
      metadata: {
        name,
        namespace: this.namespace,
        resourceVersion: expectedVersion,
        labels: { [MANAGED_BY]: 'vlinders-ops', [KIND_LABEL]: kind },
        annotations: { [KEY_ANNOTATION]: key },
      },
      data: { value: JSON.stringify(value) },
    };
    const res = await this.raw(this.call('update', name), () => this.client.core.replaceNamespacedConfigMap({ name, namespace: this.namespace, body }));
    return !('status' in res);
  }

  async delete(kind: string, key: string): Promise<void> {
    const name = this.nameOf(kind, key);
    await this.raw(this.call('delete', name), () => this.client.core.deleteNamespacedConfigMap({ name, namespace: this.namespace }));
  }

  async list<T>(kind: string): Promise<Array<{ key: string; entry: StoreEntry<T> }>> {
    const out: Array<{ key: string; entry: StoreEntry<T> }> = [];
    const labelSelector = `${MANAGED_BY}=vlinders-ops,${KIND_LABEL}=${kind}`;
    for await (const cm of this.client.list(this.call('list'), (page) =>
      this.client.core.listNamespacedConfigMap({ namespace: this.namespace, labelSelector, ...page }),
    )) {
      const key = cm.metadata?.annotations?.[KEY_ANNOTATION];
      if (key !== undefined) out.push({ key, entry: entryOf<T>(cm) });
    }
    return out;
  }
}

function entryOf<T>(cm: V1ConfigMap): StoreEntry<T> {
  return { value: JSON.parse(cm.data?.value ?? 'null') as T, version: cm.metadata?.resourceVersion ?? '' };
}
