import { dirname, resolve } from "node:path";
import type { TSchema } from "@sinclair/typebox";
import type { ClassDefinition } from "../classes/types.js";
import { ErrorCode, isWeftError } from "../errors.js";
import type { Plugin } from "../plugin/define-plugin.js";
import { loadPlugin, resolvePluginFile } from "../plugin/resolve-plugin.js";
import { orderPlugins } from "../plugin/order-plugins.js";
import { parseDuration } from "../duration.js";
import { checkConfig } from "./check-schema.js";
import { checkConfigDepth } from "./check-depth.js";
import { configError, joinPath, type ConfigProblem } from "./config-problem.js";
import { applyEnvOverrides } from "./env-overrides.js";
import {
  HostConfigSchema,
  type HostConfig,
  type PluginEntry,
} from "./host-schema.js";
import { interpolate } from "./interpolate.js";
import { readConfigFile } from "./read-config-file.js";
import { checkClasses } from "./check-classes.js";

/** A plugin ready to register: the module, its checked config and where it came from. */
export interface LoadedPlugin {
  plugin: Plugin;
  config: Record<string, unknown>;
  /** Config path of the entry, such as `plugins[1]` or `store`. */
  path: string;
  use: string;
  /** Environment variables that overrode settings of this entry. */
  envApplied: string[];
}

/** A config file after parsing, interpolation, overrides and every check. */
export interface LoadedConfig {
  file: string;
  dir: string;
  host: HostConfig;
  classes: ClassDefinition[];
  store: LoadedPlugin;
  /** Enabled plugins in registration (dependency) order. */
  plugins: LoadedPlugin[];
  shutdownTimeoutMs: number;
  startTimeoutMs: number;
  apiKeys: string[];
  /** Reason for the store choice, when the config names none. */
  storeNote?: string;
}

/** Options of {@link loadConfig}. */
export interface LoadConfigOptions {
  env?: NodeJS.ProcessEnv;
  /** Extra folders to resolve plugin packages from, after the config's folder. */
  resolveFrom?: string[];
}

/**
 * Loads and checks a config file. Every problem of the file is collected
 * and raised together in one `WEFT_ERR_CONFIG_INVALID` error, each with its
 * config path and a stable code.
 */
export async function loadConfig(
  file: string,
  options: LoadConfigOptions = {},
): Promise<LoadedConfig> {
  const path = resolve(file);
  const raw = await readConfigFile(path);
  return checkLoadedConfig(raw, path, options);
}

/** Runs every check of {@link loadConfig} on an already parsed config object. */
export async function checkLoadedConfig(
  raw: unknown,
  file: string,
  options: LoadConfigOptions = {},
): Promise<LoadedConfig> {
  const env = options.env ?? process.env;
  const dir = dirname(file);
  const problems: ConfigProblem[] = [];

  // Interpolation and schema checks recurse per level, so a config too deep for them stops here.
  const tooDeep = checkConfigDepth(raw);
  if (tooDeep) throw configError(file, [tooDeep]);

  const interpolated = interpolate(raw, env, problems);
  const host = checkConfig<HostConfig>(
    HostConfigSchema,
    interpolated,
    "",
    problems,
  );
  const classes = checkClasses(host.classes ?? [], problems);

  const entries: Array<{ entry: PluginEntry; path: string }> = (
    host.plugins ?? []
  ).map((entry, i) => ({
    entry: entry as PluginEntry,
    path: joinPath("plugins", i),
  }));
  const storeEntry: { entry: PluginEntry; path: string; note?: string } =
    host.store
      ? { entry: host.store as PluginEntry, path: "store" }
      : defaultStoreEntry(dir, options.resolveFrom);

  const store = await loadEntry(
    storeEntry.entry,
    storeEntry.path,
    dir,
    env,
    options.resolveFrom ?? [],
    problems,
  );
  const loaded: LoadedPlugin[] = [];
  for (const { entry, path } of entries) {
    const plugin = await loadEntry(
      entry,
      path,
      dir,
      env,
      options.resolveFrom ?? [],
      problems,
    );
    if (plugin && plugin.config.enabled !== false) loaded.push(plugin);
  }

  checkDuplicates(loaded, problems);
  const ordered = orderPlugins(
    loaded.map((plugin) => ({
      ...plugin,
      name: plugin.plugin.name,
      dependencies: plugin.plugin.dependencies ?? [],
    })),
    problems,
  );

  const shutdownTimeoutMs = safeDuration(
    host.shutdownTimeout,
    "shutdownTimeout",
    problems,
  );
  const startTimeoutMs = safeDuration(
    host.startTimeout,
    "startTimeout",
    problems,
  );
  const apiKeys = parseApiKeys(host.auth?.apiKeys, problems);
  if (problems.length > 0 || !store)
    throw configError(file, withoutEchoes(problems));

  return {
    file,
    dir,
    host,
    classes,
    store,
    plugins: ordered,
    shutdownTimeoutMs,
    startTimeoutMs,
    apiKeys,
    ...(storeEntry.note ? { storeNote: storeEntry.note } : {}),
  };
}

