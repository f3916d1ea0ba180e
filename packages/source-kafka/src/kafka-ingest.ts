import {
  ErrorCode,
  isWeftError,
  parseDuration,
  type PluginHost,
  type SourcePosition,
  type WriteOptions,
  type WriteRequest,
  type WriteResult,
} from "@weft/core";
import type {
  Admin,
  Consumer,
  EachBatchPayload,
  IMemberAssignment,
  Kafka,
  KafkaMessage,
  Producer,
} from "kafkajs";
import type { Logger } from "pino";
import { retryDelay, sleep, waitWithHeartbeat } from "./backoff.js";
import { Batcher } from "./batcher.js";
import type { ConsumerConfig } from "./config.js";
import { DeadLetterSink, type DeadLetter } from "./dead-letters.js";
import { MessageDecoder, type Decoded, type MessageHeaders } from "./decode.js";
import type { SourceMetrics } from "./metrics.js";
import { PartitionState, streamOf } from "./partition-state.js";

/**
 * Maximum time the broker keeps a fetch open when no messages arrive, in ms.
 * It bounds how long a stop waits for the fetch in progress, which with
 * kafkajs's default would be up to 5 s.
 */
const FETCH_MAX_WAIT_MS = 1000;

/** One consumed message on its way into a batch. */
interface Entry {
  state: PartitionState;
  offset: string;
  message: KafkaMessage;
  /**
   * Set when the batch is written. Decoding then, not on receipt, keeps the
   * parsed objects of queued batches off the heap until their write, so a
   * scavenge while batches wait does not copy them.
   */
  decoded?: Decoded;
}

/** Dependencies of a {@link KafkaIngest}, passed by the plugin. */
export interface KafkaIngestOptions {
  host: PluginHost;
  config: ConsumerConfig;
  /** Name in logs, metrics and the stored positions' `source`. */
  name: string;
  /** The `source` of the positions this consumer stores. */
  source: string;
  kafka: Kafka;
  metrics: SourceMetrics;
  logger: Logger;
}

/**
 * One consumer group that reads topics into classes.
 *
 * kafkajs fetches; `eachBatch` decodes messages and adds them to a
 * {@link Batcher}, which writes full or timed-out batches through
 * `host.write` one at a time. A batch's source positions commit in the same
 * store transaction as its objects, and its Kafka offsets are committed only
 * afterwards. After a crash Kafka redelivers the messages after its last
 * commit, and the stored positions make the consumer skip those the store
 * already has.
 *
 * Every rebalance starts an epoch. Buffered messages of the old assignment
 * are dropped, because kafkajs fetches them again from the committed
 * offsets. A batch of the old assignment that is still being written commits
 * no Kafka offsets. Each partition re-reads its stored position before it
 * accepts messages.
 */
export class KafkaIngest {
  readonly name: string;
  readonly source: string;
  readonly #host: PluginHost;
  readonly #config: ConsumerConfig;
  readonly #kafka: Kafka;
  readonly #metrics: SourceMetrics;
  readonly #logger: Logger;
  readonly #decoder: MessageDecoder;
  readonly #batcher: Batcher<Entry>;
  readonly #heartbeatMs: number;
  readonly #retryInitialMs: number;
  readonly #retryMaxMs: number;
  #consumer: Consumer | undefined;
  #producer: Producer | undefined;
  #deadLetters: DeadLetterSink;
  #epoch = 0;
  #partitions = new Map<string, PartitionState>();
  /** The current assignment's positions: resolved once stored positions are applied. */
  #assignmentReady: Promise<void> = Promise.resolve();
  #admin: Admin | undefined;
  /** The epoch of the batch being written, while one is. */
  #writingEpoch: number | undefined;
  #pauses = new Map<string, Set<string>>();
  /** Resolved and replaced at every rebalance and at stop, to cut retry sleeps short. */
  #interrupt = deferred();
  /** Set when intake stops: no new messages are accepted. */
  #closing = false;
  /** Set when the host gives up on this consumer: retries end without writing. */
  #aborted = false;
  #disconnected: Promise<void> | undefined;
  /** The Kafka commit in progress; commits run one at a time, off the write path. */
  #committing: Promise<void> | undefined;
  /** Set when a batch was written while a commit was in progress, so another commit follows. */
  #commitAgain = false;

