import { ErrorCode, MAX_WHERE_DEPTH, WeftError, type Where } from "@weft/core";
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
 * @throws WeftError `WEFT_ERR_FILTER_INVALID` for more than
 * `MAX_WHERE_DEPTH` levels of `and`, `or` and `not`, as core's compileFilter
 * raises for the same filter.
 */
export function toCoreWhere(input: unknown): Where | undefined {
  if (input === null || input === undefined) return undefined;

  const where = toCoreClause(input as Record<string, unknown>, ["where"]);
  return Object.keys(where).length > 0 ? where : undefined;
}

/**
 * Converts one clause. A clause with nothing left stays `{}`, not absent,
 * because core matches `{}` against every object: `not: {}` then matches
 * nothing and `or: [{}]` everything, as in HTTP and trigger filters.
 */
function toCoreClause(input: Record<string, unknown>, path: string[]): Where {
  const where: Where = {};
  for (const [key, value] of Object.entries(input)) {
    if (value === null || value === undefined) continue;

    if (key === "and" || key === "or") {
      checkDepth(path, key);
      where[key] = (value as Array<Record<string, unknown>>).map((clause, i) =>
        toCoreClause(clause, [...path, `${key}[${i}]`]),
      );
    } else if (key === "not") {
      checkDepth(path, key);
      where.not = toCoreClause(value as Record<string, unknown>, [
        ...path,
        key,
      ]);
    } else if (!combinatorNames.has(key)) {
      const condition = toCoreCondition(value as Record<string, unknown>);
      if (condition) where[key] = condition;
    }
  }
  return where;
}

/** Raises core's error for a clause nested `MAX_WHERE_DEPTH` levels deep, so the GraphQL API enforces the limit of HTTP and config filters. */
function checkDepth(path: string[], key: string): void {
  const depth = path.length - 1;
  if (depth < MAX_WHERE_DEPTH) return;

  const where = [...path, key].join(".");
  throw new WeftError(
    ErrorCode.FILTER_INVALID,
    `${where}: nested deeper than ${MAX_WHERE_DEPTH} levels of and, or and not; flatten the filter`,
    { details: { path: where } },
  );
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
