// pods/log: validates pod and container like the real server, then streams the world's log
// lines as text/plain (chunked; with follow=true until the source ends or the client leaves).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KubeObject, LogRequest, LogSource } from './contract.js';
import type { Route } from './rest.js';
import { badRequest, failure, notFound, unknownFailure } from './status.js';
import { type Store, materialize } from './store.js';

function intParam(q: URLSearchParams, name: string, min: number): number | undefined {
  const raw = q.get(name);
  if (raw === null || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min)
    throw failure(422, 'Invalid', `PodLogOptions "" is invalid: ${name}: Invalid value: ${raw}: must be greater than ${min === 0 ? 'or equal to 0' : min - 1}`);
  return n;
}

const names = (v: unknown): string[] => (Array.isArray(v) ? v.map((c) => String((c as { name?: unknown }).name)) : []);

/** The container a log or exec request means: the named one, or the pod's only one. */
export function resolveContainer(store: Store, route: Route, requested: string | null): { container: string; pod: ReturnType<typeof materialize> } {
  const name = route.name as string;
  const e = store.entry('v1/Pod', route.namespace ?? '', name);
  if (!e) throw notFound('pods', '', name);
  const pod = materialize(e);
  const spec = (pod.spec ?? {}) as Record<string, unknown>;
  const containers = names(spec.containers);
  const init = names(spec.initContainers);
  const ephemeral = names(spec.ephemeralContainers);
  let container = requested ?? '';
  if (!container) {
    const dflt = pod.metadata.annotations?.['kubectl.kubernetes.io/default-container'];
    if (containers.length === 1) container = containers[0] as string;
    else if (dflt && containers.includes(dflt)) container = dflt;
    else
      throw badRequest(
        `a container name must be specified for pod ${name}, choose one of: [${containers.join(' ')}]` +
          (init.length ? ` or one of the init containers: [${init.join(' ')}]` : ''),
      );
  }
  if (![...containers, ...init, ...ephemeral].includes(container)) throw badRequest(`container ${container} is not valid for pod ${name}`);
  return { container, pod };
}

type Obj = Record<string, unknown>;

function containerStatus(pod: KubeObject, container: string): Obj | undefined {
  const st = (pod.status ?? {}) as Obj;
  for (const key of ['containerStatuses', 'initContainerStatuses', 'ephemeralContainerStatuses']) {
    const list = Array.isArray(st[key]) ? (st[key] as Obj[]) : [];
    const found = list.find((c) => c.name === container);
    if (found) return found;
  }
  return undefined;
}

const stateOf = (s: Obj | undefined, which: 'state' | 'lastState'): Obj => ((s?.[which] ?? {}) as Obj);

/**
 * The apiserver reaches the pod's kubelet (port 10250 at the node's InternalIP) for its logs. A
 * node whose Ready condition is not True is taken as unreachable (Unknown: its kubelet stopped
 * posting status): the dial fails and the error comes back as a plain 500, worded as Go's HTTP
 * client words it, e.g. `Get "https://10.0.0.3:10250/containerLogs/ns/pod/c?follow=true": dial tcp
 * 10.0.0.3:10250: i/o timeout` (kubernetes/kubernetes#76987, #102139). A Ready=False kubelet
 * may still answer; failing there too is the stricter choice.
 */
function checkKubelet(store: Store, pod: KubeObject, container: string, q: URLSearchParams): void {
  const nodeName = String((pod.spec as Obj | undefined)?.nodeName ?? '');
  const e = store.entry('v1/Node', '', nodeName);
  // The kubelet's address comes from the Node object (GetConnectionInfo): no Node, no address.
  if (!e) throw notFound('nodes', '', nodeName);
  const status = (materialize(e).status ?? {}) as { conditions?: Obj[]; addresses?: Obj[] };
  if (status.conditions?.find((c) => c.type === 'Ready')?.status === 'True') return;
  const ip = String(status.addresses?.find((a) => a.type === 'InternalIP')?.address ?? nodeName);
  const params = new URLSearchParams([...q].filter(([k]) => ['follow', 'limitBytes', 'previous', 'sinceSeconds', 'sinceTime', 'tailLines', 'timestamps'].includes(k)).sort(([a], [b]) => a.localeCompare(b)));
  const url = `https://${ip}:10250/containerLogs/${pod.metadata.namespace ?? ''}/${pod.metadata.name}/${container}${params.size ? `?${params}` : ''}`;
  throw unknownFailure(`Get "${url}": dial tcp ${ip}:10250: i/o timeout`);
}

/**
 * What the kubelet says about a container's logs (validateContainerLogStatus in
 * pkg/kubelet/kubelet_pods.go, answered as 400): unscheduled pods have none (empty 200); a
 * container with no status yet is "not available"; one still waiting has none yet.
 */
