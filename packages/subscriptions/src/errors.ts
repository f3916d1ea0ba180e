import { GraphQLError } from "graphql";
import { isWeftError } from "@weft/core";

/**
 * Codes raised by `@weft/subscriptions`. Clients read them from
 * `extensions.code` of a GraphQL error; docs/errors.md has one row per code.
 */
export const SubscriptionsErrorCode = {
  /** The host already serves `maxSubscribers` subscriptions. */
  LIMIT: "WEFT_ERR_SUBSCRIPTIONS_LIMIT",
  /** The connection already has `maxSubscriptionsPerConnection` operations. */
  CONNECTION_LIMIT: "WEFT_ERR_SUBSCRIPTIONS_CONNECTION_LIMIT",
  /** The operation nests deeper than `maxQueryDepth`, or a literal or variable nests too deep to process. */
  QUERY_TOO_DEEP: "WEFT_ERR_SUBSCRIPTIONS_QUERY_TOO_DEEP",
  /** The document does not parse or fails validation against the schema. */
  DOCUMENT_INVALID: "WEFT_ERR_SUBSCRIPTIONS_DOCUMENT_INVALID",
  /** `operationName` is missing for a document with several operations, or names none of them. */
  OPERATION_NAME_INVALID: "WEFT_ERR_SUBSCRIPTIONS_OPERATION_NAME_INVALID",
  /** A variable value does not fit the type its definition declares. */
  VARIABLES_INVALID: "WEFT_ERR_SUBSCRIPTIONS_VARIABLES_INVALID",
  /** `afterSeq` is not a string of digits. */
  AFTER_SEQ_INVALID: "WEFT_ERR_SUBSCRIPTIONS_AFTER_SEQ_INVALID",
  /** `afterSeq` is past the last committed seq, so the client saw another change log. */
  AFTER_SEQ_AHEAD: "WEFT_ERR_SUBSCRIPTIONS_AFTER_SEQ_AHEAD",
  /** The request is not a GraphQL request, or uses the wrong transport. */
  BAD_REQUEST: "WEFT_ERR_SUBSCRIPTIONS_BAD_REQUEST",
  /** A query argument is out of range (page size, vector). */
  ARGUMENT_INVALID: "WEFT_ERR_SUBSCRIPTIONS_ARGUMENT_INVALID",
  /** A subscriber's buffer overflowed under the `disconnect` policy. */
  SLOW_CONSUMER: "WEFT_ERR_SUBSCRIPTIONS_SLOW_CONSUMER",
  /** The plugin is stopping or stopped. */
  STOPPING: "WEFT_ERR_SUBSCRIPTIONS_STOPPING",
  /** A class or property name cannot be mapped to the GraphQL schema. */
  SCHEMA_CONFLICT: "WEFT_ERR_SUBSCRIPTIONS_SCHEMA_CONFLICT",
  /** An unexpected failure inside the plugin; the host log has the cause. */
  INTERNAL: "WEFT_ERR_SUBSCRIPTIONS_INTERNAL",
} as const;

/**
 * Creates a GraphQL error with a stable `extensions.code`, the form clients
 * of both the WebSocket and the HTTP endpoint receive.
 */
export function graphQLErrorWithCode(
  code: string,
  message: string,
  details?: Record<string, unknown>,
): GraphQLError {
  return new GraphQLError(message, {
    extensions: { code, ...(details ? { details } : {}) },
  });
}

/**
 * Returns `error` with `code` in `extensions.code`, keeping its locations,
 * path and original error. An error that already has a code keeps it.
 */
export function withCode(error: GraphQLError, code: string): GraphQLError {
  if (error.extensions.code !== undefined) return error;
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    originalError: error.originalError,
    extensions: { ...error.extensions, code },
  });
}

/** Tells whether `error` is V8's "Maximum call stack size exceeded". */
export function isStackOverflow(error: unknown): boolean {
  return error instanceof RangeError && /call stack/i.test(error.message);
}

/**
 * Creates the client error for a request whose nesting overflowed the stack
 * of graphql-js's recursive parser, coercion or execution.
 */
export function tooDeepError(step: string): GraphQLError {
  return graphQLErrorWithCode(
    SubscriptionsErrorCode.QUERY_TOO_DEEP,
    `the request nests too deep to ${step}; flatten nested where filters and lists`,
  );
}

/**
 * Converts an error thrown by a resolver or by core into a GraphQL error
 * that carries the `WEFT_ERR_*` code in `extensions.code`. A stack overflow
 * becomes `WEFT_ERR_SUBSCRIPTIONS_QUERY_TOO_DEEP`, taken as graphql-js
 * recursing over deeply nested client input. Other errors without a code
 * keep their message but get `WEFT_ERR_SUBSCRIPTIONS_INTERNAL`.
 */
export function toGraphQLError(error: unknown): GraphQLError {
  if (isStackOverflow(error)) return tooDeepError("process");
  if (error instanceof GraphQLError) {
    if (isStackOverflow(error.originalError)) return tooDeepError("process");
    if (error.extensions.code !== undefined) return error;
    const original = error.originalError;
    if (isWeftError(original)) {
      return new GraphQLError(error.message, {
        nodes: error.nodes,
        source: error.source,
        positions: error.positions,
        path: error.path,
        originalError: original,
        extensions: { ...error.extensions, code: original.code },
      });
    }
    return error;
  }

  if (isWeftError(error)) {
    return new GraphQLError(error.message, {
      originalError: error,
      extensions: { code: error.code },
    });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new GraphQLError(message, {
    originalError: error instanceof Error ? error : undefined,
    extensions: { code: SubscriptionsErrorCode.INTERNAL },
  });
}
