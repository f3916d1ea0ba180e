import kafkajs, { type logCreator } from "kafkajs";
import type { Level, Logger } from "pino";

// kafkajs is CommonJS, and Node cannot detect all of its named exports for ESM imports.
const { logLevel } = kafkajs;

/** Returns the kafkajs log level that passes the same entries as the pino logger's current level. */
export function kafkajsLogLevel(logger: Logger): kafkajs.logLevel {
  const levels: Record<Level | "silent", kafkajs.logLevel> = {
    trace: logLevel.DEBUG,
    debug: logLevel.DEBUG,
    info: logLevel.INFO,
    warn: logLevel.WARN,
    error: logLevel.ERROR,
    fatal: logLevel.ERROR,
    silent: logLevel.NOTHING,
  };
  return levels[logger.level as Level | "silent"] ?? logLevel.INFO;
}

/**
 * Creates a kafkajs `logCreator` that writes kafkajs log entries to `logger`
 * at the matching pino level. The kafkajs namespace (such as `Consumer` or
 * `Connection`) goes in the `kafkajs` field, and kafkajs's own fields
 * (broker, groupId, error, retry count) stay structured fields.
 */
export function createLogCreator(logger: Logger): logCreator {
  return () =>
    ({ namespace, level, log }) => {
      // kafkajs adds its own timestamp and logger name; pino records the time itself.
      const { message, timestamp, logger: _name, ...fields } = log;
      const entry = { kafkajs: namespace, ...fields };
      switch (level) {
        case logLevel.ERROR:
          logger.error(entry, message);
          break;
        case logLevel.WARN:
          logger.warn(entry, message);
          break;
        case logLevel.INFO:
          logger.info(entry, message);
          break;
        default:
          logger.debug(entry, message);
      }
    };
}
