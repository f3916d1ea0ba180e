/** Settings of a {@link Batcher}. */
export interface BatcherOptions<T> {
  /** Items that make a batch full. */
  maxItems: number;
  /** Summed item sizes that make a batch full. */
  maxBytes: number;
  /** Batches held besides the one being flushed, the filling one included. */
  maxQueued: number;
  /** Time after the first item of a batch at which the batch is flushed even when not full, in ms. */
  intervalMs: number;
  /** Writes one batch. Batches are flushed one at a time, in the order they filled. */
  flush(items: T[]): Promise<void>;
  /** Receives an error that `flush` threw; the batch's items are lost to this process. */
  onError(error: unknown): void;
}

/**
 * Collects items into batches that are flushed when full or when
 * `intervalMs` passed since their first item. One batch is flushed at a
 * time while later ones fill; when `maxQueued` batches wait, {@link add}
 * refuses items until the next flush starts, which bounds the memory held.
 */
export class Batcher<T> {
  readonly #options: BatcherOptions<T>;
  /** Full batches waiting for their flush, oldest first. */
  #full: T[][] = [];
  #items: T[] = [];
  #bytes = 0;
  #timer: NodeJS.Timeout | undefined;
  #due = false;
  #inFlight: Promise<void> | undefined;
  #waiters: Array<() => void> = [];

  constructor(options: BatcherOptions<T>) {
    this.#options = options;
  }

  /** Whether no item can be added until a flush starts. */
  get full(): boolean {
    return this.#full.length >= this.#options.maxQueued;
  }

  /** The flush in progress, if any. */
  get inFlight(): Promise<void> | undefined {
    return this.#inFlight;
  }

  /** Adds an item; returns false without adding it when the queue is full. */
  add(item: T, bytes: number): boolean {
    if (this.full) return false;

    this.#items.push(item);
    this.#bytes += bytes;
    if (
      this.#items.length >= this.#options.maxItems ||
      this.#bytes >= this.#options.maxBytes
    ) {
      this.#full.push(this.#items);
      this.#items = [];
      this.#bytes = 0;
      clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#kick();
    } else if (!this.#timer) {
      this.#timer = setTimeout(() => this.#onTimer(), this.#options.intervalMs);
    }
    return true;
  }

  /** Resolves when an item can be added again, or when {@link clear} empties the queue. */
  room(): Promise<void> {
    if (!this.full) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Drops the items not yet being flushed and returns them. */
  clear(): T[] {
    const dropped = [...this.#full.flat(), ...this.#items];
    this.#full = [];
    this.#items = [];
    this.#bytes = 0;
    this.#due = false;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#wakeWaiters();
    return dropped;
  }

  /** Flushes everything now and waits until no flush is left. */
  async drain(): Promise<void> {
    while (this.#inFlight || this.#full.length > 0 || this.#items.length > 0) {
      this.#due = true;
      this.#kick();
      await this.#inFlight;
    }
  }

  #onTimer(): void {
    this.#timer = undefined;
    this.#due = true;
    this.#kick();
  }

  #kick(): void {
    if (this.#inFlight) return;

    let items = this.#full.shift();
    if (!items && this.#due && this.#items.length > 0) {
      items = this.#items;
      this.#items = [];
      this.#bytes = 0;
      this.#due = false;
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (!items) {
      // Nothing is filling, so the next batch starts its own interval.
      if (this.#items.length === 0) this.#due = false;
      return;
    }

    this.#wakeWaiters();
    this.#inFlight = this.#options
      .flush(items)
      .catch((error: unknown) => this.#options.onError(error))
      .finally(() => {
        this.#inFlight = undefined;
        this.#kick();
      });
  }

  #wakeWaiters(): void {
    for (const wake of this.#waiters.splice(0)) wake();
  }
}
