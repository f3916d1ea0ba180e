import type { PluginState } from "@weft/core";
import {
  objectKeyOf,
  storedEntry,
  type ObjectQueues,
} from "./object-queues.js";
import { ReadWindow, type QueueEntry } from "./read-window.js";
import type { PendingDelivery, TriggerKeys } from "./records.js";
import type { TriggerScope } from "./trigger-scope.js";

/** Age at which a read event that is still not delivered is stored as pending, so the position can pass it. */
const STORE_AFTER_MS = 1000;

/** How often the runner looks for such events. */
const STORE_CHECK_MS = 250;

/** Maximum delay before a new stored position is written, so positions are written at most this often. */
const POSITION_SAVE_MS = 100;

/** Dependencies of a {@link PendingStore}, passed in by the runner. */
export interface PendingStoreContext extends TriggerScope {
  checkpointName: string;
  queues: ObjectQueues;
  /** Called when an entry became durable, so a reader that waits for read-ahead capacity can go on. */
  onDurable(): void;
}

/**
 * A trigger's read position and the pending records in plugin state. The
 * stored position (and the change-log checkpoint) only passes an event once
 * the event is durable: delivered, dead-lettered or stored as a pending
 * record. Events that wait longer than {@link STORE_AFTER_MS} are stored, so
 * a slow object never holds back the position.
 */
export class PendingStore {
  readonly #context: PendingStoreContext;
  readonly #state: PluginState;
  readonly #keys: TriggerKeys;
  readonly #window = new ReadWindow();
  /** The next seq the reader reads. */
  #nextSeq = 1;
  /** The position last written to state and to the checkpoint. */
  #storedPosition = 1;
  #positionTimer: NodeJS.Timeout | undefined;
  #positionChain: Promise<unknown> = Promise.resolve();
  #storeTimer: NodeJS.Timeout | undefined;
  #stopping = false;
  /** The next `order` given to a record that is stored for the first time. */
  #nextOrder = 0;

  constructor(context: PendingStoreContext) {
    this.#context = context;
    this.#state = context.state;
    this.#keys = context.keys;
  }

  /** The next seq the reader reads. */
  get nextSeq(): number {
    return this.#nextSeq;
  }

  set nextSeq(seq: number) {
    this.#nextSeq = seq;
  }

  /** Read events whose outcome is not durable yet. */
  get open(): number {
    return this.#window.open;
  }

  /** Adds an event read from the change feed to the read window. */
  track(entry: QueueEntry): void {
    this.#window.add(entry);
  }

  /** Loads the stored position, or stores the configured start position when there is none. */
  async loadPosition(): Promise<void> {
    const host = this.#context.host;
    const stored = await this.#state.get<{ nextSeq: number }>(
      this.#keys.position,
    );
    if (stored) {
      this.#nextSeq = stored.nextSeq;
    } else {
      this.#nextSeq =
        this.#context.trigger.startFrom === "earliest"
          ? await host.store().firstSeq()
          : host.changes.lastSeq() + 1;
      await this.#state.set(this.#keys.position, { nextSeq: this.#nextSeq });
    }
    this.#storedPosition = this.#nextSeq;
    await host.changes.checkpoint(this.#context.checkpointName, this.#nextSeq);
  }

