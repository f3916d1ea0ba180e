import type { ChangeEvent } from "@weft/core";
import { ErrorCode, isWeftError } from "@weft/core";
import { objectKeyOf, type ObjectQueues } from "./object-queues.js";
import type { PendingStore } from "./pending-store.js";
import type { QueueEntry } from "./read-window.js";
import { newRecord } from "./records.js";
import type { TriggerScope } from "./trigger-scope.js";

/** Change events read per batch from the feed. */
const READ_BATCH = 500;

/** Events read and not durable yet, per in-flight slot, before reading pauses (at least {@link READ_BATCH}). */
const READ_AHEAD_PER_SLOT = 4;

/** Wait before a reader that failed for another reason than truncation reads again. */
const READ_RETRY_MS = 1000;

/** Dependencies of a {@link ChangeReader}, passed in by the runner. */
export interface ChangeReaderContext extends TriggerScope {
  filter: (event: ChangeEvent) => boolean;
  queues: ObjectQueues;
  pending: PendingStore;
  /** Called after a batch is queued, so the runner starts deliveries. */
  onRead(): void;
}

/**
 * Reads the change feed from the trigger's position and queues the matching
 * events. Reading pauses while the trigger has `maxPending` records queued
 * or too many read events that are not durable yet.
 */
export class ChangeReader {
  readonly #context: ChangeReaderContext;
  readonly #name: string;
  readonly #queues: ObjectQueues;
  readonly #pending: PendingStore;
  readonly #readAhead: number;
  /**
   * After a restart: for each object with loaded pending records, the
   * highest seq those records' keys cover. A change event of that object at
   * or below it was delivered before the restart (see {@link #isCovered}).
   */
  #covered: Map<string, number> | undefined;
  #coveredUntil = 0;
  #reader: { controller: AbortController; done: Promise<void> } | undefined;
  #capacityWaiters: Array<() => void> = [];

  constructor(context: ChangeReaderContext) {
    this.#context = context;
    this.#name = context.trigger.name;
    this.#queues = context.queues;
    this.#pending = context.pending;
    this.#readAhead = Math.max(
      READ_BATCH,
      READ_AHEAD_PER_SLOT * context.trigger.maxInFlight,
    );
  }

  /** Marks the seqs up to `seq` of an object as covered by a loaded pending record. */
  cover(objectKey: string, seq: number): void {
    const covered = (this.#covered ??= new Map<string, number>());
    covered.set(objectKey, Math.max(covered.get(objectKey) ?? 0, seq));
    this.#coveredUntil = Math.max(this.#coveredUntil, seq);
  }

  /** Drops the covered seqs, because a replay reads the change log again on purpose. */
  forgetCovered(): void {
    this.#covered = undefined;
  }

  start(): void {
    if (this.#reader) return;
    const controller = new AbortController();
    const done = this.#read(controller.signal).catch((error: unknown) => {
      this.#context.logger.error(
        { err: error, trigger: this.#name },
        "trigger reader stopped",
      );
    });
    this.#reader = { controller, done };
  }

  async stop(): Promise<void> {
    const reader = this.#reader;
    if (!reader) return;
    reader.controller.abort();
    this.#wakeCapacityWaiters();
    await reader.done;
    this.#reader = undefined;
  }

  /** Lets a reader that waits for capacity go on, once there is some. */
  wakeIfCapacity(): void {
    if (this.#capacityWaiters.length > 0 && this.#hasCapacity())
      this.#wakeCapacityWaiters();
  }

  async #read(signal: AbortSignal): Promise<void> {
    while (!signal.aborted && !this.#context.host.stopping) {
      try {
        for await (const batch of this.#context.host.changes.batches(
          this.#pending.nextSeq,
          {
            signal,
            maxBatch: READ_BATCH,
          },
        )) {
          await this.#waitForCapacity(signal);
          if (signal.aborted) return;
          await this.#accept(batch);
          // Reading history resolves without I/O; yield so responses of deliveries in flight are handled meanwhile.
          await new Promise((resolve) => setImmediate(resolve));
        }
        return;
      } catch (error) {
        if (signal.aborted || this.#context.host.stopping) return;
        if (isWeftError(error) && error.code === ErrorCode.CHANGES_TRUNCATED) {
          await this.#skipTruncated();
          continue;
        }
        this.#context.failureLog.log(
          "error",
          "read",
          { err: error, trigger: this.#name, nextSeq: this.#pending.nextSeq },
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
      const key = this.#context.keys.pending(event.seq);
      if (this.#queues.has(key)) continue;
      const objectKey = objectKeyOf(event);
      if (this.#covered !== undefined && this.#isCovered(objectKey, event.seq))
        continue;

      const entry: QueueEntry = {
        record: newRecord(key, this.#deliveryId(event), "change", event),
        stored: false,
        storing: undefined,
        durable: false,
        readAt,
      };
      this.#pending.track(entry);
      const last = this.#queues.get(objectKey)?.entries.at(-1);
      if (last !== undefined && (last.stored || last.storing !== undefined))
        toStore.push(entry);
      this.#queues.enqueue(entry, objectKey);
    }
    this.#pending.nextSeq = batch[batch.length - 1].seq + 1;
    this.#context.onRead();
    this.#pending.requestPositionSave();
    if (toStore.length > 0) await this.#pending.storeEntries(toStore);
  }

  /**
   * The delivery id of a change event: trigger name, seq and transaction id.
   * It is the same every time the event is read, replays included, and the
   * transaction id keeps it unique if a store is reset and seqs start over.
   */
  #deliveryId(event: ChangeEvent): string {
    return `${this.#name}_${event.seq}_${event.txId}`;
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

  /**
   * Moves past events that retention removed before the trigger read them.
   * The checkpoint keeps this from happening unless the store trims past
   * checkpoints (`retention.force`), so it is logged as an error.
   */
  async #skipTruncated(): Promise<void> {
    const firstSeq = await this.#context.host.store().firstSeq();
    const nextSeq = this.#pending.nextSeq;
    this.#context.logger.error(
      {
        trigger: this.#name,
        nextSeq,
        firstSeq,
        lost: Math.max(0, firstSeq - nextSeq),
      },
      "change log no longer holds the trigger's position; events before firstSeq were skipped without delivery",
    );
    this.#pending.nextSeq = Math.max(firstSeq, nextSeq);
    await this.#pending.savePosition();
  }

  #hasCapacity(): boolean {
    return (
      this.#queues.pending < this.#context.trigger.maxPending &&
      this.#pending.open < this.#readAhead
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
