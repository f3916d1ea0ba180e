import kafkajs, {
  type Admin,
  type Consumer,
  type Kafka,
  type Producer,
  type TopicPartitionOffsetAndMetadata,
} from "kafkajs";
import type { Logger } from "pino";
import type {
  ConsumerOptions,
  ConsumerRunOptions,
  KafkaAdmin,
  KafkaClient,
  KafkaConsumer,
  KafkaProducer,
  ProducerOptions,
  SendRequest,
  TopicPartitionOffset,
  TopicPartitions,
  TopicSpec,
} from "./client-types.js";
import {
  registerCodecs,
  type CompressionName,
} from "./codecs/register-codecs.js";
import { kafkajsConfig } from "./kafkajs-config.js";
import {
  describeConnection,
  resolveConnectionConfig,
  type KafkaConnectionInput,
  type ResolveConnectionOptions,
  type ResolvedKafkaConnection,
} from "./resolve-config.js";
import { waitForBroker } from "./startup.js";

// kafkajs is CommonJS, and Node cannot detect all of its named exports for ESM imports.
const { CompressionTypes } = kafkajs;

/** Options of {@link createKafkaClient} and {@link createKafkaJs}. */
export interface CreateKafkaClientOptions extends ResolveConnectionOptions {
  /** Logger of the owning plugin; kafkajs logs go to it at matching levels. */
  logger: Logger;
}

const compressionTypes: Record<CompressionName, kafkajs.CompressionTypes> = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy,
  lz4: CompressionTypes.LZ4,
  zstd: CompressionTypes.ZSTD,
};

function isResolved(config: unknown): config is ResolvedKafkaConnection {
  const candidate = config as Partial<ResolvedKafkaConnection>;
  return (
    Array.isArray(candidate?.brokers) &&
    typeof candidate.startupTimeoutMs === "number"
  );
}

/**
 * Creates a kafkajs client whose logs go to `options.logger`, with the
 * Snappy, LZ4 and zstd codecs registered. For code that needs kafkajs
 * features beyond {@link KafkaClient}; plugins should prefer
 * {@link createKafkaClient}, so the client library stays replaceable.
 */
export function createKafkaJs(
  config: KafkaConnectionInput | ResolvedKafkaConnection,
  options: CreateKafkaClientOptions,
): { kafka: Kafka; connection: ResolvedKafkaConnection } {
  const connection = isResolved(config)
    ? config
    : resolveConnectionConfig(config, options);
  registerCodecs();
  if (connection.tls?.rejectUnauthorized === false) {
    options.logger.warn(
      { brokers: connection.brokers },
      "kafka TLS certificate verification is disabled (ssl.rejectUnauthorized: false)",
    );
  }
  return {
    kafka: new kafkajs.Kafka(kafkajsConfig(connection, options.logger)),
    connection,
  };
}

function toOffsets(
  offsets: TopicPartitionOffset[],
): TopicPartitionOffsetAndMetadata[] {
  return offsets.map(({ topic, partition, offset }) => ({
    topic,
    partition,
    offset,
  }));
}

function createProducer(
  producer: Producer,
  ready: () => Promise<void>,
): KafkaProducer {
  return {
    async connect() {
      await ready();
      await producer.connect();
    },
    async send(request: SendRequest) {
      const metadata = await producer.send({
        topic: request.topic,
        messages: request.messages,
        acks: request.acks ?? -1,
        compression: compressionTypes[request.compression ?? "none"],
        timeout: request.timeoutMs,
      });
      return metadata.map((entry) => ({
        topic: entry.topicName,
        partition: entry.partition,
        ...(entry.baseOffset === undefined
          ? {}
          : { baseOffset: entry.baseOffset }),
      }));
    },
    disconnect: () => producer.disconnect(),
  };
}

function createConsumer(
  consumer: Consumer,
  ready: () => Promise<void>,
): KafkaConsumer {
  const toKafkajsTopics = (topics: TopicPartitions[]) =>
    topics.map(({ topic, partitions }) =>
      partitions ? { topic, partitions } : { topic },
    );

  return {
    async connect() {
      await ready();
      await consumer.connect();
    },
    subscribe: ({ topics, fromBeginning }) =>
      consumer.subscribe({ topics, fromBeginning: fromBeginning ?? false }),
    run: (options: ConsumerRunOptions) =>
      consumer.run({
        autoCommit: options.autoCommit ?? true,
        eachBatchAutoResolve: options.eachBatchAutoResolve ?? true,
        partitionsConsumedConcurrently:
          options.partitionsConsumedConcurrently ?? 1,
        eachBatch: async (payload) => {
          const { batch } = payload;
          await options.eachBatch({
            batch: {
              topic: batch.topic,
              partition: batch.partition,
              highWatermark: batch.highWatermark,
              messages: batch.messages.map((message) => ({
                offset: message.offset,
                key: message.key,
                value: message.value,
                headers: message.headers ?? {},
                timestamp: message.timestamp,
              })),
            },
            resolveOffset: payload.resolveOffset,
            heartbeat: payload.heartbeat,
            commitOffsetsIfNecessary: () => payload.commitOffsetsIfNecessary(),
            isRunning: payload.isRunning,
            isStale: payload.isStale,
            pause: payload.pause,
          });
        },
      }),
    commitOffsets: (offsets) => consumer.commitOffsets(toOffsets(offsets)),
    seek: (position) => consumer.seek(position),
    pause: (topics) => consumer.pause(toKafkajsTopics(topics)),
    resume: (topics) => consumer.resume(toKafkajsTopics(topics)),
    onCrash(listener) {
      return consumer.on(consumer.events.CRASH, (event) => {
        listener(event.payload.error, event.payload.restart);
      });
    },
    stop: () => consumer.stop(),
    disconnect: () => consumer.disconnect(),
  };
}

