import type { Logger } from "pino";
import type {
  KafkaAdmin,
  TopicDescription,
  TopicSpec,
} from "./client-types.js";
import { KafkaErrorCode, kafkaError } from "./errors.js";

/** Options of {@link ensureTopic}. */
export interface EnsureTopicOptions {
  logger?: Logger;
  /**
   * Action when the topic exists with another partition count or other
   * values for the requested configs: "error" (the default) throws
   * `WEFT_ERR_KAFKA_TOPIC_MISMATCH`, "warn" logs a warning and continues.
   * An existing topic is never changed.
   */
  onMismatch?: "error" | "warn";
}

/** Result of {@link ensureTopic}. */
export interface EnsureTopicResult {
  /** True when this call created the topic. */
  created: boolean;
  /** Differences between the request and an existing topic, one sentence each. */
  mismatches: string[];
}

function compare(spec: TopicSpec, existing: TopicDescription): string[] {
  const mismatches: string[] = [];
  if (
    spec.partitions !== undefined &&
    existing.partitions !== spec.partitions
  ) {
    mismatches.push(
      `has ${existing.partitions} partitions, not ${spec.partitions}`,
    );
  }
  for (const [name, value] of Object.entries(spec.configs ?? {})) {
    const actual = existing.configs[name];
    if (actual !== value)
      mismatches.push(`has ${name}=${actual ?? "(unset)"}, not ${value}`);
  }
  return mismatches;
}

/**
 * Makes sure `spec.topic` exists: creates it with the given partitions,
 * replication factor and configs (for example `cleanup.policy=compact`), or
 * checks an existing topic against them. Creating is safe when another
 * process creates the same topic at the same moment.
 * @throws WeftError `WEFT_ERR_KAFKA_TOPIC_CREATE_FAILED` when the broker rejects
 *   the topic, `WEFT_ERR_KAFKA_TOPIC_MISMATCH` when an existing topic differs.
 */
export async function ensureTopic(
  admin: KafkaAdmin,
  spec: TopicSpec,
  options: EnsureTopicOptions = {},
): Promise<EnsureTopicResult> {
  const configNames = Object.keys(spec.configs ?? {});
  let existing = await admin.describeTopic(spec.topic, configNames);

  if (!existing) {
    let created: boolean;
    try {
      created = await admin.createTopic(spec);
    } catch (error) {
      throw kafkaError(
        KafkaErrorCode.TOPIC_CREATE_FAILED,
        `creating topic ${spec.topic} (partitions ${spec.partitions ?? 1}, replication factor ` +
          `${spec.replicationFactor ?? 1}) failed: ${(error as Error).message}. Check that the replication factor ` +
          "does not exceed the number of brokers, that the configs are valid topic configs, and that the client may create topics.",
        {
          cause: error,
          details: {
            topic: spec.topic,
            partitions: spec.partitions,
            replicationFactor: spec.replicationFactor,
            configs: spec.configs,
          },
        },
      );
    }
    if (created) {
      options.logger?.info(
        {
          topic: spec.topic,
          partitions: spec.partitions ?? 1,
          replicationFactor: spec.replicationFactor ?? 1,
          configs: spec.configs,
        },
        "kafka topic created",
      );
      return { created: true, mismatches: [] };
    }
    // Another process created it between our check and our request.
    existing = await admin.describeTopic(spec.topic, configNames);
    if (!existing) {
      throw kafkaError(
        KafkaErrorCode.TOPIC_CREATE_FAILED,
        `topic ${spec.topic} was reported as existing but cannot be described`,
        {
          details: { topic: spec.topic },
          retryable: true,
        },
      );
    }
  }

  const mismatches = compare(spec, existing);
  if (mismatches.length > 0) {
    const message = `existing topic ${spec.topic} ${mismatches.join(" and ")}; change the topic or the plugin settings to match`;
    if ((options.onMismatch ?? "error") === "error") {
      throw kafkaError(KafkaErrorCode.TOPIC_MISMATCH, message, {
        details: { topic: spec.topic, mismatches },
      });
    }
    options.logger?.warn(
      { topic: spec.topic, mismatches },
      "kafka topic differs from the requested settings",
    );
  }
  return { created: false, mismatches };
}
