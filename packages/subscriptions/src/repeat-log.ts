import type { PluginHost } from "@weft/core";

type Logger = PluginHost["logger"];

/**
 * Logs a repeating warning at most once per interval, with how many times
 * it happened since the last line, so a hot loop does not flood the log.
 */
export class RepeatLog {
  readonly #logger: Logger;
  readonly #message: string;
  readonly #intervalMs: number;
  #count = 0;
  #lastAt = 0;

  constructor(logger: Logger, message: string, intervalMs = 10_000) {
    this.#logger = logger;
    this.#message = message;
    this.#intervalMs = intervalMs;
  }

  /** Counts one occurrence and logs when the interval has passed since the last line. */
  warn(fields: Record<string, unknown>): void {
    this.#count += 1;
    const now = Date.now();
    if (now - this.#lastAt < this.#intervalMs) return;

    this.#logger.warn({ ...fields, occurrences: this.#count }, this.#message);
    this.#count = 0;
    this.#lastAt = now;
  }
}
