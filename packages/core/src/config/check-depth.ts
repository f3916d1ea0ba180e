import { ErrorCode } from "../errors.js";
import { findTooDeep } from "../nesting-depth.js";
import { joinPath, type ConfigProblem } from "./config-problem.js";

/**
 * Maximum nesting of objects and arrays in a config, the root counting as
 * level 1. Schema checking, interpolation and filter compiling recurse once
 * per level, so a deeper config would overflow the call stack (at about 2,000
 * levels on Node 20) instead of being reported. Real configs, `where` filters
 * included, stay far below this limit.
 */
export const maxConfigDepth = 100;

/**
 * Checks that a parsed config nests no deeper than {@link maxConfigDepth},
 * without recursion, so it cannot overflow on the input it rejects.
 * @returns the problem at the first value too deep, or undefined.
 */
export function checkConfigDepth(
  root: unknown,
  basePath = "",
): ConfigProblem | undefined {
  const keys = findTooDeep(root, maxConfigDepth);
  if (keys === undefined) return undefined;
  return {
    path: shortPath(keys, basePath),
    code: ErrorCode.CONFIG_INVALID,
    message: `nested too deep; the limit is ${maxConfigDepth} levels of objects and arrays, so flatten this value`,
  };
}

/** Keys of a too-deep path that the problem shows; the full path would be about a hundred keys long. */
const shownKeys = 10;

function shortPath(keys: Array<string | number>, basePath: string): string {
  const path = keys.slice(0, shownKeys).reduce<string>(joinPath, basePath);
  return keys.length > shownKeys ? `${path}...` : path;
}
