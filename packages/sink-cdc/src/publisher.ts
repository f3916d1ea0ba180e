import {
  ErrorCode,
  isWeftError,
  type ChangeEvent,
  type PluginHost,
  type StoredObject,
} from "@weft/core";
import type { Message } from "kafkajs";
import type { Logger } from "pino";
import { backoffMs, pause } from "./backoff.js";
import { CheckpointStore, type SinkCheckpoint } from "./checkpoint.js";
import type { CdcSinkConfig, CdcTimings } from "./config.js";
import { CdcErrorCode, cdcError } from "./errors.js";
import { nowMicros, type MessageEncoder } from "./formats/types.js";
import {
  describeError,
  errorReason,
  isFatalProducerError,
} from "./kafka/producer-errors.js";
import { CdcMetrics } from "./metrics.js";
import { OutgoingBatch } from "./outgoing-batch.js";
import { snapshotRows, takeSnapshots } from "./snapshot.js";
import { SinkStatus, type PublisherPhase } from "./sink-status.js";
import { TransactionCounter } from "./transaction-order.js";

/** Sends messages grouped by topic; resolves once the broker acknowledged them all. */
export interface MessageSender {
  /** Connects ahead of the first send; a failure is left to the first send to report. */
  connect?(): Promise<void>;
  send(groups: ReadonlyMap<string, Message[]>): Promise<void>;
  /** Replaces the producer after a fatal error. */
  replace(): Promise<void>;
  close(): Promise<void>;
}

/** Makes sure topics exist before the first send to them. */
export interface TopicEnsurer {
  ensure(topics: Iterable<string>): Promise<void>;
  forget(): void;
  close(): Promise<void>;
}

/** Dependencies of a {@link CdcPublisher}. */
export interface PublisherOptions {
  host: PluginHost;
  config: CdcSinkConfig;
  timings: CdcTimings;
  encoder: MessageEncoder;
  /** The compiled classes, operations and where filter. */
  acceptEvent: (event: ChangeEvent) => boolean;
  /** Classes of the initial snapshot, in publishing order. */
  snapshotClasses: string[];
  /** The where filter, applied to snapshot objects. */
  acceptObject: (object: StoredObject) => boolean;
  sender: MessageSender;
  topics: TopicEnsurer;
}

/** A batch encoded and ready to send, with the checkpoint to store once it is acknowledged. */
interface PreparedBatch {
  batch: OutgoingBatch;
  checkpoint: SinkCheckpoint;
  /** Commit time of the batch's first event, in ms since the epoch. */
  oldestMs: number;
}

class StopRequested extends Error {
  constructor() {
    super("the sink is stopping");
    this.name = "StopRequested";
  }
}

/** Interval of the `/readyz` status refresh, so a growing lag shows while the sink waits on Kafka. */
const STATUS_INTERVAL_MS = 1000;
/** Time to wait for an in-flight send after a stop aborted the loop, before the producer is disconnected under it. */
const ABORT_GRACE_MS = 1000;

/**
 * Publishes the change feed to Kafka from the sink's checkpoint. One loop
 * runs in the background: it reads a batch of events, encodes the ones the
 * filter accepts, sends them until the broker acknowledges them (retrying
 * with backoff, and replacing the producer after a fatal error), then
 * advances the checkpoint. Writes never wait for it: while Kafka is slow or
 * down only the lag grows.
 */
export class CdcPublisher {
  readonly #options: PublisherOptions;
  readonly #host: PluginHost;
  readonly #config: CdcSinkConfig;
  readonly #logger: Logger;
  readonly #checkpoints: CheckpointStore;
  readonly #metrics: CdcMetrics;
  readonly #status: SinkStatus;
  readonly #abort = new AbortController();
  #running: Promise<void> | undefined;
  #statusTimer: NodeJS.Timeout | undefined;
  #transactions: TransactionCounter | undefined;
  #snapshotSeqs: Record<string, number> | undefined;