  /**
   * Loads the stored pending records in queue order, and drops those for
   * which `isReplaced` finds a dead letter that already replaced them. Records with an
   * `order` come first, by order. Records of the previous format have none
   * and follow in key order. Each gets the next order and is written back,
   * one at a time, so a crash midway leaves the written ones first.
   * `minOrder` is the highest order a stored dead letter refers to, so no
   * new record reuses it.
   */
  async loadRecords(
    isReplaced: (record: PendingDelivery) => boolean,
    minOrder: number,
  ): Promise<PendingDelivery[]> {
    const ordered: PendingDelivery[] = [];
    const unordered: PendingDelivery[] = [];
    let maxOrder = minOrder;
    for (const { value } of await this.#state.list<PendingDelivery>(
      this.#keys.pendingPrefix,
    )) {
      if (isReplaced(value)) {
        await this.#dropReplaced(value);
        continue;
      }
      if (value.order === undefined) unordered.push(value);
      else {
        ordered.push(value);
        maxOrder = Math.max(maxOrder, value.order);
      }
    }
    ordered.sort((a, b) => a.order! - b.order!);
    this.#nextOrder = maxOrder + 1;
    for (const record of unordered) {
      record.order = this.#nextOrder++;
      await this.#state.set(record.key, record);
    }
    return [...ordered, ...unordered];
  }

  /** Deletes a pending record whose dead letter is stored; a failure is logged and the record stays out of the queue. */
  async #dropReplaced(record: PendingDelivery): Promise<void> {
    const fields = {
      trigger: this.#context.trigger.name,
      class: record.event.class,
      objectId: record.event.id,
      seq: record.event.seq,
      deliveryId: record.deliveryId,
    };
    try {
      await this.#state.delete(record.key);
      this.#context.logger.info(
        fields,
        "dropped a pending record whose dead letter is already stored",
      );
    } catch (error) {
      this.#context.logger.warn(
        { ...fields, err: error },
        "deleting a pending record whose dead letter is already stored failed; it is skipped and deleted at a later start",
      );
    }
  }

  /** Returns the record's `order`, giving it the next one if it has none; call before the record's first write. */
  orderOf(record: PendingDelivery): number {
    record.order ??= this.#nextOrder++;
    return record.order;
  }

  /** Starts the periodic check that stores events waiting longer than {@link STORE_AFTER_MS}. */
  start(): void {
    this.#storeTimer = setInterval(
      () => this.#storeWaiting(),
      STORE_CHECK_MS,
    ).unref();
  }

  /** Stops the periodic store check and delayed position writes. */
  stop(): void {
    this.#stopping = true;
    clearInterval(this.#storeTimer);
  }

  /** Stores whatever is still queued at stop and writes the position. A failure is logged, not thrown. */
  async storeAtStop(): Promise<void> {
    clearTimeout(this.#positionTimer);
    this.#positionTimer = undefined;
    try {
      await this.storeQueued();
      await this.savePosition();
    } catch (error) {
      this.#context.logger.error(
        {
          err: error,
          trigger: this.#context.trigger.name,
          nextSeq: this.#nextSeq,
        },
        "storing the queued events at stop failed; the change log is read again from the last stored position after a restart",
      );
    }
  }

  /** Stores every read event that is not durable yet, so none depends on the position any more. */
  storeQueued(): Promise<void> {
    return this.storeEntries(this.#window.waiting());
  }

  /** Writes the position the window allows, unless it is already stored; writes run one at a time. */
  savePosition(): Promise<void> {
    const run = this.#positionChain.then(async () => {
      const position = this.#window.position(this.#nextSeq);
      if (position === this.#storedPosition) return;
      await this.#state.set(this.#keys.position, { nextSeq: position });
      await this.#context.host.changes.checkpoint(
        this.#context.checkpointName,
        position,
      );
      this.#storedPosition = position;
    });
    this.#positionChain = run.catch(() => undefined);
    return run;
  }

  /** Writes the position within {@link POSITION_SAVE_MS}, once for all the deliveries that finish meanwhile. */
  requestPositionSave(): void {
    if (this.#positionTimer !== undefined || this.#stopping) return;
    this.#positionTimer = setTimeout(() => {
      this.#positionTimer = undefined;
      this.savePosition().catch((error: unknown) =>
        this.#context.failureLog.log(
          "error",
          "position",
          {
            err: error,
            trigger: this.#context.trigger.name,
            nextSeq: this.#nextSeq,
          },
          "storing the trigger's position failed; retrying with the next delivery",
        ),
      );
    }, POSITION_SAVE_MS);
    this.#positionTimer.unref();
  }

  /** Stores entries that are not in state yet; each becomes durable once its own write finished. */
  async storeEntries(entries: QueueEntry[]): Promise<void> {
    await Promise.all(entries.map((entry) => this.#storeEntry(entry)));
  }

  #storeEntry(entry: QueueEntry): Promise<void> {
    if (entry.stored) return Promise.resolve();
    if (entry.storing !== undefined) return entry.storing;
    this.orderOf(entry.record);
    const storing = this.#state.set(entry.record.key, entry.record).then(
      () => {
        entry.stored = true;
        entry.storing = undefined;
        this.markDurable(entry);
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
    const queue = this.#context.queues.get(objectKey);
    if (queue) await this.storeEntries(queue.entries);
  }

  /** Stores a manual delivery or redelivery, then queues it. */
  async storeAndEnqueue(record: PendingDelivery): Promise<void> {
    const objectKey = objectKeyOf(record.event);
    await this.#storeQueue(objectKey);
    this.orderOf(record);
    await this.#state.set(record.key, record);
    this.#context.queues.enqueue(storedEntry(record), objectKey);
  }

  /** Looks for read events that are still not delivered after {@link STORE_AFTER_MS} and stores them. */
  #storeWaiting(): void {
    if (this.#window.open === 0 || this.#stopping) return;
    const waiting = this.#window
      .waiting(Date.now() - STORE_AFTER_MS)
      .filter((entry) => entry.storing === undefined);
    if (waiting.length === 0) return;
    this.storeEntries(waiting).catch((error: unknown) =>
      this.#context.failureLog.log(
        "error",
        "store",
        {
          err: error,
          trigger: this.#context.trigger.name,
          count: waiting.length,
        },
        "storing events that wait for delivery failed; the position stays before them",
      ),
    );
  }

  markDurable(entry: QueueEntry): void {
    if (!this.#window.markDurable(entry)) return;
    this.requestPositionSave();
    this.#context.onDurable();
  }
}
