export {
  KafkaConnectionSchema,
  KafkaSaslSchema,
  KafkaTlsSchema,
  type KafkaConnectionConfig,
  type KafkaSaslConfig,
  type KafkaTlsConfig,
} from "./config.js";
export {
  describeConnection,
  resolveConnectionConfig,
  type KafkaConnectionInput,
  type ResolveConnectionOptions,
  type ResolvedKafkaConnection,
} from "./resolve-config.js";
export { KafkaErrorCode, type KafkaErrorCodeValue } from "./errors.js";
export { createLogCreator, kafkajsLogLevel } from "./log-bridge.js";
export {
  registerCodecs,
  type CompressionName,
} from "./codecs/register-codecs.js";
export {
  createKafkaClient,
  createKafkaJs,
  type CreateKafkaClientOptions,
} from "./kafkajs-client.js";
export { kafkajsConfig } from "./kafkajs-config.js";
export { classifyConnectError, waitForBroker } from "./startup.js";
export {
  ensureTopic,
  type EnsureTopicOptions,
  type EnsureTopicResult,
} from "./ensure-topic.js";
export type {
  Acks,
  ConsumedBatch,
  ConsumedMessage,
  ConsumerOptions,
  ConsumerRunOptions,
  EachBatchContext,
  EachBatchHandler,
  KafkaAdmin,
  KafkaClient,
  KafkaConsumer,
  KafkaProducer,
  MessageHeaders,
  OutgoingMessage,
  PartitionOffsets,
  ProducerOptions,
  RecordMetadata,
  SendRequest,
  TopicDescription,
  TopicPartitionOffset,
  TopicPartitions,
  TopicSpec,
} from "./client-types.js";
