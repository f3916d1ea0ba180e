import { ErrorCode, WeftError } from "../errors.js";

/** Encodes the id a page ended at as an opaque cursor. */
export function encodeCursor(lastId: string): string {
  return Buffer.from(JSON.stringify({ after: lastId })).toString("base64url");
}

/**
 * Decodes a cursor from a previous page.
 * @throws WeftError `WEFT_ERR_HTTP_BAD_REQUEST` for a cursor this store did not issue.
 */
export function decodeCursor(cursor: string): string {
  try {
    const decoded = JSON.parse(
      Buffer.from(cursor, "base64url").toString("utf8"),
    ) as { after?: unknown };
    if (typeof decoded.after === "string") return decoded.after;
  } catch {
    // Reported below with the cursor itself.
  }
  throw new WeftError(
    ErrorCode.HTTP_BAD_REQUEST,
    `invalid cursor ${JSON.stringify(cursor)}; pass the "next" value of the previous page unchanged`,
    {
      details: { cursor },
    },
  );
}
