import type { ChangeEvent, ChangeOp } from "../changes/types.js";
import type { ClassDefinition } from "../classes/types.js";
import { ErrorCode, WeftError } from "../errors.js";
import { compileFilter, type Predicate } from "./compile-filter.js";
import type { Where } from "./types.js";

/** Which change events a consumer wants: the filter shared by CDC, subscriptions and triggers. */
export interface ChangeFilterSpec {
  /** Class names; absent or empty means every class. */
  classes?: string[];
  /** Operations; absent or empty means all three. */
  operations?: ChangeOp[];
  where?: Where;
}

/**
 * Compiles a change filter once. `where` applies to `after`, or to `before`
 * for deletes; with several classes it is checked against each class's
 * properties.
 */
export function compileChangeFilter(
  spec: ChangeFilterSpec,
  classes: ReadonlyMap<string, ClassDefinition>,
  path = "filter",
): (event: ChangeEvent) => boolean {
  const classNames =
    spec.classes && spec.classes.length > 0 ? new Set(spec.classes) : undefined;
  for (const name of classNames ?? []) {
    if (!classes.has(name)) {
      throw new WeftError(
        ErrorCode.CLASS_UNKNOWN,
        `${path}.classes: unknown class "${name}"; configured classes: ${[...classes.keys()].join(", ")}`,
        {
          details: { path: `${path}.classes`, class: name },
        },
      );
    }
  }
  const operations =
    spec.operations && spec.operations.length > 0
      ? new Set(spec.operations)
      : undefined;

  const predicates = new Map<string, Predicate>();
  if (spec.where) {
    const targets = classNames ? [...classNames] : [...classes.keys()];
    for (const name of targets)
      predicates.set(
        name,
        compileFilter(
          spec.where,
          classNames?.size === 1 || targets.length === 1
            ? classes.get(name)
            : undefined,
          `${path}.where`,
        ),
      );
  }

  return (event) => {
    if (classNames && !classNames.has(event.class)) return false;
    if (operations && !operations.has(event.op)) return false;
    if (!spec.where) return true;

    const predicate = predicates.get(event.class);
    const image = event.op === "DELETE" ? event.before : event.after;
    return predicate !== undefined && image !== null && predicate(image);
  };
}
