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
import { ReadWindow, type QueueEntry } from "./read-window.js";
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

/** Events read and not durable yet, per in-flight slot, before reading pauses (at least {@link READ_BATCH}). */
const READ_AHEAD_PER_SLOT = 4;

/** Age at which a read event that is still not delivered is stored as pending, so the position can pass it. */
const STORE_AFTER_MS = 1000;

/** How often the runner looks for such events. */
const STORE_CHECK_MS = 250;

/** Maximum delay before a new stored position is written, so positions are written at most this often. */
const POSITION_SAVE_MS = 100;

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
  /** Stored entries always come before entries that are not stored, so a restart rebuilds the same order. */
  entries: QueueEntry[];
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
 * One trigger. It reads the change feed from its own position and delivers
 * every matching event. Events of one object are delivered in order, one at
 * a time; different objects run in parallel up to `maxInFlight` and the
 * shared pool's limit.
 *
 * Durability: the stored position (and the change-log checkpoint) only
 * passes an event once it is delivered, dead-lettered or stored as a pending
 * record in plugin state. An event that is delivered at once is never
 * written to state. An event whose attempt fails is stored with its queue,
 * and so is one that waits longer than {@link STORE_AFTER_MS}, so an object
 * that keeps failing never holds back the position or the change log's
 * retention. A restart loads the pending records and reads the change log
 * again from the stored position. Stop stores whatever is still queued and
 * writes the position, so a clean restart repeats nothing.
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
  /** Attempts and successes since the last scrape; added to the counters when `/metrics` is read. */
  #unreported = { deliveries: 0, successes: 0 };

  #control: TriggerControl = {
    enabled: true,
    changedAt: new Date().toISOString(),
  };
  /** The next seq the reader reads. */
  #nextSeq = 1;
  /** The position last written to state and to the checkpoint. */
  #storedPosition = 1;
  readonly #window = new ReadWindow();
  readonly #readAhead: number;
  /**
   * After a restart: for each object with loaded pending records, the
   * highest seq those records' keys cover. A change event of that object at
   * or below it was delivered before the restart (see {@link #isCovered}).
   */
  #covered: Map<string, number> | undefined;
  #coveredUntil = 0;
  readonly #queues = new Map<string, ObjectQueue>();
  readonly #ready = new Fifo<ObjectQueue>();
  readonly #pendingKeys = new Set<string>();
  #idleWaiters: Array<() => void> = [];
  #inFlight = 0;
  #deadLetters = 0;
  #consecutiveFailures = 0;
  #reader: { controller: AbortController; done: Promise<void> } | undefined;
  #capacityWaiters: Array<() => void> = [];
  #deliveryAbort = new AbortController();
  #positionTimer: NodeJS.Timeout | undefined;
  #positionChain: Promise<unknown> = Promise.resolve();
  #storeTimer: NodeJS.Timeout | undefined;
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
    this.#readAhead = Math.max(
      READ_BATCH,
      READ_AHEAD_PER_SLOT * context.trigger.maxInFlight,
    );
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
    return Math.max(0, this.#host.changes.lastSeq() + 1 - this.#nextSeq);
  }

  /** Adds the attempts and successes counted since the last call to the Prometheus counters. */
  reportCounts(): void {
    const counts = this.#unreported;
    if (counts.deliveries > 0) this.#counters.deliveries.inc(counts.deliveries);
    if (counts.successes > 0) this.#counters.successes.inc(counts.successes);
    this.#unreported = { deliveries: 0, successes: 0 };
  }

  /** Loads the stored state, position and pending deliveries; call once the store is open. */
  async load(): Promise<void> {
    const control = await this.#state.get<TriggerControl>(this.#keys.control);
    if (control) this.#control = control;

    const stored = await this.#state.get<{ nextSeq: number }>(
      this.#keys.position,
    );
    if (stored) {
      this.#nextSeq = stored.nextSeq;
    } else {
      this.#nextSeq =
        this.#trigger.startFrom === "earliest"
          ? await this.#host.store().firstSeq()
          : this.#host.changes.lastSeq() + 1;
      await this.#state.set(this.#keys.position, { nextSeq: this.#nextSeq });
    }
    this.#storedPosition = this.#nextSeq;
    await this.#host.changes.checkpoint(this.#checkpointName, this.#nextSeq);

    const covered = new Map<string, number>();
    for (const { value } of await this.#state.list<PendingDelivery>(
      this.#keys.pendingPrefix,
    )) {
      this.#enqueue(storedEntry(value));
      const seq = this.#keys.seqOf(value.key);
      const objectKey = objectKeyOf(value.event);
      covered.set(objectKey, Math.max(covered.get(objectKey) ?? 0, seq));
      this.#coveredUntil = Math.max(this.#coveredUntil, seq);
    }
    if (covered.size > 0) this.#covered = covered;
    this.#deadLetters = (await this.#state.list(this.#keys.deadPrefix)).length;
    this.#loaded = true;

    this.#logger.info(
      {
        trigger: this.name,
        enabled: this.enabled,
        nextSeq: this.#nextSeq,
        pending: this.#pendingKeys.size,
        deadLetters: this.#deadLetters,
      },
      "trigger loaded",
    );
  }

  /** Starts reading and delivering, unless the trigger is disabled. */
  start(): void {
    this.#storeTimer = setInterval(
      () => this.#storeWaiting(),
      STORE_CHECK_MS,
    ).unref();
    if (this.enabled) this.#activate();
    else this.#context.pool.setActive(this, false);
  }

  /**
   * Stops reading, waits up to `timeoutMs` for deliveries in flight, then
   * cancels the rest. A cancelled attempt is not counted: the event stays
   * pending and is delivered again after the next start. Events still
   * queued are stored as pending, then the position is written.
   */
  async stop(timeoutMs: number): Promise<void> {
    this.#stopping = true;
    clearInterval(this.#storeTimer);
    await this.#stopReader();
    for (const queue of this.#queues.values()) clearTimeout(queue.timer);

    if (!(await this.#idleWithin(timeoutMs))) {
      this.#logger.warn(
        { trigger: this.name, inFlight: this.#inFlight },
        "deliveries still in flight at stop; cancelling them, they will be delivered again after a restart",
      );
      this.#deliveryAbort.abort();
      await this.#idleWithin(Math.min(timeoutMs, 1000));
    }

    clearTimeout(this.#positionTimer);
    this.#positionTimer = undefined;
    try {
      await this.#storeEntries(this.#window.waiting());
      await this.#savePosition();
    } catch (error) {
      this.#logger.error(
        { err: error, trigger: this.name, nextSeq: this.#nextSeq },
        "storing the queued events at stop failed; the change log is read again from the last stored position after a restart",
      );
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
      nextSeq: this.#nextSeq,
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
      // Everything queued is stored first, so no queued event depends on the position that is about to move.
      await this.#storeEntries(this.#window.waiting());
      this.#covered = undefined;
      this.#nextSeq = fromSeq;
      await this.#savePosition();
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
      this.#keys.pendingAfter(this.#nextSeq - 1, `manual-${deliveryId}`),
      deliveryId,
      "manual",
      event,
    );
    await this.#storeAndEnqueue(record);
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
      this.#keys.pendingAfter(this.#nextSeq - 1, `redelivery-${uuidv7()}`),
      dead.deliveryId,
      "redelivery",
      dead.event,
    );
    await this.#storeAndEnqueue(record);
    await this.#state.delete(this.#keys.dead(deadLetterId));
    this.#deadLetters -= 1;
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
    const records: PendingDelivery[] = [];
    for (const queue of this.#queues.values())
      for (const entry of queue.entries) records.push(entry.record);
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
        for await (const batch of this.#host.changes.batches(this.#nextSeq, {
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
          { err: error, trigger: this.name, nextSeq: this.#nextSeq },
          "reading the change feed failed; retrying",
        );
        await sleep(READ_RETRY_MS, signal);
      }
    }
  }

  /**
   * Queues the matching events of one batch and moves the read position past
   * it. An event is written to state only when it joins an object queue
   * whose last entry is stored, because that object is failing or slow. The
   * stored position covers the other events until they are delivered.
   */
  async #accept(batch: ChangeEvent[]): Promise<void> {
    const readAt = Date.now();
    const toStore: QueueEntry[] = [];
    for (const event of batch) {
      if (!this.#context.filter(event)) continue;
      const key = this.#keys.pending(event.seq);
      if (this.#pendingKeys.has(key)) continue;
      const objectKey = objectKeyOf(event);
      if (this.#covered !== undefined && this.#isCovered(objectKey, event.seq))
        continue;

      const entry: QueueEntry = {
        record: this.#newRecord(key, this.#deliveryId(event), "change", event),
        stored: false,
        storing: undefined,
        durable: false,
        readAt,
      };
      this.#window.add(entry);
      const last = this.#queues.get(objectKey)?.entries.at(-1);
      if (last !== undefined && (last.stored || last.storing !== undefined))
        toStore.push(entry);
      this.#enqueue(entry, objectKey);
    }
    this.#nextSeq = batch[batch.length - 1].seq + 1;
    this.pump();
    this.#requestPositionSave();
    if (toStore.length > 0) await this.#storeEntries(toStore);
  }

  /**
   * Whether a change event read again after a restart was delivered before
   * it. Stored records come before unstored ones in each object queue, so an
   * event of an object with a loaded record that covers its seq, and that is
   * not itself loaded, was already delivered or dead-lettered.
   */
  #isCovered(objectKey: string, seq: number): boolean {
    if (seq > this.#coveredUntil) {
      this.#covered = undefined;
      return false;
    }
    const covered = this.#covered!.get(objectKey);
    return covered !== undefined && seq <= covered;
  }

  /** Writes the position the window allows, unless it is already stored; writes run one at a time. */
  #savePosition(): Promise<void> {
    const run = this.#positionChain.then(async () => {
      const position = this.#window.position(this.#nextSeq);
      if (position === this.#storedPosition) return;
      await this.#state.set(this.#keys.position, { nextSeq: position });
      await this.#host.changes.checkpoint(this.#checkpointName, position);
      this.#storedPosition = position;
    });
    this.#positionChain = run.catch(() => undefined);
    return run;
  }

  /** Writes the position within {@link POSITION_SAVE_MS}, once for all the deliveries that finish meanwhile. */
  #requestPositionSave(): void {
    if (this.#positionTimer !== undefined || this.#stopping) return;
    this.#positionTimer = setTimeout(() => {
      this.#positionTimer = undefined;
      this.#savePosition().catch((error: unknown) =>
        this.#failureLog.log(
          "error",
          "position",
          { err: error, trigger: this.name, nextSeq: this.#nextSeq },
          "storing the trigger's position failed; retrying with the next delivery",
        ),
      );
    }, POSITION_SAVE_MS);
    this.#positionTimer.unref();
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
        nextSeq: this.#nextSeq,
        firstSeq,
        lost: Math.max(0, firstSeq - this.#nextSeq),
      },
      "change log no longer holds the trigger's position; events before firstSeq were skipped without delivery",
    );
    this.#nextSeq = Math.max(firstSeq, this.#nextSeq);
    await this.#savePosition();
  }

  #hasCapacity(): boolean {
    return (
      this.#pendingKeys.size < this.#trigger.maxPending &&
      this.#window.open < this.#readAhead
    );
  }

  async #waitForCapacity(signal: AbortSignal): Promise<void> {
    while (!this.#hasCapacity() && !signal.aborted) {
      await new Promise<void>((resolve) => this.#capacityWaiters.push(resolve));
    }
  }

  #wakeCapacityWaiters(): void {
    for (const wake of this.#capacityWaiters.splice(0)) wake();
  }

  // Storing pending records.

  /** Stores entries that are not in state yet; each becomes durable once its own write finished. */
  async #storeEntries(entries: QueueEntry[]): Promise<void> {
    await Promise.all(entries.map((entry) => this.#storeEntry(entry)));
  }

  #storeEntry(entry: QueueEntry): Promise<void> {
    if (entry.stored) return Promise.resolve();
    if (entry.storing !== undefined) return entry.storing;
    const storing = this.#state.set(entry.record.key, entry.record).then(
      () => {
        entry.stored = true;
        entry.storing = undefined;
        this.#markDurable(entry);
      },
      (error: unknown) => {
        entry.storing = undefined;
        throw error;
      },
    );
    entry.storing = storing;
    return storing;
  }

  /** Stores the entries of one object's queue that are not stored yet, so a record queued after them keeps its place across a restart. */
  async #storeQueue(objectKey: string): Promise<void> {
    const queue = this.#queues.get(objectKey);
    if (queue) await this.#storeEntries(queue.entries);
  }

  /** Stores a manual delivery or redelivery, then queues it. */
  async #storeAndEnqueue(record: PendingDelivery): Promise<void> {
    const objectKey = objectKeyOf(record.event);
    await this.#storeQueue(objectKey);
    await this.#state.set(record.key, record);
    this.#enqueue(storedEntry(record), objectKey);
  }

  /** Looks for read events that are still not delivered after {@link STORE_AFTER_MS} and stores them. */
  #storeWaiting(): void {
    if (this.#window.open === 0 || this.#stopping) return;
    const waiting = this.#window
      .waiting(Date.now() - STORE_AFTER_MS)
      .filter((entry) => entry.storing === undefined);
    if (waiting.length === 0) return;
    this.#storeEntries(waiting).catch((error: unknown) =>
      this.#failureLog.log(
        "error",
        "store",
        { err: error, trigger: this.name, count: waiting.length },
        "storing events that wait for delivery failed; the position stays before them",
      ),
    );
  }

  #markDurable(entry: QueueEntry): void {
    if (!this.#window.markDurable(entry)) return;
    this.#requestPositionSave();
    if (this.#capacityWaiters.length > 0 && this.#hasCapacity())
      this.#wakeCapacityWaiters();
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

  #enqueue(
    entry: QueueEntry,
    objectKey = objectKeyOf(entry.record.event),
  ): void {
    this.#pendingKeys.add(entry.record.key);
    let queue = this.#queues.get(objectKey);
    if (!queue)
      this.#queues.set(
        objectKey,
        (queue = { key: objectKey, entries: [], busy: false, ready: false }),
      );
    queue.entries.push(entry);
    if (queue.entries.length === 1) this.#schedule(queue);
  }

  /** Marks a queue ready when its head is due, or sets a timer for when it will be. */
  #schedule(queue: ObjectQueue): void {
    if (queue.busy || queue.entries.length === 0 || this.#stopping) return;

    const wait = queue.entries[0].record.nextAttemptAt - Date.now();
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

  /** Starts an attempt of the queue's head; the queue stays busy until its outcome is recorded. */
  #deliver(queue: ObjectQueue): void {
    queue.busy = true;
    this.#inFlight += 1;
    const entry = queue.entries[0];
    const record = entry.record;
    const attempt = record.attempts + 1;
    this.#unreported.deliveries += 1;
    const started = performance.now();

    let outcome: Promise<ActionOutcome>;
    try {
      outcome = this.#context.handler.execute({
        trigger: this.name,
        event: record.event,
        attempt,
        deliveryId: record.deliveryId,
        signal: this.#deliveryAbort.signal,
      });
    } catch (error) {
      outcome = Promise.reject(error);
    }
    void outcome.then(
      (result) => this.#complete(queue, entry, attempt, started, result),
      (error: unknown) =>
        this.#complete(queue, entry, attempt, started, this.#thrown(error)),
    );
  }

  /** Records an attempt's outcome, then frees the queue and the slot; synchronous unless the outcome needs a state write. */
  #complete(
    queue: ObjectQueue,
    entry: QueueEntry,
    attempt: number,
    started: number,
    outcome: ActionOutcome,
  ): void {
    let recording: Promise<void> | undefined;
    try {
      recording = this.#record(queue, entry, attempt, started, outcome);
    } catch (error) {
      this.#recordFailed(queue, entry, error);
    }
    if (recording === undefined) return this.#finish(queue);
    recording.then(
      () => this.#finish(queue),
      (error: unknown) => {
        this.#recordFailed(queue, entry, error);
        this.#finish(queue);
      },
    );
  }

  #thrown(error: unknown): ActionOutcome {
    return {
      ok: false,
      retryable: true,
      message: `action ${this.#trigger.actionName} threw: ${(error as Error).message}`,
    };
  }

  /** Frees the queue and the slot after an attempt, and starts what can start next. */
  #finish(queue: ObjectQueue): void {
    queue.busy = false;
    this.#inFlight -= 1;
    this.#context.pool.release(this);
    if (queue.entries.length === 0) this.#queues.delete(queue.key);
    else this.#schedule(queue);
    if (this.#capacityWaiters.length > 0 && this.#hasCapacity())
      this.#wakeCapacityWaiters();
    if (this.#inFlight === 0)
      for (const wake of this.#idleWaiters.splice(0)) wake();
    this.pump();
  }

  /** Waits until no delivery is in flight, or `ms`; returns whether none is. */
  #idleWithin(ms: number): Promise<boolean> {
    if (this.#inFlight === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), ms);
      this.#idleWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  /**
   * Records the outcome of one attempt. A success of an event that is not
   * stored needs no state write, so it completes without waiting.
   */
  #record(
    queue: ObjectQueue,
    entry: QueueEntry,
    attempt: number,
    started: number,
    outcome: ActionOutcome,
  ): Promise<void> | undefined {
    // An attempt cut short by stop does not count; the event stays pending as it was.
    if (this.#deliveryAbort.signal.aborted && !outcome.ok) return;
    (outcome.ok
      ? this.#counters.successLatency
      : this.#counters.failureLatency
    ).observe((performance.now() - started) / 1000);

    if (!outcome.ok)
      return this.#failed(queue, entry, attempt, started, outcome);
    if (entry.stored || entry.storing !== undefined)
      return this.#succeededStored(queue, entry, attempt, outcome.status);
    this.#succeeded(queue, entry, attempt, outcome.status);
  }

  /** Handles a state write that failed while an outcome was recorded. */
  #recordFailed(queue: ObjectQueue, entry: QueueEntry, error: unknown): void {
    // The stored record is unchanged, so the event stays queued and is tried again after initialDelay.
    this.#logger.error(
      { err: error, trigger: this.name, ...this.#ids(entry.record) },
      "storing a delivery outcome failed; the event will be delivered again",
    );
    if (queue.entries[0] === entry)
      entry.record = {
        ...entry.record,
        nextAttemptAt: Date.now() + this.#trigger.retry.initialDelayMs,
      };
  }

  #succeeded(
    queue: ObjectQueue,
    entry: QueueEntry,
    attempt: number,
    status: number | undefined,
  ): void {
    const record = entry.record;
    queue.entries.shift();
    this.#pendingKeys.delete(record.key);
    this.#markDurable(entry);
    this.#consecutiveFailures = 0;
    this.#unreported.successes += 1;
    if (this.#logger.isLevelEnabled("debug"))
      this.#logger.debug(
        { trigger: this.name, ...this.#ids(record), attempt, status },
        "delivered",
      );
  }

  async #succeededStored(
    queue: ObjectQueue,
    entry: QueueEntry,
    attempt: number,
    status: number | undefined,
  ): Promise<void> {
    // A write that stores the record may still run; the delete has to come after it.
    if (entry.storing !== undefined) await entry.storing.catch(() => undefined);
    if (entry.stored) await this.#state.delete(entry.record.key);
    this.#succeeded(queue, entry, attempt, status);
  }

  async #failed(
    queue: ObjectQueue,
    entry: QueueEntry,
    attempt: number,
    started: number,
    outcome: Extract<ActionOutcome, { ok: false }>,
  ): Promise<void> {
    const metrics = this.#context.metrics;
    const record: PendingDelivery = {
      ...entry.record,
      firstAttemptAt:
        entry.record.firstAttemptAt ??
        new Date(performance.timeOrigin + started).toISOString(),
    };
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
    if (entry.storing !== undefined) await entry.storing.catch(() => undefined);

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
      // The failing event and everything queued behind it for the same object are stored, so they stop holding back the position.
      await Promise.all([
        this.#state.set(updated.key, updated),
        this.#storeEntries(queue.entries.slice(1)),
      ]);
      entry.record = updated;
      entry.stored = true;
      this.#markDurable(entry);
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
      if (entry.stored) await this.#state.delete(record.key);
      queue.entries.shift();
      this.#pendingKeys.delete(record.key);
      this.#markDurable(entry);
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

/** Wraps a loaded, manual or redelivered record, which is stored before it is queued, as a durable entry. */
function storedEntry(record: PendingDelivery): QueueEntry {
  return { record, stored: true, storing: undefined, durable: true, readAt: 0 };
}

/** Key of an object's queue: class and id. */
function objectKeyOf(event: ChangeEvent): string {
  return `${event.class}\u0000${event.id}`;
}
