/** A container on the walk's stack, with the way back to the root for the path of a value too deep. */
interface Frame {
  value: object;
  depth: number;
  parent?: Frame;
  key?: string | number;
}

/**
 * Finds the first object or array nested deeper than `maxDepth` levels, the
 * value itself counting as level 1. It walks depth first with an explicit
 * stack, so it cannot overflow the call stack on the input it rejects. It
 * stops at the first level past the limit, so a value with a cycle ends
 * there too.
 * @returns the keys from `value` to the first container too deep, or undefined when none is.
 */
export function findTooDeep(
  value: unknown,
  maxDepth: number,
): Array<string | number> | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const stack: Frame[] = [{ value, depth: 1 }];

  for (let frame = stack.pop(); frame; frame = stack.pop()) {
    if (frame.depth > maxDepth) return keysOf(frame);

    const container = frame.value;
    const depth = frame.depth + 1;
    if (Array.isArray(container)) {
      for (let i = 0; i < container.length; i++) {
        const item: unknown = container[i];
        if (typeof item === "object" && item !== null)
          stack.push({ value: item, depth, parent: frame, key: i });
      }
      continue;
    }
    for (const key in container) {
      if (!Object.hasOwn(container, key)) continue;
      const item = (container as Record<string, unknown>)[key];
      if (typeof item === "object" && item !== null)
        stack.push({ value: item, depth, parent: frame, key });
    }
  }
  return undefined;
}

function keysOf(frame: Frame): Array<string | number> {
  const keys: Array<string | number> = [];
  for (let current: Frame | undefined = frame; current?.parent;) {
    keys.push(current.key!);
    current = current.parent;
  }
  return keys.reverse();
}
