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

/** A cloud run's `inputs`, as JSON: up to 64 KiB (UTF-8). */
export const MAX_RUN_INPUTS_BYTES = 64 * 1024;

/** A completed run's `outputs` and `actions` together, as JSON: up to 256 KiB (UTF-8). */
export const MAX_RUN_RESULT_BYTES = 256 * 1024;

/** How long a lease request may wait for a run: 0 to 30 seconds. */
export const MAX_LEASE_WAIT_SECONDS = 30;

/** An action error's `detail`: at most 4,000 characters. */
export const MAX_ERROR_DETAIL_LENGTH = 4_000;
