// Kubernetes API failures, said in words an operator can act on: a 403 names the verb and
// resource the bot's ServiceAccount lacks, a 404 names the object, a timeout names the call.
import { NotFoundError, UnreachableError, UserFacingError, errorMessage } from '../core/errors.js';
import { redactText } from '../core/redact.js';

export interface KubeCall {
  verb: 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'create pods/exec' | 'get pods/log';
  /** Plural resource, with its group when not core: 'pods', 'rayclusters.ray.io'. */
  resource: string;
  namespace?: string;
  name?: string;
  cluster?: string;
}

export class KubeForbiddenError extends UserFacingError {
  override name = 'KubeForbiddenError';
}

export class KubeTimeoutError extends UnreachableError {
  override name = 'KubeTimeoutError';
}

export class KubeConflictError extends UserFacingError {
  override name = 'KubeConflictError';
}

/**
 * A 429: the API asks to come back later. An eviction a PodDisruptionBudget holds back says so
 * in its causes (reason DisruptionBudget, naming the budget); `retryAfterSeconds` is the wait
 * the server suggests, when it does.
 */
export class KubeTooManyRequestsError extends UserFacingError {
  override name = 'KubeTooManyRequestsError';
  constructor(
    message: string,
    readonly budgetCauses: string[],
    readonly retryAfterSeconds: number | undefined,
  ) {
    super(message);
  }
}

export function describeCall(call: KubeCall): string {
  const target = call.name ? `${call.resource}/${call.name}` : call.resource;
  const where = call.namespace ? ` in namespace ${call.namespace}` : '';
  const cluster = call.cluster ? ` on cluster ${call.cluster}` : '';
  return `${call.verb} ${target}${where}${cluster}`;
}

interface StatusCause {
  reason?: string;
  field?: string;
  message?: string;
}

function statusOf(err: unknown): { code?: number; message?: string; reason?: string; causes: StatusCause[]; retryAfterSeconds?: number } {
  const e = err as { code?: unknown; statusCode?: unknown; body?: unknown };
  const code = typeof e.code === 'number' ? e.code : typeof e.statusCode === 'number' ? e.statusCode : undefined;
  let body = e.body;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {
      // not JSON: keep the text
    }
  }
  const b = (body ?? {}) as { message?: unknown; reason?: unknown; details?: { causes?: unknown; retryAfterSeconds?: unknown } };
  return {
    code,
    message: typeof b.message === 'string' ? b.message : typeof body === 'string' ? body : undefined,
    reason: typeof b.reason === 'string' ? b.reason : undefined,
    causes: Array.isArray(b.details?.causes) ? (b.details.causes as StatusCause[]) : [],
    ...(typeof b.details?.retryAfterSeconds === 'number' ? { retryAfterSeconds: b.details.retryAfterSeconds } : {}),
  };
}

/** The apiserver's whole message when a JSON patch doesn't apply (a `test` op failed or a path is gone): it keeps no cause. */
const PATCH_NOT_APPLIED = 'the server rejected our request due to an error in our request';

/** A 409 in words: the name is taken, a DeleteOptions precondition failed, or a write raced another. */
function conflictError(call: KubeCall, reason: string | undefined, detail: string | undefined): Error {
  const target = `${call.resource}/${call.name ?? '?'}`;
  if (reason === 'AlreadyExists') return new KubeConflictError(`${target} already exists${call.namespace ? ` in namespace ${call.namespace}` : ''} (409 AlreadyExists); nothing was created.`);
  if (detail?.includes('Precondition failed'))
    return new KubeConflictError(`${target} is no longer the object that was checked (409 precondition failed: it was replaced or changed); nothing was ${call.verb === 'delete' ? 'deleted' : 'changed'}. Look again and retry.`);
  return new KubeConflictError(`Someone else changed ${target} at the same time (409 ${reason ?? 'Conflict'}); nothing was changed. Look again and retry.`);
}

