import type { ChangeEvent } from "@weft/core";
import { Fifo } from "./fifo.js";
import type { QueueEntry } from "./read-window.js";
import type { PendingDelivery } from "./records.js";

/** The events of one object, delivered one at a time in order. */
export interface ObjectQueue {
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

/**
 * A trigger's per-object queues and the list of queues whose head is due.
 * Every queued record, in flight or waiting for a retry, counts as pending.
 */
export class ObjectQueues {
  readonly #queues = new Map<string, ObjectQueue>();
  readonly #ready = new Fifo<ObjectQueue>();
  readonly #pendingKeys = new Set<string>();
  /** Called when a retry timer makes a queue ready, so the runner starts deliveries. */
  readonly #onDue: () => void;
  #stopping = false;

  constructor(onDue: () => void) {
    this.#onDue = onDue;
  }

  /** Records queued, in flight or waiting for a retry. */
  get pending(): number {
    return this.#pendingKeys.size;
  }

  /** Queues whose head is due and not in flight. */
  get readyCount(): number {
    return this.#ready.size;
  }

  /** Returns whether a record with this state key is queued. */
  has(key: string): boolean {
    return this.#pendingKeys.has(key);
  }

  /** Returns the queue of an object, if it has records. */
  get(objectKey: string): ObjectQueue | undefined {
    return this.#queues.get(objectKey);
  }

  enqueue(
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

  /** Takes the next ready queue off the ready list. */
  nextReady(): ObjectQueue {
    const queue = this.#ready.shift()!;
    queue.ready = false;
    return queue;
  }

  /** Removes a queue's head record after it was delivered or dead-lettered. */
  removeHead(queue: ObjectQueue, record: PendingDelivery): void {
    queue.entries.shift();
    this.#pendingKeys.delete(record.key);
  }

  /** Drops a queue that an attempt left empty, or schedules its next head. */
  release(queue: ObjectQueue): void {
    if (queue.entries.length === 0) this.#queues.delete(queue.key);
    else this.#schedule(queue);
  }

  /** Schedules every queue again, after the trigger is enabled. */
  scheduleAll(): void {
    for (const queue of this.#queues.values()) this.#schedule(queue);
  }

  /** Stops scheduling, so no queue becomes ready during stop. */
  stop(): void {
    this.#stopping = true;
  }

  clearTimers(): void {
    for (const queue of this.#queues.values()) clearTimeout(queue.timer);
  }

  /**
   * Pending deliveries, at most `limit`, grouped by object: each object's in
   * the order they will be delivered, and the objects in the key order of
   * their first record.
   */
  list(limit: number): PendingDelivery[] {
    const queues = [...this.#queues.values()]
      .filter((queue) => queue.entries.length > 0)
      .sort((a, b) => byKey(a.entries[0].record, b.entries[0].record));

    const records: PendingDelivery[] = [];
    for (const queue of queues) {
      for (const entry of queue.entries) {
        if (records.length >= limit) return records;
        records.push(entry.record);
      }
    }
    return records;
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
      this.#onDue();
    }, wait);
  }
}

/** Orders records by state key in code-unit order, the order the store lists them in. */
function byKey(a: PendingDelivery, b: PendingDelivery): number {
  if (a.key < b.key) return -1;
  if (a.key > b.key) return 1;
  return 0;
}

/** Wraps a loaded, manual or redelivered record, which is stored before it is queued, as a durable entry. */
export function storedEntry(record: PendingDelivery): QueueEntry {
  return { record, stored: true, storing: undefined, durable: true, readAt: 0 };
}

/** Key of an object's queue: class and id. */
export function objectKeyOf(event: ChangeEvent): string {
  return `${event.class}\u0000${event.id}`;
}
