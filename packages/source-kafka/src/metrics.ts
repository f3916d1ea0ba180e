import { Counter, Gauge, Histogram, type Registry } from "prom-client";

type Metric = Counter<string> | Gauge<string> | Histogram<string>;

/**
 * The source's metrics on the host registry. Every consumer of every
 * instance of the plugin shares them, distinguished by the `consumer` label.
 */
export class SourceMetrics {
  readonly messages: Counter<"consumer" | "topic" | "outcome">;
  readonly batches: Counter<"consumer">;
  readonly deadLetters: Counter<"consumer" | "reason">;
  readonly lag: Gauge<"consumer" | "topic" | "partition">;
  readonly batchWrite: Histogram<"consumer">;
  readonly retries: Counter<"consumer" | "code">;
  readonly paused: Gauge<"consumer" | "reason">;

  constructor(registry: Registry) {
    this.messages = reuse(
      registry,
      "weft_source_kafka_messages_total",
      () =>
        new Counter({
          name: "weft_source_kafka_messages_total",
          help: "Kafka messages processed, by consumer, topic and outcome (written, dead_letter, skipped)",
          labelNames: ["consumer", "topic", "outcome"],
          registers: [registry],
        }),
    );
    this.batches = reuse(
      registry,
      "weft_source_kafka_batches_total",
      () =>
        new Counter({
          name: "weft_source_kafka_batches_total",
          help: "Batches committed to the store, by consumer",
          labelNames: ["consumer"],
          registers: [registry],
        }),
    );
    this.deadLetters = reuse(
      registry,
      "weft_source_kafka_dead_letters_total",
      () =>
        new Counter({
          name: "weft_source_kafka_dead_letters_total",
          help: "Messages sent to the dead-letter topic (or skipped without one), by consumer and error code",
          labelNames: ["consumer", "reason"],
          registers: [registry],
        }),
    );
    this.lag = reuse(
      registry,
      "weft_source_kafka_lag",
      () =>
        new Gauge({
          name: "weft_source_kafka_lag",
          help: "Messages between the last committed offset and the high watermark, by consumer and partition",
          labelNames: ["consumer", "topic", "partition"],
          registers: [registry],
        }),
    );
    this.batchWrite = reuse(
      registry,
      "weft_source_kafka_batch_write_seconds",
      () =>
        new Histogram({
          name: "weft_source_kafka_batch_write_seconds",
          help: "Time from the start of a batch's host.write to its commit, retries included",
          labelNames: ["consumer"],
          buckets: [
            0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10,
          ],
          registers: [registry],
        }),
    );
    this.retries = reuse(
      registry,
      "weft_source_kafka_write_retries_total",
      () =>
        new Counter({
          name: "weft_source_kafka_write_retries_total",
          help: "Batch writes and dead-letter sends retried after a failure that is not the message's fault, by error code",
          labelNames: ["consumer", "code"],
          registers: [registry],
        }),
    );
    this.paused = reuse(
      registry,
      "weft_source_kafka_paused",
      () =>
        new Gauge({
          name: "weft_source_kafka_paused",
          help: "1 while a consumer's partitions are paused, by reason (backpressure, retry)",
          labelNames: ["consumer", "reason"],
          registers: [registry],
        }),
    );
  }
}

/**
 * Returns the metric that another instance of the plugin registered under
 * `name`, or creates it.
 */
function reuse<T extends Metric>(
  registry: Registry,
  name: string,
  create: () => T,
): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}
