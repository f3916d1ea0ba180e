import { ErrorCode } from "../errors.js";
import { joinPath, type ConfigProblem } from "./config-problem.js";

/**
 * Maximum nesting of objects and arrays in a config, the root counting as
 * level 1. Schema checking, interpolation and filter compiling recurse once
 * per level, so a deeper config would overflow the call stack (at about 2,000
 * levels on Node 20) instead of being reported. Real configs, `where` filters
 * included, stay far below this limit.
 */
export const maxConfigDepth = 100;

interface Frame {
  value: unknown;
  depth: number;
  parent?: Frame;
  key?: string | number;
}

/**
 * Checks that a parsed config nests no deeper than {@link maxConfigDepth}.
 * It walks with an explicit stack instead of recursing, so it cannot overflow
 * on the input it rejects. It stops at the first level past the limit, so a
 * config object with a cycle (possible in an ES module config) ends there too.
 * @returns the problem at the first value too deep, or undefined.
 */
export function checkConfigDepth(
  root: unknown,
  basePath = "",
): ConfigProblem | undefined {
  const stack: Frame[] = [{ value: root, depth: 1 }];

  for (let frame = stack.pop(); frame; frame = stack.pop()) {
    const { value, depth } = frame;
    if (typeof value !== "object" || value === null) continue;

    if (depth > maxConfigDepth)
      return {
        path: framePath(frame, basePath),
        code: ErrorCode.CONFIG_INVALID,
        message: `nested too deep; the limit is ${maxConfigDepth} levels of objects and arrays, so flatten this value`,
      };

    const entries: Array<[string | number, unknown]> = Array.isArray(value)
      ? value.map((item, i) => [i, item])
      : Object.entries(value);
    for (const [key, item] of entries)
      if (typeof item === "object" && item !== null)
        stack.push({ value: item, depth: depth + 1, parent: frame, key });
  }
  return undefined;
}

/** Keys of a too-deep path that the problem shows; the full path would be about a hundred keys long. */
const shownKeys = 10;

/** Builds the config path of a frame from its chain of parents, only for the one problem reported. */
function framePath(frame: Frame, basePath: string): string {
  const keys: Array<string | number> = [];
  for (let current: Frame | undefined = frame; current?.parent;) {
    keys.push(current.key!);
    current = current.parent;
  }
  keys.reverse();

  const path = keys.slice(0, shownKeys).reduce<string>(joinPath, basePath);
  return keys.length > shownKeys ? `${path}...` : path;
}