  constructor(options: PublisherOptions) {
    this.#options = options;
    this.#host = options.host;
    this.#config = options.config;
    this.#logger = options.host.logger;
    this.#checkpoints = new CheckpointStore(options.host);
    const status = new SinkStatus(
      options.host,
      options.config,
      options.timings,
    );
    this.#status = status;
    this.#metrics = new CdcMetrics(options.host.metrics, {
      lagEvents: () => status.lagEvents(),
      lagSeconds: () => status.lagMs() / 1000,
      nextSeq: () => status.nextSeq ?? 0,
    });
  }

  get phase(): PublisherPhase {
    return this.#status.phase;
  }

  /** Starts the background loop and returns at once. */
  start(): void {
    // Connecting while the checkpoint loads and topics are checked saves a round of start-up latency.
    this.#options.sender.connect?.().catch(() => undefined);
    this.#running = this.#run().finally(() => {
      if (this.#status.phase !== "failed") this.#status.phase = "stopped";
    });
    this.#statusTimer = setInterval(
      () => this.#status.report(),
      STATUS_INTERVAL_MS,
    );
    this.#statusTimer.unref();
    this.#status.report();
  }

  /**
   * Stops the loop. The host closes the change feed before its stop taps
   * run, so the loop then publishes what is left in the change log, for at
   * most `drainTimeout` and not at all while Kafka fails. Whatever stays
   * unpublished is behind the checkpoint and goes out after the next start.
   */
  async stop(): Promise<void> {
    const running = this.#running;
    if (running) {
      // While Kafka fails, draining would only wait out the timeout.
      const drained =
        !this.#status.retrying &&
        (await settlesWithin(running, this.#options.timings.drainTimeoutMs));
      if (!drained) {
        this.#logger.warn(
          {
            nextSeq: this.#status.nextSeq,
            lagEvents: this.#status.lagEvents(),
          },
          "cdc sink stopped before publishing every event; the rest is published after the next start",
        );
        this.#abort.abort();
        await settlesWithin(running, ABORT_GRACE_MS);
      }
    }
    clearInterval(this.#statusTimer);
    await this.#options.sender.close();
    await this.#options.topics.close();
    if (running) await settlesWithin(running, ABORT_GRACE_MS);
  }

  async #run(): Promise<void> {
    let failures = 0;
    while (!this.#abort.signal.aborted) {
      try {
        await this.#runFromCheckpoint();
        return;
      } catch (error) {
        if (error instanceof StopRequested || this.#abort.signal.aborted)
          return;
        if (isPermanent(error)) {
          this.#fail(error);
          return;
        }
        if (isWeftError(error) && error.code === ErrorCode.CHANGES_TRUNCATED) {
          this.#fail(
            cdcError(
              CdcErrorCode.CHECKPOINT_TRUNCATED,
              `the change log no longer holds seq ${this.#status.nextSeq}, the sink's checkpoint, so the events before its first seq cannot be published: ${error.message}; ` +
                `to publish the current state instead, delete the state key "checkpoint" of ${this.#host.name} and restart with snapshot: initial`,
              {
                cause: error,
                details: {
                  plugin: this.#host.name,
                  nextSeq: this.#status.nextSeq,
                },
              },
            ),
          );
          return;
        }
        failures += 1;
        this.#status.retrying = true;
        this.#status.lastError = describeError(error);
        this.#status.report();
        this.#logger.error(
          { err: error, nextSeq: this.#status.nextSeq, attempt: failures },
          "cdc sink failed; restarting from its checkpoint",
        );
        await pause(
          backoffMs(
            failures,
            this.#options.timings.retryInitialMs,
            this.#options.timings.retryMaxMs,
          ),
          this.#abort.signal,
        );
      }
    }
  }

  async #runFromCheckpoint(): Promise<void> {
    let checkpoint = await this.#checkpoints.load();
    if (!checkpoint) {
      checkpoint =
        this.#config.snapshot === "initial"
          ? await this.#publishSnapshot()
          : await this.#startAtLogStart();
    }
    const lastSeq = this.#host.changes.lastSeq();
    if (checkpoint.nextSeq > lastSeq + 1) {
      this.#logger.warn(
        { nextSeq: checkpoint.nextSeq, lastSeq },
        "cdc sink checkpoint is ahead of the change log, as after the store was replaced; events up to the checkpoint are not published",
      );
    }
    this.#status.nextSeq = checkpoint.nextSeq;
    this.#status.retrying = false;
    this.#snapshotSeqs = checkpoint.snapshotSeqs;
    this.#transactions = this.#config.transaction
      ? new TransactionCounter(checkpoint.transaction)
      : undefined;
    this.#setPhase("streaming");
    this.#logger.info(
      {
        nextSeq: checkpoint.nextSeq,
        topic: this.#config.topic,
        format: this.#config.format,
      },
      "cdc sink streaming",
    );

    const batches = this.#host.changes.batches(checkpoint.nextSeq, {
      signal: this.#abort.signal,
      maxBatch: this.#config.maxBatch,
    });
    // The next batch is read and encoded while the previous one is in flight; sends and checkpoints stay in seq order.
    let inFlight: Promise<void> | undefined;
    for await (const events of batches) {
      const prepared = this.#prepare(events);
      if (inFlight) await inFlight;
      inFlight = this.#publishPrepared(prepared);
      // Marks a failure as handled until the await above or below picks it up, so Node does not report it as unhandled.
      inFlight.catch(() => undefined);
    }
    if (inFlight) await inFlight;

    // The feed ends when the host closes it at stop, or when this sink aborts.
    if (!this.#abort.signal.aborted) await this.#drain();
  }

  /** Publishes what the change log contains beyond the checkpoint after the host closed the feed. */
  async #drain(): Promise<void> {
    this.#setPhase("draining");
    const store = this.#host.store();
    for (;;) {
      const nextSeq = this.#status.nextSeq;
      if (this.#abort.signal.aborted || nextSeq === undefined) return;
      const events = await store.readChanges(nextSeq, this.#config.maxBatch);
      if (events.length === 0) return;
      await this.#publishEvents(events);
    }
  }

  async #startAtLogStart(): Promise<SinkCheckpoint> {
    const checkpoint = { nextSeq: await this.#host.store().firstSeq() };
    await this.#checkpoints.save(checkpoint);
    this.#logger.info(
      { nextSeq: checkpoint.nextSeq },
      "cdc sink has no checkpoint; starting at the oldest event in the change log",
    );
    return checkpoint;
  }

  /**
   * Publishes every accepted object as a read event, then returns the
   * checkpoint streaming starts from. Each class's snapshot is consistent as
   * of its own seq, so streaming starts after the lowest of them and skips
   * events of a class up to that class's seq: nothing is missed or doubled.
   */
  async #publishSnapshot(): Promise<SinkCheckpoint> {
    this.#setPhase("snapshot");
    const lastSeq = this.#host.changes.lastSeq();
    // Retention must keep everything after the snapshot until streaming has caught up.
    await this.#checkpoints.hold(lastSeq + 1);

    const set = await takeSnapshots(
      this.#host.store(),
      this.#options.snapshotClasses,
    );
    const floor = Math.min(lastSeq, ...Object.values(set.seqs));
    this.#status.nextSeq = floor + 1;
    this.#status.oldestPendingMs = set.startedAtMs;
    await this.#checkpoints.hold(floor + 1);
    this.#logger.info(
      { classes: this.#options.snapshotClasses, seqs: set.seqs },
      "cdc sink initial snapshot started",
    );

    let batch = new OutgoingBatch(this.#config.maxBatchBytes);
    let rows = 0;
    for await (const row of snapshotRows(set, this.#options.acceptObject)) {
      batch.add(
        this.#options.encoder.snapshotRow(row, nowMicros()),
        row.object.class,
        "READ",
      );
      rows += 1;
      if (batch.size >= this.#config.maxBatch) {
        await this.#deliver(batch);
        batch = new OutgoingBatch(this.#config.maxBatchBytes);
      }
    }
    if (!batch.empty) await this.#deliver(batch);

    const checkpoint: SinkCheckpoint = {
      nextSeq: floor + 1,
      snapshotSeqs: set.seqs,
    };
    await this.#checkpoints.save(checkpoint);
    this.#status.oldestPendingMs = undefined;
    this.#logger.info(
      { rows, nextSeq: checkpoint.nextSeq },
      "cdc sink initial snapshot published",
    );
    return checkpoint;
  }

  async #publishEvents(events: ChangeEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.#publishPrepared(this.#prepare(events));
  }

  /**
   * Filters and encodes a batch of events and computes the checkpoint that
   * follows it. Batches are prepared in seq order, one ahead of the batch in
   * flight, so the transaction counters and snapshot seqs move in that order.
   */
  #prepare(events: ChangeEvent[]): PreparedBatch {
    const processedAtUs = nowMicros();
    const batch = new OutgoingBatch(this.#config.maxBatchBytes);

    for (const event of events) {
      if (this.#inSnapshot(event) || !this.#options.acceptEvent(event))
        continue;
      const message = this.#options.encoder.change(
        event,
        this.#transactions?.next(event),
        processedAtUs,
      );
      batch.add(message, event.class, event.op);
      if (event.op === "DELETE" && this.#config.tombstonesOnDelete)
        batch.addTombstone(message);
    }

    const nextSeq = events[events.length - 1].seq + 1;
    const checkpoint: SinkCheckpoint = { nextSeq };
    const transaction = this.#transactions?.state();
    if (transaction) checkpoint.transaction = transaction;
    const snapshotSeqs = this.#snapshotSeqs;
    if (
      snapshotSeqs &&
      Object.values(snapshotSeqs).some((seq) => seq >= nextSeq)
    )
      checkpoint.snapshotSeqs = snapshotSeqs;
    this.#snapshotSeqs = checkpoint.snapshotSeqs;

    return { batch, checkpoint, oldestMs: Date.parse(events[0].timestamp) };
  }

  /** Sends a prepared batch until the broker acknowledged it, then stores its checkpoint. */
  async #publishPrepared(prepared: PreparedBatch): Promise<void> {
    this.#status.oldestPendingMs = prepared.oldestMs;
    if (!prepared.batch.empty) await this.#deliver(prepared.batch);

    await this.#checkpoints.save(prepared.checkpoint);
    this.#status.nextSeq = prepared.checkpoint.nextSeq;
    this.#status.oldestPendingMs = undefined;
  }

  /** Tells whether the initial snapshot already contained the event's change. */
  #inSnapshot(event: ChangeEvent): boolean {
    const seq = this.#snapshotSeqs?.[event.class];
    return seq !== undefined && event.seq <= seq;
  }

  /**
   * Sends a batch until the broker acknowledged all of it. Failures are
   * retried with backoff and never end the loop; only a stop does.
   */
  async #deliver(batch: OutgoingBatch): Promise<void> {
    const started = performance.now();
    let attempt = 0;

    for (;;) {
      if (this.#abort.signal.aborted) throw new StopRequested();
      try {
        while (batch.chunks.length > 0) {
          const chunk = batch.chunks[0];
          await this.#options.topics.ensure(chunk.keys());
          this.#status.sendStartedMs = Date.now();
          await this.#options.sender.send(chunk);
          batch.chunks.shift();
        }
        break;
      } catch (error) {
        attempt += 1;
        this.#status.sendStartedMs = undefined;
        await this.#onSendFailure(error, attempt);
        await pause(
          backoffMs(
            attempt,
            this.#options.timings.retryInitialMs,
            this.#options.timings.retryMaxMs,
          ),
          this.#abort.signal,
        );
      }
    }

    this.#status.sendStartedMs = undefined;
    if (attempt > 0) {
      this.#logger.info(
        { attempts: attempt + 1, ms: Math.round(performance.now() - started) },
        "kafka send recovered",
      );
      this.#status.retrying = false;
      this.#status.lastError = undefined;
      this.#status.report();
    }
    this.#metrics.sendDuration.observe((performance.now() - started) / 1000);
    for (const [key, count] of batch.counts) {
      const [className, op] = key.split("\u0000");
      this.#metrics.messages.inc({ class: className, op }, count);
      if (op === "READ")
        this.#metrics.snapshotRows.inc({ class: className }, count);
    }
    if (batch.tombstones > 0) this.#metrics.tombstones.inc(batch.tombstones);
  }

  async #onSendFailure(error: unknown, attempt: number): Promise<void> {
    const reason = errorReason(error);
    const status = this.#status;
    status.failedSends += 1;
    status.lastError = describeError(error);
    if (reason === "MESSAGE_TOO_LARGE") {
      status.lastError +=
        "; a record batch is larger than the topic's max.message.bytes: lower maxBatchBytes, or raise max.message.bytes on the topic if one message alone is too large";
    }
    status.retrying = true;
    status.report();
    this.#metrics.sendFailures.inc({ reason });

    // Log the first failure and then every tenth, so a long outage does not flood the log.
    if (attempt === 1 || attempt % 10 === 0) {
      this.#logger.warn(
        {
          err: status.lastError,
          reason,
          attempt,
          nextSeq: status.nextSeq,
          topic: this.#config.topic,
        },
        "kafka send failed; retrying with backoff",
      );
    }
    if (isFatalProducerError(error)) {
      this.#logger.warn(
        { reason, nextSeq: status.nextSeq },
        "idempotent kafka producer cannot continue; replacing it",
      );
      status.producerRestarts += 1;
      this.#metrics.producerRestarts.inc();
      this.#options.topics.forget();
      await this.#options.sender.replace();
    }
  }

  #setPhase(phase: PublisherPhase): void {
    this.#status.phase = phase;
    this.#status.report();
  }

  #fail(error: unknown): void {
    this.#status.phase = "failed";
    this.#status.lastError = describeError(error);
    this.#logger.error(
      { err: error, nextSeq: this.#status.nextSeq },
      "cdc sink stopped publishing",
    );
    this.#status.report();
  }
}

/** Errors that retrying from the checkpoint cannot fix. */
function isPermanent(error: unknown): boolean {
  return (
    isWeftError(error) &&
    (error.code === CdcErrorCode.CHECKPOINT_TRUNCATED ||
      error.code === CdcErrorCode.CHECKPOINT_INVALID)
  );
}

/** Resolves true if `promise` settles within `ms`, false otherwise; never rejects. */
async function settlesWithin(
  promise: Promise<unknown>,
  ms: number,
): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([
      promise.then(
        () => true,
        () => true,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
