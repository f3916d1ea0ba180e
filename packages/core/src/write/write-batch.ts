import type { WriteOptions, ItemError } from "./types.js";

/** One request of a batch as hooks see it, with its id already resolved. */
export interface WriteItem {
  /** Position in the request list; results come back in this order. */
  readonly index: number;
  op: "upsert" | "patch" | "delete";
  class: string;
  id: string;
  /** Empty for deletes. */
  properties: Record<string, unknown>;
  vector?: number[] | null;
}

/** Options of {@link WriteBatch.reject}. */
export interface RejectOptions {
  /**
   * A retryable rejection (a vectorizer that is down) fails the whole write
   * with a retryable error, so a source pauses and retries instead of
   * dead-lettering good data.
   */
  retryable?: boolean;
  property?: string;
}

/**
 * The items of one `host.write` call on their way through the `beforeWrite`
 * taps. Taps may change items in place, drop them with {@link reject}, or
 * return a new batch.
 */
export class WriteBatch {
  readonly txId: string;
  readonly options: WriteOptions;
  #items: WriteItem[];
  readonly #rejected = new Map<number, ItemError>();
  readonly #rejectedIds = new Map<number, string>();

  constructor(txId: string, items: WriteItem[], options: WriteOptions) {
    this.txId = txId;
    this.#items = items;
    this.options = options;
  }

  /** The items still to be written, in request order. */
  get items(): readonly WriteItem[] {
    return this.#items;
  }

  /** Classes with at least one item still to be written. */
  get classes(): string[] {
    return [...new Set(this.#items.map((item) => item.class))];
  }

  /** Removes an item from the batch; its result carries `code` and `reason`. */
  reject(
    item: WriteItem,
    code: string,
    reason: string,
    options: RejectOptions = {},
  ): void {
    if (this.#rejected.has(item.index)) return;
    this.#rejectedIds.set(item.index, item.id);
    this.#rejected.set(item.index, {
      code,
      message: reason,
      retryable: options.retryable ?? false,
      ...(options.property ? { property: options.property } : {}),
    });
    this.#items = this.#items.filter(
      (candidate) => candidate.index !== item.index,
    );
  }

  /** Records an error for an item that never reached the batch (such as an invalid id). */
  rejectIndex(index: number, error: ItemError, id?: string): void {
    this.#rejected.set(index, error);
    if (id !== undefined) this.#rejectedIds.set(index, id);
    this.#items = this.#items.filter((candidate) => candidate.index !== index);
  }

  /** Rejections so far, by request index. */
  get rejected(): ReadonlyMap<number, ItemError> {
    return this.#rejected;
  }

  /** Ids of rejected items, by request index, where the id was resolved. */
  get rejectedIds(): ReadonlyMap<number, string> {
    return this.#rejectedIds;
  }

  /** Whether any rejection requests a retry of the whole write. */
  get hasRetryableRejection(): boolean {
    for (const error of this.#rejected.values())
      if (error.retryable) return true;
    return false;
  }
}
