// meta/v1 Status objects, shaped and worded like the real kube-apiserver's (k8s.io/apimachinery
// errors), so clients' error handling sees exactly what a cluster would send.

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: Array<{ reason?: string; message?: string; field?: string }>;
  retryAfterSeconds?: number;
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

/** An API error carrying the Status the server answers with. */
export class ApiError extends Error {
  constructor(readonly status: Status) {
    super(status.message);
    this.name = 'ApiError';
  }
  get code(): number {
    return this.status.code;
  }
}

export function failure(code: number, reason: string, message: string, details?: StatusDetails): ApiError {
  // Key order as the real server writes it: ..., reason, details, code.
  const status: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code };
  return new ApiError(status);
}

/** `pods`, `deployments.apps`, `rayclusters.ray.io`: how messages name a resource. */
export function qualified(resource: string, group: string): string {
  return group ? `${resource}.${group}` : resource;
}

function details(resource: string, group: string, name: string): StatusDetails {
  return group ? { name, group, kind: resource } : { name, kind: resource };
}

export const notFound = (resource: string, group: string, name: string): ApiError =>
  failure(404, 'NotFound', `${qualified(resource, group)} "${name}" not found`, details(resource, group, name));

export const alreadyExists = (resource: string, group: string, name: string): ApiError =>
  failure(409, 'AlreadyExists', `${qualified(resource, group)} "${name}" already exists`, details(resource, group, name));

export const conflict = (resource: string, group: string, name: string): ApiError =>
  failure(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${qualified(resource, group)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    details(resource, group, name),
  );

export const badRequest = (message: string): ApiError => failure(400, 'BadRequest', message);

export const invalid = (kind: string, group: string, name: string, causes: Array<{ field: string; message: string }>): ApiError =>
  failure(
    422,
    'Invalid',
    `${kind}${group ? `.${group}` : ''} "${name}" is invalid: ${causes.map((c) => `${c.field}: ${c.message}`).join(', ')}`,
    {
      name,
      ...(group ? { group } : {}),
      kind,
      causes: causes.map((c) => ({ reason: 'FieldValueInvalid', message: c.message, field: c.field })),
    },
  );

export const resourceNotFound = (): ApiError =>
  failure(404, 'NotFound', 'the server could not find the requested resource', {});

export const methodNotAllowed = (): ApiError =>
  failure(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {});

export const unauthorized = (): ApiError => failure(401, 'Unauthorized', 'Unauthorized');

export const unsupportedMediaType = (accepted: string[]): ApiError =>
  failure(
    415,
    'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`,
  );

export const expired = (message: string): ApiError => failure(410, 'Expired', message);

export const internal = (message: string): ApiError =>
  failure(500, 'InternalError', `Internal error occurred: ${message}`, { causes: [{ message }] });

export function success(details?: StatusDetails): Status {
  const s: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 200 };
  if (details) s.details = details;
  return s;
}
