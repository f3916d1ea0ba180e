import { randomBytes } from "node:crypto";
import kafkajs, { type IHeaders, type KafkaConfig } from "kafkajs";

// kafkajs is CommonJS, and Node cannot detect all of its named exports for ESM imports.
const { CompressionTypes, Kafka, logLevel } = kafkajs;

/** A message to produce; strings are sent as UTF-8. */
export interface TestMessage {
  key?: string | Buffer | null;
  value: string | Buffer | null;
  headers?: Record<string, string | Buffer>;
  partition?: number;
}

/** A message read back by {@link readTopic}. */
export interface ReadMessage {
  topic: string;
  partition: number;
  /** Offset as a decimal string, as Kafka clients report it. */
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: IHeaders;
  /** Create or log-append time in ms since the epoch, as a decimal string. */
  timestamp: string;
}

/** Options of {@link readTopic}. */
export interface ReadTopicOptions {
  /** Number of messages to wait for. */
  expected: number;
  /** Time to wait for them, in ms. Default 20000. */
  timeoutMs?: number;
  /** Time to keep reading after `expected` arrived, in ms, so a test can see extra messages. Default 0. */
  settleMs?: number;
  /** Extra kafkajs client settings, for example `sasl` or `ssl`. */
  client?: Omit<KafkaConfig, "brokers">;
}

/** Options of {@link produceMessages}. */
export interface ProduceOptions {
  compression?: "none" | "gzip" | "snappy" | "lz4" | "zstd";
  /** Extra kafkajs client settings, for example `sasl` or `ssl`. */
  client?: Omit<KafkaConfig, "brokers">;
}

/** Options of {@link createTopic}. */
export interface CreateTopicOptions {
  partitions?: number;
  /** Topic configs, for example `{ "cleanup.policy": "compact" }`. */
  configs?: Record<string, string>;
}

const compressionTypes = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy,
  lz4: CompressionTypes.LZ4,
  zstd: CompressionTypes.ZSTD,
} as const;

function kafka(
  brokers: string[],
  client: Omit<KafkaConfig, "brokers"> = {},
): InstanceType<typeof Kafka> {
  return new Kafka({
    clientId: "weft-testkit",
    logLevel: logLevel.NOTHING,
    ...client,
    brokers,
  });
}

/**
 * Produces `messages` to `topic` with acks from all in-sync replicas, creating
 * the topic if the broker allows auto-creation. Compressions other than gzip
 * need their codec registered in kafkajs first (`registerCodecs()` of
 * `@weft/kafka`).
 */
export async function produceMessages(
  brokers: string[],
  topic: string,
  messages: Array<TestMessage | string>,
  options: ProduceOptions = {},
): Promise<void> {
  const producer = kafka(brokers, options.client).producer({
    allowAutoTopicCreation: true,
  });
  await producer.connect();
  try {
    await producer.send({
      topic,
      acks: -1,
      compression: compressionTypes[options.compression ?? "none"],
      messages: messages.map((message) =>
        typeof message === "string" ? { value: message } : message,
      ),
    });
  } finally {
    await producer.disconnect();
  }
}

/** Creates `topic` and waits for its partition leaders; does nothing if it exists. */
export async function createTopic(
  brokers: string[],
  topic: string,
  options: CreateTopicOptions = {},
): Promise<void> {
  const admin = kafka(brokers).admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        {
          topic,
          numPartitions: options.partitions ?? 1,
          configEntries: Object.entries(options.configs ?? {}).map(
            ([name, value]) => ({ name, value }),
          ),
        },
      ],
    });
  } finally {
    await admin.disconnect();
  }
}

/**
 * Reads `topic` from the beginning with a new consumer group until
 * `expected` messages arrived, and returns them sorted by partition and
 * offset. Rejects with the count received when they do not arrive in time.
 */
export async function readTopic(
  brokers: string[],
  topic: string,
  options: ReadTopicOptions,
): Promise<ReadMessage[]> {
  const timeoutMs = options.timeoutMs ?? 20_000;
  const groupId = `weft-testkit-read-${randomBytes(6).toString("hex")}`;
  const consumer = kafka(brokers, options.client).consumer({
    groupId,
    maxWaitTimeInMs: 250,
  });
  const received: ReadMessage[] = [];
  let timer: NodeJS.Timeout | undefined;

  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });

    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(() => {
        reject(
          new Error(
            `readTopic: expected ${options.expected} messages from topic ${topic} within ${timeoutMs} ms, ` +
              `received ${received.length}`,
          ),
        );
      }, timeoutMs);
      const checkDone = () => {
        if (received.length < options.expected) return;
        clearTimeout(timer);
        setTimeout(resolve, options.settleMs ?? 0);
      };

      consumer
        .run({
          eachMessage: async ({ topic: messageTopic, partition, message }) => {
            received.push({
              topic: messageTopic,
              partition,
              offset: message.offset,
              key: message.key,
              value: message.value,
              headers: message.headers ?? {},
              timestamp: message.timestamp,
            });
            checkDone();
          },
        })
        .catch(reject);
      checkDone();
    });
  } finally {
    clearTimeout(timer);
    await consumer.disconnect();
  }

  return received.sort(
    (a, b) =>
      a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)),
  );
}
