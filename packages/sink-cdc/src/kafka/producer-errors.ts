/**
 * Broker error types after which an idempotent producer cannot continue:
 * its producer id or sequence numbers no longer match the broker's state,
 * so every later send fails the same way until a new producer (with a new
 * producer id) takes over. Names as kafkajs 2.2.4 reports them in
 * `KafkaJSProtocolError.type`.
 */
const fatalProducerErrorTypes = new Set([
  "OUT_OF_ORDER_SEQUENCE_NUMBER",
  "DUPLICATE_SEQUENCE_NUMBER",
  "INVALID_PRODUCER_EPOCH",
  "UNKNOWN_PRODUCER_ID",
  "INVALID_PRODUCER_ID_MAPPING",
  "PRODUCER_FENCED",
]);

/** Follows `cause` links from `error`, the outer error first. kafkajs wraps retried errors this way. */
export function* causeChain(error: unknown): Iterable<unknown> {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current !== undefined && current !== null && !seen.has(current)) {
    seen.add(current);
    yield current;
    current = (current as { cause?: unknown }).cause;
  }
}

/** Returns the kafkajs protocol error type found in the cause chain, such as `NOT_LEADER_OR_FOLLOWER`. */
export function protocolErrorType(error: unknown): string | undefined {
  for (const link of causeChain(error)) {
    const type = (link as { type?: unknown }).type;
    if (typeof type === "string") return type;
  }
  return undefined;
}

/** Tells whether the producer must be replaced before the next send; see {@link fatalProducerErrorTypes}. */
export function isFatalProducerError(error: unknown): boolean {
  const type = protocolErrorType(error);
  return type !== undefined && fatalProducerErrorTypes.has(type);
}

/**
 * Returns a short, bounded label for metrics: the protocol error type when
 * there is one, otherwise the innermost error's name (such as
 * `KafkaJSConnectionError`).
 */
export function errorReason(error: unknown): string {
  const type = protocolErrorType(error);
  if (type !== undefined) return type;
  let name = "Error";
  for (const link of causeChain(error)) {
    const candidate = (link as { name?: unknown }).name;
    if (typeof candidate === "string" && candidate !== "") name = candidate;
  }
  return name;
}

/** Joins the messages of the cause chain into one line, for logs and `/readyz`. */
export function describeError(error: unknown): string {
  const messages: string[] = [];
  for (const link of causeChain(error)) {
    const message = link instanceof Error ? link.message : String(link);
    if (message && !messages.includes(message)) messages.push(message);
  }
  return messages.join(": caused by: ");
}
