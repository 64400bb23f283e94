// Limits promised by docs/limits.md.

/** A request body may be up to 1 MiB. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** Ids and logical names: 1 to 100 letters, digits, `-`, `_` and `.`. */
export const ID_PATTERN = /^[A-Za-z0-9._-]{1,100}$/;

export const MAX_NAME_LENGTH = 200;

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 100;

/** A connector call's whole exchange with its provider (docs/limits.md, Connector calls). */
export const CONNECTOR_CALL_TIMEOUT_MS = 30_000;

/** The largest provider answer a connector call reads. */
export const MAX_CONNECTOR_RESPONSE_BYTES = 1024 * 1024;