function checkLogState(pod: KubeObject, container: string, previous: boolean): void {
  const name = pod.metadata.name;
  const st = containerStatus(pod, container);
  if (!st) throw badRequest(`container "${container}" in pod "${name}" is not available`);
  const lastTerminated = stateOf(st, 'lastState').terminated;
  if (previous) {
    if (!lastTerminated) throw badRequest(`previous terminated container "${container}" in pod "${name}" not found`);
    return;
  }
  const waiting = stateOf(st, 'state').waiting as Obj | undefined;
  if (waiting && !lastTerminated) throw badRequest(`container "${container}" in pod "${name}" is waiting to start: ${String(waiting.reason ?? '')}`);
}

/** The kubelet refuses exec into unscheduled pods and containers that aren't running. */
export function checkExecState(pod: KubeObject, container: string): void {
  if (!(pod.spec as Obj | undefined)?.nodeName) throw badRequest(`pod ${pod.metadata.name} does not have a host assigned`);
  const st = containerStatus(pod, container);
  const phase = (pod.status as Obj | undefined)?.phase;
  const running = st ? !!stateOf(st, 'state').running : phase !== 'Pending' && phase !== 'Succeeded' && phase !== 'Failed';
  if (!running) throw failure(500, 'InternalError', `container not found ("${container}")`);
}

export async function serveLogs(store: Store, logs: LogSource | undefined, _req: IncomingMessage, res: ServerResponse, route: Route, q: URLSearchParams): Promise<void> {
  const { container, pod } = resolveContainer(store, route, q.get('container'));
  const previous = q.get('previous') === 'true' || q.get('previous') === '1';
  const empty = !(pod.spec as Obj | undefined)?.nodeName;
  if (!empty) {
    checkKubelet(store, pod, container, q);
    checkLogState(pod, container, previous);
  }
  const timestamps = q.get('timestamps') === 'true' || q.get('timestamps') === '1';
  const sinceSeconds = intParam(q, 'sinceSeconds', 1);
  const tailLines = intParam(q, 'tailLines', 0);
  const limitBytes = intParam(q, 'limitBytes', 1);
  const follow = q.get('follow') === 'true' || q.get('follow') === '1';
  // `previous` is not in the contract's LogRequest: passed along for sources that look for it.
  const request: LogRequest & { previous?: boolean } = {
    namespace: route.namespace as string,
    pod: route.name as string,
    container,
    ...(sinceSeconds !== undefined ? { sinceSeconds } : {}),
    ...(tailLines !== undefined ? { tailLines } : {}),
    ...(follow ? { follow } : {}),
    ...(previous ? { previous } : {}),
  };
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache, private' });
  res.flushHeaders();
  if (!logs || empty) return void res.end();

  let budget = limitBytes ?? Infinity;
  const write = (line: string): boolean => {
    if (res.destroyed || budget <= 0) return false;
    // Lines carry no time of their own: --timestamps stamps them as they are sent (RFC 3339, ns).
    let buf = Buffer.from(timestamps ? `${new Date().toISOString().replace('Z', '000000Z')} ${line}\n` : `${line}\n`);
    if (buf.length > budget) buf = buf.subarray(0, budget);
    budget -= buf.length;
    if (!res.write(buf)) drained = false;
    return budget > 0;
  };
  // A kubelet streams at the reader's pace: past the socket's buffer, wait for 'drain'.
  let drained = true;
  const drain = () =>
    drained
      ? undefined
      : new Promise<void>((ok) => {
          const done = () => {
            drained = true;
            res.off('drain', done);
            res.off('close', done);
            ok();
          };
          res.once('drain', done);
          res.once('close', done);
        });
  const source = logs(request);
  if (!follow && tailLines !== undefined) {
    // Without follow we can honour tailLines ourselves, whether or not the source did.
    const kept: string[] = [];
    for await (const line of source) {
      kept.push(line);
      if (kept.length > tailLines) kept.shift();
    }
    for (const line of kept) if (!write(line)) break;
    return void res.end();
  }
  // The response's 'close' before we end it means the client went away.
  const closed = new Promise<'closed'>((ok) => res.once('close', () => ok('closed')));
  const it: AsyncIterator<string> | Iterator<string> =
    Symbol.asyncIterator in source ? (source as AsyncIterable<string>)[Symbol.asyncIterator]() : (source as Iterable<string>)[Symbol.iterator]();
  try {
    for (;;) {
      const next = await Promise.race([it.next(), closed]);
      if (next === 'closed' || next.done) break;
      if (!write(next.value)) break;
      await drain();
    }
  } finally {
    void Promise.resolve(it.return?.()).catch(() => {});
    if (!res.writableEnded) res.end();
  }
}
