/** Splits a dotted path such as `meta.sku` into member names. */
export function splitPath(path: string): string[] {
  return path.split(".");
}

/** Returns the value at `path` in `value`, or undefined when a step is missing or not an object. */
export function getPath(value: unknown, path: readonly string[]): unknown {
  let current = value;
  for (const name of path) {
    if (!isRecord(current)) return undefined;
    current = current[name];
  }
  return current;
}

/** Removes the member at `path` and returns its value; undefined when absent. */
export function removePath(
  value: Record<string, unknown>,
  path: readonly string[],
): unknown {
  const parent = getPath(value, path.slice(0, -1));
  if (!isRecord(parent)) return undefined;

  const name = path[path.length - 1];
  if (!Object.hasOwn(parent, name)) return undefined;
  const removed = parent[name];
  delete parent[name];
  return removed;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
