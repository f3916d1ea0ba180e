import { ErrorCode } from "../errors.js";
import { joinPath, type ConfigProblem } from "./config-problem.js";

const reference = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * Replaces `${VAR}` and `${VAR:-default}` in every string of a parsed config
 * with values from `env`; `$$` writes a literal `$`. Missing variables are
 * collected as problems naming the variable and the config path.
 */
export function interpolate(
  value: unknown,
  env: NodeJS.ProcessEnv,
  problems: ConfigProblem[],
  path = "",
): unknown {
  if (typeof value === "string")
    return interpolateString(value, env, problems, path);
  if (Array.isArray(value))
    return value.map((item, i) =>
      interpolate(item, env, problems, joinPath(path, i)),
    );

  if (typeof value === "object" && value !== null) {
    const result: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value))
      result[key] = interpolate(item, env, problems, joinPath(path, key));
    return result;
  }
  return value;
}

function interpolateString(
  text: string,
  env: NodeJS.ProcessEnv,
  problems: ConfigProblem[],
  path: string,
): string {
  return text.replace(
    reference,
    (match, name: string | undefined, fallback: string | undefined) => {
      if (match === "$$") return "$";

      const value = env[name!];
      if (value !== undefined && value !== "") return value;
      if (fallback !== undefined) return fallback;

      problems.push({
        path,
        code: ErrorCode.CONFIG_ENV_MISSING,
        message: `environment variable ${name} is not set; set it or write \${${name}:-default}`,
      });
      return match;
    },
  );
}
