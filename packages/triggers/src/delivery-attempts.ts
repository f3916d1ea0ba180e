import { setMaxListeners } from "node:events";
import { performance } from "node:perf_hooks";
import type { ActionHandler, ActionOutcome, PluginState } from "@weft/core";
import type { AutoDisable } from "./auto-disable.js";
import type { ChangeReader } from "./change-reader.js";
import type { ResolvedTrigger } from "./config.js";
import type { DeadLetters } from "./dead-letters.js";
import type { TriggerCounters } from "./metrics.js";
import type { ObjectQueue, ObjectQueues } from "./object-queues.js";
import type { PendingStore } from "./pending-store.js";
import type { DeliveryPool, PoolMember } from "./pool.js";
import type { QueueEntry } from "./read-window.js";
import type { AttemptError, PendingDelivery } from "./records.js";
import { retryDelay } from "./retry.js";
import type { TriggerScope } from "./trigger-scope.js";

type Logger = TriggerScope["logger"];

/** Dependencies of {@link DeliveryAttempts}, passed in by the runner. */
export interface DeliveryAttemptsContext extends TriggerScope {
  handler: ActionHandler;
  pool: DeliveryPool;
  /** The runner, which owns the pool slots and starts the next deliveries. */
  member: PoolMember;
  queues: ObjectQueues;
  pending: PendingStore;
  reader: ChangeReader;
  deadLetters: DeadLetters;
  autoDisable: AutoDisable;
  counters: TriggerCounters;
  /** Source of randomness for jitter; tests replace it. */
  random?: () => number;
}

/**
 * Runs the attempts of a trigger's deliveries and records their outcomes:
 * success, a retry after a backoff, or a dead letter. The head of an object
 * queue stays busy until its outcome is recorded.
 */
export class DeliveryAttempts {
  readonly #context: DeliveryAttemptsContext;
  readonly #name: string;
  readonly #trigger: ResolvedTrigger;
  readonly #state: PluginState;
  readonly #queues: ObjectQueues;
  readonly #pending: PendingStore;
  readonly #counters: TriggerCounters;
  readonly #logger: Logger;
  #idleWaiters: Array<() => void> = [];
  #inFlight = 0;
  #pumpScheduled = false;
  #deliveryAbort = new AbortController();

