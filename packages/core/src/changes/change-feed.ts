import type { Store } from "../store/types.js";
import type { ChangeEvent } from "./types.js";

/** Options of a change-feed read. */
export interface ReadOptions {
  /** Ends the read; the iterator returns after the current batch. */
  signal?: AbortSignal;
  /** Maximum events per batch. Default 500. */
  maxBatch?: number;
}

/** Recent events kept in memory, so live readers rarely touch the store. */
const RECENT_CAPACITY = 8192;

/**
 * The host's change feed: history from the store's change log, then live
 * events as they commit, with no gap and no duplicate at the seam because
 * every read goes by seq. Readers never block writes; a reader that is slow
 * only falls behind, and a reader behind retention gets
 * `WEFT_ERR_CHANGES_TRUNCATED`.
 */
export class ChangeFeed {
  readonly #store: () => Store;
  #lastSeq = 0;
  #recent: ChangeEvent[] = [];
  #waiters = new Set<() => void>();
  #closed = false;

  constructor(store: () => Store) {
    this.#store = store;
  }

  /** Sets the last committed seq when the store opens. */
  reset(lastSeq: number): void {
    this.#lastSeq = lastSeq;
    this.#recent = [];
    this.#closed = false;
  }

  /** Publishes committed events (in seq order) to live readers. */
  publish(events: readonly ChangeEvent[]): void {
    if (events.length === 0) return;

    for (const event of events) this.#recent.push(event);
    // Trim in steps of a whole capacity, so the copy is paid once per RECENT_CAPACITY events.
    if (this.#recent.length > 2 * RECENT_CAPACITY)
      this.#recent = this.#recent.slice(-RECENT_CAPACITY);
    this.#lastSeq = events[events.length - 1].seq;

    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const wake of waiters) wake();
  }

  /** Ends every read; called when the host stops. */
  close(): void {
    this.#closed = true;
    for (const wake of this.#waiters) wake();
    this.#waiters.clear();
  }

  /** Returns the highest committed seq. */
  lastSeq(): number {
    return this.#lastSeq;
  }

  /** Records a consumer's next seq, so store retention keeps what it still needs. */
  async checkpoint(name: string, nextSeq: number | null): Promise<void> {
    await this.#store().setCheckpoint(name, nextSeq);
  }

  /** Reads events with `seq >= fromSeq`: history, then live, one at a time. */
  async *read(
    fromSeq: number,
    options: ReadOptions = {},
  ): AsyncIterable<ChangeEvent> {
    for await (const batch of this.batches(fromSeq, options)) yield* batch;
  }

  /** Reads events with `seq >= fromSeq` in batches of consecutive seqs. */
  async *batches(
    fromSeq: number,
    options: ReadOptions = {},
  ): AsyncIterable<ChangeEvent[]> {
    const maxBatch = options.maxBatch ?? 500;
    let next = Math.max(1, fromSeq);

    while (!this.#closed && !options.signal?.aborted) {
      if (next > this.#lastSeq) {
        await this.#waitForEvents(next, options.signal);
        continue;
      }

      const batch = await this.#readRange(next, maxBatch);
      if (batch.length === 0) {
        await this.#waitForEvents(next, options.signal);
        continue;
      }
      next = batch[batch.length - 1].seq + 1;
      yield batch;
    }
  }

  async #readRange(fromSeq: number, limit: number): Promise<ChangeEvent[]> {
    const first = this.#recent.length > 0 ? this.#recent[0].seq : Infinity;
    if (fromSeq >= first) {
      const start = fromSeq - first;
      return this.#recent.slice(start, start + limit);
    }
    return this.#store().readChanges(fromSeq, limit);
  }

  #waitForEvents(next: number, signal: AbortSignal | undefined): Promise<void> {
    if (next <= this.#lastSeq || this.#closed || signal?.aborted)
      return Promise.resolve();

    return new Promise((resolve) => {
      const wake = () => {
        signal?.removeEventListener("abort", wake);
        this.#waiters.delete(wake);
        resolve();
      };
      this.#waiters.add(wake);
      signal?.addEventListener("abort", wake, { once: true });
    });
  }
}
