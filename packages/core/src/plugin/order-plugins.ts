import { ErrorCode } from "../errors.js";
import type { ConfigProblem } from "../config/config-problem.js";

/** What ordering needs to know of one loaded plugin. */
export interface OrderEntry {
  name: string;
  path: string;
  dependencies: readonly string[];
}

/**
 * Orders plugins so each registers after its dependencies, keeping config
 * order otherwise. Missing and cyclic dependencies become problems that name
 * both plugins.
 */
export function orderPlugins<T extends OrderEntry>(
  entries: T[],
  problems: ConfigProblem[],
): T[] {
  const byName = new Map(entries.map((entry) => [entry.name, entry]));
  const ordered: T[] = [];
  const state = new Map<string, "visiting" | "done">();

  const visit = (entry: T, chain: string[]): void => {
    const mark = state.get(entry.name);
    if (mark === "done") return;
    if (mark === "visiting") {
      const cycle = [...chain.slice(chain.indexOf(entry.name)), entry.name];
      problems.push({
        path: entry.path,
        code: ErrorCode.PLUGIN_DEPENDENCY_CYCLE,
        message: `plugins ${cycle.join(" -> ")} depend on each other in a cycle; remove one of these dependencies`,
      });
      return;
    }

    state.set(entry.name, "visiting");
    for (const dependency of entry.dependencies) {
      const target = byName.get(dependency);
      if (target) visit(target, [...chain, entry.name]);
      else {
        problems.push({
          path: entry.path,
          code: ErrorCode.PLUGIN_DEPENDENCY_MISSING,
          message: `plugin ${entry.name} depends on plugin ${dependency}, which is not in the config; add it to plugins`,
        });
      }
    }
    state.set(entry.name, "done");
    ordered.push(entry);
  };

  for (const entry of entries) visit(entry, []);
  return ordered;
}
