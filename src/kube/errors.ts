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

export function describeCall(call: KubeCall): string {
  const target = call.name ? `${call.resource}/${call.name}` : call.resource;
  const where = call.namespace ? ` in namespace ${call.namespace}` : '';
  const cluster = call.cluster ? ` on cluster ${call.cluster}` : '';
  return `${call.verb} ${target}${where}${cluster}`;
}

function statusOf(err: unknown): { code?: number; message?: string; reason?: string } {
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
  const b = (body ?? {}) as { message?: unknown; reason?: unknown };
  return {
    code,
    message: typeof b.message === 'string' ? b.message : typeof body === 'string' ? body : undefined,
    reason: typeof b.reason === 'string' ? b.reason : undefined,
  };
}

/** Turns whatever client-node threw into one of our user-facing errors. */
export function kubeError(err: unknown, call: KubeCall): Error {
  if (err instanceof UserFacingError) return err;
  const { code, message, reason } = statusOf(err);
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
      return new KubeConflictError(`Someone else changed ${call.resource}/${call.name ?? '?'} at the same time (409 ${reason ?? 'Conflict'}); nothing was changed. Look again and retry.`);
    case 422:
      return new KubeConflictError(`The API refused to ${describeCall(call)} (422 ${reason ?? 'Invalid'})${detail ? `: ${detail}` : ''}.`);
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
