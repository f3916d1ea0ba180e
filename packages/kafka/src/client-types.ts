/**
 * The Kafka operations that weft plugins use, independent of the client
 * library. Plugins program against these interfaces; `createKafkaClient`
 * implements them with kafkajs, and another library could implement them
 * without changes to the plugins. Offsets are decimal strings because Kafka
 * offsets are 64-bit and exceed the safe integer range of a JavaScript number.
 */
import type { CompressionName } from "./codecs/register-codecs.js";

/** Header values as Kafka stores them: bytes, or UTF-8 text when produced from a string. */
export type MessageHeaders = Record<string, Buffer | string | undefined>;

/** A message to produce. Strings are encoded as UTF-8; a null value is a tombstone. */
export interface OutgoingMessage {
  key?: Buffer | string | null;
  value: Buffer | string | null;
  headers?: MessageHeaders;
  /** Target partition; without it the key's hash (or round-robin without a key) picks one. */
  partition?: number;
  /** Create time in ms since the epoch, as a decimal string; default the send time. */
  timestamp?: string;
}

/**
 * Acknowledgement mode: -1 waits for all in-sync replicas, 1 for the
 * partition leader only, 0 for nothing.
 */
export type Acks = -1 | 0 | 1;

/** One call to {@link KafkaProducer.send}. */
export interface SendRequest {
  topic: string;
  messages: OutgoingMessage[];
  /** Default -1, and an idempotent producer requires -1. */
  acks?: Acks;
  /** Default "none". */
  compression?: CompressionName;
  /** Time the broker may wait for the acknowledgements, in ms. Default 30000. */
  timeoutMs?: number;
}

/** Partition and offset of a sent batch. */
export interface RecordMetadata {
  topic: string;
  partition: number;
  /** Offset of the first message of the batch; absent with acks 0. */
  baseOffset?: string;
}

/** Options of {@link KafkaClient.producer}. */
export interface ProducerOptions {
  /**
   * Enables the idempotent producer: retries never duplicate or reorder
   * messages within a partition. Requires acks -1. Default false.
   * NOTE: kafkajs 2.2.4 retries an idempotent send without limit, so during
   * a broker outage `send` waits until the broker is back.
   */
  idempotent?: boolean;
  /** Maximum unacknowledged requests per broker connection. Default no limit. */
  maxInFlightRequests?: number;
  /** Whether producing to a missing topic requests that the broker create it. Default false. */
  allowAutoTopicCreation?: boolean;
}

export interface KafkaProducer {
  /** Connects, retrying an unreachable broker for the connection's `startupTimeout`. */
  connect(): Promise<void>;
  send(request: SendRequest): Promise<RecordMetadata[]>;
  disconnect(): Promise<void>;
}

/** A consumed message. */
export interface ConsumedMessage {
  offset: string;
  key: Buffer | null;
  /** Null for a tombstone. */
  value: Buffer | null;
  headers: Record<string, Buffer | string | Array<Buffer | string> | undefined>;
  /** Create or log-append time in ms since the epoch, as a decimal string. */
  timestamp: string;
}

/** Messages fetched from one partition. */
export interface ConsumedBatch {
  topic: string;
  partition: number;
  /** Offset after the last message in the partition when the batch was fetched. */
  highWatermark: string;
  messages: ConsumedMessage[];
}

/** Arguments of an {@link EachBatchHandler}. */
export interface EachBatchContext {
  batch: ConsumedBatch;
  /** Marks `offset` as processed; the next commit stores `offset + 1`. */
  resolveOffset(offset: string): void;
  /** Sends a heartbeat to the group coordinator, for batches that take long to process. */
  heartbeat(): Promise<void>;
  /** Commits resolved offsets if the auto-commit interval or threshold is reached. */
  commitOffsetsIfNecessary(): Promise<void>;
  /** False once the consumer is stopping; long handlers should return early. */
  isRunning(): boolean;
  /** True when a rebalance or seek made the rest of this batch obsolete. */
  isStale(): boolean;
  /** Pauses this batch's partition; calling the returned function resumes it. */
  pause(): () => void;
}

export type EachBatchHandler = (context: EachBatchContext) => Promise<void>;

/** Options of {@link KafkaConsumer.run}. */
export interface ConsumerRunOptions {
  eachBatch: EachBatchHandler;
  /** Whether resolved offsets are committed automatically. Default true. */
  autoCommit?: boolean;
  /** Whether the last offset of a batch is resolved when the handler returns. Default true. */
  eachBatchAutoResolve?: boolean;
  /** Partitions processed at the same time. Default 1. */
  partitionsConsumedConcurrently?: number;
}

