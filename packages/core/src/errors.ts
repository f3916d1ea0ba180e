/**
 * Every error weft raises carries a stable `code` (`WEFT_ERR_*`) that callers
 * and docs/errors.md key on. The brand is a registered symbol rather than a
 * class identity, so `isWeftError` is true even when two copies of
 * `@weft/core` are loaded in one process, which happens in pnpm trees.
 */
const brand = Symbol.for("weft.error");

/** Structured facts about an error, logged and returned over HTTP. */
export type ErrorDetails = Record<string, unknown>;

/** Options of a {@link WeftError}. */
export interface WeftErrorOptions {
  /** The error this one wraps. */
  cause?: unknown;
  /** Ids and values involved, such as plugin, class, object id or config path. */
  details?: ErrorDetails;
  /** Whether the same operation may succeed when tried again later. */
  retryable?: boolean;
}

/** An error with a stable code. */
export class WeftError extends Error {
  readonly code: string;
  readonly details: ErrorDetails;
  readonly retryable: boolean;

  constructor(code: string, message: string, options: WeftErrorOptions = {}) {
    super(
      message,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = "WeftError";
    this.code = code;
    this.details = options.details ?? {};
    this.retryable = options.retryable ?? false;
    Object.defineProperty(this, brand, { value: true });
  }
}

/**
 * Creates the error constructor of a plugin package, typed to the codes it
 * declares, so a call with another package's code does not compile.
 */
export function errorFactory<Codes extends Record<string, string>>(
  _codes: Codes,
): (
  code: Codes[keyof Codes],
  message: string,
  options?: WeftErrorOptions,
) => WeftError {
  return (code, message, options = {}) => new WeftError(code, message, options);
}

/** Tells whether a value is a {@link WeftError}, from any copy of the package. */
export function isWeftError(value: unknown): value is WeftError {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as Record<symbol, unknown>)[brand] === true
  );
}

/** Codes raised by `@weft/core`. docs/errors.md has one row per code. */
export const ErrorCode = {
  CONFIG_INVALID: "WEFT_ERR_CONFIG_INVALID",
  CONFIG_NOT_FOUND: "WEFT_ERR_CONFIG_NOT_FOUND",
  CONFIG_PARSE: "WEFT_ERR_CONFIG_PARSE",
  CONFIG_ENV_MISSING: "WEFT_ERR_CONFIG_ENV_MISSING",
  CONFIG_DURATION: "WEFT_ERR_CONFIG_DURATION",
  CONFIG_ENV_OVERRIDE: "WEFT_ERR_CONFIG_ENV_OVERRIDE",
  PLUGIN_NOT_FOUND: "WEFT_ERR_PLUGIN_NOT_FOUND",
  PLUGIN_INVALID: "WEFT_ERR_PLUGIN_INVALID",
  PLUGIN_DEPENDENCY_MISSING: "WEFT_ERR_PLUGIN_DEPENDENCY_MISSING",
  PLUGIN_DEPENDENCY_CYCLE: "WEFT_ERR_PLUGIN_DEPENDENCY_CYCLE",
  PLUGIN_DUPLICATE: "WEFT_ERR_PLUGIN_DUPLICATE",
  PLUGIN_CORE_VERSION: "WEFT_ERR_PLUGIN_CORE_VERSION",
  PLUGIN_REGISTER: "WEFT_ERR_PLUGIN_REGISTER",
  PLUGIN_START_TIMEOUT: "WEFT_ERR_PLUGIN_START_TIMEOUT",
  PLUGIN_STOP_TIMEOUT: "WEFT_ERR_PLUGIN_STOP_TIMEOUT",
  HOOK_FAILED: "WEFT_ERR_HOOK_FAILED",
  CAPABILITY_DUPLICATE: "WEFT_ERR_CAPABILITY_DUPLICATE",
  CAPABILITY_NOT_FOUND: "WEFT_ERR_CAPABILITY_NOT_FOUND",
  STORE_MISSING: "WEFT_ERR_STORE_MISSING",
  STORE_DUPLICATE: "WEFT_ERR_STORE_DUPLICATE",
  CLASS_UNKNOWN: "WEFT_ERR_CLASS_UNKNOWN",
  CLASS_INVALID: "WEFT_ERR_CLASS_INVALID",
  OBJECT_INVALID: "WEFT_ERR_OBJECT_INVALID",
  ID_INVALID: "WEFT_ERR_ID_INVALID",
  WRITE_REJECTED: "WEFT_ERR_WRITE_REJECTED",
  WRITE_RETRYABLE: "WEFT_ERR_WRITE_RETRYABLE",
  HOST_STOPPING: "WEFT_ERR_HOST_STOPPING",
  HOST_STATE: "WEFT_ERR_HOST_STATE",
  FILTER_INVALID: "WEFT_ERR_FILTER_INVALID",
  CHANGES_TRUNCATED: "WEFT_ERR_CHANGES_TRUNCATED",
  HTTP_BODY_TOO_LARGE: "WEFT_ERR_HTTP_BODY_TOO_LARGE",
  HTTP_JSON_INVALID: "WEFT_ERR_HTTP_JSON_INVALID",
  HTTP_NOT_FOUND: "WEFT_ERR_HTTP_NOT_FOUND",
  HTTP_METHOD_NOT_ALLOWED: "WEFT_ERR_HTTP_METHOD_NOT_ALLOWED",
  HTTP_URL_INVALID: "WEFT_ERR_HTTP_URL_INVALID",
  HTTP_HEADERS_TOO_LARGE: "WEFT_ERR_HTTP_HEADERS_TOO_LARGE",
  HTTP_UNAUTHORIZED: "WEFT_ERR_HTTP_UNAUTHORIZED",
  HTTP_BAD_REQUEST: "WEFT_ERR_HTTP_BAD_REQUEST",
  HTTP_UNSUPPORTED_MEDIA_TYPE: "WEFT_ERR_HTTP_UNSUPPORTED_MEDIA_TYPE",
  HTTP_ROUTE_DUPLICATE: "WEFT_ERR_HTTP_ROUTE_DUPLICATE",
  VECTORIZER_FAILED: "WEFT_ERR_VECTORIZER_FAILED",
} as const;

export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];
