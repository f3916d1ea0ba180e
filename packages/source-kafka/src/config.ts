import { Type, type Static } from "@sinclair/typebox";
import { DurationSchema } from "@weft/core";
import { KafkaConnectionSchema } from "@weft/kafka";

/** Routing of each message to a class by a value field, a header or the topic. */
export const RouteSchema = Type.Object(
  {
    field: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          "dotted path of a value field whose text picks the class (for debezium, a path into the row)",
      }),
    ),
    header: Type.Optional(
      Type.String({
        minLength: 1,
        description: "header whose UTF-8 text picks the class",
      }),
    ),
    topic: Type.Optional(
      Type.Boolean({ description: "true: the topic name picks the class" }),
    ),
    classes: Type.Optional(
      Type.Record(Type.String(), Type.String({ minLength: 1 }), {
        description:
          "routing value to class name; without it the value is the class name",
      }),
    ),
    default: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          "class for messages whose routing value is missing or unmapped",
      }),
    ),
  },
  { additionalProperties: false },
);

/** Renames, drops and header copies applied to each value before it is written. */
export const MappingSchema = Type.Object(
  {
    rename: Type.Record(
      Type.String({ minLength: 1 }),
      Type.String({ minLength: 1 }),
      {
        default: {},
        description:
          "dotted source path to property name; the value moves to that top-level property",
      },
    ),
    drop: Type.Array(Type.String({ minLength: 1 }), {
      default: [],
      description: "dotted paths removed from the value",
    }),
    headers: Type.Record(
      Type.String({ minLength: 1 }),
      Type.String({ minLength: 1 }),
      {
        default: {},
        description:
          "header name to property name; the header's UTF-8 text becomes the property value",
      },
    ),
  },
  { additionalProperties: false, default: {} },
);

/** Backoff of retries after failures that are not the message's fault. */
export const RetrySchema = Type.Object(
  {
    initialDelay: DurationSchema("200ms"),
    maxDelay: DurationSchema("30s"),
  },
  { additionalProperties: false, default: {} },
);

/** One consumer group reading some topics into classes. */
export const ConsumerSchema = Type.Object(
  {
    name: Type.Optional(
      Type.String({
        minLength: 1,
        pattern: "^[A-Za-z0-9._-]+$",
        description:
          "name in logs, metrics and stored positions; default the groupId",
      }),
    ),
    topics: Type.Array(Type.String({ minLength: 1 }), {
      default: [],
      description: "topic names to read",
    }),
    topicPattern: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          "regular expression of topic names; matched against the topics that exist at start",
      }),
    ),
    groupId: Type.String({ minLength: 1 }),
    class: Type.Optional(
      Type.String({ minLength: 1, description: "class of every message" }),
    ),
    route: Type.Optional(RouteSchema),
    keyField: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          "dotted path of the id in the value (for debezium, in the row)",
      }),
    ),
    idSource: Type.Optional(
      Type.Union([Type.Literal("key"), Type.Literal("field")], {
        description:
          "key: the message key, falling back to keyField for null keys; field: keyField. Default field when keyField is set, else key",
      }),
    ),
    idStrategy: Type.Union([Type.Literal("auto"), Type.Literal("uuidv5")], {
      default: "auto",
      description:
        "auto: a UUID key is kept and any other key becomes a UUIDv5; uuidv5: every key becomes a UUIDv5",
    }),
    format: Type.Union([Type.Literal("json"), Type.Literal("debezium")], {
      default: "json",
    }),
    mapping: MappingSchema,
    batchSize: Type.Integer({
      minimum: 1,
      maximum: 100_000,
      default: 1000,
      description: "maximum messages per write",
    }),
    flushInterval: DurationSchema("100ms"),
    maxBatchBytes: Type.Integer({
      minimum: 1024,
      default: 16 * 1024 * 1024,
      description: "maximum summed value bytes per write",
    }),
    queuedBatches: Type.Integer({
      minimum: 1,
      maximum: 64,
      default: 4,
      description:
        "full batches that may wait behind the one being written, so fetching continues during writes; memory held is at most about (queuedBatches + 2) batches",
    }),
    partitionConcurrency: Type.Integer({
      minimum: 1,
      maximum: 64,
      default: 1,
      description:
        "partitions whose fetched batches are decoded at the same time",
    }),
    fromBeginning: Type.Boolean({
      default: false,
      description:
        "where a group without committed offsets starts: true the oldest message, false new messages only",
    }),
    deadLetterTopic: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          "topic for messages that cannot be written; without it they are logged, counted and skipped",
      }),
    ),
    maxMessageBytes: Type.Integer({
      minimum: 1,
      default: 1024 * 1024,
      description:
        "largest value accepted, in bytes; larger ones are dead letters",
    }),
    sessionTimeout: DurationSchema("30s"),
    heartbeatInterval: DurationSchema("3s"),
    maxBytesPerPartition: Type.Integer({
      minimum: 1024,
      default: 1024 * 1024,
      description: "bytes fetched per partition per request",
    }),
    retry: RetrySchema,
  },
  { additionalProperties: false },
);

/**
 * Config of the `@weft/source-kafka` plugin: the Kafka connection settings
 * of `@weft/kafka`, an on/off switch and the consumers.
 */
export const configSchema = Type.Object(
  {
    ...KafkaConnectionSchema.properties,
    enabled: Type.Boolean({
      default: true,
      description: "false registers the plugin without connecting to Kafka",
    }),
    brokers: Type.Optional(KafkaConnectionSchema.properties.brokers),
    consumers: Type.Array(ConsumerSchema, { default: [] }),
  },
  { additionalProperties: false },
);

export type SourceKafkaConfig = Static<typeof configSchema>;
export type ConsumerConfig = Static<typeof ConsumerSchema>;
export type RouteConfig = Static<typeof RouteSchema>;
export type MappingConfig = Static<typeof MappingSchema>;

/** Environment variables that override settings; the environment wins over the file. */
export const envOverrides = {
  STREAMING_KAFKA_ENABLED: { path: "enabled", type: "boolean" },
  STREAMING_KAFKA_BROKERS: { path: "brokers", type: "string" },
} as const;
