import type {
  ActionHandler,
  ChangeEvent,
  PluginHost,
  PluginState,
} from "@weft/core";
import { AutoDisable } from "./auto-disable.js";
import { ChangeReader } from "./change-reader.js";
import type { ResolvedTrigger } from "./config.js";
import { DeadLetters } from "./dead-letters.js";
import { DeliveryAttempts } from "./delivery-attempts.js";
import { EnabledState } from "./enabled-state.js";
import { TriggerCounters, type TriggerMetrics } from "./metrics.js";
import { ObjectQueues, objectKeyOf, storedEntry } from "./object-queues.js";
import { PendingStore } from "./pending-store.js";
import type { DeliveryPool, PoolMember } from "./pool.js";
import { RateLimitedLog } from "./rate-limited-log.js";
import {
  TriggerKeys,
  type DeadLetter,
  type PendingDelivery,
} from "./records.js";
import {
  TriggerOperations,
  type QueuedDelivery,
} from "./trigger-operations.js";
import type { TriggerScope } from "./trigger-scope.js";
import type { TriggerStatus } from "./trigger-status.js";

export type { QueuedDelivery } from "./trigger-operations.js";
export type { TriggerStatus } from "./trigger-status.js";

type Logger = PluginHost["logger"];

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
 * and so is one that waits longer than a second (see {@link PendingStore}),
 * so an object that keeps failing never holds back the position or the
 * change log's retention. A restart loads the pending records and reads the
 * change log again from the stored position. Stop stores whatever is still
 * queued and writes the position, so a clean restart repeats nothing.
 *
 * The runner coordinates the parts: {@link ChangeReader} reads the feed,
 * {@link ObjectQueues} contains the per-object queues, {@link DeliveryAttempts}
 * runs attempts and retries, {@link PendingStore} keeps records and the
 * position durable, {@link DeadLetters} and {@link AutoDisable} handle
 * deliveries and triggers that keep failing.
 */
export class TriggerRunner implements PoolMember {
  readonly name: string;
  readonly #context: RunnerContext;
  readonly #trigger: ResolvedTrigger;
  readonly #host: PluginHost;
  readonly #state: PluginState;
  readonly #keys: TriggerKeys;
  readonly #logger: Logger;
  readonly #checkpointName: string;
  readonly #counters: TriggerCounters;
  readonly #queues: ObjectQueues;
  readonly #pending: PendingStore;
  readonly #reader: ChangeReader;
  readonly #deadLetters: DeadLetters;
  readonly #enabledState: EnabledState;
  readonly #autoDisable: AutoDisable;
  readonly #attempts: DeliveryAttempts;
  readonly #operations: TriggerOperations;

  #loaded = false;
  #stopping = false;
  /** Serialises enable, disable and replay, which all restart the reader. */
  #controlChain: Promise<unknown> = Promise.resolve();

