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

/** One field.Error: its cause reason (FieldValueInvalid, FieldValueForbidden, FieldValueTooLong...) defaults to Invalid. */
export interface FieldCause {
  field: string;
  message: string;
  reason?: string;
}

export const invalid = (kind: string, group: string, name: string, causes: FieldCause[]): ApiError =>
  failure(
    422,
    'Invalid',
    `${kind}${group ? `.${group}` : ''} "${name}" is invalid: ${causes.length > 1 ? `[${causes.map((c) => `${c.field}: ${c.message}`).join(', ')}]` : causes.map((c) => `${c.field}: ${c.message}`).join('')}`,
    {
      name,
      ...(group ? { group } : {}),
      kind,
      causes: causes.map((c) => ({ reason: c.reason ?? 'FieldValueInvalid', message: c.message, field: c.field })),
    },
  );

export const forbiddenField = (kind: string, group: string, name: string, field: string, detail: string): ApiError =>
  invalid(kind, group, name, [{ field, message: `Forbidden: ${detail}`, reason: 'FieldValueForbidden' }]);

/** A DeleteOptions precondition that doesn't hold: storage's InvalidObj error, answered as a Conflict. */
export const preconditionFailed = (resource: string, group: string, name: string, at: { namespace: string; name: string }, what: 'UID' | 'ResourceVersion', wanted: string, actual: string): ApiError =>
  failure(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${qualified(resource, group)} "${name}": StorageError: invalid object, Code: 4, Key: /registry/${qualified(resource, group)}/${at.namespace ? `${at.namespace}/` : ''}${at.name}, ResourceVersion: 0, AdditionalErrorMsg: Precondition failed: ${what} in precondition: ${wanted}, ${what} in object meta: ${actual}`,
    details(resource, group, name),
  );

/** What the apiserver answers when etcd refuses a value over its --max-request-bytes. */
export const tooLarge = (): ApiError => failure(500, 'InternalError', 'etcdserver: request is too large');

/**
 * The answer when a JSON patch doesn't apply: NewGenericServerResponse(422, ..., isUnexpectedResponse
 * false) keeps no cause, so the library's own error (a failed test, a missing path) never reaches the client.
 */
export const patchNotApplied = (): ApiError => failure(422, 'Invalid', 'the server rejected our request due to an error in our request', {});

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

/**
 * What the apiserver answers for an error that is no Status (a failed dial to a kubelet, say):
 * 500 with no reason, the Go error's text as the message (ErrorToAPIStatus in
 * k8s.io/apiserver/pkg/endpoints/handlers/responsewriters/status.go); kubectl prints it as
 * "Error from server: <message>".
 */
export function unknownFailure(message: string): ApiError {
  return new ApiError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, code: 500 });
}

export const internal = (message: string): ApiError =>
  failure(500, 'InternalError', `Internal error occurred: ${message}`, { causes: [{ message }] });

export function success(details?: StatusDetails): Status {
  const s: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 200 };
  if (details) s.details = details;
  return s;
}
