// The one error type of the domain, and its stable codes. What each code is
// over HTTP (status and title) is the edge's business: lib/http/problemTypes.ts.

export const ERROR_CODES = [
  'ValidationFailed',
  'Unauthenticated',
  'Forbidden',
  'NotReferenceOwner',
  'RunModeNotAllowed',
  'CrossSiteRequestRefused',
  'NotFound',
  'Conflict',
  'ConnectionRequired',
  'ConnectionUnavailable',
  'ConnectionNotAllowed',
  'ConnectionReauthRequired',
  'RunEnded',
  'RunNotSucceeded',
  'PreconditionFailed',
  'PayloadTooLarge',
  'InternalError',
  'StorageUnavailable',
  'IdentityProviderUnavailable',
  'ConnectorCallFailed',
  'ConnectorTimeout',
  'ResponseTooLarge',
] as const;

/** A stable code every problem carries; lib/http/problemTypes.ts gives each its status and title. */
export type ErrorCode = (typeof ERROR_CODES)[number];

/** One invalid field of a request, as listed in a ValidationFailed problem. */
export interface FieldError {
  field: string;
  detail: string;
}

export class DomainError extends Error {
  readonly code: ErrorCode;
  /** Extra members of the problem document, such as `errors` or `missing`. */
  readonly extensions: Record<string, unknown>;

  constructor(code: ErrorCode, detail: string, extensions: Record<string, unknown> = {}) {
    super(detail);
    this.name = 'DomainError';
    this.code = code;
    this.extensions = extensions;
  }
}

export function validationFailed(errors: FieldError[], detail = 'The request has invalid fields.'): DomainError {
  return new DomainError('ValidationFailed', detail, { errors });
}

export function notFound(what = 'The resource'): DomainError {
  return new DomainError('NotFound', `${what} does not exist.`);
}
