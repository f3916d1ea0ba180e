import type { IHeaders, Message, Producer } from "kafkajs";
import type { Logger } from "pino";
import type { MessageHeaders } from "./decode.js";
import { SourceKafkaErrorCode, sourceKafkaError } from "./errors.js";
import type { SourceMetrics } from "./metrics.js";

/** Prefix of the headers a dead letter carries besides the original ones. */
export const DEAD_LETTER_HEADER_PREFIX = "weft.dlq.";

/** A message that cannot be written, with the reason. */
export interface DeadLetter {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: MessageHeaders;
  /** Create or log-append time of the original message, ms since the epoch. */
  timestamp: string;
  code: string;
  reason: string;
}

/** Dead letters logged one by one per call; the rest are summed up in one line. */
const loggedPerCall = 10;
/** Maximum length of the error text copied into a header. */
const maxReasonLength = 1000;

/**
 * Sends messages that cannot be written to the dead-letter topic, with the
 * original key, value and headers and `weft.dlq.*` headers that give the reason.
 * Without a topic, dead letters are only logged and counted.
 */
export class DeadLetterSink {
  readonly #producer: Producer | undefined;
  readonly #topic: string | undefined;
  readonly #consumer: string;
  readonly #groupId: string;
  readonly #logger: Logger;
  readonly #metrics: SourceMetrics;

  constructor(options: {
    producer: Producer | undefined;
    topic: string | undefined;
    consumer: string;
    groupId: string;
    logger: Logger;
    metrics: SourceMetrics;
  }) {
    this.#producer = options.producer;
    this.#topic = options.topic;
    this.#consumer = options.consumer;
    this.#groupId = options.groupId;
    this.#logger = options.logger;
    this.#metrics = options.metrics;
  }

  /**
   * Produces the dead letters with acknowledgement from all in-sync
   * replicas. Throws when the broker does not acknowledge them; the caller
   * retries, so a dead letter may be sent more than once.
   */
  async send(letters: readonly DeadLetter[]): Promise<void> {
    if (letters.length === 0) return;

    if (this.#producer && this.#topic) {
      const time = new Date().toISOString();
      try {
        await this.#producer.send({
          topic: this.#topic,
          acks: -1,
          messages: letters.map((letter) => this.#message(letter, time)),
        });
      } catch (error) {
        throw sourceKafkaError(
          SourceKafkaErrorCode.DEAD_LETTER_FAILED,
          `producing ${letters.length} dead letters to topic ${this.#topic} failed: ${(error as Error).message}`,
          { cause: error, retryable: true, details: { topic: this.#topic } },
        );
      }
    }

    for (const letter of letters) {
      this.#metrics.deadLetters.inc({
        consumer: this.#consumer,
        reason: letter.code,
      });
    }
    this.#log(letters);
  }

  #message(letter: DeadLetter, time: string): Message {
    const { headers, nullHeaders } = copyHeaders(letter.headers);
    const why: IHeaders = {
      "weft.dlq.error.code": letter.code,
      "weft.dlq.error.message": letter.reason.slice(0, maxReasonLength),
      "weft.dlq.source.topic": letter.topic,
      "weft.dlq.source.partition": String(letter.partition),
      "weft.dlq.source.offset": letter.offset,
      "weft.dlq.consumer": this.#consumer,
      "weft.dlq.group": this.#groupId,
      "weft.dlq.time": time,
    };
    if (nullHeaders.length > 0)
      why["weft.dlq.null.headers"] = JSON.stringify(nullHeaders);

    return {
      key: letter.key,
      value: letter.value,
      timestamp: letter.timestamp,
      headers: { ...headers, ...why },
    };
  }

  #log(letters: readonly DeadLetter[]): void {
    const where = this.#topic
      ? `sent to dead-letter topic ${this.#topic}`
      : "skipped (no deadLetterTopic is set)";
    for (const letter of letters.slice(0, loggedPerCall)) {
      this.#logger.warn(
        {
          consumer: this.#consumer,
          topic: letter.topic,
          partition: letter.partition,
          offset: letter.offset,
          code: letter.code,
          reason: letter.reason,
        },
        `message cannot be written: ${where}`,
      );
    }
    if (letters.length > loggedPerCall) {
      this.#logger.warn(
        { consumer: this.#consumer, count: letters.length - loggedPerCall },
        `more messages in the same batch cannot be written: ${where}`,
      );
    }
  }
}

/**
 * Copies the original headers byte for byte, repeated headers included.
 * kafkajs 2.2.4 cannot produce a header whose value is null (its record
 * encoder calls `Buffer.byteLength(null)` and throws), so such headers are
 * left out and their names listed in `weft.dlq.null.headers`.
 */
function copyHeaders(original: MessageHeaders): {
  headers: IHeaders;
  nullHeaders: string[];
} {
  const headers: IHeaders = {};
  const nullHeaders: string[] = [];

  for (const [name, value] of Object.entries(original)) {
    if (name.startsWith(DEAD_LETTER_HEADER_PREFIX)) continue;
    const values = Array.isArray(value) ? value : [value];
    const kept = values.filter(
      (item): item is Buffer | string => item !== null && item !== undefined,
    );
    if (kept.length < values.length) nullHeaders.push(name);
    if (kept.length === 1) headers[name] = kept[0];
    else if (kept.length > 1) headers[name] = kept;
  }
  return { headers, nullHeaders };
}
