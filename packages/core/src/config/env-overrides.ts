import { parseDuration } from "../duration.js";
import { ErrorCode } from "../errors.js";
import type { EnvOverride } from "../plugin/define-plugin.js";
import { joinPath, type ConfigProblem } from "./config-problem.js";

/**
 * Applies a plugin's declared environment overrides to its config entry.
 * The environment wins over the file; an unparsable value is a problem that
 * names the variable.
 */
export function applyEnvOverrides(
  entry: Record<string, unknown>,
  overrides: Record<string, EnvOverride> | undefined,
  env: NodeJS.ProcessEnv,
  entryPath: string,
  problems: ConfigProblem[],
): { entry: Record<string, unknown>; applied: string[] } {
  const applied: string[] = [];
  if (!overrides) return { entry, applied };

  const result = structuredClone(entry);
  for (const [variable, override] of Object.entries(overrides)) {
    const text = env[variable];
    if (text === undefined || text === "") continue;

    const value = coerce(text, override.type);
    if (value === undefined) {
      problems.push({
        path: joinPath(entryPath, override.path),
        code: ErrorCode.CONFIG_ENV_OVERRIDE,
        message: `environment variable ${variable}=${JSON.stringify(text)} is not a valid ${override.type}`,
      });
      continue;
    }
    setPath(result, override.path.split("."), value);
    applied.push(variable);
  }
  return { entry: result, applied };
}

function coerce(text: string, type: EnvOverride["type"]): unknown {
  const trimmed = text.trim();
  switch (type) {
    case "string":
      return text;
    case "integer":
      return /^-?\d+$/.test(trimmed) ? Number(trimmed) : undefined;
    case "number":
      return trimmed !== "" && Number.isFinite(Number(trimmed))
        ? Number(trimmed)
        : undefined;
    case "boolean":
      if (/^(true|1|yes|on)$/i.test(trimmed)) return true;
      if (/^(false|0|no|off)$/i.test(trimmed)) return false;
      return undefined;
    case "list":
      return trimmed
        .split(",")
        .map((item) => item.trim())
        .filter((item) => item.length > 0);
    case "duration":
      try {
        parseDuration(trimmed);
        return trimmed;
      } catch {
        return undefined;
      }
  }
}

function setPath(
  target: Record<string, unknown>,
  path: string[],
  value: unknown,
): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    if (typeof node[key] !== "object" || node[key] === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]] = value;
}
