import { definePlugin } from "@weft/core";
import {
  createKafkaClient,
  createKafkaJs,
  ensureTopic,
  resolveConnectionConfig,
  waitForBroker,
  type ResolvedKafkaConnection,
} from "@weft/kafka";
import type { Logger } from "pino";
import { consumerName, resolveConfig } from "./check-config.js";
import {
  configSchema,
  envOverrides,
  type SourceKafkaConfig,
} from "./config.js";
import { KafkaIngest } from "./kafka-ingest.js";
import { SourceMetrics } from "./metrics.js";
import { packageVersion } from "./version.js";

export {
  configSchema,
  ConsumerSchema,
  envOverrides,
  type ConsumerConfig,
  type SourceKafkaConfig,
} from "./config.js";
export {
  SourceKafkaErrorCode,
  type SourceKafkaErrorCodeValue,
} from "./errors.js";
export { MessageDecoder, type Decoded, type SourceMessage } from "./decode.js";
export { rawJsonText } from "./raw-json.js";
export { DEAD_LETTER_HEADER_PREFIX } from "./dead-letters.js";

const pluginName = "@weft/source-kafka";

/**
 * The Kafka source as a weft plugin. Each entry of `consumers` is one
 * consumer group that writes its topics into classes through `host.write`,
 * so every plugin's hooks, validation and vectorization apply.
 */
const sourceKafkaPlugin = definePlugin({
  name: pluginName,
  version: packageVersion,
  core: "^0.1.0",
  configSchema,
  env: { ...envOverrides },
  register(host, input, context) {
    const config = resolveConfig(
      input,
      new Set(host.classes.keys()),
      context.configPath,
    );
    if (!config.enabled) {
      host.logger.info(
        "kafka source is disabled (enabled: false); no consumer starts",
      );
      return;
    }
    if (config.consumers.length === 0) {
      host.logger.warn("kafka source has no consumers; nothing is read");
      return;
    }

    // Resolving here reports TLS and SASL problems at registration, before the host starts.
    const connection = resolveConnectionConfig(connectionSettings(config), {
      path: context.configPath,
    });
    const metrics = new SourceMetrics(host.metrics);
    const ingests: KafkaIngest[] = [];

    host.hooks.start.tapPromise(pluginName, async () => {
      const logger = host.logger;
      await waitForBroker(connection, logger);
      await ensureDeadLetterTopics(connection, config, logger);
      const { kafka } = createKafkaJs(connection, { logger });
      for (const consumer of config.consumers) {
        const name = consumerName(consumer);
        const ingest = new KafkaIngest({
          host,
          config: consumer,
          name,
          source: `${pluginName}:${name}`,
          kafka,
          metrics,
          logger,
        });
        ingests.push(ingest);
        await ingest.start();
      }
    });
    host.hooks.stopIntake.tapPromise(pluginName, async () => {
      await Promise.all(ingests.map((ingest) => ingest.stopIntake()));
    });
    host.hooks.stop.tapPromise(pluginName, async () => {
      await Promise.all(ingests.map((ingest) => ingest.close()));
    });
  },
});

export default sourceKafkaPlugin;

/** Returns the connection part of the plugin config, as `@weft/kafka` takes it. */
function connectionSettings(config: SourceKafkaConfig) {
  const {
    enabled: _enabled,
    consumers: _consumers,
    brokers,
    ...connection
  } = config;
  return { ...connection, brokers: brokers ?? [] };
}

/**
 * Creates missing dead-letter topics with one partition and the broker's
 * default replication factor, so the first bad message does not stall a
 * consumer on a topic that does not exist. Existing topics are left as they are.
 */
async function ensureDeadLetterTopics(
  connection: ResolvedKafkaConnection,
  config: SourceKafkaConfig,
  logger: Logger,
): Promise<void> {
  const topics = [
    ...new Set(
      config.consumers.flatMap((consumer) =>
        consumer.deadLetterTopic ? [consumer.deadLetterTopic] : [],
      ),
    ),
  ];
  if (topics.length === 0) return;

  const admin = createKafkaClient(connection, { logger }).admin();
  await admin.connect();
  try {
    for (const topic of topics) {
      // -1 selects the broker's default.replication.factor.
      const { created } = await ensureTopic(
        admin,
        { topic, replicationFactor: -1 },
        { logger, onMismatch: "warn" },
      );
      if (created) logger.info({ topic }, "created dead-letter topic");
    }
  } finally {
    await admin.disconnect();
  }
}
