import { pino, type Logger, type LoggerOptions } from "pino";

/**
 * Paths pino redacts in every log line of a host, so a plugin that logs a
 * request or a connection config never prints a credential.
 */
export const redactPaths = [
  "password",
  "*.password",
  "secret",
  "*.secret",
  "apiKey",
  "*.apiKey",
  "apiKeys",
  "*.apiKeys",
  "authorization",
  "*.authorization",
  "headers.authorization",
  "*.headers.authorization",
  "sasl.password",
  "*.sasl.password",
];

/** Creates the host's root logger. Plugins get children bound to `{ plugin }`. */
export function createLogger(options: LoggerOptions = {}): Logger {
  return pino({
    level: process.env.WEFT_LOG_LEVEL ?? "info",
    redact: { paths: redactPaths, censor: "[redacted]" },
    ...options,
  });
}
