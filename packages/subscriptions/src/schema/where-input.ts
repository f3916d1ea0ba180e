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

  const where = toCoreClause(input as Record<string, unknown>);
  return Object.keys(where).length > 0 ? where : undefined;
}

/**
 * Converts one clause. A clause with nothing left stays `{}`, not absent,
 * because core matches `{}` against every object: `not: {}` then matches
 * nothing and `or: [{}]` everything, as in HTTP and trigger filters. Core's
 * filter compiler, which every result goes through, also applies its nesting
 * limit to the kept clauses.
 */
function toCoreClause(input: Record<string, unknown>): Where {
  const where: Where = {};
  for (const [key, value] of Object.entries(input)) {
    if (value === null || value === undefined) continue;

    if (key === "and" || key === "or") {
      where[key] = (value as Array<Record<string, unknown>>).map(toCoreClause);
    } else if (key === "not") {
      where.not = toCoreClause(value as Record<string, unknown>);
    } else if (!combinatorNames.has(key)) {
      const condition = toCoreCondition(value as Record<string, unknown>);
      if (condition) where[key] = condition;
    }
  }
  return where;
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