  constructor(options: KafkaIngestOptions) {
    this.name = options.name;
    this.source = options.source;
    this.#host = options.host;
    this.#config = options.config;
    this.#kafka = options.kafka;
    this.#metrics = options.metrics;
    this.#logger = options.logger.child({
      consumer: options.name,
      groupId: options.config.groupId,
    });
    this.#decoder = new MessageDecoder(
      options.config,
      new Set(options.host.classes.keys()),
    );
    this.#heartbeatMs = parseDuration(
      options.config.heartbeatInterval,
      "heartbeatInterval",
    );
    this.#retryInitialMs = parseDuration(
      options.config.retry.initialDelay,
      "retry.initialDelay",
    );
    this.#retryMaxMs = parseDuration(
      options.config.retry.maxDelay,
      "retry.maxDelay",
    );
    this.#deadLetters = this.#createDeadLetterSink(undefined);
    this.#batcher = new Batcher<Entry>({
      maxItems: options.config.batchSize,
      maxBytes: options.config.maxBatchBytes,
      maxQueued: options.config.queuedBatches,
      intervalMs: parseDuration(options.config.flushInterval, "flushInterval"),
      flush: (entries) => this.#flush(entries),
      onError: (error) =>
        this.#logger.error(
          { err: error },
          "writing a batch failed unexpectedly; its messages are read again after the next rebalance or restart",
        ),
    });
  }

  /** Connects, joins the group and starts fetching. */
  async start(): Promise<void> {
    const config = this.#config;
    if (config.deadLetterTopic) {
      this.#producer = this.#kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
      });
      await this.#producer.connect();
      this.#deadLetters = this.#createDeadLetterSink(this.#producer);
    }

    const consumer = this.#kafka.consumer({
      groupId: config.groupId,
      sessionTimeout: parseDuration(config.sessionTimeout, "sessionTimeout"),
      heartbeatInterval: this.#heartbeatMs,
      maxBytesPerPartition: config.maxBytesPerPartition,
      maxWaitTimeInMs: FETCH_MAX_WAIT_MS,
      allowAutoTopicCreation: false,
      retry: {
        restartOnFailure: async (error) => {
          const restart = !this.#closing;
          this.#logger.error(
            { err: error, restart },
            restart
              ? "kafka consumer crashed; restarting it"
              : "kafka consumer crashed while stopping; not restarting it",
          );
          return restart;
        },
      },
    });
    this.#consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, (event) =>
      this.#onGroupJoin(event.payload.memberAssignment),
    );
    consumer.on(consumer.events.CRASH, (event) => {
      if (event.payload.restart) return;
      this.#logger.error(
        { err: event.payload.error },
        "kafka consumer crashed and does not restart; restart the host",
      );
      this.#host.setStatus("failed", {
        consumer: this.name,
        error: event.payload.error.message,
      });
    });

    this.#admin = this.#kafka.admin();
    await this.#admin.connect();
    await consumer.connect();
    const topics: Array<string | RegExp> = [...config.topics];
    if (config.topicPattern) topics.push(new RegExp(config.topicPattern));
    await consumer.subscribe({ topics, fromBeginning: config.fromBeginning });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: config.partitionConcurrency,
      eachBatch: (payload) => this.#eachBatch(payload),
    });
    this.#logger.info(
      {
        topics: topics.map(String),
        source: this.source,
        deadLetterTopic: config.deadLetterTopic,
      },
      "kafka consumer started",
    );
  }

  /**
   * Stops intake: accepts no more messages, writes what was accepted,
   * commits its offsets and leaves the group.
   */
  async stopIntake(): Promise<void> {
    if (this.#closing) return this.#disconnected;
    this.#closing = true;
    this.#wake();
    this.#pauseAssigned();

    await this.#batcher.drain();
    this.#requestCommit();
    while (this.#committing) await this.#committing;
    this.#logger.info("kafka consumer stopped intake; leaving the group");
    await this.#disconnect();
  }

  /** Ends retries and disconnects; for shutdown after {@link stopIntake} or when it timed out. */
  async close(): Promise<void> {
    this.#closing = true;
    this.#aborted = true;
    this.#wake();
    await this.#disconnect();
  }

  #disconnect(): Promise<void> {
    this.#disconnected ??= (async () => {
      await this.#consumer
        ?.disconnect()
        .catch((error: unknown) =>
          this.#logger.warn(
            { err: error },
            "disconnecting the kafka consumer failed",
          ),
        );
      await this.#admin
        ?.disconnect()
        .catch((error: unknown) =>
          this.#logger.warn(
            { err: error },
            "disconnecting the kafka admin client failed",
          ),
        );
      await this.#producer
        ?.disconnect()
        .catch((error: unknown) =>
          this.#logger.warn(
            { err: error },
            "disconnecting the dead-letter producer failed",
          ),
        );
    })();
    return this.#disconnected;
  }

  #createDeadLetterSink(producer: Producer | undefined): DeadLetterSink {
    return new DeadLetterSink({
      producer,
      topic: producer ? this.#config.deadLetterTopic : undefined,
      consumer: this.name,
      groupId: this.#config.groupId,
      logger: this.#logger,
      metrics: this.#metrics,
    });
  }

  /** A new assignment: every partition starts over from its stored position. */
  #onGroupJoin(assignment: IMemberAssignment): void {
    this.#epoch += 1;
    this.#wake();

    const next = new Map<string, PartitionState>();
    for (const [topic, partitions] of Object.entries(assignment)) {
      for (const partition of partitions)
        next.set(
          streamOf(topic, partition),
          new PartitionState(topic, partition, this.#epoch),
        );
    }
    for (const old of this.#partitions.values()) {
      if (!next.has(old.stream))
        this.#metrics.lag.remove({
          consumer: this.name,
          topic: old.topic,
          partition: String(old.partition),
        });
    }
    this.#partitions = next;

    // kafkajs fetches these again from the committed offsets.
    const dropped = this.#batcher.clear();
    this.#logger.info(
      {
        epoch: this.#epoch,
        partitions: [...next.keys()],
        droppedBuffered: dropped.length,
      },
      "kafka partitions assigned",
    );
    if (this.#closing) this.#pauseAssigned();
    this.#assignmentReady = this.#prepareAssignment(this.#epoch, [
      ...next.values(),
    ]);
  }

  /**
   * Applies the stored positions of a new assignment. It waits until no
   * batch of the old assignment is being written, reads the positions the
   * store committed and the group's committed offsets, and seeks each
   * partition whose stored position differs from the group's offset.
   * kafkajs has no assignment callback, so batches fetched from the group's
   * offset may arrive before this finishes: `eachBatch` waits for it, and
   * kafkajs marks those batches stale once the seek is issued. Retries until
   * it succeeds, the assignment changes or intake stops.
   */
  async #prepareAssignment(
    epoch: number,
    states: PartitionState[],
  ): Promise<void> {
    for (let attempt = 1; epoch === this.#epoch && !this.#closing; attempt++) {
      try {
        // A batch of the previous assignment may still be committing its positions.
        while (this.#writingEpoch !== undefined && this.#writingEpoch < epoch) {
          await this.#batcher.inFlight;
        }
        const [stored, groupOffsets] = await Promise.all([
          this.#storedPositions(),
          this.#groupOffsets(states),
        ]);
        if (epoch !== this.#epoch) return;

        for (const state of states)
          this.#applyPosition(state, stored, groupOffsets);
        this.#requestCommit();
        return;
      } catch (error) {
        const delayMs = retryDelay(
          attempt,
          this.#retryInitialMs,
          this.#retryMaxMs,
        );
        this.#logger.error(
          { err: error, epoch, attempt, delayMs },
          "reading the stored positions or the group's offsets failed; retrying",
        );
        await sleep(delayMs, this.#interrupt.promise);
      }
    }
  }

  #applyPosition(
    state: PartitionState,
    stored: Map<string, bigint>,
    groupOffsets: Map<string, bigint>,
  ): void {
    // Commits stay above the group's offset, so Kafka offsets never move back.
    state.committed = groupOffsets.get(state.stream);
    const position = stored.get(state.stream);
    if (position === undefined) return;

    state.position = position;
    if (position === state.committed) return;

    this.#consumer?.seek({
      topic: state.topic,
      partition: state.partition,
      offset: position.toString(),
    });
    this.#logger.info(
      {
        topic: state.topic,
        partition: state.partition,
        storedPosition: position.toString(),
        groupOffset: state.committed?.toString() ?? null,
      },
      "resuming the partition at the position stored with the objects",
    );
    if (state.committed === undefined || position > state.committed) {
      // The store has these messages but the group's offset lags (a crash before the Kafka commit):
      // commit the stored position, so lag and a later owner without this store start there.
      state.written = position;
    }
  }

  /** The positions the store committed for this consumer, by stream; empty for stores without transactional positions. */
  async #storedPositions(): Promise<Map<string, bigint>> {
    const store = this.#host.store();
    if (!store.transactionalPositions) return new Map();
    const positions = await store.positions(this.source);
    return new Map(
      positions.map((position) => [position.stream, BigInt(position.position)]),
    );
  }

  /** The group's committed offsets of the assigned partitions, by stream; partitions without one are left out. */
  async #groupOffsets(states: PartitionState[]): Promise<Map<string, bigint>> {
    const offsets = new Map<string, bigint>();
    if (states.length === 0 || !this.#admin) return offsets;

    const topics = [...new Set(states.map((state) => state.topic))];
    const results = await this.#admin.fetchOffsets({
      groupId: this.#config.groupId,
      topics,
    });
    for (const { topic, partitions } of results) {
      for (const { partition, offset } of partitions) {
        const value = BigInt(offset);
        if (value >= 0n) offsets.set(streamOf(topic, partition), value);
      }
    }
    return offsets;
  }

  async #eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, heartbeat, isRunning, isStale, resolveOffset } = payload;
    const epoch = this.#epoch;
    if (this.#isStale(epoch)) return;

    const state = this.#stateFor(batch.topic, batch.partition);
    state.highWatermark = BigInt(batch.highWatermark);
    await waitWithHeartbeat(
      this.#assignmentReady,
      heartbeat,
      this.#heartbeatMs,
    );
    // After a seek, batches fetched before it are stale and kafkajs fetches again from the seek offset.
    if (this.#isStale(epoch) || !isRunning() || isStale()) return;
    if (state.committed === undefined) {
      // The group had no committed offset: kafkajs fetched from `fromBeginning`'s end of the partition.
      // kafkajs's Batch has `fetchedOffset` but its type leaves it out.
      state.committed = BigInt(
        (batch as typeof batch & { fetchedOffset: string }).fetchedOffset,
      );
    }
    this.#updateLag(state);

    if (state.position !== undefined && state.highWatermark < state.position) {
      // Dropping every message below the position would skip the partition's new messages.
      this.#logger.warn(
        {
          topic: state.topic,
          partition: state.partition,
          position: state.position.toString(),
          highWatermark: batch.highWatermark,
        },
        "stored position is past the end of the partition, so the topic was deleted and created again or truncated; reading from the fetched offset",
      );
      state.position = undefined;
    }

    let messages = batch.messages;
    // kafkajs fetches from the last resolved offset, so this filter only acts when a fetch started below the position.
    if (
      state.position !== undefined &&
      messages.length > 0 &&
      BigInt(messages[0].offset) < state.position
    ) {
      const position = state.position;
      messages = messages.filter(
        (message) => BigInt(message.offset) >= position,
      );
    }

    let accepted: string | undefined;
    for (const message of messages) {
      const entry: Entry = { state, offset: message.offset, message };
      const bytes = message.value?.length ?? 0;
      while (!this.#batcher.add(entry, bytes)) {
        await waitWithHeartbeat(
          this.#batcher.room(),
          heartbeat,
          this.#heartbeatMs,
        );
        // While this batch waited, a rebalance, a seek or a stop may have made the rest obsolete.
        if (this.#isStale(epoch) || !isRunning() || isStale()) return;
      }
      accepted = message.offset;
    }

    if (accepted !== undefined) {
      state.position = BigInt(accepted) + 1n;
      // Moves kafkajs's fetch position; nothing is committed until the batch is in the store.
      resolveOffset(accepted);
    }
  }

  #stateFor(topic: string, partition: number): PartitionState {
    const stream = streamOf(topic, partition);
    let state = this.#partitions.get(stream);
    if (!state) {
      state = new PartitionState(topic, partition, this.#epoch);
      this.#partitions.set(stream, state);
    }
    return state;
  }

  #isStale(epoch: number): boolean {
    return this.#closing || epoch !== this.#epoch;
  }

  /**
   * Writes one batch: dead letters found while decoding first, then the
   * objects with their positions in one `host.write`, then the dead letters
   * the host rejected, then the Kafka offsets.
   */
  async #flush(entries: Entry[]): Promise<void> {
    const epoch = this.#epoch;
    // A rebalance drops the buffered entries, so a batch is almost always entirely live and needs no copy.
    const live = entries.every((entry) => entry.state.epoch === epoch)
      ? entries
      : entries.filter((entry) => entry.state.epoch === epoch);
    if (live.length === 0) return;

    this.#writingEpoch = epoch;
    try {
      await this.#writeBatch(live, epoch);
    } finally {
      this.#writingEpoch = undefined;
    }
  }

  async #writeBatch(live: Entry[], epoch: number): Promise<void> {
    const batch = splitBatch(live, this.#decoder);
    const streams = [...batch.positions.keys()];
    if (
      !(await this.#sendDeadLetters(
        batch.decodeFailures.map((entry) => this.#letter(entry)),
        streams,
        epoch,
      ))
    )
      return;

    const results = await this.#write(
      batch.requests,
      batch.positions,
      streams,
      epoch,
    );
    if (!results) return;

    // The store has committed this batch, so its rejections are sent even after a rebalance.
    const rejections: DeadLetter[] = [];
    for (let index = 0; index < results.length; index++) {
      const result = results[index];
      if (result.status !== "rejected") continue;
      const entry = batch.writes[index];
      rejections.push(
        this.#letter(
          entry,
          result.error?.code ?? ErrorCode.WRITE_REJECTED,
          result.error?.message ?? "rejected",
        ),
      );
      const outcomes = batch.outcomes.get(entry.state.topic);
      if (outcomes) {
        outcomes.written -= 1;
        outcomes.dead_letter += 1;
      }
    }
    if (!(await this.#sendDeadLetters(rejections, streams, undefined))) return;

    for (const [state, next] of batch.positions) {
      if (state.written === undefined || next > state.written)
        state.written = next;
    }
    this.#count(batch.outcomes);
    this.#requestCommit();
  }

  /**
   * Calls `host.write` until it succeeds. Failures that are not a message's
   * fault (store busy or down, a retryable rejection) pause the batch's
   * partitions and retry with backoff. Returns undefined when the batch is
   * given up: its partitions were reassigned, or the host is shutting down.
   */
  async #write(
    requests: WriteRequest[],
    positions: Map<PartitionState, bigint>,
    states: PartitionState[],
    epoch: number,
  ): Promise<WriteResult[] | undefined> {
    const store = this.#host.store();
    const options: WriteOptions = {};
    if (store.transactionalPositions) {
      options.positions = [...positions].map(
        ([state, next]): SourcePosition => ({
          source: this.source,
          stream: state.stream,
          position: next.toString(),
        }),
      );
    }
    if (requests.length === 0 && !options.positions) return [];

    const started = performance.now();
    return this.#untilDone(
      async () => {
        if (this.#host.writeQueue.full) await this.#waitForWriteQueue();
        const results = await this.#host.write(requests, options);
        this.#metrics.batchWrite.observe(
          { consumer: this.name },
          (performance.now() - started) / 1000,
        );
        return results;
      },
      states,
      epoch,
      "writing a batch",
    );
  }

  /** Sends dead letters until the broker acknowledges them; false when given up. */
  async #sendDeadLetters(
    letters: DeadLetter[],
    states: PartitionState[],
    epoch: number | undefined,
  ): Promise<boolean> {
    if (letters.length === 0) return true;

    const sent = await this.#untilDone(
      async () => {
        await this.#deadLetters.send(letters);
        return true;
      },
      states,
      epoch,
      "sending dead letters",
    );
    return sent ?? false;
  }

  /**
   * Runs `work` until it succeeds, with a backoff between failed attempts
   * (see {@link #retryAfter}). Returns undefined when the work was given up.
   */
  async #untilDone<T>(
    work: () => Promise<T>,
    states: PartitionState[],
    epoch: number | undefined,
    what: string,
  ): Promise<T | undefined> {
    let attempt = 0;
    try {
      for (;;) {
        try {
          return await work();
        } catch (error) {
          attempt += 1;
          if (!(await this.#retryAfter(error, attempt, states, epoch, what)))
            return undefined;
        }
      }
    } finally {
      if (attempt > 0) this.#endRetry(states);
    }
  }

  /**
   * Logs a failed attempt, pauses the partitions and sleeps the backoff
   * delay. Returns false when the work must be given up instead: the host
   * closed its write path, the consumer is aborting, or (with `epoch` set)
   * the partitions were reassigned.
   */
  async #retryAfter(
    error: unknown,
    attempt: number,
    states: PartitionState[],
    epoch: number | undefined,
    what: string,
  ): Promise<boolean> {
    const code = isWeftError(error)
      ? error.code
      : ((error as Error).name ?? "Error");
    const partitions = states.map((state) => state.stream);
    if (this.#aborted || code === ErrorCode.HOST_STOPPING) {
      this.#logger.warn(
        { err: error, partitions },
        `${what} given up because the host is stopping; the messages are read again after restart`,
      );
      return false;
    }
    if (epoch !== undefined && epoch !== this.#epoch) {
      this.#logger.info(
        { err: error, partitions },
        `${what} given up because the partitions were reassigned`,
      );
      return false;
    }

    const delayMs = retryDelay(attempt, this.#retryInitialMs, this.#retryMaxMs);
    this.#metrics.retries.inc({ consumer: this.name, code });
    const retryable = isWeftError(error) ? error.retryable : undefined;
    const level = attempt === 1 || attempt % 10 === 0 ? "warn" : "debug";
    this.#logger[level](
      { err: error, code, retryable, attempt, delayMs, partitions },
      `${what} failed; partitions paused, retrying after a delay`,
    );
    if (attempt === 1) {
      for (const state of states) this.#pause(state, "retry");
      this.#metrics.paused.set({ consumer: this.name, reason: "retry" }, 1);
      this.#host.setStatus("degraded", {
        consumer: this.name,
        error: (error as Error).message,
        code,
      });
    }

    await sleep(delayMs, this.#interrupt.promise);
    return true;
  }

  #endRetry(states: PartitionState[]): void {
    for (const state of states) this.#resume(state, "retry");
    this.#metrics.paused.set({ consumer: this.name, reason: "retry" }, 0);
    this.#host.setStatus("ready");
  }

  /** Pauses every assigned partition until the host's write queue has room. */
  async #waitForWriteQueue(): Promise<void> {
    const states = [...this.#partitions.values()];
    for (const state of states) this.#pause(state, "backpressure");
    this.#metrics.paused.set(
      { consumer: this.name, reason: "backpressure" },
      1,
    );
    this.#logger.info(
      { pendingWrites: this.#host.writeQueue.pending },
      "host write queue is full; partitions paused",
    );
    try {
      await this.#host.writeQueue.waitForCapacity();
    } finally {
      for (const state of states) this.#resume(state, "backpressure");
      this.#metrics.paused.set(
        { consumer: this.name, reason: "backpressure" },
        0,
      );
      this.#logger.info("host write queue has room; partitions resumed");
    }
  }

  /**
   * Commits the written offsets soon, without holding up the next batch: a
   * commit is a broker round trip, and the next write need not wait for it.
   */
  #requestCommit(): void {
    if (this.#committing) {
      this.#commitAgain = true;
      return;
    }
    this.#committing = (async () => {
      do {
        this.#commitAgain = false;
        await this.#commit(this.#epoch);
      } while (this.#commitAgain);
    })().finally(() => {
      this.#committing = undefined;
    });
  }

  /** Commits the written offsets of the partitions this assignment still owns. */
  async #commit(epoch: number): Promise<void> {
    const consumer = this.#consumer;
    if (!consumer || epoch !== this.#epoch) return;

    const due = [...this.#partitions.values()].filter(
      (state) =>
        state.epoch === epoch &&
        state.written !== undefined &&
        (state.committed === undefined || state.written > state.committed),
    );
    if (due.length === 0) return;

    // Batches written during the round trip move `written` on; only what was sent counts as committed.
    const sent = due.map((state) => ({
      state,
      offset: state.written as bigint,
    }));
    const offsets = sent.map(({ state, offset }) => ({
      topic: state.topic,
      partition: state.partition,
      offset: offset.toString(),
    }));
    try {
      await consumer.commitOffsets(offsets);
    } catch (error) {
      this.#logger.warn(
        { err: error, offsets },
        "committing kafka offsets failed; a later batch commits them again",
      );
      return;
    }
    if (epoch !== this.#epoch) return;

    for (const { state, offset } of sent) {
      if (state.committed === undefined || offset > state.committed)
        state.committed = offset;
      this.#updateLag(state);
    }
    this.#logger.debug({ epoch, offsets }, "kafka offsets committed");
  }

  #count(outcomes: Map<string, TopicOutcomes>): void {
    for (const [topic, counts] of outcomes) {
      for (const [outcome, count] of Object.entries(counts)) {
        if (count > 0)
          this.#metrics.messages.inc(
            { consumer: this.name, topic, outcome },
            count,
          );
      }
    }
    this.#metrics.batches.inc({ consumer: this.name });
  }

  #letter(entry: Entry, code?: string, reason?: string): DeadLetter {
    const decoded = entry.decoded as { code?: string; message?: string };
    return {
      topic: entry.state.topic,
      partition: entry.state.partition,
      offset: entry.offset,
      key: entry.message.key,
      value: entry.message.value,
      headers: (entry.message.headers ?? {}) as MessageHeaders,
      timestamp: entry.message.timestamp,
      code: code ?? decoded.code ?? "unknown",
      reason: reason ?? decoded.message ?? "",
    };
  }

  #updateLag(state: PartitionState): void {
    if (state.highWatermark === undefined || state.committed === undefined)
      return;
    const lag = state.highWatermark - state.committed;
    this.#metrics.lag.set(
      {
        consumer: this.name,
        topic: state.topic,
        partition: String(state.partition),
      },
      Number(lag > 0n ? lag : 0n),
    );
  }

  #pause(state: PartitionState, reason: string): void {
    let reasons = this.#pauses.get(state.stream);
    if (!reasons) this.#pauses.set(state.stream, (reasons = new Set()));
    if (reasons.size === 0)
      this.#consumer?.pause([
        { topic: state.topic, partitions: [state.partition] },
      ]);
    reasons.add(reason);
  }

  #resume(state: PartitionState, reason: string): void {
    const reasons = this.#pauses.get(state.stream);
    if (!reasons?.delete(reason) || reasons.size > 0) return;
    this.#pauses.delete(state.stream);
    if (!this.#closing)
      this.#consumer?.resume([
        { topic: state.topic, partitions: [state.partition] },
      ]);
  }

  #pauseAssigned(): void {
    const byTopic = new Map<string, number[]>();
    for (const state of this.#partitions.values())
      byTopic.set(state.topic, [
        ...(byTopic.get(state.topic) ?? []),
        state.partition,
      ]);
    if (byTopic.size > 0)
      this.#consumer?.pause(
        [...byTopic].map(([topic, partitions]) => ({ topic, partitions })),
      );
  }

  #wake(): void {
    this.#interrupt.resolve();
    this.#interrupt = deferred();
  }
}

