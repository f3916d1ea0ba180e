import type { Duplex } from "node:stream";
import { ErrorCode } from "../errors.js";

/**
 * Sends a JSON error for a request that Node's HTTP parser rejected before
 * any route ran, then closes the socket. Node's default handler sends the
 * same status with an empty body. When the peer is gone or the socket can no
 * longer be written, the socket is destroyed without a response.
 */
export function rejectMalformedRequest(
  error: NodeJS.ErrnoException & { bytesParsed?: number },
  socket: Duplex,
): void {
  if (error.code === "ECONNRESET" || !socket.writable) {
    socket.destroy();
    return;
  }

  const tooLarge = error.code === "HPE_HEADER_OVERFLOW";
  const body = JSON.stringify({
    error: tooLarge
      ? {
          code: ErrorCode.HTTP_HEADERS_TOO_LARGE,
          message:
            "the request line and headers are over the server's limit (16 KiB by default); shorten the URL or the headers (write objects with long ids through the body of POST /v1/objects or /v1/batch/objects, and split a long where filter into several requests), or start Node with a larger --max-http-header-size",
        }
      : {
          code: ErrorCode.HTTP_BAD_REQUEST,
          message: `the request is not valid HTTP/1.1 (${error.code ?? "parse error"})`,
        },
  });
  const status = tooLarge
    ? "431 Request Header Fields Too Large"
    : "400 Bad Request";

  socket.end(
    `HTTP/1.1 ${status}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
