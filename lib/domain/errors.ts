// The one error type of the domain. Each code has one HTTP status, in one table,
// so a handler never decides a status itself.

export const ERROR_STATUS = {
  ValidationFailed: 400,
  Unauthenticated: 401,
  Forbidden: 403,
  NotReferenceOwner: 403,
  RunModeNotAllowed: 403,
  CrossSiteRequestRefused: 403,
  NotFound: 404,
  Conflict: 409,
  ConnectionRequired: 409,
  ConnectionUnavailable: 409,
  PreconditionFailed: 412,
  PayloadTooLarge: 413,
  InternalError: 500,
  StorageUnavailable: 503,
  IdentityProviderUnavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export const ERROR_TITLES: Record<ErrorCode, string> = {
  ValidationFailed: 'The request is not valid',
  Unauthenticated: 'Authentication is required',
  Forbidden: 'Your role does not allow this',
  NotReferenceOwner: 'Only the reference owner may do this',
  RunModeNotAllowed: 'This run mode is not allowed for your role',
  CrossSiteRequestRefused: 'The request did not come from flowshare itself',
  NotFound: 'Not found',
  Conflict: 'The current state does not allow this',
  ConnectionRequired: 'A connection is required',
  ConnectionUnavailable: 'The connection is not usable',
  PreconditionFailed: 'The resource has changed',
  PayloadTooLarge: 'The request body is too large',
  InternalError: 'Something went wrong',
  StorageUnavailable: 'Storage is unavailable',
  IdentityProviderUnavailable: 'The identity provider is unavailable',
};

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

  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

export function validationFailed(errors: FieldError[], detail = 'The request has invalid fields.'): DomainError {
  return new DomainError('ValidationFailed', detail, { errors });
}

export function notFound(what = 'The resource'): DomainError {
  return new DomainError('NotFound', `${what} does not exist.`);
}
