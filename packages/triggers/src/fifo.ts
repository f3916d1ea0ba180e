/**
 * A first-in, first-out queue on an array with a moving head. A `Set` used
 * as a queue slows down as it drains: V8 keeps deleted entries as holes
 * until it rehashes, and each `values().next()` walks past them.
 */
export class Fifo<T> {
  #items: T[] = [];
  #head = 0;

  get size(): number {
    return this.#items.length - this.#head;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  /** Returns the first item without removing it. */
  peek(): T | undefined {
    return this.#head < this.#items.length
      ? this.#items[this.#head]
      : undefined;
  }

  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head];
    // Clear the slot, so the array does not keep a removed item alive until the next compaction.
    this.#items[this.#head] = undefined as T;
    this.#head += 1;
    // Drop the consumed prefix now and then, so memory follows the queue's size.
    if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = this.#head; i < this.#items.length; i += 1)
      yield this.#items[i];
  }
}
