/**
 * `PRAGMA application_id` of every weft database (the bytes "weft"). It marks
 * the file as ours, so the store never migrates another application's
 * SQLite database.
 */
export const APPLICATION_ID = 0x77656674;

/**
 * The schema version this package writes and the highest it reads: the
 * version of the last step in `migrations`.
 */
export const SCHEMA_VERSION = 1;