  constructor(context: RunnerContext) {
    const { host, trigger, logger, metrics } = context;
    this.#context = context;
    this.#trigger = trigger;
    this.name = trigger.name;
    this.#host = host;
    this.#state = host.state();
    this.#keys = new TriggerKeys(this.name);
    this.#logger = logger;
    this.#checkpointName = `${host.name}/${this.name}`;
    this.#counters = new TriggerCounters(metrics, this.name);

    const scope: TriggerScope = {
      host,
      trigger,
      state: this.#state,
      keys: this.#keys,
      metrics,
      logger,
      failureLog: new RateLimitedLog(logger),
    };
    const queues = new ObjectQueues(() => this.pump());
    const pending = new PendingStore({
      ...scope,
      checkpointName: this.#checkpointName,
      queues,
      onDurable: () => this.#reader.wakeIfCapacity(),
    });
    const reader = new ChangeReader({
      ...scope,
      filter: context.filter,
      queues,
      pending,
      onRead: () => this.pump(),
    });
    this.#enabledState = new EnabledState(scope);
    const deadLetters = new DeadLetters(scope);
    const autoDisable = new AutoDisable({
      ...scope,
      isEnabled: () => this.#enabledState.storedEnabled,
      disable: (reason) => this.setEnabled(false, reason),
    });
    this.#queues = queues;
    this.#pending = pending;
    this.#reader = reader;
    this.#deadLetters = deadLetters;
    this.#autoDisable = autoDisable;
    this.#attempts = new DeliveryAttempts({
      ...scope,
      handler: context.handler,
      pool: context.pool,
      member: this,
      queues,
      pending,
      reader,
      deadLetters,
      autoDisable,
      counters: this.#counters,
      ...(context.random ? { random: context.random } : {}),
    });
    this.#operations = new TriggerOperations({
      ...scope,
      pending,
      reader,
      deadLetters,
      canRead: () => this.enabled && !this.#stopping,
      onQueued: () => this.pump(),
    });
  }

  /** Name of the trigger's change-feed checkpoint, which store retention honours. */
  get checkpointName(): string {
    return this.#checkpointName;
  }

  get enabled(): boolean {
    return this.#enabledState.enabled;
  }

  get queueDepth(): number {
    return this.#queues.pending;
  }

  get inFlight(): number {
    return this.#attempts.inFlight;
  }

  get lag(): number {
    return Math.max(
      0,
      this.#host.changes.lastSeq() + 1 - this.#pending.nextSeq,
    );
  }

  /** Adds the attempts and successes counted since the last call to the Prometheus counters. */
  reportCounts(): void {
    this.#counters.report();
  }

  /** Loads the stored state, position and pending deliveries; call once the store is open. */
  async load(): Promise<void> {
    await this.#enabledState.load();
    await this.#pending.loadPosition();

    await this.#deadLetters.load();
    const records = await this.#pending.loadRecords(
      (record) => this.#deadLetters.replaces(record),
      this.#deadLetters.maxPendingOrder,
    );
    this.#deadLetters.loaded();
    for (const record of records) {
      this.#queues.enqueue(storedEntry(record));
      this.#reader.cover(
        objectKeyOf(record.event),
        this.#keys.seqOf(record.key),
      );
    }
    this.#loaded = true;

    this.#logger.info(
      {
        trigger: this.name,
        enabled: this.enabled,
        nextSeq: this.#pending.nextSeq,
        pending: this.#queues.pending,
        deadLetters: this.#deadLetters.count,
      },
      "trigger loaded",
    );
  }

  /** Starts reading and delivering, unless the trigger is disabled. */
  start(): void {
    this.#pending.start();
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
    this.#queues.stop();
    this.#pending.stop();
    await this.#reader.stop();
    this.#queues.clearTimers();

    if (!(await this.#attempts.idleWithin(timeoutMs))) {
      this.#logger.warn(
        { trigger: this.name, inFlight: this.#attempts.inFlight },
        "deliveries still in flight at stop; cancelling them, they will be delivered again after a restart",
      );
      this.#attempts.cancel();
      await this.#attempts.idleWithin(Math.min(timeoutMs, 1000));
    }

    await this.#pending.storeAtStop();
    await this.#context.handler.close?.();
  }

  status(): TriggerStatus {
    return {
      name: this.name,
      enabled: this.enabled,
      configEnabled: this.#trigger.enabled,
      disabledReason: this.#enabledState.disabledReason,
      changedAt: this.#enabledState.changedAt,
      action: this.#trigger.actionName,
      classes: this.#trigger.classes ?? null,
      on: this.#trigger.on,
      nextSeq: this.#pending.nextSeq,
      lastSeq: this.#host.changes.lastSeq(),
      lag: this.lag,
      pending: this.#queues.pending,
      inFlight: this.#attempts.inFlight,
      deadLetters: this.#deadLetters.count,
      consecutiveFailures: this.#autoDisable.consecutiveFailures,
    };
  }

  /** Enables or disables the trigger and stores the choice; a disabled trigger keeps its position and pending events. */
  setEnabled(enabled: boolean, reason: string): Promise<TriggerStatus> {
    return this.#serialise(async () => {
      if (!(await this.#enabledState.set(enabled, reason)))
        return this.status();

      if (enabled) {
        this.#autoDisable.reset();
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
      await this.#operations.replay(fromSeq);
      return this.status();
    });
  }

  /**
   * Queues a delivery of an object's current state, as an event with the
   * given `op` and `seq` set to the last committed seq. The trigger's
   * `where` filter is not applied: the caller chose the object.
   */
  invoke(
    className: string,
    key: string,
    op: "INSERT" | "UPDATE",
  ): Promise<QueuedDelivery> {
    return this.#operations.invoke(className, key, op);
  }

  /** Moves a dead letter back into the queue with a fresh run of attempts and its original delivery id. */
  redeliver(deadLetterId: string): Promise<QueuedDelivery> {
    return this.#operations.redeliver(deadLetterId);
  }

  /** Dead letters in the order they were written, `limit` per page after the id `after`. */
  listDeadLetters(
    limit: number,
    after?: string,
  ): Promise<{ deadLetters: DeadLetter[]; next: string | null }> {
    return this.#deadLetters.list(limit, after);
  }

  getDeadLetter(id: string): Promise<DeadLetter> {
    return this.#deadLetters.get(id);
  }

  deleteDeadLetter(id: string): Promise<void> {
    return this.#deadLetters.delete(id);
  }

  /** Pending deliveries in key order, at most `limit`. */
  listPending(limit: number): PendingDelivery[] {
    return this.#queues.list(limit);
  }

  /** Starts as many deliveries as the trigger's limit and the pool allow. */
  pump(): void {
    if (!this.#loaded || !this.enabled || this.#stopping) return;

    while (
      this.#queues.readyCount > 0 &&
      this.#attempts.inFlight < this.#trigger.maxInFlight
    ) {
      if (!this.#context.pool.tryAcquire(this)) return;
      this.#attempts.deliver(this.#queues.nextReady());
    }
  }

  #activate(): void {
    this.#context.pool.setActive(this, true);
    this.#reader.start();
    this.#queues.scheduleAll();
    this.pump();
  }

  async #deactivate(): Promise<void> {
    this.#context.pool.setActive(this, false);
    await this.#reader.stop();
  }

  #serialise<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.#controlChain.then(operation, operation);
    this.#controlChain = result.catch(() => undefined);
    return result;
  }
}
