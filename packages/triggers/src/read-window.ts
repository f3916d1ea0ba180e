import { Fifo } from "./fifo.js";
import type { PendingDelivery } from "./records.js";

/** One queued delivery of a trigger, with how far its record is kept durable. */
export interface QueueEntry {
  record: PendingDelivery;
  /** Whether plugin state contains the record. */
  stored: boolean;
  /** The state write that stores the record, while it runs. */
  storing: Promise<void> | undefined;
  /**
   * Whether the stored position may pass the event: it was delivered,
   * dead-lettered or stored. Entries that are not change events read by
   * this runner (loaded, manual, redelivered) are stored before they are
   * queued, so they start durable.
   */
  durable: boolean;
  /** When the event was read from the change feed, in ms since the epoch. */
  readAt: number;
}

/**
 * The change events a trigger has read, in read order, until the stored
 * position passes them. An event that is delivered right away is never
 * written to plugin state. Instead the trigger's stored position, and with it
 * the change-log checkpoint, stays at the first event that is not durable,
 * and a restart reads the change log again from there. Events that fail, or
 * wait longer than a moment, are stored as pending records, so the position
 * can pass them.
 */
export class ReadWindow {
  readonly #entries = new Fifo<QueueEntry>();
  #open = 0;

  /** Entries whose outcome is not durable yet. */
  get open(): number {
    return this.#open;
  }

  add(entry: QueueEntry): void {
    this.#entries.push(entry);
    if (!entry.durable) this.#open += 1;
  }

  /** Marks an entry durable; returns false when it already was. */
  markDurable(entry: QueueEntry): boolean {
    if (entry.durable) return false;
    entry.durable = true;
    this.#open -= 1;
    // Drop durable entries from the front now rather than at the next position write, up to 100 ms later, so the
    // window does not keep delivered events alive meanwhile.
    if (this.#entries.peek() === entry) this.#dropDurableFront();
    return true;
  }

  /**
   * Returns the position the trigger may store: the seq of the first entry
   * that is not durable, or `nextSeq` when every entry read so far is.
   */
  position(nextSeq: number): number {
    const first = this.#dropDurableFront();
    return first === undefined ? nextSeq : first.record.event.seq;
  }

  /** Removes durable entries from the front and returns the first entry left. */
  #dropDurableFront(): QueueEntry | undefined {
    let first = this.#entries.peek();
    while (first !== undefined && first.durable) {
      this.#entries.shift();
      first = this.#entries.peek();
    }
    return first;
  }

  /** Entries that are not durable yet, read at or before `cutoff` (ms since the epoch). */
  waiting(cutoff = Infinity): QueueEntry[] {
    const found: QueueEntry[] = [];
    for (const entry of this.#entries) {
      if (entry.readAt > cutoff) break;
      if (!entry.durable) found.push(entry);
    }
    return found;
  }
}
