import type { GraphQLFormattedError } from "graphql";
import type { SlowConsumerPolicy } from "../config.js";
import type { SerializedResult } from "./serialized-result.js";

/**
 * The destination of a subscriber's results: a graphql-ws operation on a
 * socket, or an in-process iterator. The manager calls it synchronously from the
 * change-feed reader, so every method must return quickly.
 */
export interface SubscriptionSink {
  /** Whether the sink takes a message now; when false, messages wait in the subscriber's buffer. */
  readonly writable: boolean;
  /**
   * Sends one result, serialized once and shared by every subscriber of the
   * same document and variables. `dropped` is how many earlier results the
   * drop-oldest policy discarded since the last one sent.
   */
  next(result: SerializedResult, dropped: number): void;
  /** Ends the subscription with errors. */
  error(errors: readonly GraphQLFormattedError[]): void;
  /** Closes the connection the subscription runs on: the `disconnect` slow-consumer policy. */
  disconnect(reason: string): void;
}

/** Callbacks through which a subscriber reports to its manager. */
export interface SubscriberEvents {
  /** The buffer was full under the `disconnect` policy. */
  overflow(subscriber: Subscriber): void;
  /** The drop-oldest policy discarded one buffered result. */
  dropped(subscriber: Subscriber): void;
}

/**
 * One subscription: a bounded ring buffer of serialized results in front of
 * its sink, and the slow-consumer policy for when the buffer is full.
 */
export class Subscriber {
  readonly id: number;
  readonly sink: SubscriptionSink;
  /**
   * Live events with a smaller seq are skipped: a resumed subscriber sets
   * it past the last event its replay delivered, so no event arrives twice
   * at the seam between replay and live delivery.
   */
  nextSeq = 0;
  readonly #buffer: Array<SerializedResult | undefined>;
  readonly #policy: SlowConsumerPolicy;
  readonly #events: SubscriberEvents;
  #head = 0;
  #size = 0;
  #dropped = 0;
  #closed = false;
  #spaceWaiters: Array<() => void> = [];

  constructor(
    id: number,
    sink: SubscriptionSink,
    bufferSize: number,
    policy: SlowConsumerPolicy,
    events: SubscriberEvents,
  ) {
    this.id = id;
    this.sink = sink;
    this.#buffer = new Array<SerializedResult | undefined>(bufferSize);
    this.#policy = policy;
    this.#events = events;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Results waiting in the buffer. */
  get buffered(): number {
    return this.#size;
  }

  /**
   * Delivers one live result. It goes straight to the sink when the sink is
   * writable and nothing is queued, else into the buffer. A full buffer
   * applies the slow-consumer policy.
   */
  deliver(payload: SerializedResult): void {
    if (this.#closed) return;
    if (this.#size === 0 && this.sink.writable) {
      this.sink.next(payload, this.#takeDropped());
      return;
    }

    if (this.#size === this.#buffer.length) {
      if (this.#policy === "disconnect") {
        this.#events.overflow(this);
        return;
      }
      this.#shift();
      this.#dropped += 1;
      this.#events.dropped(this);
    }
    this.#push(payload);
  }

  /**
   * Delivers one replayed result, waiting for buffer space instead of
   * dropping: history is read at the pace the client takes it.
   */
  async deliverReplay(payload: SerializedResult): Promise<void> {
    while (!this.#closed && this.#size === this.#buffer.length) {
      await new Promise<void>((resolve) => this.#spaceWaiters.push(resolve));
    }
    if (this.#closed) return;

    if (this.#size === 0 && this.sink.writable)
      this.sink.next(payload, this.#takeDropped());
    else this.#push(payload);
  }

  /** Sends buffered results while the sink is writable; the sink calls it when it drains. */
  flush(): void {
    while (this.#size > 0 && !this.#closed && this.sink.writable) {
      this.sink.next(this.#shift(), this.#takeDropped());
    }
    if (this.#size < this.#buffer.length) this.#wakeWaiters();
  }

  /** Sends one buffered result if the sink is writable; returns whether it sent one. */
  flushOne(): boolean {
    if (this.#size === 0 || this.#closed || !this.sink.writable) return false;
    this.sink.next(this.#shift(), this.#takeDropped());
    this.#wakeWaiters();
    return true;
  }

  /** Empties the buffer and ends any waiting replay; the manager calls it on release. */
  close(): void {
    this.#closed = true;
    this.#buffer.fill(undefined);
    this.#size = 0;
    this.#wakeWaiters();
  }

  #push(payload: SerializedResult): void {
    this.#buffer[(this.#head + this.#size) % this.#buffer.length] = payload;
    this.#size += 1;
  }

  #shift(): SerializedResult {
    const payload = this.#buffer[this.#head] as SerializedResult;
    this.#buffer[this.#head] = undefined;
    this.#head = (this.#head + 1) % this.#buffer.length;
    this.#size -= 1;
    return payload;
  }

  #takeDropped(): number {
    const dropped = this.#dropped;
    this.#dropped = 0;
    return dropped;
  }

  #wakeWaiters(): void {
    if (this.#spaceWaiters.length === 0) return;
    for (const wake of this.#spaceWaiters.splice(0)) wake();
  }
}
