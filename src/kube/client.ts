// The bot's hands on one cluster, on @kubernetes/client-node: paged lists, explicit-type
// patches, argv-only exec, streamed logs and metrics. Every call has a deadline and its
// failures come back as user-facing errors that name the call.
import { existsSync } from 'node:fs';
import { Readable, Transform, Writable } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { fetch } from 'undici';
import {
  AppsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  ApiException,
  Exec,
  HttpMethod,
  KubeConfig,
  Metrics,
  PatchStrategy,
  PolicyV1Api,
  RequestContext,
  setHeaderOptions,
  VersionApi,
  type V1Status,
  type VersionInfo,
} from '@kubernetes/client-node';
import { UsageError } from '../core/errors.js';
import { rememberKubeSecret } from '../core/redact.js';
import { describeCall, KubeTimeoutError, kubeError, withDeadline, type KubeCall } from './errors.js';
import { assertLabelName, assertObjectName } from './names.js';

export interface ClusterRef {
  name: string;
  context?: string;
  kubeconfig?: string;
}

/** In a pod with no kubeconfig given: in-cluster. Otherwise the file, then the context. */
export function loadKubeConfig(ref: ClusterRef, env: NodeJS.ProcessEnv = process.env): KubeConfig {
  const kc = new KubeConfig();
  const inCluster = !ref.kubeconfig && !env.KUBECONFIG && !!env.KUBERNETES_SERVICE_HOST && existsSync('/var/run/secrets/kubernetes.io/serviceaccount/token');
  if (inCluster) kc.loadFromCluster();
  else if (ref.kubeconfig) kc.loadFromFile(ref.kubeconfig);
  else kc.loadFromDefault();
  if (ref.context) {
    const names = kc.getContexts().map((c) => c.name);
    if (!names.includes(ref.context)) {
      throw new UsageError(`cluster ${ref.name}: kubeconfig has no context "${ref.context}" (it has: ${names.join(', ') || 'none'})`);
    }
    kc.setCurrentContext(ref.context);
  }
  return kc;
}

export interface Page<T> {
  items: T[];
  metadata?: { _continue?: string };
}

export interface ExecOptions {
  stdout?: Writable;
  stderr?: Writable;
  stdin?: Readable;
  timeoutMs: number;
  signal?: AbortSignal;
}

export const JSON_PATCH = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);
export const MERGE_PATCH = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

export class KubeClient {
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  readonly custom: CustomObjectsApi;
  readonly coordination: CoordinationV1Api;
  readonly policy: PolicyV1Api;
  private execApi: Exec;
  private metricsApi: Metrics;
  private versionApi: VersionApi;

  constructor(
    readonly name: string,
    readonly kubeConfig: KubeConfig,
    private timeoutMs = 30_000,
  ) {
    this.core = kubeConfig.makeApiClient(CoreV1Api);
    this.apps = kubeConfig.makeApiClient(AppsV1Api);
    this.custom = kubeConfig.makeApiClient(CustomObjectsApi);
    this.coordination = kubeConfig.makeApiClient(CoordinationV1Api);
    this.policy = kubeConfig.makeApiClient(PolicyV1Api);
    this.execApi = new Exec(kubeConfig);
    this.metricsApi = new Metrics(kubeConfig);
    this.versionApi = kubeConfig.makeApiClient(VersionApi);
  }

  /** One API call, with this cluster's deadline and error wording. */
  call<T>(call: KubeCall, work: () => Promise<T>): Promise<T> {
    const answer = withDeadline({ ...call, cluster: this.name }, this.timeoutMs, () => work());
    // Whatever a Secret holds is redacted from then on, wherever it would be shown or logged.
    return call.resource === 'secrets' ? answer.then((secret) => (rememberKubeSecret(secret), secret)) : answer;
  }

  /** Every item of a list, fetched a page at a time so memory stays flat however big the cluster. */
  async *list<T>(call: KubeCall, fetchPage: (page: { limit: number; _continue?: string }) => Promise<Page<T>>, pageSize = 500): AsyncGenerator<T> {
    let next: string | undefined;
    do {
      const page: Page<T> = await this.call(call, () => fetchPage({ limit: pageSize, _continue: next }));
      yield* page.items;
      next = page.metadata?._continue || undefined;
    } while (next);
  }

