import type { Where } from "@weft/core";
import { combinatorNames } from "./names.js";

/** Operators whose explicit null operand means "compare with null". */
const nullableOperators = new Set(["equals", "notEquals"]);

/**
 * Converts the coerced value of a generated `<Class>Where` input into core's
 * filter language. The shapes already match. This drops what GraphQL lets a
 * client write but core rejects: null combinators, null or empty property
 * conditions, and null operands other than `equals: null` and
 * `notEquals: null`. Returns undefined when nothing is left, which matches
 * every object.
 */
export function toCoreWhere(input: unknown): Where | undefined {
  if (input === null || input === undefined) return undefined;

  const where: Where = {};
  for (const [key, value] of Object.entries(input as Record<string, unknown>)) {
    if (value === null || value === undefined) continue;

    if (key === "and" || key === "or") {
      const clauses = (value as unknown[])
        .map(toCoreWhere)
        .filter((clause): clause is Where => clause !== undefined);
      // An empty `and` matches everything and an empty `or` nothing, as in core.
      where[key] = clauses;
    } else if (key === "not") {
      const clause = toCoreWhere(value);
      if (clause) where.not = clause;
    } else if (!combinatorNames.has(key)) {
      const condition = toCoreCondition(value as Record<string, unknown>);
      if (condition) where[key] = condition;
    }
  }
  return Object.keys(where).length > 0 ? where : undefined;
}

function toCoreCondition(
  input: Record<string, unknown>,
): Record<string, unknown> | undefined {
  const condition: Record<string, unknown> = {};
  for (const [operator, operand] of Object.entries(input)) {
    if (operand === undefined) continue;
    if (operand === null && !nullableOperators.has(operator)) continue;
    condition[operator] = operand;
  }
  return Object.keys(condition).length > 0 ? condition : undefined;
}
