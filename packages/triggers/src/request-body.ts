import { previewValue, type RouteContext } from "@weft/core";
import {
  TriggersErrorCode,
  triggersError,
  type TriggersErrorCodeValue,
} from "./errors.js";

/** Characters of a request key that the error details show. */
const previewLength = 40;

/** Creates the 400 error of the trigger API. */
export function invalidRequest(
  message: string,
  details?: Record<string, unknown>,
) {
  return triggersError(
    TriggersErrorCode.REQUEST_INVALID as TriggersErrorCodeValue,
    message,
    details ? { details } : undefined,
  );
}

/**
 * Reads the JSON object body of a request and rejects keys outside
 * `allowedKeys`, so a misspelled key is an error instead of being ignored.
 */
export async function objectBody(
  context: RouteContext,
  allowedKeys: readonly string[],
): Promise<Record<string, unknown>> {
  const body = await context.json();
  if (typeof body !== "object" || body === null || Array.isArray(body))
    throw invalidRequest("request body must be a JSON object");

  const unknownKey = Object.keys(body).find(
    (key) => !allowedKeys.includes(key),
  );
  if (unknownKey !== undefined) {
    throw invalidRequest(
      `request body has unknown key ${previewValue(unknownKey)}; allowed keys: ${allowedKeys.join(", ")}`,
      { key: unknownKey.slice(0, previewLength) },
    );
  }
  return body as Record<string, unknown>;
}
