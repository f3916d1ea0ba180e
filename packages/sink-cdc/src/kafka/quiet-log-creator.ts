import { createLogCreator } from "@weft/kafka";
import kafkajs, { type logCreator } from "kafkajs";
import type { Logger } from "pino";

// kafkajs is CommonJS, and Node cannot detect all of its named exports for ESM imports.
const { logLevel } = kafkajs;

/** Distinct repeated messages tracked at once; beyond it the oldest are forgotten. */
const MAX_TRACKED = 500;

/**
 * Wraps the `@weft/kafka` log bridge so each kafkajs error or warning is
 * logged once per `windowMs`. While a broker is down kafkajs logs two errors
 * per connection attempt; the first is logged, later ones only counted, and
 * the next entry after the window carries `repeated` with the count.
 */
export function createQuietLogCreator(
  logger: Logger,
  windowMs = 30_000,
): logCreator {
  const forward = createLogCreator(logger)(logLevel.DEBUG);
  const recent = new Map<string, { until: number; repeated: number }>();

  return () => (entry) => {
    if (entry.level > logLevel.WARN) {
      forward(entry);
      return;
    }
    const key = `${entry.namespace}\u0000${entry.log.message}`;
    const now = Date.now();
    const seen = recent.get(key);
    if (seen && now < seen.until) {
      seen.repeated += 1;
      return;
    }

    recent.delete(key);
    if (recent.size >= MAX_TRACKED)
      recent.delete(recent.keys().next().value as string);
    recent.set(key, { until: now + windowMs, repeated: 0 });
    forward(
      seen && seen.repeated > 0
        ? { ...entry, log: { ...entry.log, repeated: seen.repeated } }
        : entry,
    );
  };
}
