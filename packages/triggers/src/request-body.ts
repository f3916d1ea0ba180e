import type { RouteContext } from "@weft/core";
import {
  TriggersErrorCode,
  triggersError,
  type TriggersErrorCodeValue,
} from "./errors.js";

/** Characters of a request value that an error message shows. */
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

/**
 * Formats the start of a request value as JSON for an error message, cut
 * after about 40 characters with "…". A body may hold a string of megabytes
 * or an array nested 100,000 deep, and JSON.stringify of the latter
 * overflows the stack. The walk stops once the text is long enough, and
 * every level adds a bracket, so it recurses at most about 40 levels.
 */
export function previewValue(value: unknown): string {
  const parts: string[] = [];
  let length = 0;
  const append = (text: string): boolean => {
    parts.push(text);
    length += text.length;
    return length <= previewLength;
  };

  const write = (item: unknown): boolean => {
    if (Array.isArray(item)) {
      if (!append("[")) return false;
      for (let i = 0; i < item.length; i += 1) {
        if (i > 0 && !append(",")) return false;
        if (!write(item[i])) return false;
      }
      return append("]");
    }
    if (typeof item === "object" && item !== null) {
      if (!append("{")) return false;
      let first = true;
      for (const [key, field] of Object.entries(item)) {
        if (!first && !append(",")) return false;
        first = false;
        if (!append(`${JSON.stringify(key.slice(0, previewLength))}:`))
          return false;
        if (!write(field)) return false;
      }
      return append("}");
    }
    const text =
      typeof item === "string"
        ? JSON.stringify(item.slice(0, previewLength + 1))
        : String(JSON.stringify(item) ?? item);
    return append(text);
  };

  const complete = write(value);
  const text = parts.join("");
  if (complete) return text;
  return `${text.slice(0, previewLength)}…`;
}