function defaultStoreEntry(
  dir: string,
  resolveFrom: string[] = [],
): { entry: PluginEntry; path: string; note: string } {
  if (resolvePluginFile("@weft/store-sqlite", dir, resolveFrom)) {
    return {
      entry: { use: "@weft/store-sqlite", path: "./data/weft.db" },
      path: "store",
      note: "no store configured: using @weft/store-sqlite at ./data/weft.db next to the config",
    };
  }
  return {
    entry: { use: "memory" },
    path: "store",
    note: "no store configured and @weft/store-sqlite is not installed: using the memory store, so nothing will be kept after a stop",
  };
}

async function loadEntry(
  entry: PluginEntry,
  path: string,
  dir: string,
  env: NodeJS.ProcessEnv,
  resolveFrom: string[],
  problems: ConfigProblem[],
): Promise<LoadedPlugin | undefined> {
  if (typeof entry?.use !== "string") return undefined;

  let plugin: Plugin;
  try {
    plugin = await loadPlugin(entry.use, dir, resolveFrom);
  } catch (error) {
    if (!isWeftError(error)) throw error;
    problems.push({
      path: joinPath(path, "use"),
      code: error.code,
      message: error.message,
    });
    return undefined;
  }

  const { use, enabled, ...settings } = entry;
  const overridden = applyEnvOverrides(
    { ...settings, ...(enabled === undefined ? {} : { enabled }) },
    plugin.env,
    env,
    path,
    problems,
  );
  const { enabled: finalEnabled, ...pluginSettings } = overridden.entry;
  if (finalEnabled === false)
    return {
      plugin,
      config: { enabled: false },
      path,
      use,
      envApplied: overridden.applied,
    };

  const config = checkConfig<Record<string, unknown>>(
    plugin.configSchema as TSchema,
    pluginSettings,
    path,
    problems,
  );
  return { plugin, config, path, use, envApplied: overridden.applied };
}

function checkDuplicates(
  plugins: LoadedPlugin[],
  problems: ConfigProblem[],
): void {
  const seen = new Map<string, string>();
  for (const loaded of plugins) {
    const first = seen.get(loaded.plugin.name);
    if (first) {
      problems.push({
        path: loaded.path,
        code: ErrorCode.PLUGIN_DUPLICATE,
        message: `plugin ${loaded.plugin.name} is already configured at ${first}; configure each plugin once`,
      });
    } else seen.set(loaded.plugin.name, loaded.path);
  }
}

/**
 * Drops schema problems at paths whose `${VAR}` was missing: the value there
 * is the unreplaced reference, and its type error would only repeat the cause.
 */
function withoutEchoes(problems: ConfigProblem[]): ConfigProblem[] {
  const missing = new Set(
    problems
      .filter((problem) => problem.code === ErrorCode.CONFIG_ENV_MISSING)
      .map((problem) => problem.path),
  );
  return problems.filter(
    (problem) =>
      problem.code !== ErrorCode.CONFIG_INVALID || !missing.has(problem.path),
  );
}

/**
 * Splits `auth.apiKeys` (a list, or one comma-separated string) into keys.
 * A value that is given but contains only blanks is a problem rather than "no
 * keys", because no keys turns authentication off: a variable set to a space
 * must not open the API.
 */
function parseApiKeys(
  value: string | string[] | undefined,
  problems: ConfigProblem[],
): string[] {
  // The schema already reported a value of the wrong shape.
  if (value === undefined || problems.some((p) => p.path === "auth.apiKeys"))
    return [];

  const entries = Array.isArray(value) ? value : value.split(",");
  const keys = entries.map((key) => key.trim()).filter((key) => key.length > 0);
  if (keys.length === 0 && (typeof value === "string" || value.length > 0)) {
    problems.push({
      path: "auth.apiKeys",
      code: ErrorCode.CONFIG_INVALID,
      message:
        "auth.apiKeys is set but contains no key (only blanks or commas), which would turn authentication off; set at least one key, or remove auth.apiKeys to run without keys",
    });
  }
  return keys;
}

function safeDuration(
  value: unknown,
  path: string,
  problems: ConfigProblem[],
): number {
  // The schema already reported a value of the wrong shape.
  if (problems.some((problem) => problem.path === path)) return 0;
  try {
    return parseDuration(value as string | number, path);
  } catch (error) {
    if (isWeftError(error))
      problems.push({ path, code: error.code, message: error.message });
    return 0;
  }
}
