import { randomBytes } from "node:crypto";

let counter = 0;

/**
 * Returns a topic name that no other test uses, so tests share one broker
 * without seeing each other's messages: `<prefix>-<pid>-<counter>-<random>`.
 * Kafka topic names allow only letters, digits, ".", "_" and "-", so other
 * characters in `prefix` become "-".
 */
export function uniqueTopic(prefix = "test"): string {
  counter += 1;
  const safePrefix = prefix.replace(/[^A-Za-z0-9._-]/g, "-");
  return `${safePrefix}-${process.pid}-${counter}-${randomBytes(3).toString("hex")}`;
}
