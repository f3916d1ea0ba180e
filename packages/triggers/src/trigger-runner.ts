import { setMaxListeners } from "node:events";
import { performance } from "node:perf_hooks";
import type {
  ActionHandler,
  ActionOutcome,
  ChangeEvent,
  ChangeOp,
  PluginHost,
  PluginState,
} from "@weft/core";
import { ErrorCode, isWeftError, toObjectId } from "@weft/core";
import { v7 as uuidv7 } from "uuid";
import type { ResolvedTrigger } from "./config.js";
import { TriggersErrorCode, triggersError } from "./errors.js";
import type { TriggerMetrics } from "./metrics.js";
import type { DeliveryPool, PoolMember } from "./pool.js";
import { Fifo } from "./fifo.js";
import { RateLimitedLog } from "./rate-limited-log.js";
import {
  TriggerKeys,
  type AttemptError,
  type DeadLetter,
  type PendingDelivery,
  type TriggerControl,
} from "./records.js";
import { retryDelay } from "./retry.js";

type Logger = PluginHost["logger"];

/** Change events read per batch from the feed. */
const READ_BATCH = 500;

/** Wait before a reader that failed for another reason than truncation reads again. */
const READ_RETRY_MS = 1000;

/** Dependencies of a runner, passed in by the engine. */
export interface RunnerContext {
  host: PluginHost;
  trigger: ResolvedTrigger;
  handler: ActionHandler;
  filter: (event: ChangeEvent) => boolean;
  pool: DeliveryPool;
  metrics: TriggerMetrics;
  logger: Logger;
  /** Called when the trigger is enabled or disabled, so the plugin can update its readiness. */
  onStateChange(): void;
  /** Source of randomness for jitter; tests replace it. */
  random?: () => number;
}

/** The events of one object, delivered one at a time in order. */
interface ObjectQueue {
  key: string;
  records: PendingDelivery[];
  /** An attempt of the head record is running. */
  busy: boolean;
  /** Fires when the head record's retry is due. */
  timer?: NodeJS.Timeout;
  /** The queue is in the ready list. */
  ready: boolean;
}

/** A trigger's state as the API returns it. */
export interface TriggerStatus {
  name: string;
  /** Whether the trigger reads and delivers: enabled in the config and in its stored state. */
  enabled: boolean;
  configEnabled: boolean;
  /** Reason the trigger was disabled; null while it is enabled. */
  disabledReason: string | null;
  changedAt: string | null;
  action: string;
  classes: string[] | null;
  on: ChangeOp[];
  /** The next seq the trigger reads. */
  nextSeq: number;
  lastSeq: number;
  lag: number;
  pending: number;
  inFlight: number;
  deadLetters: number;
  consecutiveFailures: number;
}

/** The delivery that a manual invocation or a redelivery queued. */
export interface QueuedDelivery {
  deliveryId: string;
  key: string;
}

/**
 * One trigger. It reads the change feed from its own position and keeps
 * every matching event in plugin state until the event is delivered or
 * dead-lettered. Events of one object are delivered in order, one at a time;
 * different objects run in parallel up to `maxInFlight` and the shared
 * pool's limit.
 *
 * The position advances as soon as matching events are stored as pending,
 * so an object that keeps failing never holds back the position or the
 * change log's retention. A restart rebuilds the queues from the stored
 * pending records.
 */
export class TriggerRunner implements PoolMember {
  readonly name: string;
  readonly #context: RunnerContext;
  readonly #trigger: ResolvedTrigger;
  readonly #host: PluginHost;
  readonly #state: PluginState;
  readonly #keys: TriggerKeys;
  readonly #logger: Logger;
  readonly #failureLog: RateLimitedLog;
  readonly #checkpointName: string;
  /** Metric children bound to this trigger's label, so the hot path does no label lookups. */
  readonly #counters: ReturnType<typeof bindCounters>;

