import { existsSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";

/** Export conditions that Node's ESM loader matches for an `import` (it adds no others without flags). */
const conditions = new Set(["import", "node", "default"]);

/**
 * Finds the entry file of a package folder, the file `import("<name>")` loads
 * when the folder is installed: the `.` export for the `import`, `node` or
 * `default` condition, else `main`, else `index.js`. Node rejects a directory
 * import, so a `use:` path that names a package folder goes through here.
 * @returns undefined when `dir` is no folder with a package.json, or its entry file is missing.
 */
export function resolvePackageEntry(dir: string): string | undefined {
  const manifestFile = join(dir, "package.json");
  if (!isDirectory(dir) || !existsSync(manifestFile)) return undefined;

  let manifest: { exports?: unknown; main?: unknown };
  try {
    manifest = JSON.parse(readFileSync(manifestFile, "utf8"));
  } catch {
    return undefined;
  }

  const target =
    exportTarget(rootExport(manifest.exports)) ??
    (typeof manifest.main === "string" ? manifest.main : "index.js");
  const file = resolve(dir, target);
  return existsSync(file) ? file : undefined;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Picks the `.` entry of an `exports` field, which may also be the entry itself. */
function rootExport(exports: unknown): unknown {
  if (typeof exports !== "object" || exports === null || Array.isArray(exports))
    return exports;
  const keys = Object.keys(exports);
  if (keys.some((key) => key.startsWith(".")))
    return (exports as Record<string, unknown>)["."];
  return exports;
}

/** Follows nested conditions (and the first usable entry of an array) to a file path. */
function exportTarget(entry: unknown): string | undefined {
  if (typeof entry === "string") return entry;
  if (Array.isArray(entry)) {
    for (const item of entry) {
      const target = exportTarget(item);
      if (target) return target;
    }
    return undefined;
  }
  if (typeof entry !== "object" || entry === null) return undefined;

  // Node takes the first matching condition in the object's key order.
  for (const [condition, branch] of Object.entries(entry))
    if (conditions.has(condition)) {
      const target = exportTarget(branch);
      if (target) return target;
    }
  return undefined;
}
