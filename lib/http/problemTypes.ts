// Each stable error code as HTTP sees it: one status and one title, in one
// table, so a handler never decides a status itself (docs/errors.md).
import type { ErrorCode } from '../domain/errors';

export const PROBLEM_STATUS: Record<ErrorCode, number> = {
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
  RunEnded: 409,
  PreconditionFailed: 412,
  PayloadTooLarge: 413,
  InternalError: 500,
  StorageUnavailable: 503,
  IdentityProviderUnavailable: 503,
};

export const PROBLEM_TITLES: Record<ErrorCode, string> = {
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
  RunEnded: 'The run has ended',
  PreconditionFailed: 'The resource has changed',
  PayloadTooLarge: 'The request body is too large',
  InternalError: 'Something went wrong',
  StorageUnavailable: 'Storage is unavailable',
  IdentityProviderUnavailable: 'The identity provider is unavailable',
};
