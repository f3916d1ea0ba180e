import {
  ErrorCode,
  WeftError,
  definePlugin,
  type PluginHost,
  type RegisterContext,
  type StoredObject,
} from "@weft/core";
import { KafkaConnectionSchema, type KafkaConnectionInput } from "@weft/kafka";
import {
  configSchema,
  envOverrides,
  resolveTimings,
  type CdcSinkConfig,
} from "./config.js";
import { CdcErrorCode, cdcError } from "./errors.js";
import { createEncoder, vectorsIncluded } from "./formats/create-encoder.js";
import { createClients } from "./kafka/create-clients.js";
import { ProducerSession } from "./kafka/producer-session.js";
import { TopicCreator } from "./kafka/topic-creator.js";
import {
  CdcPublisher,
  type MessageSender,
  type TopicEnsurer,
} from "./publisher.js";
import { createTopicRouter } from "./routing.js";
import { packageVersion } from "./version.js";

/**
 * The CDC sink plugin: publishes every committed change to Kafka from a
 * durable checkpoint. It taps `start` (to begin publishing in the background)
 * and `stop` (to publish what is left, then disconnect).
 */
export const cdcSinkPlugin = definePlugin({
  name: "@weft/sink-cdc",
  version: packageVersion,
  core: "^0.1.0",
  configSchema,
  env: envOverrides,
  register(host, config, context) {
    if (!config.enabled) {
      host.logger.info(
        "cdc sink is disabled (enabled: false); nothing is published",
      );
      host.setStatus("ready", { enabled: false });
      return;
    }
    const publisher = createPublisher(host, config, context);
    host.hooks.start.tapPromise(host.name, async () => publisher.start());
    host.hooks.stop.tapPromise(host.name, () => publisher.stop());
  },
});

/** Kafka-side parts of the publisher that tests replace to inject broker failures. */
export interface PublisherParts {
  sender?: MessageSender;
  topics?: TopicEnsurer;
}

/** Checks the config against the host's classes and builds the publisher; `parts` replaces the Kafka clients. */
export function createPublisher(
  host: PluginHost,
  config: CdcSinkConfig,
  context: Pick<RegisterContext, "configPath">,
  parts: PublisherParts = {},
): CdcPublisher {
  const path = context.configPath;
  const timings = resolveTimings(config, path);
  const classNames =
    config.classes.length > 0 ? config.classes : [...host.classes.keys()];

  // Compiling the change filter also rejects unknown class names, naming the config path.
  const acceptEvent = host.compileChangeFilter(
    {
      classes: config.classes,
      operations: config.operations,
      where: config.where,
    },
    path,
  );
  // Like the change filter, the where clause is checked against the class only when there is one class.
  const objectFilter = host.compileFilter(
    config.where,
    classNames.length === 1 ? classNames[0] : undefined,
  );
  const acceptObject = (object: StoredObject) =>
    objectFilter(object.properties);
  checkVectorSettings(host, config, classNames, path);

  const topicFor = createTopicRouter(config.topic, classNames, path);
  const encoder = createEncoder(config, {
    classes: host.classes,
    topicFor,
    version: packageVersion,
  });
  const { kafka, client } = createClients(connectionSettings(config), {
    logger: host.logger,
    path,
    retry: {
      retries: config.sendRetries,
      initialMs: timings.retryInitialMs,
      maxMs: timings.retryMaxMs,
    },
  });
  const sender =
    parts.sender ??
    new ProducerSession({
      kafka,
      waitForBroker: () => client.waitForBroker(),
      logger: host.logger,
      compression: config.compression,
      sendTimeoutMs: timings.sendTimeoutMs,
    });
  const topics =
    parts.topics ?? new TopicCreator(client, config.createTopics, host.logger);

  return new CdcPublisher({
    host,
    config,
    timings,
    encoder,
    acceptEvent,
    snapshotClasses: classNames,
    acceptObject,
    sender,
    topics,
  });
}

/** Picks the `@weft/kafka` connection settings out of the sink's config. */
function connectionSettings(config: CdcSinkConfig): KafkaConnectionInput {
  const settings: Record<string, unknown> = {};
  for (const key of Object.keys(KafkaConnectionSchema.properties)) {
    const value = (config as Record<string, unknown>)[key];
    if (value !== undefined) settings[key] = value;
  }
  return settings as KafkaConnectionInput;
}

function checkVectorSettings(
  host: PluginHost,
  config: CdcSinkConfig,
  classNames: string[],
  path: string,
): void {
  for (const className of Object.keys(config.vectors.classes)) {
    if (!host.classes.has(className)) {
      throw new WeftError(
        ErrorCode.CLASS_UNKNOWN,
        `${path}.vectors.classes: unknown class "${className}"; configured classes: ${[...host.classes.keys()].join(", ")}`,
        { details: { path: `${path}.vectors.classes`, class: className } },
      );
    }
  }
  if (config.format === "plain") return;

  const field = config.vectors.field;
  for (const className of classNames) {
    const definition = host.classes.get(className);
    if (!definition || !vectorsIncluded(config, className)) continue;
    if (definition.properties.some((property) => property.name === field)) {
      throw cdcError(
        CdcErrorCode.VECTOR_FIELD_CONFLICT,
        `${path}.vectors.field: class ${className} has a property named "${field}", so the vector cannot use that field name; set vectors.field to another name`,
        { details: { path: `${path}.vectors.field`, class: className, field } },
      );
    }
  }
}