  constructor(context: DeliveryAttemptsContext) {
    this.#context = context;
    this.#trigger = context.trigger;
    this.#name = context.trigger.name;
    this.#state = context.state;
    this.#queues = context.queues;
    this.#pending = context.pending;
    this.#counters = context.counters;
    this.#logger = context.logger;
    // Every delivery in flight listens on the shared cancel signal.
    setMaxListeners(
      context.trigger.maxInFlight + 10,
      this.#deliveryAbort.signal,
    );
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** Cancels every attempt in flight; a cancelled attempt is not counted. */
  cancel(): void {
    this.#deliveryAbort.abort();
  }

  /** Starts an attempt of the queue's head; the queue stays busy until its outcome is recorded. */
  deliver(queue: ObjectQueue): void {
    queue.busy = true;
    this.#inFlight += 1;
    const entry = queue.entries[0];
    const record = entry.record;
    const attempt = record.attempts + 1;
    this.#counters.attemptStarted();
    const started = performance.now();

    let outcome: Promise<ActionOutcome>;
    try {
      outcome = this.#context.handler.execute({
        trigger: this.#name,
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

  /** Waits until no delivery is in flight, or `ms`; returns whether none is. */
  idleWithin(ms: number): Promise<boolean> {
    if (this.#inFlight === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), ms);
      this.#idleWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
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
    this.#context.pool.release(this.#context.member);
    this.#queues.release(queue);
    this.#context.reader.wakeIfCapacity();
    if (this.#inFlight === 0)
      for (const wake of this.#idleWaiters.splice(0)) wake();
    this.#schedulePump();
  }

  /**
   * Starts the next deliveries in the check phase of the event loop, once for
   * every attempt that finished in this turn. The requests then leave in
   * bursts rather than one per response, so sender and receiver each handle
   * several sockets per wake-up. In bench/triggers.ts this cut the sending
   * thread's CPU per delivery from about 52 to 43 µs, and the receiver's
   * from about 36 to 30 µs.
   */
  #schedulePump(): void {
    if (this.#pumpScheduled) return;
    this.#pumpScheduled = true;
    setImmediate(this.#pumpNow);
  }

  readonly #pumpNow = () => {
    this.#pumpScheduled = false;
    this.#context.member.pump();
  };

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
    this.#counters.observeLatency(
      outcome.ok,
      (performance.now() - started) / 1000,
    );

    if (!outcome.ok)
      return this.#failed(queue, entry, attempt, started, outcome);
    if (entry.stored || entry.storing !== undefined)
      return this.#succeededStored(queue, entry, attempt, outcome.status);
    this.#succeeded(queue, entry, attempt, outcome.status);
  }

  /**
   * Handles a state write that failed while an outcome was recorded. The
   * event stays queued and is tried again after `initialDelay` at the
   * earliest. A failed attempt is already counted in memory, so the event
   * still reaches `maxAttempts` while state writes keep failing.
   */
  #recordFailed(queue: ObjectQueue, entry: QueueEntry, error: unknown): void {
    this.#context.failureLog.log(
      "error",
      "outcome",
      {
        err: error,
        trigger: this.#name,
        ...ids(entry.record),
        attempts: entry.record.attempts,
      },
      "storing a delivery outcome failed; the event will be delivered again",
    );
    if (queue.entries[0] === entry)
      entry.record = {
        ...entry.record,
        nextAttemptAt: Math.max(
          entry.record.nextAttemptAt,
          Date.now() + this.#trigger.retry.initialDelayMs,
        ),
      };
  }

  #succeeded(
    queue: ObjectQueue,
    entry: QueueEntry,
    attempt: number,
    status: number | undefined,
  ): void {
    const record = entry.record;
    this.#queues.removeHead(queue, record);
    this.#pending.markDurable(entry);
    this.#context.autoDisable.reset();
    this.#counters.succeeded();
    if (this.#logger.isLevelEnabled("debug"))
      this.#logger.debug(
        { trigger: this.#name, ...ids(record), attempt, status },
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
    metrics.failures.inc({
      trigger: this.#name,
      status: outcome.status === undefined ? "none" : String(outcome.status),
    });
    this.#context.autoDisable.failed();
    const lastError: AttemptError = {
      ...(outcome.status === undefined ? {} : { status: outcome.status }),
      message: outcome.message,
      retryable: outcome.retryable,
    };
    if (entry.storing !== undefined) await entry.storing.catch(() => undefined);
    const record: PendingDelivery = {
      ...entry.record,
      firstAttemptAt:
        entry.record.firstAttemptAt ??
        new Date(performance.timeOrigin + started).toISOString(),
    };
    const fields = {
      trigger: this.#name,
      ...ids(record),
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
        order: this.#pending.orderOf(record),
      };
      // Counted in memory before the write, so a failing write cannot make the event retry forever.
      entry.record = updated;
      // The failing event and everything queued behind it for the same object are stored, so they stop holding back the position.
      const storing = this.#state.set(updated.key, updated).then(() => {
        entry.stored = true;
        this.#pending.markDurable(entry);
      });
      await Promise.all([
        storing,
        this.#pending.storeEntries(queue.entries.slice(1)),
      ]);
      this.#counters.retryScheduled();
      this.#context.failureLog.log(
        "warn",
        "retry",
        { ...fields, delayMs },
        "delivery failed; retrying",
      );
    } else {
      const reason = outcome.retryable ? "exhausted" : "rejected";
      const deadLetters = this.#context.deadLetters;
      const dead = deadLetters.build(record, reason, attempt, lastError);
      await deadLetters.store(dead);
      // Once the dead letter is stored the event leaves the queue, even if the delete fails: the next load drops the record.
      if (entry.stored)
        await this.#state
          .delete(record.key)
          .catch((error: unknown) =>
            this.#context.failureLog.log(
              "error",
              "pending-delete",
              { ...fields, err: error, deadLetter: dead.id },
              "deleting the pending record of a dead letter failed; the next start drops it",
            ),
          );
      this.#queues.removeHead(queue, record);
      this.#pending.markDurable(entry);
      deadLetters.added(reason);
      this.#context.failureLog.log(
        "warn",
        "dead",
        { ...fields, deadLetter: dead.id, reason },
        "delivery failed for good; moved to the dead letters",
      );
    }

    this.#context.autoDisable.check();
  }
}

/** Log fields that identify a delivery. */
function ids(record: PendingDelivery): Record<string, unknown> {
  return {
    class: record.event.class,
    objectId: record.event.id,
    seq: record.event.seq,
    deliveryId: record.deliveryId,
    source: record.source,
  };
}
