import { existsSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { isAbsolute, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import semver from "semver";
import { ErrorCode, WeftError } from "../errors.js";
import { isPlugin, type Plugin } from "./define-plugin.js";
import { builtinPlugins } from "./builtin-plugins.js";
import { resolvePackageEntry } from "./package-entry.js";
import { coreVersion } from "../version.js";

/** Short names `use:` accepts for weft's own packages. */
export const shortNames: Readonly<Record<string, string>> = {
  sqlite: "@weft/store-sqlite",
  "store-sqlite": "@weft/store-sqlite",
  "source-kafka": "@weft/source-kafka",
  "sink-cdc": "@weft/sink-cdc",
  subscriptions: "@weft/subscriptions",
  triggers: "@weft/triggers",
  webhook: "@weft/action-webhook",
  "action-webhook": "@weft/action-webhook",
};

/** Folder that contains weft's package folders when core runs from a checkout of the repository. */
const packagesDir = fileURLToPath(new URL("../../../", import.meta.url));

/**
 * Finds the module file of a `use:` value: a relative or absolute path
 * (against the config's folder) of a module file or of a package folder, or
 * a package name resolved from the config's folder first and then from
 * `fallbackDirs`. Returns undefined when not found.
 */
export function resolvePluginFile(
  use: string,
  configDir: string,
  fallbackDirs: readonly string[] = [],
): string | undefined {
  const isPath = use.startsWith(".") || isAbsolute(use);
  const specifier = isPath ? resolve(configDir, use) : (shortNames[use] ?? use);
  if (isPath) {
    const entry = resolvePackageEntry(specifier);
    if (entry) return entry;
  }

  for (const dir of [configDir, ...fallbackDirs]) {
    try {
      return createRequire(join(dir, "noop.js")).resolve(specifier);
    } catch {
      // Try the next folder.
    }
    if (isPath) break;
  }
  return isPath && statSync(specifier, { throwIfNoEntry: false })?.isFile()
    ? specifier
    : undefined;
}

/**
 * Loads the plugin a `use:` value names and checks that it is a weft plugin
 * made for this version of core.
 */
export async function loadPlugin(
  use: string,
  configDir: string,
  fallbackDirs: readonly string[] = [],
): Promise<Plugin> {
  const builtin = builtinPlugins[use];
  if (builtin) return builtin;

  const file = resolvePluginFile(use, configDir, fallbackDirs);
  if (!file) {
    const searched = [...new Set([configDir, ...fallbackDirs])];
    throw new WeftError(
      ErrorCode.PLUGIN_NOT_FOUND,
      `plugin "${use}" not found: ${notFoundHint(use, configDir, searched)}`,
      { details: { use, configDir, searched } },
    );
  }

  let module: Record<string, unknown>;
  try {
    module = await import(pathToFileURL(file).href);
  } catch (error) {
    throw new WeftError(
      ErrorCode.PLUGIN_INVALID,
      `plugin "${use}" failed to load from ${file}: ${(error as Error).message}`,
      {
        cause: error,
        details: { use, file },
      },
    );
  }

  const plugin = isPlugin(module.default)
    ? module.default
    : isPlugin(module.plugin)
      ? module.plugin
      : undefined;
  if (!plugin) {
    throw new WeftError(
      ErrorCode.PLUGIN_INVALID,
      `module ${file} (use "${use}") has no plugin as default export; export definePlugin({ ... }) as default`,
      {
        details: { use, file },
      },
    );
  }
  checkCoreRange(plugin);
  return plugin;
}

/** Describes where a missing plugin was searched for and how to make it resolve. */
function notFoundHint(
  use: string,
  configDir: string,
  searched: readonly string[],
): string {
  if (use.startsWith(".") || isAbsolute(use))
    return `no file at ${resolve(configDir, use)}, and no package folder with a package.json there`;

  const name = shortNames[use] ?? use;
  // Node looks in node_modules of each folder and of its parent folders.
  const where = `package ${name} is not in node_modules of ${searched.join(", ")} or of their parent folders`;
  if (!name.startsWith("@weft/"))
    return `${where}; install it next to the config (npm install ${name}), or set use: to the path of its module file`;

  // The @weft packages are not on the npm registry, so `npm install @weft/...` could fetch someone else's package.
  const folder = weftPackageFolder(name.slice("@weft/".length));
  return `${where}; weft's packages are not published to the npm registry, so install the package folder next to the config (npm install ${folder}), or set use: to the path of its module file (${join(folder, "dist", "index.js")})`;
}

/** Returns the folder of a weft package in this checkout, or a placeholder path when core runs from elsewhere. */
function weftPackageFolder(packageName: string): string {
  const folder = join(packagesDir, packageName);
  return existsSync(join(folder, "package.json"))
    ? folder
    : `/path/to/weft/packages/${packageName}`;
}

/** Checks the `@weft/core` range a plugin declares against the running core. */
export function checkCoreRange(plugin: Plugin): void {
  if (plugin.core === undefined) return;
  if (semver.satisfies(coreVersion, plugin.core, { includePrerelease: true }))
    return;

  throw new WeftError(
    ErrorCode.PLUGIN_CORE_VERSION,
    `plugin ${plugin.name} ${plugin.version} needs @weft/core ${plugin.core}, but this host runs ${coreVersion}; install a matching version of either`,
    { details: { plugin: plugin.name, range: plugin.core, coreVersion } },
  );
}
