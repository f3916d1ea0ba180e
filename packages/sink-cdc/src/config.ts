import {
  DurationSchema,
  Type,
  parseDuration,
  type EnvOverride,
  type Static,
} from "@weft/core";
import { KafkaConnectionSchema } from "@weft/kafka";

/** Schema of a vector setting: `include` or `omit`. */
function vectorMode(options: { default?: string; description?: string } = {}) {
  return Type.Union([Type.Literal("include"), Type.Literal("omit")], options);
}

/**
 * TypeBox schema of the sink's config: the shared Kafka connection settings
 * of `@weft/kafka` plus the sink's own.
 */
export const configSchema = Type.Object(
  {
    ...KafkaConnectionSchema.properties,
    enabled: Type.Boolean({
      default: true,
      description: "false registers the sink but publishes nothing",
    }),
    topic: Type.String({
      minLength: 1,
      default: "weft.changes",
      description:
        "topic of every message, or a template with {class}, such as weft.{class}, for one topic per class",
    }),
    format: Type.Union(
      [
        Type.Literal("debezium"),
        Type.Literal("plain"),
        Type.Literal("cloudevents"),
      ],
      {
        default: "debezium",
        description:
          "debezium: Debezium change event envelope; plain: weft's change event as JSON; cloudevents: CloudEvents 1.0 structured mode",
      },
    ),
    name: Type.String({
      pattern: "^[A-Za-z_][A-Za-z0-9_]*$",
      default: "weft",
      description:
        "logical name of this host: source.name and the schema names of Debezium messages, and the CloudEvents source",
    }),
    database: Type.String({
      minLength: 1,
      default: "weft",
      description: "value of source.db in Debezium messages",
    }),
    schemas: Type.Boolean({
      default: false,
      description:
        "debezium format: wrap key and value in Kafka Connect JSON { schema, payload }; false sends the payload alone, about a sixth of the bytes for a class of eight properties",
    }),
    tombstonesOnDelete: Type.Boolean({
      default: true,
      description:
        "follow each delete with a tombstone: a message with the same key and a null value",
    }),
    transaction: Type.Boolean({
      default: false,
      description:
        "debezium format: add the transaction block (id, total_order, data_collection_order)",
    }),
    classes: Type.Array(Type.String({ minLength: 1 }), {
      default: [],
      description: "classes to publish; empty publishes all",
    }),
    operations: Type.Array(
      Type.Union([
        Type.Literal("INSERT"),
        Type.Literal("UPDATE"),
        Type.Literal("DELETE"),
      ]),
      {
        default: [],
        description: "operations to publish; empty publishes all",
      },
    ),
    where: Type.Optional(
      Type.Record(Type.String(), Type.Unknown(), {
        description:
          "filter on properties in the shared filter language, applied to after, or to before for deletes",
      }),
    ),
    vectors: Type.Object(
      {
        default: vectorMode({
          default: "omit",
          description: "whether messages carry the object's vector",
        }),
        classes: Type.Record(Type.String(), vectorMode(), {
          default: {},
          description: "per-class override of vectors.default, by class name",
        }),
        field: Type.String({
          pattern: "^[A-Za-z_][A-Za-z0-9_]*$",
          default: "vector",
          description:
            "debezium and cloudevents formats: name of the vector field next to the properties",
        }),
      },
      { default: {}, additionalProperties: false },
    ),
    snapshot: Type.Union([Type.Literal("initial"), Type.Literal("never")], {
      default: "initial",
      description:
        "initial: with no checkpoint yet, first publish every existing object as a read event, then stream; never: with no checkpoint, stream from the oldest event in the change log",
    }),
    createTopics: Type.Object(
      {
        enabled: Type.Boolean({
          default: true,
          description: "create missing topics before the first send",
        }),
        partitions: Type.Integer({ minimum: 1, default: 1 }),
        replicationFactor: Type.Integer({
          minimum: -1,
          default: -1,
          description:
            "replicas of created topics; -1 uses the broker's default.replication.factor",
        }),
        configs: Type.Record(Type.String(), Type.String(), {
          default: {},
          description:
            "topic configs of created topics, such as cleanup.policy",
        }),
      },
      { default: {}, additionalProperties: false },
    ),
    maxBatch: Type.Integer({
      minimum: 1,
      maximum: 100_000,
      default: 1000,
      description:
        "maximum events read and sent per batch; the checkpoint advances once per batch",
    }),
    maxBatchBytes: Type.Integer({
      minimum: 1024,
      default: 1_000_000,
      description:
        "maximum bytes of keys, values and headers in one produce call; keep it below the topics' max.message.bytes (1 MiB by default), since kafkajs sends a partition's messages of one call as one record batch",
    }),
    compression: Type.Union(
      [
        Type.Literal("none"),
        Type.Literal("gzip"),
        Type.Literal("snappy"),
        Type.Literal("lz4"),
        Type.Literal("zstd"),
      ],
      { default: "none", description: "compression codec of produced batches" },
    ),
    sendTimeout: DurationSchema("30s"),
    sendRetries: Type.Integer({
      minimum: 1,
      maximum: 100,
      default: 5,
      description:
        "retries of one produce call, and of each reconnect, inside the Kafka client before the sink backs off and sends the batch again",
    }),
    retryBackoff: Type.Object(
      {
        initial: DurationSchema("500ms"),
        max: DurationSchema("30s"),
      },
      { default: {}, additionalProperties: false },
    ),
    degradedAfter: Type.Object(
      {
        lagEvents: Type.Integer({
          minimum: 1,
          default: 10_000,
          description: "unpublished events that turn /readyz degraded",
        }),
        lag: DurationSchema("30s"),
      },
      { default: {}, additionalProperties: false },
    ),
    drainTimeout: DurationSchema("5s"),
  },
  { additionalProperties: false },
);

/** The sink's config after defaults, as the plugin registry passes it. */
export type CdcSinkConfig = Static<typeof configSchema>;

/** The message formats the sink writes. */
export type CdcFormat = CdcSinkConfig["format"];

/** Environment variables that override settings; the environment wins over the config file. */
export const envOverrides: Record<string, EnvOverride> = {
  STREAMING_CDC_ENABLED: { path: "enabled", type: "boolean" },
  STREAMING_CDC_TOPIC: { path: "topic", type: "string" },
  STREAMING_CDC_FORMAT: { path: "format", type: "string" },
  STREAMING_CDC_CLASSES: { path: "classes", type: "list" },
  STREAMING_CDC_OPERATIONS: { path: "operations", type: "list" },
};

/** Durations of the config in milliseconds. */
export interface CdcTimings {
  sendTimeoutMs: number;
  retryInitialMs: number;
  retryMaxMs: number;
  degradedLagMs: number;
  drainTimeoutMs: number;
}

/** Converts the config's durations, naming the config path of an invalid one. */
export function resolveTimings(
  config: CdcSinkConfig,
  path: string,
): CdcTimings {
  return {
    sendTimeoutMs: parseDuration(config.sendTimeout, `${path}.sendTimeout`),
    retryInitialMs: parseDuration(
      config.retryBackoff.initial,
      `${path}.retryBackoff.initial`,
    ),
    retryMaxMs: parseDuration(
      config.retryBackoff.max,
      `${path}.retryBackoff.max`,
    ),
    degradedLagMs: parseDuration(
      config.degradedAfter.lag,
      `${path}.degradedAfter.lag`,
    ),
    drainTimeoutMs: parseDuration(config.drainTimeout, `${path}.drainTimeout`),
  };
}
