import type { Message } from "kafkajs";
import type { OutgoingMessage } from "./formats/types.js";

/** Messages of one produce call, grouped by topic. */
export type Chunk = Map<string, Message[]>;

/**
 * Bytes a record adds besides its key, value and header texts: the record's
 * length, attributes, timestamp and offset deltas and the length prefixes,
 * as varints of the Kafka record format (v2). An upper estimate.
 */
const RECORD_OVERHEAD_BYTES = 24;

/**
 * Encoded messages of one batch, split into chunks that each fit one produce
 * call: the broker rejects a record batch larger than the topic's
 * `max.message.bytes` (1 MiB by default), and kafkajs sends all of a
 * partition's messages of one call as one record batch. Messages keep their
 * order; chunks leave the batch as the broker acknowledges them, so a retry
 * resends only what was not acknowledged.
 */
export class OutgoingBatch {
  readonly chunks: Chunk[] = [];
  /** Published events by `class\u0000op`, for the metrics. */
  readonly counts = new Map<string, number>();
  tombstones = 0;
  size = 0;
  readonly #maxChunkBytes: number;
  #chunkBytes = 0;

  constructor(maxChunkBytes: number) {
    this.#maxChunkBytes = maxChunkBytes;
  }

  /** Adds a change event or snapshot row message; `op` is INSERT, UPDATE, DELETE or READ. */
  add(message: OutgoingMessage, className: string, op: string): void {
    this.#push(message);
    const key = `${className}\u0000${op}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  /** Adds a tombstone for a delete message: same topic, key and headers, null value. */
  addTombstone(deleteMessage: OutgoingMessage): void {
    this.#push({ ...deleteMessage, value: null });
    this.tombstones += 1;
  }

  get empty(): boolean {
    return this.size === 0;
  }

  #push(message: OutgoingMessage): void {
    const bytes = messageBytes(message);
    let chunk = this.chunks.at(-1);
    // A message larger than the limit still gets a chunk of its own; the broker decides whether it fits.
    if (
      !chunk ||
      (this.#chunkBytes + bytes > this.#maxChunkBytes && this.#chunkBytes > 0)
    ) {
      chunk = new Map();
      this.chunks.push(chunk);
      this.#chunkBytes = 0;
    }
    let group = chunk.get(message.topic);
    if (!group) chunk.set(message.topic, (group = []));
    group.push({
      key: message.key,
      value: message.value,
      headers: message.headers,
    });
    this.#chunkBytes += bytes;
    this.size += 1;
  }
}

/** Estimates the bytes a message takes in a record batch; strings are UTF-8. */
export function messageBytes(
  message: Pick<OutgoingMessage, "key" | "value" | "headers">,
): number {
  let bytes = RECORD_OVERHEAD_BYTES + Buffer.byteLength(message.key);
  if (message.value !== null) bytes += Buffer.byteLength(message.value);
  for (const [name, value] of Object.entries(message.headers))
    bytes += Buffer.byteLength(name) + Buffer.byteLength(value) + 2;
  return bytes;
}
