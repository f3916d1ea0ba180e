import { resolve } from "node:path";
import { Type, type Static } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import {
  DurationSchema,
  ErrorCode,
  WeftError,
  parseDuration,
} from "@weft/core";

/** TypeBox schema of the store's config, as the `store:` entry of a host config writes it. */
export const configSchema = Type.Object(
  {
    path: Type.String({
      minLength: 1,
      default: "./data/weft.db",
      description:
        "database file; a relative path is resolved against the config file's folder",
    }),
    durability: Type.Union([Type.Literal("full"), Type.Literal("normal")], {
      default: "full",
      description:
        "full: fsync at every commit; normal: fsync at WAL checkpoints only, so a power loss may lose the last commits (a process crash loses none)",
    }),
    retention: Type.Object(
      {
        maxRows: Type.Integer({
          minimum: 1,
          default: 1_000_000,
          description: "change-log rows kept",
        }),
        maxAge: Type.Optional(DurationSchema()),
        force: Type.Boolean({
          default: false,
          description:
            "trim the change log past the slowest checkpoint, so a slow consumer loses events",
        }),
      },
      { default: {}, additionalProperties: false },
    ),
    busyTimeout: DurationSchema("5s"),
    wal: Type.Object(
      {
        maxBytes: Type.Integer({
          minimum: 1_048_576,
          default: 67_108_864,
          description:
            "WAL file size in bytes above which the writer checkpoints itself, and the size the WAL file is truncated to after a reset",
        }),
        backgroundCheckpoint: Type.Boolean({
          default: true,
          description:
            "checkpoint the WAL in a worker thread; false leaves checkpoints to SQLite on the writer (every 1000 pages)",
        }),
      },
      { default: {}, additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

/** The store's config after defaults, as the plugin registry passes it. */
export type SqliteStoreConfig = Static<typeof configSchema>;

/** Options of {@link createSqliteStore}: the config with every key optional, plus where relative paths start. */
export type SqliteStoreOptions = Partial<
  Omit<SqliteStoreConfig, "retention" | "wal">
> & {
  retention?: Partial<SqliteStoreConfig["retention"]>;
  wal?: Partial<SqliteStoreConfig["wal"]>;
  /** Folder that a relative `path` is resolved against; the current directory by default. */
  configDir?: string;
  /**
   * Script of the checkpoint worker thread. Tests replace it to simulate a
   * slow or failing worker; there is no other reason to set it.
   * @internal
   */
  checkpointWorker?: URL;
};

/** Settings in the units the store uses. */
export interface ResolvedOptions {
  /** Absolute path of the database file. */
  file: string;
  durability: "full" | "normal";
  maxRows: number;
  /** Undefined when the change log has no age limit. */
  maxAgeMs: number | undefined;
  force: boolean;
  busyTimeoutMs: number;
  /** WAL file size above which the writer checkpoints itself; also its `journal_size_limit`. */
  maxWalBytes: number;
  backgroundCheckpoint: boolean;
  checkpointWorker: URL;
}

/**
 * Applies defaults to `options`, checks them against {@link configSchema} and
 * converts durations and the path.
 * @throws WeftError `WEFT_ERR_CONFIG_INVALID` naming every invalid key.
 */
export function resolveOptions(
  options: SqliteStoreOptions = {},
): ResolvedOptions {
  const { configDir, checkpointWorker, ...input } = options;
  const config = Value.Default(
    configSchema,
    structuredClone(input),
  ) as SqliteStoreConfig;

  const problems = [...Value.Errors(configSchema, config)].map((error) => {
    const key = error.path.slice(1).replaceAll("/", ".") || "(root)";
    return `${key}: ${error.message}, got ${JSON.stringify(error.value)}`;
  });
  if (problems.length > 0) {
    throw new WeftError(
      ErrorCode.CONFIG_INVALID,
      `invalid @weft/store-sqlite config: ${problems.join("; ")}`,
      {
        details: { problems },
      },
    );
  }
  if (config.path.trim() === ":memory:") {
    throw new WeftError(
      ErrorCode.CONFIG_INVALID,
      'invalid @weft/store-sqlite config: path ":memory:" is not supported because the store opens several connections to one file; use the memory store of @weft/core instead',
      { details: { path: config.path } },
    );
  }

  return {
    file: resolve(configDir ?? process.cwd(), config.path),
    durability: config.durability,
    maxRows: config.retention.maxRows,
    maxAgeMs:
      config.retention.maxAge === undefined
        ? undefined
        : parseDuration(config.retention.maxAge, "retention.maxAge"),
    force: config.retention.force,
    busyTimeoutMs: parseDuration(config.busyTimeout, "busyTimeout"),
    maxWalBytes: config.wal.maxBytes,
    backgroundCheckpoint: config.wal.backgroundCheckpoint,
    checkpointWorker:
      checkpointWorker ?? new URL("./checkpoint-worker.js", import.meta.url),
  };
}
