// The contract between the kube-apiserver emulator (server side: REST, watch, exec, logs,
// metrics) and the simulated world that lives in it (seeded objects, the KubeRay and Job
// controllers, per-pod exec handlers). Test-only code: never imported by the product.
import type { Readable, Writable } from 'node:stream';

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  finalizers?: string[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: Array<{ apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }>;
  [key: string]: unknown;
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec?: Record<string, unknown> & object;
  status?: Record<string, unknown> & object;
  [key: string]: unknown;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface WatchEvent {
  type: WatchEventType;
  object: KubeObject;
}

/**
 * The emulator's object store, as the world sees it. Objects are identified by
 * apiVersion + kind (e.g. 'v1' 'Pod', 'ray.io/v1' 'RayCluster'), namespace and name.
 * Every write bumps one global resourceVersion and notifies watchers, exactly as writes
 * through the REST API do.
 */
export interface ClusterState {
  /** Assigns uid, resourceVersion, creationTimestamp (and generation); throws if it exists. */
  create(obj: KubeObject): KubeObject;
  get(apiVersion: string, kind: string, namespace: string | undefined, name: string): KubeObject | undefined;
  list(apiVersion: string, kind: string, namespace?: string): KubeObject[];
  /** Replaces the whole object (bumps resourceVersion; generation when spec changes). */
  replace(obj: KubeObject): KubeObject;
  remove(apiVersion: string, kind: string, namespace: string | undefined, name: string): void;
  /**
   * A DELETE as a controller sends it (no options): a scheduled pod starts terminating for its
   * spec.terminationGracePeriodSeconds (the kubelet ends it sooner if its containers stop), as
   * the Job controller terminates a failed Job's pods.
   */
  terminate(apiVersion: string, kind: string, namespace: string | undefined, name: string): void;
  /** Every change from now on; returns an unsubscribe function. */
  watch(listener: (event: WatchEvent) => void): () => void;
}

export interface ExecRequest {
  namespace: string;
  pod: string;
  container: string;
  command: string[];
  stdin?: Readable;
  stdout: Writable;
  stderr: Writable;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
  /** Drops the connection with no exit status (a fault a test injects: the stream is cut). */
  cut?(): void;
}

/** Runs a command "in" a pod; resolves to its exit code. Undefined: no handler for it (exit 127). */
export type ExecHandler = (req: ExecRequest) => Promise<number> | undefined;

export interface LogRequest {
  namespace: string;
  pod: string;
  container: string;
  sinceSeconds?: number;
  tailLines?: number;
  follow?: boolean;
}

/** Log lines of a container (without trailing newlines), oldest first. */
export type LogSource = (req: LogRequest) => AsyncIterable<string> | Iterable<string>;

export interface NodeUsage {
  cpu: string; // e.g. '2500m'
  memory: string; // e.g. '12Gi'
}

/** Usage for metrics.k8s.io: nodes by name, and pods by namespace/name per container. */
export interface MetricsSource {
  node(name: string): NodeUsage | undefined;
  pod(namespace: string, name: string): Array<{ name: string } & NodeUsage> | undefined;
}

/** What the world registers with the emulator. */
export interface WorldHooks {
  exec?: ExecHandler;
  logs?: LogSource;
  metrics?: MetricsSource;
  /** What GET /version reports instead of the default (an older cluster). */
  version?: { major: string; minor: string; gitVersion: string };
}
