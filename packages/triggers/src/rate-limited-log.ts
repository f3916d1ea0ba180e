import type { PluginHost } from "@weft/core";

type Logger = PluginHost["logger"];
type Level = "warn" | "error" | "info";

/**
 * Logs at most one line per key and interval, so an endpoint that fails
 * thousands of deliveries does not flood the log. The next line that gets
 * through carries `suppressed`, the number of lines dropped since the last
 * one. The dropped lines still go out at debug level.
 */
export class RateLimitedLog {
  readonly #logger: Logger;
  readonly #intervalMs: number;
  readonly #last = new Map<string, { at: number; suppressed: number }>();

  constructor(logger: Logger, intervalMs = 5000) {
    this.#logger = logger;
    this.#intervalMs = intervalMs;
  }

  log(
    level: Level,
    key: string,
    fields: Record<string, unknown>,
    message: string,
  ): void {
    const now = Date.now();
    const entry = this.#last.get(key);
    if (entry && now - entry.at < this.#intervalMs) {
      entry.suppressed += 1;
      this.#logger.debug(fields, message);
      return;
    }
    this.#last.set(key, { at: now, suppressed: 0 });
    this.#logger[level](
      {
        ...fields,
        ...(entry?.suppressed ? { suppressed: entry.suppressed } : {}),
      },
      message,
    );
  }
}
