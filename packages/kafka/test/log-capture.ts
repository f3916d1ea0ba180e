import { pino, type Logger } from "pino";

/** A log line as pino writes it. */
export interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** Creates a pino logger at debug level that keeps every line in `lines`. */
export function captureLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const stream = {
    write: (line: string) => void lines.push(JSON.parse(line) as LogLine),
  };
  return { logger: pino({ level: "debug" }, stream), lines };
}

/** pino's numeric levels. */
export const levels = { debug: 20, info: 30, warn: 40, error: 50 } as const;