  /**
   * Runs argv (never a shell) in a container. Resolves with the exit code once the status
   * channel has spoken; a stream cut before that, a timeout or an abort is an error.
   */
  async exec(namespace: string, pod: string, container: string, argv: readonly string[], opts: ExecOptions): Promise<number> {
    assertLabelName(namespace, 'namespace');
    assertObjectName(pod, 'pod');
    assertLabelName(container, 'container');
    if (argv.length === 0) throw new UsageError('exec needs a command');
    const call: KubeCall = { verb: 'create pods/exec', resource: 'pods', namespace, name: pod, cluster: this.name };
    if (opts.signal?.aborted) throw new KubeTimeoutError(`Aborted before it started: ${describeCall(call)}.`);
    return new Promise<number>((resolve, reject) => {
      let settled = false;
      let socket: ExecSocket | undefined;
      // client-node moves exec data without backpressure both ways; these keep memory flat
      // when a dump or a restore streams gigabytes through a slower peer.
      const stdout = flowTo(opts.stdout, () => socket);
      const stderr = flowTo(opts.stderr, () => socket);
      const stdin = opts.stdin?.pipe(pacedBy(() => (settled ? undefined : socket)));
      const finish = (fn: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        fn();
      };
      const stop = (err: Error) =>
        finish(() => {
          (socket?.terminate ?? socket?.close)?.call(socket);
          reject(err);
        });
      const timer = setTimeout(() => stop(new KubeTimeoutError(`Timed out after ${Math.round(opts.timeoutMs / 1000)} s: ${argv[0]} in pod ${namespace}/${pod}.`)), opts.timeoutMs);
      const onAbort = () => stop(new KubeTimeoutError(`Stopped: ${argv[0]} in pod ${namespace}/${pod} was aborted.`));
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      const onStatus = (status: V1Status) =>
        finish(() => {
          try {
            resolve(exitCodeOf(status));
          } catch (err) {
            reject(err);
          }
        });
      this.execApi
        .exec(namespace, pod, container, [...argv], stdout ?? null, stderr ?? null, stdin ?? null, false, onStatus)
        .then((ws) => {
          socket = ws as unknown as ExecSocket;
          if (settled) ws.close();
          ws.on('close', () => stop(new Error(`The exec stream of ${argv[0]} in pod ${namespace}/${pod} closed before it reported an exit status.`)));
          ws.on('error', (err) => stop(kubeError(err, call)));
        })
        .catch((err: unknown) => stop(kubeError(err, call)));
    });
  }

  /**
   * A container's log as lines, streamed: never the whole log in memory. The apiserver sends
   * at most `limitBytes` (LOG_LIMIT_BYTES unless given), and a line longer than MAX_LOG_LINE
   * is cut, so a log with no newline can't grow the heap.
   */
  async *logLines(namespace: string, pod: string, container: string, opts: { sinceSeconds?: number; tailLines?: number; limitBytes?: number; signal?: AbortSignal } = {}): AsyncGenerator<string> {
    assertLabelName(namespace, 'namespace');
    assertObjectName(pod, 'pod');
    assertLabelName(container, 'container');
    const call: KubeCall = { verb: 'get pods/log', resource: 'pods', namespace, name: pod, cluster: this.name };
    // Our own GET rather than client-node's Log: stopping its download early leaves an
    // AbortError on a stream nobody listens to (an uncaught exception); here the body's
    // errors are ours to handle.
    const server = this.kubeConfig.getCurrentCluster()?.server;
    if (!server) throw new UsageError(`cluster ${this.name} has no API server in its kubeconfig`);
    const url = new URL(`${server.replace(/\/$/, '')}/api/v1/namespaces/${namespace}/pods/${pod}/log`);
    url.searchParams.set('container', container);
    if (opts.sinceSeconds !== undefined) url.searchParams.set('sinceSeconds', String(opts.sinceSeconds));
    if (opts.tailLines !== undefined) url.searchParams.set('tailLines', String(opts.tailLines));
    url.searchParams.set('limitBytes', String(opts.limitBytes ?? LOG_LIMIT_BYTES));
    const request = new RequestContext(url.toString(), HttpMethod.GET);
    await this.kubeConfig.applySecurityAuthentication(request);
    // Stopping: before the answer, abort the request; after, cancel the body (which closes the
    // connection without the AbortError an abort leaves behind on undici's side).
    const download = new AbortController();
    let body: Readable | undefined;
    const stop = () => (body ? body.destroy() : download.abort());
    opts.signal?.addEventListener('abort', stop, { once: true });
    try {
      const response = await this.call(call, async () => {
        const res = await fetch(url, { headers: request.getHeaders(), dispatcher: request.getDispatcher(), signal: download.signal });
        // A Status object (or text) in the body: the error mapping reads either.
        if (res.status !== 200 || !res.body) throw new ApiException(res.status, `HTTP ${res.status}`, await res.text().catch(() => ''), {});
        return res;
      });
      body = Readable.fromWeb(response.body as NodeReadableStream<Uint8Array>);
      let failure: Error | undefined;
      body.on('error', (err) => {
        failure = kubeError(err, call);
      });
      yield* boundedLines(body, MAX_LOG_LINE);
      if (failure) throw failure;
    } finally {
      opts.signal?.removeEventListener('abort', stop);
      stop();
    }
  }

