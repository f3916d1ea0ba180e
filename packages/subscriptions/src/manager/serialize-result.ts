import {
  GraphQLError,
  type ExecutionResult,
  type GraphQLFormattedError,
} from "graphql";
import { isWeftError } from "@weft/core";
import { SubscriptionsErrorCode, toGraphQLError } from "../errors.js";
import { SerializedResult } from "./serialized-result.js";

/** Receives errors that carry no stable code, which are bugs or failures of a dependency. */
export type InternalErrorListener = (error: unknown) => void;

/**
 * Formats one error for a client: `WEFT_ERR_*` codes go to
 * `extensions.code`, and an unexpected error is reported to `onInternal`
 * and reaches the client only as "internal error", so internals do not
 * leak.
 */
export function formatError(
  error: unknown,
  onInternal?: InternalErrorListener,
): GraphQLFormattedError {
  const graphQLError = toGraphQLError(error);
  const original = graphQLError.originalError;
  const unexpected =
    original !== undefined &&
    !(original instanceof GraphQLError) &&
    !isWeftError(original);
  if (!unexpected) return graphQLError.toJSON();

  onInternal?.(original);
  return {
    message: "internal error; see the host log",
    ...(graphQLError.locations ? { locations: graphQLError.locations } : {}),
    ...(graphQLError.path ? { path: graphQLError.path } : {}),
    extensions: { code: SubscriptionsErrorCode.INTERNAL },
  };
}

/** Formats an execution result for JSON, with its errors formatted by {@link formatError}. */
export function formatResult(
  result: ExecutionResult,
  onInternal?: InternalErrorListener,
): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (result.errors && result.errors.length > 0)
    body.errors = result.errors.map((error) => formatError(error, onInternal));
  if ("data" in result) body.data = result.data;
  if (result.extensions) body.extensions = result.extensions;
  return body;
}

/**
 * Serializes an execution result without its outer braces, such as
 * `"data":{...}`, so each subscriber's `next` message is assembled around
 * one shared serialization.
 */
export function serializeResultMembers(
  result: ExecutionResult,
  onInternal?: InternalErrorListener,
): SerializedResult {
  return new SerializedResult(
    JSON.stringify(formatResult(result, onInternal)).slice(1, -1),
  );
}
