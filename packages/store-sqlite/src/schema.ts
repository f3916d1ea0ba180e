import type { Database } from "better-sqlite3";
import type { StoreOpenContext } from "@weft/core";
import { SqliteErrorCode, sqliteError } from "./errors.js";
import { APPLICATION_ID, SCHEMA_VERSION } from "./schema-version.js";

type Logger = StoreOpenContext["logger"];

/** One step of the schema, applied when the file's `user_version` is lower than `version`. */
export interface Migration {
  version: number;
  description: string;
  up(db: Database): void;
}

/**
 * Schema steps in version order, ending at `SCHEMA_VERSION`. A released step
 * is never edited: a change to the schema is a new step, so every older file
 * reaches the same tables.
 */
export const migrations: readonly Migration[] = [
  {
    version: 1,
    description:
      "create the objects, changes, positions, state, checkpoints, class_properties and meta tables",
    up(db) {
      db.exec(`
        CREATE TABLE objects (
          class TEXT NOT NULL,
          id TEXT NOT NULL,
          properties TEXT NOT NULL,
          vector BLOB,
          version INTEGER NOT NULL,
          updated_at TEXT NOT NULL,
          PRIMARY KEY (class, id)
        );
        CREATE TABLE changes (
          seq INTEGER PRIMARY KEY,
          op TEXT NOT NULL,
          class TEXT NOT NULL,
          id TEXT NOT NULL,
          before TEXT,
          after TEXT,
          vector BLOB,
          timestamp TEXT NOT NULL,
          timestamp_ms INTEGER NOT NULL,
          tx_id TEXT NOT NULL,
          origin TEXT NOT NULL,
          metadata TEXT NOT NULL
        );
        CREATE TABLE positions (
          source TEXT NOT NULL,
          stream TEXT NOT NULL,
          position TEXT NOT NULL,
          PRIMARY KEY (source, stream)
        );
        CREATE TABLE state (
          plugin TEXT NOT NULL,
          key TEXT NOT NULL,
          value TEXT NOT NULL,
          PRIMARY KEY (plugin, key)
        );
        CREATE TABLE checkpoints (
          name TEXT PRIMARY KEY,
          next_seq INTEGER NOT NULL
        );
        CREATE TABLE class_properties (
          class TEXT NOT NULL,
          property TEXT NOT NULL,
          type TEXT NOT NULL,
          PRIMARY KEY (class, property)
        );
        CREATE TABLE meta (
          key TEXT PRIMARY KEY,
          value INTEGER NOT NULL
        );
        INSERT INTO meta (key, value) VALUES ('last_seq', 0);
      `);
    },
  },
];

/** Header fields and schema size of a file, read before anything is changed. */
export interface FileInfo {
  applicationId: number;
  userVersion: number;
  tableCount: number;
}

/** Reads the header fields that tell whether a file is a weft database. */
export function readFileInfo(db: Database): FileInfo {
  return {
    applicationId: db.pragma("application_id", { simple: true }) as number,
    userVersion: db.pragma("user_version", { simple: true }) as number,
    tableCount: (
      db.prepare("SELECT count(*) AS n FROM sqlite_schema").get() as {
        n: number;
      }
    ).n,
  };
}

/**
 * Rejects a file that another application owns or that a newer version of
 * this package wrote. An empty SQLite file (no tables, no ids) is accepted and
 * becomes a weft database.
 * @throws WeftError `WEFT_ERR_SQLITE_NOT_WEFT_DATABASE` or `WEFT_ERR_SQLITE_SCHEMA_TOO_NEW`, naming the file.
 */
export function checkFileInfo(
  info: FileInfo,
  file: string,
  latest: number = SCHEMA_VERSION,
): void {
  const empty =
    info.applicationId === 0 && info.userVersion === 0 && info.tableCount === 0;
  if (!empty && info.applicationId !== APPLICATION_ID) {
    throw sqliteError(
      SqliteErrorCode.NOT_WEFT_DATABASE,
      `${file} is a SQLite database of another application (application_id ${info.applicationId}, ${info.tableCount} schema entries), not a weft database; set the store's "path" to a new file or to an existing weft database`,
      { details: { file, applicationId: info.applicationId } },
    );
  }
  if (info.userVersion > latest) {
    throw sqliteError(
      SqliteErrorCode.SCHEMA_TOO_NEW,
      `${file} has schema version ${info.userVersion}, written by a newer @weft/store-sqlite; this version reads schema versions up to ${latest}. Upgrade @weft/store-sqlite, or set "path" to another file`,
      {
        details: {
          file,
          schemaVersion: info.userVersion,
          supportedVersion: latest,
        },
      },
    );
  }
}

/**
 * Applies the steps newer than the file's `user_version`, each in its own
 * write transaction together with its `user_version` bump, so a crash leaves
 * the file at the last completed step. Returns the versions before and after.
 * @throws WeftError `WEFT_ERR_SQLITE_MIGRATION_FAILED` naming the file and the step; that step is rolled back.
 */
export function migrate(
  db: Database,
  file: string,
  logger: Logger,
  steps: readonly Migration[] = migrations,
): { from: number; to: number } {
  const from = db.pragma("user_version", { simple: true }) as number;
  let current = from;

  for (const step of steps) {
    if (step.version <= current) continue;
    const apply = db.transaction(() => {
      // Another process may have migrated between our read and this write lock.
      const locked = db.pragma("user_version", { simple: true }) as number;
      if (locked >= step.version) return locked;
      step.up(db);
      db.pragma(`application_id = ${APPLICATION_ID}`);
      db.pragma(`user_version = ${step.version}`);
      return step.version;
    });
    try {
      current = apply.immediate();
    } catch (error) {
      throw sqliteError(
        SqliteErrorCode.MIGRATION_FAILED,
        `${file}: schema migration to version ${step.version} (${step.description}) failed and was rolled back, so the file is still at version ${current}: ${(error as Error).message}`,
        {
          cause: error,
          details: { file, fromVersion: current, toVersion: step.version },
        },
      );
    }
    logger.info(
      { file, version: step.version, description: step.description },
      "applied store schema migration",
    );
  }
  return { from, to: current };
}