function createAdmin(admin: Admin, ready: () => Promise<void>): KafkaAdmin {
  return {
    async connect() {
      await ready();
      await admin.connect();
    },
    disconnect: () => admin.disconnect(),
    listTopics: () => admin.listTopics(),
    async createTopic(spec: TopicSpec) {
      return admin.createTopics({
        waitForLeaders: true,
        topics: [
          {
            topic: spec.topic,
            numPartitions: spec.partitions ?? 1,
            replicationFactor: spec.replicationFactor ?? 1,
            configEntries: Object.entries(spec.configs ?? {}).map(
              ([name, value]) => ({ name, value }),
            ),
          },
        ],
      });
    },
    async describeTopic(topic, configNames = []) {
      const existing = await admin.listTopics();
      if (!existing.includes(topic)) return undefined;
      const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
      const configs: Record<string, string | undefined> = {};
      if (configNames.length > 0) {
        // ConfigResourceTypes.TOPIC is 2 in the Kafka protocol.
        const described = await admin.describeConfigs({
          includeSynonyms: false,
          resources: [{ type: 2, name: topic, configNames }],
        });
        for (const name of configNames) configs[name] = undefined;
        for (const entry of described.resources[0]?.configEntries ?? [])
          configs[entry.configName] = entry.configValue;
      }
      return {
        topic,
        partitions: metadata.topics[0]?.partitions.length ?? 0,
        configs,
      };
    },
    deleteTopics: (topics) => admin.deleteTopics({ topics }),
    async fetchTopicOffsets(topic) {
      const offsets = await admin.fetchTopicOffsets(topic);
      return offsets.map(({ partition, low, high }) => ({
        partition,
        low,
        high,
      }));
    },
    async fetchCommittedOffsets(groupId, topic) {
      const [result] = await admin.fetchOffsets({ groupId, topics: [topic] });
      return (result?.partitions ?? []).map(({ partition, offset }) => ({
        topic,
        partition,
        offset,
      }));
    },
    async setCommittedOffsets(groupId, offsets) {
      const byTopic = new Map<
        string,
        Array<{ partition: number; offset: string }>
      >();
      for (const { topic, partition, offset } of offsets) {
        byTopic.set(topic, [
          ...(byTopic.get(topic) ?? []),
          { partition, offset },
        ]);
      }
      for (const [topic, partitions] of byTopic)
        await admin.setOffsets({ groupId, topic, partitions });
    },
  };
}

/**
 * Creates a {@link KafkaClient} backed by kafkajs. `config` is checked and
 * resolved here (see {@link resolveConnectionConfig}), so invalid settings
 * fail before any connection attempt. Every `connect()` first waits for a
 * broker with bounded retries (see {@link KafkaClient.waitForBroker}).
 */
export function createKafkaClient(
  config: KafkaConnectionInput | ResolvedKafkaConnection,
  options: CreateKafkaClientOptions,
): KafkaClient {
  const { kafka, connection } = createKafkaJs(config, options);
  const logger = options.logger;
  let reachable: Promise<void> | undefined;

  const ready = (): Promise<void> => {
    reachable ??= waitForBroker(connection, logger).catch((error: unknown) => {
      // Let a later connect() try again from the start instead of repeating this failure.
      reachable = undefined;
      throw error;
    });
    return reachable;
  };

  logger.debug(
    { connection: describeConnection(connection) },
    "kafka client created",
  );
  return {
    producer: (producerOptions: ProducerOptions = {}) =>
      createProducer(
        kafka.producer({
          idempotent: producerOptions.idempotent ?? false,
          maxInFlightRequests: producerOptions.maxInFlightRequests,
          allowAutoTopicCreation:
            producerOptions.allowAutoTopicCreation ?? false,
        }),
        ready,
      ),
    consumer: (consumerOptions: ConsumerOptions) =>
      createConsumer(
        kafka.consumer({
          groupId: consumerOptions.groupId,
          sessionTimeout: consumerOptions.sessionTimeoutMs,
          heartbeatInterval: consumerOptions.heartbeatIntervalMs,
          maxBytesPerPartition: consumerOptions.maxBytesPerPartition,
          maxWaitTimeInMs: consumerOptions.maxWaitTimeMs,
          allowAutoTopicCreation:
            consumerOptions.allowAutoTopicCreation ?? false,
        }),
        ready,
      ),
    admin: () => createAdmin(kafka.admin(), ready),
    waitForBroker: ready,
  };
}