  /** GET /version: a non-resource URL every authenticated identity may read (no RBAC rule). */
  serverVersion(): Promise<VersionInfo> {
    return this.call({ verb: 'get', resource: 'version' }, () => this.versionApi.getCode());
  }

  nodeMetrics() {
    return this.call({ verb: 'list', resource: 'nodes.metrics.k8s.io' }, () => this.metricsApi.getNodeMetrics());
  }

  podMetrics(namespace?: string) {
    return this.call({ verb: 'list', resource: 'pods.metrics.k8s.io', namespace }, () => this.metricsApi.getPodMetrics(namespace));
  }
}

/** The most of one log read the apiserver sends (its limitBytes): the newest lines of a busy day fit. */
export const LOG_LIMIT_BYTES = 32 * 1024 * 1024;
/** A longer log line is cut here, marked with how much was left out. */
export const MAX_LOG_LINE = 16 * 1024;

/**
 * Splits a byte stream into lines (\n, with a \r before it dropped) like readline, but holds at
 * most `maxLine` bytes of any line: the rest of a longer one is counted, not kept.
 */
export async function* boundedLines(input: AsyncIterable<Buffer | string>, maxLine: number): AsyncGenerator<string> {
  let kept: Buffer[] = [];
  let keptBytes = 0;
  let cut = 0;
  const finish = (): string => {
    let line = Buffer.concat(kept).toString('utf8');
    if (cut > 0) line = `${line}… (${cut} more bytes of this line left out)`;
    else if (line.endsWith('\r')) line = line.slice(0, -1);
    kept = [];
    keptBytes = 0;
    cut = 0;
    return line;
  };
  const keep = (part: Buffer) => {
    const room = maxLine - keptBytes;
    if (part.length > room) {
      if (room > 0) kept.push(part.subarray(0, room));
      keptBytes += Math.max(0, room);
      cut += part.length - Math.max(0, room);
    } else {
      kept.push(part);
      keptBytes += part.length;
    }
  };
  for await (const chunk of input) {
    let buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    for (let nl = buf.indexOf(0x0a); nl >= 0; nl = buf.indexOf(0x0a)) {
      keep(buf.subarray(0, nl));
      yield finish();
      buf = buf.subarray(nl + 1);
    }
    if (buf.length > 0) keep(buf);
  }
  if (keptBytes > 0 || cut > 0) yield finish();
}

interface ExecSocket {
  close(): void;
  terminate?(): void;
  pause?(): void;
  resume?(): void;
  bufferedAmount?: number;
}

/** Writes exec output to `target`, pausing the socket while `target` is full. Never ends `target`. */
function flowTo(target: Writable | undefined, socketOf: () => ExecSocket | undefined): Writable | undefined {
  if (!target) return undefined;
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      if (!target.write(chunk)) {
        const socket = socketOf();
        socket?.pause?.();
        target.once('drain', () => socket?.resume?.());
      }
      cb();
    },
  });
}

const STDIN_HIGH_WATER = 4 * 1024 * 1024;

/** Holds stdin back while the socket's send buffer is over the high-water mark. */
function pacedBy(socketOf: () => ExecSocket | undefined): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      const wait = () => {
        if ((socketOf()?.bufferedAmount ?? 0) > STDIN_HIGH_WATER) setTimeout(wait, 5);
        else cb(null, chunk);
      };
      wait();
    },
  });
}

/** The exit code in an exec status: Success is 0; NonZeroExitCode carries it in details.causes. */
export function exitCodeOf(status: V1Status): number {
  if (status.status === 'Success') return 0;
  const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
  if (status.reason === 'NonZeroExitCode' && cause?.message) {
    const code = Number.parseInt(cause.message, 10);
    if (Number.isFinite(code)) return code;
  }
  throw new Error(status.message ?? `exec failed: ${status.reason ?? 'unknown reason'}`);
}
