import type { TSchema } from "@sinclair/typebox";
import { checkConfigDepth } from "../config/check-depth.js";
import { checkConfig } from "../config/check-schema.js";
import {
  formatProblems,
  type ConfigProblem,
} from "../config/config-problem.js";
import { ErrorCode, WeftError } from "../errors.js";
import type { Plugin } from "./define-plugin.js";

/**
 * Applies a plugin's schema to the config it is registered with, exactly as
 * the config loader does for a plugin entry of a file: defaults filled in,
 * strings converted to the schema's types, unknown keys rejected. So a plugin
 * registered in code gets the same config as the same settings from a file,
 * and a config the loader already checked comes out unchanged.
 * @throws WeftError `WEFT_ERR_CONFIG_INVALID` listing every problem under `configPath`.
 */
export function resolvePluginConfig(
  plugin: Plugin,
  config: Record<string, unknown>,
  configPath: string,
): Record<string, unknown> {
  // The schema check recurses per level, so a config too deep for it stops here.
  const tooDeep = checkConfigDepth(config, configPath);
  if (tooDeep) throw invalidConfig(plugin, [tooDeep]);

  const problems: ConfigProblem[] = [];
  const resolved = checkConfig<Record<string, unknown>>(
    plugin.configSchema as TSchema,
    config,
    configPath,
    problems,
  );
  if (problems.length > 0) throw invalidConfig(plugin, problems);
  return resolved;
}

function invalidConfig(plugin: Plugin, problems: ConfigProblem[]): WeftError {
  return new WeftError(
    ErrorCode.CONFIG_INVALID,
    `invalid config of plugin ${plugin.name}:\n${formatProblems(problems)}`,
    { details: { plugin: plugin.name, problems } },
  );
}
