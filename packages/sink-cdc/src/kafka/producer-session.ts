import kafkajs, { type Kafka, type Message, type Producer } from "kafkajs";
import type { Logger } from "pino";
import { describeError } from "./producer-errors.js";

// kafkajs is CommonJS, and Node cannot detect all of its named exports for ESM imports.
const { CompressionTypes, Partitioners } = kafkajs;

const compressionTypes = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy,
  lz4: CompressionTypes.LZ4,
  zstd: CompressionTypes.ZSTD,
} as const;

/** Settings of a {@link ProducerSession}. */
export interface ProducerSessionOptions {
  /** kafkajs client with the log bridge, codecs and retry settings set up; see `createClients`. */
  kafka: Kafka;
  /** Resolves once a broker answers, retrying for the connection's `startupTimeout`. */
  waitForBroker: () => Promise<void>;
  logger: Logger;
  compression: keyof typeof compressionTypes;
  /** Time the broker may wait for the acknowledgements of one produce request, in ms. */
  sendTimeoutMs: number;
}

/**
 * The sink's one idempotent producer, created on first use and replaced
 * after a fatal error. It uses kafkajs directly rather than the
 * `KafkaClient` interface of `@weft/kafka`, because the sink needs three
 * things that interface does not offer: retry settings, one produce call for
 * several topics (`sendBatch`), and an explicit partitioner.
 *
 * kafkajs 2.2.4 requires acks -1 and at least one retry for idempotence.
 * The producer keeps one request in flight and the sink awaits each send
 * before the next, because concurrent sends on one idempotent kafkajs
 * producer can fail with out-of-order sequence errors (tulios/kafkajs#598).
 */
export class ProducerSession {
  readonly #options: ProducerSessionOptions;
  #current: { producer: Producer; ready: Promise<void> } | undefined;

  constructor(options: ProducerSessionOptions) {
    this.#options = options;
  }

  /** Connects the producer, unless it is connected or connecting. */
  async connect(): Promise<void> {
    await this.#connected();
  }

  /** Sends messages grouped by topic in one call; resolves once the broker acknowledged all of them. */
  async send(groups: ReadonlyMap<string, Message[]>): Promise<void> {
    const producer = await this.#connected();
    await producer.sendBatch({
      topicMessages: [...groups].map(([topic, messages]) => ({
        topic,
        messages,
      })),
      acks: -1,
      timeout: this.#options.sendTimeoutMs,
      compression: compressionTypes[this.#options.compression],
    });
  }

  /** Drops the current producer; the next send creates a new one with a new producer id. */
  async replace(): Promise<void> {
    const previous = this.#current;
    this.#current = undefined;
    if (previous) await this.#disconnect(previous.producer);
  }

  /** Disconnects the producer, also one that is still connecting, without waiting for its connect. */
  async close(): Promise<void> {
    await this.replace();
  }

  async #connected(): Promise<Producer> {
    if (!this.#current) {
      const producer = this.#options.kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        // kafkajs 2's default, named so kafkajs does not warn that the default changed; it hashes keys as the Java client does.
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      const ready = this.#options
        .waitForBroker()
        .then(() => producer.connect());
      const current = { producer, ready };
      this.#current = current;
      // A failed connect leaves no producer behind, so the next send tries again from scratch.
      ready.catch(() => {
        if (this.#current === current) this.#current = undefined;
        void this.#disconnect(producer);
      });
    }
    const { producer, ready } = this.#current;
    await ready;
    return producer;
  }

  async #disconnect(producer: Producer): Promise<void> {
    try {
      await producer.disconnect();
    } catch (error) {
      this.#options.logger.debug(
        { err: describeError(error) },
        "disconnecting the previous kafka producer failed",
      );
    }
  }
}
