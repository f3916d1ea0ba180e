import { Writable } from "node:stream";
import { pino, type Logger } from "pino";
import { redactPaths } from "../logger.js";

/**
 * Creates a pino logger at trace level that keeps every line it writes in
 * `lines`, as written, with the host's redaction of secrets, so a test can
 * check that no secret reaches a log line.
 */
export function captureLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString("utf8"));
      done();
    },
  });
  return {
    logger: pino(
      { level: "trace", redact: { paths: redactPaths, censor: "[redacted]" } },
      stream,
    ),
    lines,
  };
}
