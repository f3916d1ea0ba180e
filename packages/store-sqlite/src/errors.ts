import { errorFactory } from "@weft/core";

/**
 * Codes raised by `@weft/store-sqlite`. docs/errors.md has one row per code.
 * The store also raises core's `WEFT_ERR_CHANGES_TRUNCATED`,
 * `WEFT_ERR_CONFIG_INVALID` and `WEFT_ERR_HTTP_BAD_REQUEST` where core
 * defines the meaning.
 */
export const SqliteErrorCode = {
  /** The file exists but is not SQLite, or is a SQLite database of another application. */
  NOT_WEFT_DATABASE: "WEFT_ERR_SQLITE_NOT_WEFT_DATABASE",
  /** The file's schema version is newer than this package can read. */
  SCHEMA_TOO_NEW: "WEFT_ERR_SQLITE_SCHEMA_TOO_NEW",
  /** A schema migration failed and was rolled back. */
  MIGRATION_FAILED: "WEFT_ERR_SQLITE_MIGRATION_FAILED",
  /** A class property that has stored values changed its type in the config. */
  PROPERTY_TYPE_CHANGED: "WEFT_ERR_SQLITE_PROPERTY_TYPE_CHANGED",
  /** The database file could not be created or opened. */
  OPEN_FAILED: "WEFT_ERR_SQLITE_OPEN_FAILED",
  /** A method was called before `open` or after `close`. */
  NOT_OPEN: "WEFT_ERR_SQLITE_NOT_OPEN",
  /** Another connection held the write lock for longer than `busyTimeout`. */
  BUSY: "WEFT_ERR_SQLITE_BUSY",
  /** SQLite failed a commit; nothing of the batch was applied. */
  COMMIT_FAILED: "WEFT_ERR_SQLITE_COMMIT_FAILED",
  /** An argument of a store method is out of range. */
  ARGUMENT_INVALID: "WEFT_ERR_SQLITE_ARGUMENT_INVALID",
} as const;

export type SqliteErrorCodeValue =
  (typeof SqliteErrorCode)[keyof typeof SqliteErrorCode];

/** Creates a {@link WeftError} with one of the {@link SqliteErrorCode} codes. */
export const sqliteError = errorFactory(SqliteErrorCode);

/** Returns the SQLite result code (`SQLITE_BUSY`, `SQLITE_NOTADB`, ...) of a better-sqlite3 error, if any. */
export function sqliteCode(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" && code.startsWith("SQLITE_")
    ? code
    : undefined;
}
