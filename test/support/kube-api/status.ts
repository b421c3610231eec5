/**
 * Error answers in the shape of the Kubernetes API: a `Status` object (kind Status, apiVersion v1, status Failure,
 * message, reason, details, code), with the messages kube-apiserver writes (k8s.io/apimachinery pkg/api/errors
 * errors.go; API conventions, "Response Status Kind"). A handler throws a KubeError; the server turns it into the
 * answer.
 */

export interface StatusCause {
  reason: string;
  message: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: { continue?: string };
  status: 'Failure' | 'Success';
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

/** The resource an error names: `pods` in the core group, `leases` in coordination.k8s.io. */
export interface Named {
  resource: string;
  group: string;
}

export class KubeError extends Error {
  readonly status: Status;
  /** Extra response headers (Retry-After). */
  readonly headers: Record<string, string>;

  constructor(status: Status, headers: Record<string, string> = {}) {
    super(status.message);
    this.name = 'KubeError';
    this.status = status;
    this.headers = headers;
  }
}

export function failure(code: number, reason: string, message: string, details?: StatusDetails): Status {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code };
}

/** `pods` or `leases.coordination.k8s.io`: GroupResource.String(). */
export function qualified(named: Named): string {
  return named.group ? `${named.resource}.${named.group}` : named.resource;
}

function detailsOf(named: Named, name: string): StatusDetails {
  return { name, ...(named.group ? { group: named.group } : {}), kind: named.resource };
}

export const notFound = (named: Named, name: string) => new KubeError(failure(404, 'NotFound', `${qualified(named)} "${name}" not found`, detailsOf(named, name)));

export const alreadyExists = (named: Named, name: string) => new KubeError(failure(409, 'AlreadyExists', `${qualified(named)} "${name}" already exists`, detailsOf(named, name)));

/** The OptimisticLockErrorMsg of k8s.io/apiserver pkg/registry/generic/registry/store.go. */
export const OPTIMISTIC_LOCK = 'the object has been modified; please apply your changes to the latest version and try again';

export const conflict = (named: Named, name: string, why: string) => new KubeError(failure(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(named)} "${name}": ${why}`, detailsOf(named, name)));

/** 422: `Pod "x" is invalid: metadata.uid: Invalid value: "…": field is immutable` (errors.NewInvalid names a GroupKind). */
export function invalid(groupKind: { group: string; kind: string }, name: string, field: string, value: unknown, detail: string, reason = 'FieldValueInvalid'): KubeError {
  const shown = reason === 'FieldValueInvalid' ? `Invalid value: ${JSON.stringify(value)}: ${detail}` : `${reasonText(reason)}: ${detail}`;
  const kind = groupKind.group ? `${groupKind.kind}.${groupKind.group}` : groupKind.kind;
  return new KubeError(
    failure(422, 'Invalid', `${kind} "${name}" is invalid: ${field}: ${shown}`, {
      name,
      ...(groupKind.group ? { group: groupKind.group } : {}),
      kind: groupKind.kind,
      causes: [{ reason, message: shown, field }],
    }),
  );
}

function reasonText(reason: string): string {
  return reason === 'FieldValueForbidden' ? 'Forbidden' : reason === 'FieldValueRequired' ? 'Required' : reason;
}

export const badRequest = (message: string) => new KubeError(failure(400, 'BadRequest', message));

/** 410 with reason Expired (errors.NewResourceExpired), for a watch or list from a resourceVersion the server no longer has. */
export const expired = (message: string, continueToken?: string) => {
  const status = failure(410, 'Expired', message);
  if (continueToken) status.metadata.continue = continueToken;
  return new KubeError(status);
};

export const unauthorized = () => new KubeError(failure(401, 'Unauthorized', 'Unauthorized'));

/** RBAC's denial text (k8s.io/apiserver pkg/endpoints/handlers/responsewriters/errors.go forbiddenMessage). */
export function forbidden(user: string, verb: string, named: Named, namespace: string | undefined, name?: string): KubeError {
  const scope = namespace ? `in the namespace "${namespace}"` : 'at the cluster scope';
  const subject = name ? `${qualified(named)} "${name}"` : qualified(named);
  const message = `${subject} is forbidden: User "${user}" cannot ${verb} resource "${named.resource}" in API group "${named.group}" ${scope}`;
  return new KubeError(failure(403, 'Forbidden', message, { ...(name ? { name } : {}), ...(named.group ? { group: named.group } : {}), kind: named.resource }));
}

export const notFoundPath = () => new KubeError(failure(404, 'NotFound', 'the server could not find the requested resource', {}));

export const methodNotAllowed = (verb: string, named: Named) => new KubeError(failure(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`, { kind: named.resource }), { Allow: verb });

export const unsupportedMediaType = (type: string) => new KubeError(failure(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json (got ${type})`));

/** 504 "Too large resource version" (docs: api-concepts, "Unavailable resource versions"). */
export const tooLargeResourceVersion = (asked: number, current: number) =>
  new KubeError(failure(504, 'Timeout', `Too large resource version: ${asked}, current: ${current}`, { causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }], retryAfterSeconds: 1 }), { 'Retry-After': '1' });

export const internalError = (message: string) => new KubeError(failure(500, 'InternalError', `Internal error occurred: ${message}`, { causes: [{ reason: '', message }] }));
