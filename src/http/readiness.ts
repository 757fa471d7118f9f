// Readiness: is this replica fit to take work? Slack connected and the cluster reachable.
// Each check is cheap to call often: the kubelet probes every few seconds on every replica,
// so results are cached and concurrent probes share one call.
import { Observable, VersionApi, type RequestContext, type ResponseContext } from '@kubernetes/client-node';
import { errorMessage } from '../core/errors.js';
import { redactText } from '../core/redact.js';
import type { KubeClient } from '../kube/client.js';

export interface CheckResult {
  ok: boolean;
  detail?: string;
}

export type Check = () => CheckResult | Promise<CheckResult>;

export interface Readiness {
  ready: boolean;
  checks: Record<string, CheckResult>;
}

export interface ReadinessOptions {
  /** A check that takes longer counts as failed (default 3 s, inside a typical probe timeout). */
  timeoutMs?: number;
}

/** Runs every check at once; ready when all pass. A check that throws or hangs fails, it doesn't break the probe. */
export function readinessOf(checks: Record<string, Check>, opts: ReadinessOptions = {}): () => Promise<Readiness> {
  const timeoutMs = opts.timeoutMs ?? 3_000;
  return async () => {
    const entries = await Promise.all(
      Object.entries(checks).map(async ([name, check]): Promise<[string, CheckResult]> => {
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<CheckResult>((resolve) => {
          timer = setTimeout(() => resolve({ ok: false, detail: `no answer within ${timeoutMs} ms` }), timeoutMs);
        });
        try {
          const result = await Promise.race([Promise.resolve().then(check), late]);
          return [name, result];
        } catch (err) {
          return [name, { ok: false, detail: redactText(errorMessage(err)) }];
        } finally {
          clearTimeout(timer);
        }
      }),
    );
    const results = Object.fromEntries(entries);
    return { ready: entries.every(([, r]) => r.ok), checks: results };
  };
}

/**
 * A check whose answer is kept for `ttlMs`; probes that arrive while one is running wait for
 * it instead of starting another.
 */
export function cached(check: () => Promise<CheckResult>, ttlMs: number, now: () => number = Date.now): Check {
  let last: { at: number; result: CheckResult } | undefined;
  let running: Promise<CheckResult> | undefined;
  return () => {
    if (last && now() - last.at < ttlMs) return last.result;
    running ??= check()
      .catch((err: unknown): CheckResult => ({ ok: false, detail: redactText(errorMessage(err)) }))
      .then((result) => {
        last = { at: now(), result };
        running = undefined;
        return result;
      });
    return running;
  };
}

export interface ClusterReachableOptions {
  /** Deadline of one /version call (default 2 s). */
  timeoutMs?: number;
  /** How long an answer is reused (default 5 s). */
  cacheMs?: number;
  now?: () => number;
}

/** Why a request failed, in a few words: `fetch failed` alone hides the cause. */
function describeFailure(err: unknown): string {
  const code = (err as { code?: unknown; cause?: { code?: unknown } }).cause?.code ?? (err as { code?: unknown }).code;
  const message = errorMessage(err);
  return redactText(typeof code === 'string' && !message.includes(code) ? `${message} (${code})` : message);
}

/**
 * GET /version on the cluster, the cheapest call there is: no objects, no RBAC rule to grant
 * (system:public-info-viewer covers it). The request is aborted at the deadline, so a hung
 * apiserver doesn't leave probes piling up behind it.
 */
export function clusterReachable(kube: KubeClient | (() => KubeClient), opts: ClusterReachableOptions = {}): Check {
  if (typeof kube !== 'function') return versionCheck(kube, opts);
  // Given a factory (ServiceDirectory's kube()), a kubeconfig that fails to load makes the
  // check fail with its reason instead of stopping the process; it is tried again next probe.
  let check: Check | undefined;
  return () => (check ??= versionCheck(kube(), opts))();
}

function versionCheck(kube: KubeClient, opts: ClusterReachableOptions): Check {
  const timeoutMs = opts.timeoutMs ?? 2_000;
  const version = kube.kubeConfig.makeApiClient(VersionApi);
  const probe = async (): Promise<CheckResult> => {
    const deadline = AbortSignal.timeout(timeoutMs);
    // client-node takes an AbortSignal only through a request middleware.
    const withDeadline = {
      pre: (ctx: RequestContext) => {
        ctx.setSignal(deadline);
        return new Observable(Promise.resolve(ctx));
      },
      post: (res: ResponseContext) => new Observable(Promise.resolve(res)),
    };
    const started = Date.now();
    try {
      const info = await version.getCode({}, { middleware: [withDeadline], middlewareMergeStrategy: 'append' });
      return { ok: true, detail: `${kube.name}: ${info.gitVersion} (${Date.now() - started} ms)` };
    } catch (err) {
      if (deadline.aborted) return { ok: false, detail: `${kube.name}: no answer from the Kubernetes API within ${timeoutMs} ms` };
      return { ok: false, detail: `${kube.name}: ${describeFailure(err)}` };
    }
  };
  return cached(probe, opts.cacheMs ?? 5_000, opts.now);
}

/** What a Socket Mode client looks like from here: @slack/socket-mode's SocketModeClient fits. */
export interface SocketModeClientLike {
  on(event: string, listener: () => void): unknown;
  websocket?: { isActive(): boolean };
}

// The SocketModeClient's own state events (it has no public state getter): `connected` comes
// after Slack's hello; the others mean the socket is gone or not yet usable.
const SOCKET_STATES = ['connecting', 'authenticated', 'connected', 'reconnecting', 'disconnecting', 'disconnected', 'close'] as const;

/**
 * Socket Mode is up when the client has had Slack's hello and its WebSocket is open. Wire it
 * before the app starts so it sees the first `connected`; wired later, it trusts an open socket.
 */
export function socketModeConnected(client: SocketModeClientLike): Check {
  let state: (typeof SOCKET_STATES)[number] | undefined;
  for (const s of SOCKET_STATES) client.on(s, () => (state = s));
  return () => {
    const open = client.websocket?.isActive() === true;
    if (open && (state === 'connected' || state === undefined)) return { ok: true, detail: 'Socket Mode connected' };
    const where = state === 'close' ? 'socket closed; reconnecting' : (state ?? 'not started');
    return { ok: false, detail: `Socket Mode ${where}` };
  };
}

/** What auth.test needs: a WebClient (Bolt's app.client) fits. */
export interface AuthTestClient {
  auth: { test(): Promise<{ ok?: boolean; team?: string; user?: string; error?: string }> };
}

export interface SlackAuthOptions {
  /** After a failure, the next probe tries again once this long has passed (default 30 s). */
  retryMs?: number;
  now?: () => number;
}

/**
 * HTTP mode has no connection to watch: Slack calls us. Ready once auth.test has succeeded
 * with the bot token (checked on the first probe, then remembered; a failure is retried).
 */
export function slackAuthVerified(client: AuthTestClient, opts: SlackAuthOptions = {}): Check {
  let verified: CheckResult | undefined;
  const attempt = cached(
    async () => {
      try {
        const r = await client.auth.test();
        if (r.ok === false) return { ok: false, detail: `auth.test failed: ${r.error ?? 'unknown error'}` };
        return { ok: true, detail: `authenticated as ${r.user ?? '?'} in ${r.team ?? '?'}` };
      } catch (err) {
        return { ok: false, detail: `auth.test failed: ${describeFailure(err)}` };
      }
    },
    opts.retryMs ?? 30_000,
    opts.now,
  );
  return async () => {
    if (verified) return verified;
    const result = await attempt();
    if (result.ok) verified = result;
    return result;
  };
}