  #control: TriggerControl = {
    enabled: true,
    changedAt: new Date().toISOString(),
  };
  #position = 1;
  readonly #queues = new Map<string, ObjectQueue>();
  readonly #ready = new Fifo<ObjectQueue>();
  readonly #pendingKeys = new Set<string>();
  readonly #deliveries = new Set<Promise<void>>();
  #inFlight = 0;
  #deadLetters = 0;
  #consecutiveFailures = 0;
  #reader: { controller: AbortController; done: Promise<void> } | undefined;
  #capacityWaiters: Array<() => void> = [];
  #deliveryAbort = new AbortController();
  #loaded = false;
  #stopping = false;
  #autoDisabling = false;
  /** Serialises enable, disable and replay, which all restart the reader. */
  #controlChain: Promise<unknown> = Promise.resolve();

  constructor(context: RunnerContext) {
    this.#context = context;
    this.#trigger = context.trigger;
    this.name = context.trigger.name;
    this.#host = context.host;
    this.#state = context.host.state();
    this.#keys = new TriggerKeys(this.name);
    this.#logger = context.logger;
    this.#failureLog = new RateLimitedLog(context.logger);
    this.#checkpointName = `${context.host.name}/${this.name}`;
    this.#counters = bindCounters(context.metrics, this.name);
    // Every delivery in flight listens on the shared cancel signal.
    setMaxListeners(
      context.trigger.maxInFlight + 10,
      this.#deliveryAbort.signal,
    );
  }

  /** Name of the trigger's change-feed checkpoint, which store retention honours. */
  get checkpointName(): string {
    return this.#checkpointName;
  }

  get enabled(): boolean {
    return this.#trigger.enabled && this.#control.enabled;
  }

  get queueDepth(): number {
    return this.#pendingKeys.size;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  get lag(): number {
    return Math.max(0, this.#host.changes.lastSeq() + 1 - this.#position);
  }

  /** Loads the stored state, position and pending deliveries; call once the store is open. */
  async load(): Promise<void> {
    const control = await this.#state.get<TriggerControl>(this.#keys.control);
    if (control) this.#control = control;

    const stored = await this.#state.get<{ nextSeq: number }>(
      this.#keys.position,
    );
    if (stored) {
      this.#position = stored.nextSeq;
    } else {
      this.#position =
        this.#trigger.startFrom === "earliest"
          ? await this.#host.store().firstSeq()
          : this.#host.changes.lastSeq() + 1;
      await this.#state.set(this.#keys.position, { nextSeq: this.#position });
    }
    await this.#host.changes.checkpoint(this.#checkpointName, this.#position);

    for (const { value } of await this.#state.list<PendingDelivery>(
      this.#keys.pendingPrefix,
    ))
      this.#enqueue(value);
    this.#deadLetters = (await this.#state.list(this.#keys.deadPrefix)).length;
    this.#loaded = true;

    this.#logger.info(
      {
        trigger: this.name,
        enabled: this.enabled,
        nextSeq: this.#position,
        pending: this.#pendingKeys.size,
        deadLetters: this.#deadLetters,
      },
      "trigger loaded",
    );
  }

  /** Starts reading and delivering, unless the trigger is disabled. */
  start(): void {
    if (this.enabled) this.#activate();
    else this.#context.pool.setActive(this, false);
  }

  /**
   * Stops reading, waits up to `timeoutMs` for deliveries in flight, then
   * cancels the rest. A cancelled attempt is not counted: the event stays
   * pending and is delivered again after the next start.
   */
  async stop(timeoutMs: number): Promise<void> {
    this.#stopping = true;
    await this.#stopReader();
    for (const queue of this.#queues.values()) clearTimeout(queue.timer);

    if (
      this.#deliveries.size > 0 &&
      !(await settlesWithin([...this.#deliveries], timeoutMs))
    ) {
      this.#logger.warn(
        { trigger: this.name, inFlight: this.#inFlight },
        "deliveries still in flight at stop; cancelling them, they will be delivered again after a restart",
      );
      this.#deliveryAbort.abort();
      await settlesWithin([...this.#deliveries], Math.min(timeoutMs, 1000));
    }
    await this.#context.handler.close?.();
  }

  status(): TriggerStatus {
    return {
      name: this.name,
      enabled: this.enabled,
      configEnabled: this.#trigger.enabled,
      disabledReason: this.enabled
        ? null
        : this.#trigger.enabled
          ? (this.#control.reason ?? null)
          : "disabled in config",
      changedAt: this.#control.changedAt ?? null,
      action: this.#trigger.actionName,
      classes: this.#trigger.classes ?? null,
      on: this.#trigger.on,
      nextSeq: this.#position,
      lastSeq: this.#host.changes.lastSeq(),
      lag: this.lag,
      pending: this.#pendingKeys.size,
      inFlight: this.#inFlight,
      deadLetters: this.#deadLetters,
      consecutiveFailures: this.#consecutiveFailures,
    };
  }

  /** Enables or disables the trigger and stores the choice; a disabled trigger keeps its position and pending events. */
  setEnabled(enabled: boolean, reason: string): Promise<TriggerStatus> {
    return this.#serialise(async () => {
      if (enabled && !this.#trigger.enabled) {
        throw triggersError(
          TriggersErrorCode.DISABLED_IN_CONFIG,
          `trigger ${this.name} is disabled in the config (enabled: false); change the config and restart to enable it`,
          {
            details: { trigger: this.name },
          },
        );
      }
      if (this.#control.enabled === enabled) return this.status();

      this.#control = {
        enabled,
        ...(enabled ? {} : { reason }),
        changedAt: new Date().toISOString(),
      };
      await this.#state.set(this.#keys.control, this.#control);
      if (enabled) {
        this.#consecutiveFailures = 0;
        if (!this.#stopping) this.#activate();
      } else {
        await this.#deactivate();
      }
      this.#logger.info(
        { trigger: this.name, enabled, reason },
        enabled ? "trigger enabled" : "trigger disabled",
      );
      this.#context.onStateChange();
      return this.status();
    });
  }

  /**
   * Moves the position back (or forward) to `fromSeq`, so the trigger reads
   * the change log again from there. Events already pending are not queued
   * twice.
   */
  replay(fromSeq: number): Promise<TriggerStatus> {
    return this.#serialise(async () => {
      const firstSeq = await this.#host.store().firstSeq();
      const lastSeq = this.#host.changes.lastSeq();
      if (fromSeq < firstSeq) {
        throw triggersError(
          TriggersErrorCode.REPLAY_TRUNCATED,
          `the change log no longer holds seq ${fromSeq}; the oldest seq it holds is ${firstSeq}, so replay from ${firstSeq} or later`,
          { details: { trigger: this.name, fromSeq, firstSeq } },
        );
      }
      if (fromSeq > lastSeq + 1) {
        throw triggersError(
          TriggersErrorCode.REQUEST_INVALID,
          `fromSeq ${fromSeq} is past the last committed seq ${lastSeq}; pass a seq between ${firstSeq} and ${lastSeq + 1}`,
          {
            details: { trigger: this.name, fromSeq, lastSeq },
          },
        );
      }

      await this.#stopReader();
      await this.#savePosition(fromSeq);
      if (this.enabled && !this.#stopping) this.#startReader();
      this.#logger.info(
        { trigger: this.name, fromSeq },
        "trigger replaying the change log",
      );
      return this.status();
    });
  }

  /**
   * Queues a delivery of an object's current state, as an event with the
   * given `op` and `seq` set to the last committed seq. The trigger's
   * `where` filter is not applied: the caller chose the object.
   */
  async invoke(
    className: string,
    key: string,
    op: "INSERT" | "UPDATE",
  ): Promise<QueuedDelivery> {
    const id = toObjectId(key);
    const object = await this.#host
      .store()
      .get(className, id, { withVector: true });
    if (!object) {
      throw triggersError(
        TriggersErrorCode.OBJECT_NOT_FOUND,
        `no ${className} object with id ${key}; check the class and the id`,
        {
          details: { trigger: this.name, class: className, id: key },
        },
      );
    }

    const deliveryId = uuidv7();
    const event: ChangeEvent = {
      seq: this.#host.changes.lastSeq(),
      op,
      class: className,
      id,
      before: op === "INSERT" ? null : object.properties,
      after: object.properties,
      ...(object.vector ? { vector: object.vector } : {}),
      timestamp: new Date().toISOString(),
      txId: `manual-${deliveryId}`,
      origin: { plugin: this.#host.name, stream: "manual" },
      metadata: {},
    };
    const record = this.#newRecord(
      this.#keys.pendingAfter(this.#position - 1, `manual-${deliveryId}`),
      deliveryId,
      "manual",
      event,
    );
    await this.#state.set(record.key, record);
    this.#enqueue(record);
    this.pump();
    this.#logger.info(
      { trigger: this.name, class: className, objectId: id, deliveryId },
      "manual delivery queued",
    );
    return { deliveryId, key: record.key };
  }

  /** Moves a dead letter back into the queue with a fresh run of attempts and its original delivery id. */
  async redeliver(deadLetterId: string): Promise<QueuedDelivery> {
    const dead = await this.getDeadLetter(deadLetterId);
    const record = this.#newRecord(
      this.#keys.pendingAfter(this.#position - 1, `redelivery-${uuidv7()}`),
      dead.deliveryId,
      "redelivery",
      dead.event,
    );
    await this.#state.set(record.key, record);
    await this.#state.delete(this.#keys.dead(deadLetterId));
    this.#deadLetters -= 1;
    this.#enqueue(record);
    this.pump();
    this.#logger.info(
      {
        trigger: this.name,
        deadLetter: deadLetterId,
        deliveryId: dead.deliveryId,
        seq: dead.event.seq,
      },
      "dead letter queued for redelivery",
    );
    return { deliveryId: dead.deliveryId, key: record.key };
  }

  /**
   * Dead letters in the order they were written, `limit` per page after the
   * id `after`.
   * NOTE: plugin state can only list whole prefixes, so each page reads
   * every dead letter of the trigger.
   */
  async listDeadLetters(
    limit: number,
    after?: string,
  ): Promise<{ deadLetters: DeadLetter[]; next: string | null }> {
    const entries = await this.#state.list<DeadLetter>(this.#keys.deadPrefix);
    const start =
      after === undefined
        ? 0
        : entries.findIndex((entry) => entry.value.id > after);
    const page =
      start === -1
        ? []
        : entries.slice(start, start + limit).map((entry) => entry.value);
    const more = start !== -1 && start + limit < entries.length;
    return { deadLetters: page, next: more ? page[page.length - 1].id : null };
  }

  async getDeadLetter(id: string): Promise<DeadLetter> {
    const dead = await this.#state.get<DeadLetter>(this.#keys.dead(id));
    if (!dead) {
      throw triggersError(
        TriggersErrorCode.DEAD_LETTER_NOT_FOUND,
        `trigger ${this.name} has no dead letter ${id}; list them with GET /v1/triggers/${this.name}/dead-letters`,
        {
          details: { trigger: this.name, deadLetter: id },
        },
      );
    }
    return dead;
  }

  async deleteDeadLetter(id: string): Promise<void> {
    await this.getDeadLetter(id);
    await this.#state.delete(this.#keys.dead(id));
    this.#deadLetters -= 1;
    this.#logger.info(
      { trigger: this.name, deadLetter: id },
      "dead letter deleted",
    );
  }

  /** Pending deliveries in key order, at most `limit`. */
  listPending(limit: number): PendingDelivery[] {
    const records = [...this.#queues.values()].flatMap(
      (queue) => queue.records,
    );
    return records.sort(byKey).slice(0, limit);
  }

  /** Starts as many deliveries as the trigger's limit and the pool allow. */
  pump(): void {
    if (!this.#loaded || !this.enabled || this.#stopping) return;

    while (this.#ready.size > 0 && this.#inFlight < this.#trigger.maxInFlight) {
      if (!this.#context.pool.tryAcquire(this)) return;
      const queue = this.#ready.shift()!;
      queue.ready = false;
      this.#deliver(queue);
    }
  }

  #activate(): void {
    this.#context.pool.setActive(this, true);
    this.#startReader();
    for (const queue of this.#queues.values()) this.#schedule(queue);
    this.pump();
  }

  async #deactivate(): Promise<void> {
    this.#context.pool.setActive(this, false);
    await this.#stopReader();
  }

  #serialise<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.#controlChain.then(operation, operation);
    this.#controlChain = result.catch(() => undefined);
    return result;
  }

  // Reading the change feed.

  #startReader(): void {
    if (this.#reader) return;
    const controller = new AbortController();
    const done = this.#read(controller.signal).catch((error: unknown) => {
      this.#logger.error(
        { err: error, trigger: this.name },
        "trigger reader stopped",
      );
    });
    this.#reader = { controller, done };
  }

  async #stopReader(): Promise<void> {
    const reader = this.#reader;
    if (!reader) return;
    reader.controller.abort();
    this.#wakeCapacityWaiters();
    await reader.done;
    this.#reader = undefined;
  }

  async #read(signal: AbortSignal): Promise<void> {
    while (!signal.aborted && !this.#host.stopping) {
      try {
        for await (const batch of this.#host.changes.batches(this.#position, {
          signal,
          maxBatch: READ_BATCH,
        })) {
          await this.#waitForCapacity(signal);
          if (signal.aborted) return;
          await this.#accept(batch);
          // Reading history resolves without I/O; yield so responses of deliveries in flight are handled meanwhile.
          await new Promise((resolve) => setImmediate(resolve));
        }
        return;
      } catch (error) {
        if (signal.aborted || this.#host.stopping) return;
        if (isWeftError(error) && error.code === ErrorCode.CHANGES_TRUNCATED) {
          await this.#skipTruncated();
          continue;
        }
        this.#failureLog.log(
          "error",
          "read",
          { err: error, trigger: this.name, nextSeq: this.#position },
          "reading the change feed failed; retrying",
        );
        await sleep(READ_RETRY_MS, signal);
      }
    }
  }

  /** Stores the matching events of one batch as pending, then advances the position past the batch. */
  async #accept(batch: ChangeEvent[]): Promise<void> {
    const records: PendingDelivery[] = [];
    for (const event of batch) {
      if (!this.#context.filter(event)) continue;
      const key = this.#keys.pending(event.seq);
      if (this.#pendingKeys.has(key)) continue;
      records.push(
        this.#newRecord(key, this.#deliveryId(event), "change", event),
      );
    }

    await Promise.all(
      records.map((record) => this.#state.set(record.key, record)),
    );
    await this.#savePosition(batch[batch.length - 1].seq + 1);
    for (const record of records) this.#enqueue(record);
    this.pump();
  }

  async #savePosition(nextSeq: number): Promise<void> {
    this.#position = nextSeq;
    await this.#state.set(this.#keys.position, { nextSeq });
    await this.#host.changes.checkpoint(this.#checkpointName, nextSeq);
  }

  /**
   * Moves past events that retention removed before the trigger read them.
   * The checkpoint keeps this from happening unless the store trims past
   * checkpoints (`retention.force`), so it is logged as an error.
   */
  async #skipTruncated(): Promise<void> {
    const firstSeq = await this.#host.store().firstSeq();
    this.#logger.error(
      {
        trigger: this.name,
        nextSeq: this.#position,
        firstSeq,
        lost: Math.max(0, firstSeq - this.#position),
      },
      "change log no longer holds the trigger's position; events before firstSeq were skipped without delivery",
    );
    await this.#savePosition(Math.max(firstSeq, this.#position));
  }

  async #waitForCapacity(signal: AbortSignal): Promise<void> {
    while (
      this.#pendingKeys.size >= this.#trigger.maxPending &&
      !signal.aborted
    ) {
      await new Promise<void>((resolve) => this.#capacityWaiters.push(resolve));
    }
  }

  #wakeCapacityWaiters(): void {
    for (const wake of this.#capacityWaiters.splice(0)) wake();
  }

  // Queues and delivery.

  #newRecord(
    key: string,
    deliveryId: string,
    source: PendingDelivery["source"],
    event: ChangeEvent,
  ): PendingDelivery {
    return { key, deliveryId, source, event, attempts: 0, nextAttemptAt: 0 };
  }

  /**
   * The delivery id of a change event: trigger name, seq and transaction id.
   * It is the same every time the event is read, replays included, and the
   * transaction id keeps it unique if a store is reset and seqs start over.
   */
  #deliveryId(event: ChangeEvent): string {
    return `${this.name}_${event.seq}_${event.txId}`;
  }

  #enqueue(record: PendingDelivery): void {
    this.#pendingKeys.add(record.key);
    const objectKey = `${record.event.class}\u0000${record.event.id}`;
    let queue = this.#queues.get(objectKey);
    if (!queue)
      this.#queues.set(
        objectKey,
        (queue = { key: objectKey, records: [], busy: false, ready: false }),
      );
    queue.records.push(record);
    if (queue.records.length === 1) this.#schedule(queue);
  }

  /** Marks a queue ready when its head is due, or sets a timer for when it will be. */
  #schedule(queue: ObjectQueue): void {
    if (queue.busy || queue.records.length === 0 || this.#stopping) return;

    const wait = queue.records[0].nextAttemptAt - Date.now();
    if (wait <= 0) {
      clearTimeout(queue.timer);
      queue.timer = undefined;
      if (!queue.ready) {
        queue.ready = true;
        this.#ready.push(queue);
      }
      return;
    }
    queue.timer ??= setTimeout(() => {
      queue.timer = undefined;
      this.#schedule(queue);
      this.pump();
    }, wait);
  }

  #deliver(queue: ObjectQueue): void {
    queue.busy = true;
    this.#inFlight += 1;
    const delivery = this.#attempt(queue, queue.records[0]).finally(() => {
      this.#deliveries.delete(delivery);
      queue.busy = false;
      this.#inFlight -= 1;
      this.#context.pool.release(this);
      if (queue.records.length === 0) this.#queues.delete(queue.key);
      else this.#schedule(queue);
      if (this.#pendingKeys.size < this.#trigger.maxPending)
        this.#wakeCapacityWaiters();
      this.pump();
    });
    this.#deliveries.add(delivery);
  }

  async #attempt(queue: ObjectQueue, record: PendingDelivery): Promise<void> {
    const attempt = record.attempts + 1;
    const firstAttemptAt = record.firstAttemptAt ?? new Date().toISOString();
    this.#counters.deliveries.inc();
    const started = performance.now();

    let outcome: ActionOutcome;
    try {
      outcome = await this.#context.handler.execute({
        trigger: this.name,
        event: record.event,
        attempt,
        deliveryId: record.deliveryId,
        signal: this.#deliveryAbort.signal,
      });
    } catch (error) {
      outcome = {
        ok: false,
        retryable: true,
        message: `action ${this.#trigger.actionName} threw: ${(error as Error).message}`,
      };
    }
    // An attempt cut short by stop does not count; the event stays pending as it was.
    if (this.#deliveryAbort.signal.aborted && !outcome.ok) return;
    (outcome.ok
      ? this.#counters.successLatency
      : this.#counters.failureLatency
    ).observe((performance.now() - started) / 1000);

    try {
      if (outcome.ok)
        await this.#succeeded(queue, record, attempt, outcome.status);
      else
        await this.#failed(
          queue,
          { ...record, firstAttemptAt },
          attempt,
          outcome,
        );
    } catch (error) {
      // The outcome could not be stored. The stored record is unchanged, so the event stays queued and is tried again after initialDelay.
      this.#logger.error(
        { err: error, trigger: this.name, ...this.#ids(record) },
        "storing a delivery outcome failed; the event will be delivered again",
      );
      queue.records[0] = {
        ...record,
        nextAttemptAt: Date.now() + this.#trigger.retry.initialDelayMs,
      };
    }
  }

  async #succeeded(
    queue: ObjectQueue,
    record: PendingDelivery,
    attempt: number,
    status: number | undefined,
  ): Promise<void> {
    await this.#state.delete(record.key);
    queue.records.shift();
    this.#pendingKeys.delete(record.key);
    this.#consecutiveFailures = 0;
    this.#counters.successes.inc();
    if (this.#logger.isLevelEnabled("debug"))
      this.#logger.debug(
        { trigger: this.name, ...this.#ids(record), attempt, status },
        "delivered",
      );
  }

  async #failed(
    queue: ObjectQueue,
    record: PendingDelivery,
    attempt: number,
    outcome: Extract<ActionOutcome, { ok: false }>,
  ): Promise<void> {
    const metrics = this.#context.metrics;
    metrics.failures.inc({
      trigger: this.name,
      status: outcome.status === undefined ? "none" : String(outcome.status),
    });
    this.#consecutiveFailures += 1;
    const lastError: AttemptError = {
      ...(outcome.status === undefined ? {} : { status: outcome.status }),
      message: outcome.message,
      retryable: outcome.retryable,
    };
    const fields = {
      trigger: this.name,
      ...this.#ids(record),
      attempt,
      status: outcome.status,
      error: outcome.message,
    };

    if (outcome.retryable && attempt < this.#trigger.retry.maxAttempts) {
      const delayMs = retryDelay(
        this.#trigger.retry,
        attempt,
        outcome.retryAfterMs,
        this.#context.random,
      );
      const updated: PendingDelivery = {
        ...record,
        attempts: attempt,
        nextAttemptAt: Date.now() + delayMs,
        lastError,
      };
      await this.#state.set(record.key, updated);
      queue.records[0] = updated;
      this.#counters.retries.inc();
      this.#failureLog.log(
        "warn",
        "retry",
        { ...fields, delayMs },
        "delivery failed; retrying",
      );
    } else {
      const reason = outcome.retryable ? "exhausted" : "rejected";
      const dead: DeadLetter = {
        id: uuidv7(),
        trigger: this.name,
        deliveryId: record.deliveryId,
        source: record.source,
        reason,
        event: record.event,
        attempts: attempt,
        ...(record.firstAttemptAt
          ? { firstAttemptAt: record.firstAttemptAt }
          : {}),
        failedAt: new Date().toISOString(),
        lastError,
      };
      await this.#state.set(this.#keys.dead(dead.id), dead);
      await this.#state.delete(record.key);
      queue.records.shift();
      this.#pendingKeys.delete(record.key);
      this.#deadLetters += 1;
      metrics.deadLetters.inc({ trigger: this.name, reason });
      this.#failureLog.log(
        "warn",
        "dead",
        { ...fields, deadLetter: dead.id, reason },
        "delivery failed for good; moved to the dead letters",
      );
    }

    const threshold = this.#trigger.disableAfterFailures;
    if (
      threshold > 0 &&
      this.#consecutiveFailures >= threshold &&
      this.#control.enabled &&
      !this.#autoDisabling
    ) {
      this.#autoDisabling = true;
      metrics.autoDisabled.inc({ trigger: this.name });
      this.#logger.error(
        {
          trigger: this.name,
          consecutiveFailures: this.#consecutiveFailures,
          threshold,
        },
        `trigger disabled after ${this.#consecutiveFailures} consecutive failed attempts; fix the endpoint, then enable it with PUT /v1/triggers/${this.name}/state`,
      );
      // Not awaited: disabling waits for the reader, which may wait for this delivery to free capacity.
      void this.setEnabled(
        false,
        `${this.#consecutiveFailures} consecutive failed attempts`,
      )
        .catch((error: unknown) =>
          this.#logger.error(
            { err: error, trigger: this.name },
            "disabling the trigger failed",
          ),
        )
        .finally(() => (this.#autoDisabling = false));
    }
  }

  #ids(record: PendingDelivery): Record<string, unknown> {
    return {
      class: record.event.class,
      objectId: record.event.id,
      seq: record.event.seq,
      deliveryId: record.deliveryId,
      source: record.source,
    };
  }
}

/** Orders records by state key in code-unit order, the order the store lists them in. */
function byKey(a: PendingDelivery, b: PendingDelivery): number {
  if (a.key < b.key) return -1;
  if (a.key > b.key) return 1;
  return 0;
}

function bindCounters(metrics: TriggerMetrics, trigger: string) {
  return {
    deliveries: metrics.deliveries.labels(trigger),
    successes: metrics.successes.labels(trigger),
    retries: metrics.retries.labels(trigger),
    successLatency: metrics.latency.labels(trigger, "success"),
    failureLatency: metrics.latency.labels(trigger, "failure"),
  };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

/** Waits for every promise to settle, or `ms`; returns whether they all settled. */
async function settlesWithin(
  promises: Promise<unknown>[],
  ms: number,
): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>(
    (resolve) => (timer = setTimeout(() => resolve(false), ms)),
  );
  const settled = Promise.allSettled(promises).then(() => true as const);
  try {
    return await Promise.race([settled, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
