import type { IncomingMessage } from "node:http";
import { ErrorCode, WeftError } from "../errors.js";

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Reads a request body as JSON, stopping at `limit` bytes.
 * @throws `WEFT_ERR_HTTP_UNSUPPORTED_MEDIA_TYPE` for a content-encoding other than identity or a charset other than UTF-8,
 * `WEFT_ERR_HTTP_BODY_TOO_LARGE` past the limit, `WEFT_ERR_HTTP_BAD_REQUEST` for bytes that are not UTF-8,
 * `WEFT_ERR_HTTP_JSON_INVALID` with the position of a syntax error.
 */
export async function readJson(
  request: IncomingMessage,
  limit: number,
): Promise<unknown> {
  checkEncoding(request);
  const declared = Number(request.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);

  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw tooLarge(limit);
    chunks.push(chunk);
  }

  const text = decodeUtf8(Buffer.concat(chunks));
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

/** Rejects bodies this server cannot read as they are: compressed, or in a charset other than UTF-8. */
function checkEncoding(request: IncomingMessage): void {
  const encoding = (request.headers["content-encoding"] ?? "identity")
    .trim()
    .toLowerCase();
  if (encoding !== "identity" && encoding !== "") {
    throw new WeftError(
      ErrorCode.HTTP_UNSUPPORTED_MEDIA_TYPE,
      `content-encoding ${JSON.stringify(encoding)} is not supported; send the body uncompressed, without content-encoding`,
      { details: { contentEncoding: encoding } },
    );
  }

  const charset = /;\s*charset\s*=\s*"?([^";\s]*)/i.exec(
    request.headers["content-type"] ?? "",
  )?.[1];
  if (charset !== undefined && !/^utf-?8$/i.test(charset)) {
    throw new WeftError(
      ErrorCode.HTTP_UNSUPPORTED_MEDIA_TYPE,
      `charset ${JSON.stringify(charset)} is not supported; send the body as UTF-8 with charset=utf-8 or no charset`,
      { details: { charset } },
    );
  }
}

/** Decodes a body as UTF-8, rejecting invalid bytes instead of replacing them with U+FFFD, so two different ids never read alike. */
function decodeUtf8(bytes: Buffer): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new WeftError(
      ErrorCode.HTTP_BAD_REQUEST,
      "request body is not valid UTF-8; send JSON encoded as UTF-8",
    );
  }
}