/** A 422 in words: our JSON patch's guard failed (the object changed), or the object is invalid (which fields, why). */
function invalidError(call: KubeCall, reason: string | undefined, detail: string | undefined, causes: StatusCause[]): Error {
  if (call.verb === 'patch' && detail === PATCH_NOT_APPLIED)
    return new KubeConflictError(`The API refused to ${describeCall(call)} (422 ${reason ?? 'Invalid'}): it changed since it was read, so the patch's checks no longer hold; nothing was changed. Look again and retry.`);
  const fields = causes.filter((c) => c.message).map((c) => redactText(`${c.field ? `${c.field}: ` : ''}${c.message ?? ''}`));
  return new KubeConflictError(`The API refused to ${describeCall(call)} as invalid (422 ${reason ?? 'Invalid'})${fields.length ? `: ${fields.join('; ')}` : detail ? `: ${detail}` : ''}. Nothing was changed.`);
}

/** Turns whatever client-node threw into one of our user-facing errors. */
export function kubeError(err: unknown, call: KubeCall): Error {
  if (err instanceof UserFacingError) return err;
  const { code, message, reason, causes, retryAfterSeconds } = statusOf(err);
  const detail = message ? redactText(message) : undefined;
  switch (code) {
    case 401:
      return new UnreachableError(`The Kubernetes API rejected the bot's credentials (401) for ${describeCall(call)}. Check its kubeconfig or ServiceAccount token.`);
    case 403:
      return new KubeForbiddenError(
        `The bot's ServiceAccount may not ${call.verb} ${call.resource}${call.namespace ? ` in namespace ${call.namespace}` : ''} (403 Forbidden). Grant it in the Role${detail ? `: ${detail}` : '.'}`,
      );
    case 404:
      return new NotFoundError(`${call.resource.split('.')[0]} "${call.name ?? '?'}" not found${call.namespace ? ` in namespace ${call.namespace}` : ''}${call.cluster ? ` on cluster ${call.cluster}` : ''}.`);
    case 409:
      return conflictError(call, reason, detail);
    case 422:
      return invalidError(call, reason, detail, causes);
    case 400:
      // The request itself was malformed: our bug, not the cluster's state.
      return new UserFacingError(`The API rejected the request to ${describeCall(call)} as malformed (400 ${reason ?? 'BadRequest'})${detail ? `: ${detail}` : ''}. Nothing was changed; this is a bug in vlinders-ops, please report it.`);
    case 429: {
      const budget = causes.filter((c) => c.reason === 'DisruptionBudget' && c.message).map((c) => redactText(c.message ?? ''));
      return new KubeTooManyRequestsError(`The API refused to ${describeCall(call)} for now (429 ${reason ?? 'TooManyRequests'})${detail ? `: ${detail}` : ''}${budget.length ? ` ${budget.join('; ')}` : ''}`, budget, retryAfterSeconds);
    }
    case 413:
      return new UserFacingError(`The API refused to ${describeCall(call)}: the object is too large (413 ${reason ?? 'RequestEntityTooLarge'})${detail ? `: ${detail}` : ''}. Nothing was changed.`);
  }
  const text = redactText(errorMessage(err));
  if (code !== undefined) return new UnreachableError(`Kubernetes API error ${code} on ${describeCall(call)}${detail ? `: ${detail}` : `: ${text}`}`);
  return new UnreachableError(`The Kubernetes API is unreachable for ${describeCall(call)}: ${text}`);
}

/** Runs one API call with a deadline; a call that takes longer is reported by name. */
export async function withDeadline<T>(call: KubeCall, timeoutMs: number, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new KubeTimeoutError(`Timed out after ${Math.round(timeoutMs / 1000)} s: ${describeCall(call)}.`));
    }, timeoutMs);
  });
  try {
    return await Promise.race([work(controller.signal), deadline]);
  } catch (err) {
    throw kubeError(err, call);
  } finally {
    clearTimeout(timer);
  }
}
