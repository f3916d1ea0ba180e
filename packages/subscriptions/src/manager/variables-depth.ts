import type { GraphQLError } from "graphql";
import { findTooDeep } from "@weft/core";
import { SubscriptionsErrorCode, graphQLErrorWithCode } from "../errors.js";

/**
 * Maximum nesting of lists and objects in one variable value. graphql-js 16
 * coerces variables recursively. Measured with graphql 16.15 on Node 20's
 * default stack in a bare script, a `where` of `and` lists overflows from
 * 728 levels (about 1,450 lists and objects) and one of `not` from 2,733.
 * A server call has less stack left, so the limit keeps a wide margin.
 * A `where` at core's 64 levels of `and` nests about 130 levels.
 */
export const MAX_VARIABLE_DEPTH = 500;

/**
 * Checks the nesting of every variable value without recursion, so a value
 * too deep for graphql-js's coercion gets a client error before it runs.
 * Returns the error for the first variable nested deeper than
 * {@link MAX_VARIABLE_DEPTH}.
 */
export function checkVariablesDepth(
  variables: Record<string, unknown>,
): GraphQLError | undefined {
  for (const [name, value] of Object.entries(variables)) {
    if (findTooDeep(value, MAX_VARIABLE_DEPTH) !== undefined) {
      return graphQLErrorWithCode(
        SubscriptionsErrorCode.QUERY_TOO_DEEP,
        `variable $${name} nests deeper than ${MAX_VARIABLE_DEPTH} levels of lists and objects; flatten nested where filters and lists`,
        { variable: name, maxDepth: MAX_VARIABLE_DEPTH },
      );
    }
  }
  return undefined;
}