/** Messages of one topic in a batch, by outcome, as the messages metric counts them. */
interface TopicOutcomes {
  written: number;
  dead_letter: number;
  skipped: number;
}

/** A batch's entries split up for writing. */
interface SplitBatch {
  /** The write requests, in message order. */
  requests: WriteRequest[];
  /** The entry of each request, at the request's index. */
  writes: Entry[];
  /** Entries whose message could not be decoded: dead letters. */
  decodeFailures: Entry[];
  /** The next offset of each partition in the batch: the position to store with it. */
  positions: Map<PartitionState, bigint>;
  /** Outcomes by topic, before the write's rejections are known. */
  outcomes: Map<string, TopicOutcomes>;
}

/** Splits a batch's entries into requests, decode failures, positions and counts, in one pass. */
function splitBatch(entries: Entry[], decoder: MessageDecoder): SplitBatch {
  const batch: SplitBatch = {
    requests: [],
    writes: [],
    decodeFailures: [],
    positions: new Map(),
    outcomes: new Map(),
  };
  // A partition's entries are in offset order, so its last entry is its highest.
  const last = new Map<PartitionState, Entry>();
  let outcomes: TopicOutcomes | undefined;
  let previous: Entry | undefined;
  for (const entry of entries) {
    if (entry.state !== previous?.state) {
      if (previous) last.set(previous.state, previous);
      outcomes = topicOutcomes(batch.outcomes, entry.state.topic);
    }
    previous = entry;

    const decoded = (entry.decoded ??= decoder.decode(
      entry.state.topic,
      entry.message,
    ));
    if (decoded.kind === "write") {
      batch.requests.push(decoded.request);
      batch.writes.push(entry);
      outcomes!.written += 1;
    } else if (decoded.kind === "reject") {
      batch.decodeFailures.push(entry);
      outcomes!.dead_letter += 1;
    } else outcomes!.skipped += 1;
  }
  if (previous) last.set(previous.state, previous);

  for (const [state, entry] of last)
    batch.positions.set(state, BigInt(entry.offset) + 1n);
  return batch;
}

function topicOutcomes(
  outcomes: Map<string, TopicOutcomes>,
  topic: string,
): TopicOutcomes {
  let counts = outcomes.get(topic);
  if (!counts) {
    counts = { written: 0, dead_letter: 0, skipped: 0 };
    outcomes.set(topic, counts);
  }
  return counts;
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}
