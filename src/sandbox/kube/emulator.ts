// KubeApiEmulator: a kube-apiserver over HTTPS with a bearer token, serving discovery, the
// resource REST API, watch, pods/log, pods/exec (WebSocket) and metrics.k8s.io from one
// in-memory store that the simulated world shares through ClusterState.
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { type IncomingMessage, type Server, type ServerResponse, createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { stringify } from 'yaml';
import type { ClusterState, KubeObject, WatchEvent, WorldHooks } from './contract.js';
import { type CallCheckOptions, type ExpectedCall, type RecordedRequest, callOf, callProblems, requestVerb } from './calls.js';
import { handleExecUpgrade, pickProtocol, rejectUpgrade } from './exec.js';
import { Pager } from './list.js';
import { DISCOVERY_V2, aggregatedDiscovery, apiGroup, apiGroupList, apiResourceList, apiVersions } from './resources.js';
import { type Route, Rest, parseRoute } from './rest.js';
import { sendError, sendJson } from './respond.js';
import { ApiError, badRequest, failure, resourceNotFound, unauthorized } from './status.js';
import { Store } from './store.js';
import { servingCert } from './tls.js';

export interface EmulatorOptions {
  /** HTTPS with a bearer token (default). Over plain http kubectl sends no token, so any is accepted. */
  tls?: boolean;
  token?: string;
  hooks?: WorldHooks;
}

export interface KubeconfigOptions {
  context?: string;
  namespace?: string;
}

/** An error answer; 'hang': never answered; 'reset': the connection is dropped (the client sees ECONNRESET). */
export type Fault = { status: number; reason?: string; message?: string } | 'hang' | 'reset';


interface PendingFault {
  method?: string;
  path: RegExp;
  fault: Fault;
  remaining: number;
}

interface PendingHook {
  method?: string;
  path: RegExp;
  run: () => void | Promise<void>;
}

const VERSION = {
  major: '1',
  minor: '34',
  emulationMajor: '1',
  emulationMinor: '34',
  minCompatibilityMajor: '1',
  minCompatibilityMinor: '33',
  gitVersion: 'v1.34.2',
  gitCommit: '8cc511e399b929453cd98ae65b419c3cc227ec79',
  gitTreeState: 'clean',
  buildDate: '2025-11-11T19:04:04Z',
  goVersion: 'go1.24.9',
  compiler: 'gc',
  platform: 'linux/amd64',
};
const SERVICE_ACCOUNT = 'system:serviceaccount:vlinders-ops:vlinders-ops';
const REASONS: Record<number, string> = { 400: 'BadRequest', 401: 'Unauthorized', 403: 'Forbidden', 404: 'NotFound', 409: 'Conflict', 410: 'Expired', 422: 'Invalid', 429: 'TooManyRequests', 500: 'InternalError', 503: 'ServiceUnavailable', 504: 'Timeout' };

export class KubeApiEmulator implements ClusterState {
  readonly requests: RecordedRequest[] = [];
  private readonly store = new Store();
  private readonly pager = new Pager();
  private readonly faults: PendingFault[] = [];
  private readonly hooksBefore: PendingHook[] = [];
  private readonly streams = new Set<() => void>();
  private readonly hung = new Set<Socket | Duplex>();
  /** Every TCP connection: close() ends them all, idle keep-alive ones that closeAllConnections misses too. */
  private readonly sockets = new Set<Socket>();
  private readonly wss = new WebSocketServer({ noServer: true, handleProtocols: pickProtocol, perMessageDeflate: false });
  private readonly rest: Rest;
  private hooks: WorldHooks;

  private constructor(
    private readonly server: Server,
    readonly url: string,
    readonly token: string,
    private readonly tls: boolean,
    hooks: WorldHooks,
    readonly caPem?: string,
  ) {
    this.hooks = hooks;
    const track = (end: () => void): (() => void) => {
      this.streams.add(end);
      return () => this.streams.delete(end);
    };
    this.rest = new Rest(this.store, this.pager, () => this.hooks, track);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => void this.onRequest(req, res));
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head));
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
  }

  static async start(opts: EmulatorOptions = {}): Promise<KubeApiEmulator> {
    const tls = opts.tls ?? true;
    const cert = tls ? await servingCert() : undefined;
    const server = cert ? createHttpsServer({ cert: cert.cert, key: cert.key }) : createHttpServer();
    server.keepAliveTimeout = 30_000;
    await new Promise<void>((ok, fail) => {
      server.once('error', fail);
      server.listen(0, '127.0.0.1', () => ok());
    });
    const { port } = server.address() as AddressInfo;
    const token = opts.token ?? randomBytes(16).toString('hex');
    return new KubeApiEmulator(server, `${tls ? 'https' : 'http'}://127.0.0.1:${port}`, token, tls, opts.hooks ?? {}, cert?.cert);
  }

  setHooks(hooks: WorldHooks): void {
    this.hooks = hooks;
  }

  /** The next `times` requests matching method and path get this fault instead of an answer. */
  failNext(match: { method?: string; path: RegExp }, fault: Fault, times = 1): void {
    this.faults.push({ ...(match.method ? { method: match.method.toUpperCase() } : {}), path: match.path, fault, remaining: times });
  }

  /**
   * Runs `run` just before the next request matching method and path is served: a concurrent
   * write that lands exactly between what a client read and what it sends next.
   */
  beforeNext(match: { method?: string; path: RegExp }, run: () => void | Promise<void>): void {
    this.hooksBefore.push({ ...(match.method ? { method: match.method.toUpperCase() } : {}), path: match.path, run });
  }

  /** A mark in the request log: calls(mark) and expectCalls({ since: mark }) look only after it. */
  mark(): number {
    return this.requests.length;
  }

  /** The calls made since a mark, as `verb path`. */
  calls(since = 0): string[] {
    return this.requests.slice(since).map(callOf);
  }

  /**
   * Asserts the calls since `since` are exactly the expected ones: throws naming every missing,
   * miscounted and unexpected call. `ignore` lists calls nobody asserts on (discovery, polling).
   */
  expectCalls(expected: ReadonlyArray<string | RegExp | ExpectedCall>, opts: CallCheckOptions & { since?: number } = {}): void {
    const problems = callProblems(this.calls(opts.since), expected, opts);
    if (problems.length) throw new Error(`kube calls differ from what the test expects:\n  ${problems.join('\n  ')}\nmade:\n  ${this.calls(opts.since).join('\n  ') || '(none)'}`);
  }

  kubeconfig(opts: KubeconfigOptions = {}): string {
    const name = opts.context ?? 'vlinders-emulator';
    const cluster: Record<string, unknown> = { server: this.url };
    if (this.caPem) cluster['certificate-authority-data'] = Buffer.from(this.caPem).toString('base64');
    else cluster['insecure-skip-tls-verify'] = true;
    return stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name, cluster }],
      users: [{ name, user: { token: this.token } }],
      contexts: [{ name, context: { cluster: name, user: name, ...(opts.namespace ? { namespace: opts.namespace } : {}) } }],
      'current-context': name,
      preferences: {},
    });
  }

  async writeKubeconfig(path: string, opts?: KubeconfigOptions): Promise<void> {
    await writeFile(path, this.kubeconfig(opts), { mode: 0o600 });
  }

  // --- ClusterState ---------------------------------------------------------------------------

  create(obj: KubeObject): KubeObject {
    return this.store.create(obj);
  }
  get(apiVersion: string, kind: string, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.store.get(apiVersion, kind, namespace, name);
  }
  list(apiVersion: string, kind: string, namespace?: string): KubeObject[] {
    return this.store.list(apiVersion, kind, namespace);
  }
  replace(obj: KubeObject): KubeObject {
    return this.store.replace(obj);
  }
  remove(apiVersion: string, kind: string, namespace: string | undefined, name: string): void {
    this.store.remove(apiVersion, kind, namespace, name);
  }
  terminate(apiVersion: string, kind: string, namespace: string | undefined, name: string): void {
    this.store.terminate(apiVersion, kind, namespace, name);
  }
  watch(listener: (event: WatchEvent) => void): () => void {
    return this.store.watch(listener);
  }

  async close(): Promise<void> {
    this.store.close();
    for (const end of [...this.streams]) end();
    for (const ws of this.wss.clients) ws.terminate();
    for (const s of this.hung) s.destroy();
    this.wss.close();
    await new Promise<void>((ok) => {
      this.server.close(() => ok());
      this.server.closeAllConnections();
      // A TLS connection a client opened but never sent a request on is not among the server's
      // connections: without this, close() waited out its 30 s keep-alive.
      for (const socket of this.sockets) socket.destroy();
    });
  }

  // --- HTTP -------------------------------------------------------------------------------------

  private authorized(req: IncomingMessage): boolean {
    return !this.tls || req.headers.authorization === `Bearer ${this.token}`;
  }

  /** A pending fault for this request, consumed. */
  private takeFault(method: string, path: string): Fault | undefined {
    const i = this.faults.findIndex((f) => (!f.method || f.method === method) && f.path.test(path));
    if (i < 0) return undefined;
    const f = this.faults[i] as PendingFault;
    if (--f.remaining <= 0) this.faults.splice(i, 1);
    return f.fault;
  }

  private faultError(fault: Exclude<Fault, 'hang' | 'reset'>, method: string, path: string, query: URLSearchParams): ApiError {
    const reason = fault.reason ?? REASONS[fault.status] ?? 'Unknown';
    if (fault.message) return failure(fault.status, reason, fault.message);
    let route: Route | undefined;
    try {
      route = parseRoute(path);
    } catch {
      route = undefined;
    }
    if (fault.status === 403 && route) return forbidden(route, method, query);
    return failure(fault.status, reason, `the server responded with the status code ${fault.status}`);
  }

  /** The verb a request would be authorized as (non-resource paths are gets). */
  private verbOf(method: string, path: string, q: URLSearchParams): string {
    let route: Route | undefined;
    try {
      route = parseRoute(path);
    } catch {
      route = undefined;
    }
    return requestVerb(method, !route || route.name !== undefined, q);
  }

  private async runHooksBefore(method: string, path: string): Promise<void> {
    const i = this.hooksBefore.findIndex((h) => (!h.method || h.method === method) && h.path.test(path));
    if (i < 0) return;
    const [hook] = this.hooksBefore.splice(i, 1);
    await hook?.run();
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://emulator');
    const method = req.method ?? 'GET';
    const record: RecordedRequest = { method, path: url.pathname, query: url.search.replace(/^\?/, ''), status: 0, verb: this.verbOf(method, url.pathname, url.searchParams) };
    this.requests.push(record);
    res.on('finish', () => (record.status = res.statusCode));
    // Streams (watch, follow) the client abandons never 'finish': keep the status they got.
    res.on('close', () => (record.status ||= res.headersSent ? res.statusCode : 0));
    try {
      if (!this.authorized(req)) throw unauthorized();
      const fault = this.takeFault(method, url.pathname);
      if (fault === 'hang') {
        this.hung.add(req.socket);
        return;
      }
      if (fault === 'reset') {
        req.socket.destroy();
        return;
      }
      if (fault) throw this.faultError(fault, method, url.pathname, url.searchParams);
      await this.runHooksBefore(method, url.pathname);
      if (this.discovery(req, res, url.pathname)) return;
      const route = parseRoute(url.pathname);
      if (!route) throw resourceNotFound();
      await this.rest.handle(req, res, route, url.searchParams);
    } catch (err) {
      sendError(res, err);
    }
  }

  private discovery(req: IncomingMessage, res: ServerResponse, path: string): boolean {
    if (req.method !== 'GET') return false;
    const aggregated = (req.headers.accept ?? '').includes('as=APIGroupDiscoveryList');
    const p = path.replace(/\/+$/, '') || '/';
    let body: object | undefined;
    if (p === '/version') body = { ...VERSION, ...this.hooks.version };
    else if (p === '/healthz' || p === '/livez' || p === '/readyz') {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' }).end('ok');
      return true;
    } else if ((p === '/api' || p === '/apis') && aggregated) {
      sendJson(res, 200, aggregatedDiscovery(p === '/api'), DISCOVERY_V2);
      return true;
    } else if (p === '/api') body = apiVersions();
    else if (p === '/apis') body = apiGroupList();
    else if (p === '/api/v1') body = apiResourceList('', 'v1');
    else if (/^\/apis\/[^/]+$/.test(p)) body = apiGroup(p.slice(6)) ?? undefined;
    else if (/^\/apis\/[^/]+\/[^/]+$/.test(p)) {
      const [, , group, version] = p.split('/');
      body = apiResourceList(group as string, version as string);
    } else return false;
    if (!body) throw resourceNotFound();
    sendJson(res, 200, body);
    return true;
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://emulator');
    const method = req.method ?? 'GET';
    // An exec upgrade is authorized as `create pods/exec`.
    const record: RecordedRequest = { method, path: url.pathname, query: url.search.replace(/^\?/, ''), status: 101, verb: 'create' };
    this.requests.push(record);
    socket.on('error', () => {});
    const reject = (err: unknown): void => {
      record.status = err instanceof ApiError ? err.code : 500;
      rejectUpgrade(socket, err);
    };
    try {
      if (!this.authorized(req)) return reject(unauthorized());
      const fault = this.takeFault(method, url.pathname);
      if (fault === 'hang') {
        record.status = 0;
        this.hung.add(socket);
        return;
      }
      if (fault === 'reset') {
        record.status = 0;
        socket.destroy();
        return;
      }
      if (fault) return reject(this.faultError(fault, method, url.pathname, url.searchParams));
      const route = parseRoute(url.pathname);
      if (!route || route.sub !== 'exec') return reject(badRequest('only pods/exec can be upgraded'));
      if (!this.store.entry('v1/Pod', route.namespace ?? '', route.name ?? '')) record.status = 404;
      handleExecUpgrade({ store: this.store, hooks: () => this.hooks, wss: this.wss }, req, socket, head, route, url.searchParams);
    } catch (err) {
      reject(err);
    }
  }
}

/** The RBAC denial a real server sends, naming the user, verb and resource. */
function forbidden(route: Route, method: string, q: URLSearchParams): ApiError {
  const { type, namespace, name, sub } = route;
  const verb = requestVerb(method, name !== undefined, q);
  const resource = sub ? `${type.resource}/${sub}` : type.resource;
  const qualified = type.group ? `${type.resource}.${type.group}` : type.resource;
  const subject = name ? `${qualified} "${name}"` : qualified;
  const scope = namespace ? `in the namespace "${namespace}"` : 'at the cluster scope';
  const message = `${subject} is forbidden: User "${SERVICE_ACCOUNT}" cannot ${verb} resource "${resource}" in API group "${type.group}" ${scope}`;
  return failure(403, 'Forbidden', message, { ...(name ? { name } : {}), ...(type.group ? { group: type.group } : {}), kind: type.resource });
}
