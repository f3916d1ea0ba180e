import type { IncomingMessage } from "node:http";
import { ErrorCode, WeftError } from "../errors.js";

/**
 * Reads a request body as JSON, stopping at `limit` bytes.
 * @throws `WEFT_ERR_HTTP_BODY_TOO_LARGE` past the limit, `WEFT_ERR_HTTP_JSON_INVALID` with the position of a syntax error.
 */
export async function readJson(
  request: IncomingMessage,
  limit: number,
): Promise<unknown> {
  const declared = Number(request.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);

  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw tooLarge(limit);
    chunks.push(chunk);
  }

  const text = Buffer.concat(chunks).toString("utf8");
  if (text.trim() === "") {
    throw new WeftError(
      ErrorCode.HTTP_JSON_INVALID,
      "request body is empty; send a JSON object",
      { details: { position: 0 } },
    );
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    const match = /position (\d+)/.exec((error as Error).message);
    // Node 20 names no position for a body that ends too early: the error is at its end.
    const position = match ? Number(match[1]) : text.length;
    throw new WeftError(
      ErrorCode.HTTP_JSON_INVALID,
      `request body is not valid JSON at position ${position}: ${(error as Error).message}`,
      {
        details: { position },
      },
    );
  }
}

function tooLarge(limit: number): WeftError {
  return new WeftError(
    ErrorCode.HTTP_BODY_TOO_LARGE,
    `request body is larger than the limit of ${limit} bytes; send smaller batches or raise server.bodyLimit`,
    {
      details: { limit },
    },
  );
}
