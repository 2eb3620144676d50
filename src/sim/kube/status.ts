// Owns the metav1.Status answers the simulated API server gives, worded as k8s.io/apimachinery/pkg/api/errors/errors.go
// builds them (NewNotFound, NewAlreadyExists, NewConflict, NewInvalid, NewTooManyRequests, NewGone/Expired, …).
export type Obj = Record<string, unknown>;

export class ApiError extends Error {
  constructor(readonly code: number, readonly status: Obj, readonly headers: Record<string, string> = {}) {
    super(String(status.message ?? ''));
  }
}

export function statusObject(code: number, reason: string, message: string, details?: Obj): Obj {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: code < 400 ? 'Success' : 'Failure', message, reason, ...(details ? { details } : {}), code };
}

const err = (code: number, reason: string, message: string, details?: Obj, headers?: Record<string, string>) =>
  new ApiError(code, statusObject(code, reason, message, details), headers);

/** A resource as errors name it: `pods`, `deployments.apps`. */
export const qualified = (group: string, resource: string): string => (group ? `${resource}.${group}` : resource);

export const notFound = (group: string, resource: string, name: string) =>
  err(404, 'NotFound', `${qualified(group, resource)} "${name}" not found`, { name, ...(group ? { group } : {}), kind: resource });

export const alreadyExists = (group: string, resource: string, name: string) =>
  err(409, 'AlreadyExists', `${qualified(group, resource)} "${name}" already exists`, { name, ...(group ? { group } : {}), kind: resource });

/** A resourceVersion precondition failed (optimistic concurrency). */
export const conflict = (group: string, resource: string, name: string, why = 'the object has been modified; please apply your changes to the latest version and try again') =>
  err(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(group, resource)} "${name}": ${why}`, { name, ...(group ? { group } : {}), kind: resource });

export const invalid = (group: string, kind: string, name: string, causes: { field: string; message: string; reason?: string }[]) =>
  err(422, 'Invalid', `${kind} "${name}" is invalid: ${causes.map((c) => `${c.field}: ${c.message}`).join(', ')}`, {
    name, ...(group ? { group } : {}), kind, causes: causes.map((c) => ({ reason: c.reason ?? 'FieldValueInvalid', message: c.message, field: c.field })),
  });

export const badRequest = (message: string) => err(400, 'BadRequest', message);

export const methodNotAllowed = () => err(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');

export const notFoundPath = () => err(404, 'NotFound', 'the server could not find the requested resource');

export const unauthorized = () => err(401, 'Unauthorized', 'Unauthorized');

export const unsupportedMediaType = (type: string, accepted: string[]) =>
  err(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`, { causes: [{ reason: 'UnexpectedServerResponse', message: type }] });

export const tooManyRequests = (message: string, retryAfterSeconds: number, causes: Obj[] = []) =>
  err(429, 'TooManyRequests', message, { ...(retryAfterSeconds ? { retryAfterSeconds } : {}), ...(causes.length ? { causes } : {}) }, retryAfterSeconds ? { 'retry-after': String(retryAfterSeconds) } : {});

export const gone = (message: string) => err(410, 'Expired', message);

/** What the API server's timeout filter answers when storage does not (etcd without quorum). */
export const storageTimeout = () => err(504, 'Timeout', 'Timeout: request did not complete within requested timeout - context deadline exceeded', { retryAfterSeconds: 0 });

/** An SSA conflict (k8s.io/apimachinery/pkg/util/managedfields/internal/conflict.go, errors.NewApplyConflict). */
export const applyConflict = (message: string, causes: Obj[]) => err(409, 'Conflict', message, { causes });

export const forbidden = (group: string, resource: string, name: string, why: string) =>
  err(403, 'Forbidden', `${qualified(group, resource)} "${name}" is forbidden: ${why}`, { name, ...(group ? { group } : {}), kind: resource });