/** Options of {@link KafkaClient.consumer}. */
export interface ConsumerOptions {
  groupId: string;
  /** Time without heartbeats after which the group drops this member, in ms. Default 30000. */
  sessionTimeoutMs?: number;
  /** Interval between heartbeats, in ms. Default 3000. */
  heartbeatIntervalMs?: number;
  /** Maximum bytes fetched per partition per request. Default 1 MiB. */
  maxBytesPerPartition?: number;
  /** Maximum time the broker waits for new messages before it responds to a fetch, in ms. Default 5000. */
  maxWaitTimeMs?: number;
  /** Whether subscribing to a missing topic requests that the broker create it. Default false. */
  allowAutoTopicCreation?: boolean;
}

export interface TopicPartitionOffset {
  topic: string;
  partition: number;
  offset: string;
}

/** A topic and some of its partitions, or all of them when `partitions` is absent. */
export interface TopicPartitions {
  topic: string;
  partitions?: number[];
}

export interface KafkaConsumer {
  /** Connects, retrying an unreachable broker for the connection's `startupTimeout`. */
  connect(): Promise<void>;
  /** Subscribes before {@link run}; `fromBeginning` applies when the group has no committed offset. */
  subscribe(options: {
    topics: string[];
    fromBeginning?: boolean;
  }): Promise<void>;
  /** Joins the group and starts fetching; resolves once running, not when consumption ends. */
  run(options: ConsumerRunOptions): Promise<void>;
  /** Commits offsets for the group; each offset is the next one to read. */
  commitOffsets(offsets: TopicPartitionOffset[]): Promise<void>;
  /** Moves the fetch position of a partition; valid only after {@link run}. */
  seek(position: TopicPartitionOffset): void;
  pause(topics: TopicPartitions[]): void;
  resume(topics: TopicPartitions[]): void;
  /**
   * Registers a listener for consumer crashes. `restarting` is true when the
   * client library restarts the consumer by itself after a retriable error.
   * Returns a function that removes the listener.
   */
  onCrash(listener: (error: Error, restarting: boolean) => void): () => void;
  /** Stops fetching and leaves the group but keeps the connection. */
  stop(): Promise<void>;
  disconnect(): Promise<void>;
}

/** A topic to create. */
export interface TopicSpec {
  topic: string;
  /** Default 1. */
  partitions?: number;
  /** Default 1; at most the number of brokers. */
  replicationFactor?: number;
  /** Topic configs, for example `{ "cleanup.policy": "compact" }`. */
  configs?: Record<string, string>;
}

/** An existing topic's partition count and the configs that were asked about. */
export interface TopicDescription {
  topic: string;
  partitions: number;
  configs: Record<string, string | undefined>;
}

/** Offsets of one partition: `low` is the first retained offset, `high` the next offset to be written. */
export interface PartitionOffsets {
  partition: number;
  low: string;
  high: string;
}

export interface KafkaAdmin {
  /** Connects, retrying an unreachable broker for the connection's `startupTimeout`. */
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  listTopics(): Promise<string[]>;
  /** Creates a topic and waits for its partition leaders; returns false if it already existed. */
  createTopic(spec: TopicSpec): Promise<boolean>;
  /** Describes a topic, reading the named configs; returns undefined if it does not exist. */
  describeTopic(
    topic: string,
    configNames?: string[],
  ): Promise<TopicDescription | undefined>;
  deleteTopics(topics: string[]): Promise<void>;
  fetchTopicOffsets(topic: string): Promise<PartitionOffsets[]>;
  /** Committed offsets of a group for a topic; "-1" where the group has committed nothing. */
  fetchCommittedOffsets(
    groupId: string,
    topic: string,
  ): Promise<TopicPartitionOffset[]>;
  /** Sets a group's committed offsets; the group must have no active members. */
  setCommittedOffsets(
    groupId: string,
    offsets: TopicPartitionOffset[],
  ): Promise<void>;
}

/** Creates producers, consumers and admin clients that share one connection config. */
export interface KafkaClient {
  producer(options?: ProducerOptions): KafkaProducer;
  consumer(options: ConsumerOptions): KafkaConsumer;
  admin(): KafkaAdmin;
  /**
   * Waits until a broker responds, retrying with backoff for the connection's
   * `startupTimeout`. The `connect()` methods call it, and it runs at most once
   * at a time; after it succeeds, later calls return at once.
   */
  waitForBroker(): Promise<void>;
}
