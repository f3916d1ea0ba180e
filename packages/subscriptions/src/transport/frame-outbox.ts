import { textFrameHeaderLength, writeTextFrameHeader } from "./text-frame.js";

/** Maximum parts, those of 16 messages, an outbox clears instead of truncating its array after a write. */
const MAX_KEPT_PARTS = 48;
/** Placeholder for cleared part slots, so the array contains only Buffers. */
const EMPTY = Buffer.alloc(0);

/**
 * Text frames waiting for one socket write. A message is kept as its parts
 * (for a `next` message: the operation's prefix, the result serialized once
 * for every subscriber, and the closing braces), so nothing is copied per
 * subscriber until {@link FrameOutbox.take} assembles every waiting frame
 * into one buffer.
 */
export class FrameOutbox {
  /**
   * Three parts per message, in order. Only the first `#partCount` entries
   * are waiting. After a write of one message its three parts stay as stale
   * references, because truncating the array costs more per write than the
   * one result they keep alive. After a write of up to 16 messages the later
   * entries are cleared and the array keeps its capacity, so the next batch
   * need not grow it again. Longer arrays are truncated, so a burst leaves
   * no large array behind.
   */
  readonly #parts: Buffer[] = [];
  #partCount = 0;
  #bytes = 0;

  /** Encoded size of the waiting frames, headers included. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Adds one text message whose payload is `head`, `body` and `tail` in that order. */
  add(head: Buffer, body: Buffer, tail: Buffer): void {
    const length = head.length + body.length + tail.length;
    const parts = this.#parts;
    const count = this.#partCount;
    parts[count] = head;
    parts[count + 1] = body;
    parts[count + 2] = tail;
    this.#partCount = count + 3;
    this.#bytes += textFrameHeaderLength(length) + length;
  }

  /** Returns the waiting frames as one buffer and empties the outbox. */
  take(): Buffer {
    const parts = this.#parts;
    const frames = Buffer.allocUnsafe(this.#bytes);
    let offset = 0;
    for (let i = 0; i < this.#partCount; i += 3) {
      const head = parts[i];
      const body = parts[i + 1];
      const tail = parts[i + 2];
      offset = writeTextFrameHeader(
        frames,
        offset,
        head.length + body.length + tail.length,
      );
      frames.set(head, offset);
      offset += head.length;
      frames.set(body, offset);
      offset += body.length;
      frames.set(tail, offset);
      offset += tail.length;
    }
    if (this.#partCount > MAX_KEPT_PARTS) parts.length = 0;
    else if (this.#partCount > 3) parts.fill(EMPTY, 3, this.#partCount);
    this.#partCount = 0;
    this.#bytes = 0;
    return frames;
  }

  /** Discards the waiting frames and the references to them. */
  clear(): void {
    this.#parts.length = 0;
    this.#partCount = 0;
    this.#bytes = 0;
  }
}
