import type { ChangeEvent, StoredObject } from "@weft/core";

/** One Kafka message, ready for the producer. A null value is a tombstone. */
export interface OutgoingMessage {
  topic: string;
  key: string;
  value: string | null;
  headers: Record<string, string>;
}

/**
 * Debezium's `source.snapshot` values for rows of an initial snapshot, as
 * `io.debezium.connector.SnapshotRecord` names them. Streamed events carry
 * `false`.
 */
export type SnapshotMarker =
  | "first"
  | "first_in_data_collection"
  | "true"
  | "last_in_data_collection"
  | "last";

/** One object of an initial snapshot, to be published as a read event. */
export interface SnapshotRow {
  object: StoredObject;
  marker: SnapshotMarker;
  /** The last seq contained in the snapshot of the object's class. */
  seq: number;
  /** Time the snapshot started, in ms since the epoch. */
  startedAtMs: number;
}

/** An event's place in its transaction, counting only the events the sink publishes. */
export interface TransactionPosition {
  id: string;
  /** Position among the transaction's published events, from 1. */
  totalOrder: number;
  /** Position among the transaction's published events of the same class, from 1. */
  dataCollectionOrder: number;
}

/** Turns change events and snapshot rows into Kafka messages of one format. */
export interface MessageEncoder {
  /**
   * Encodes a committed change. `processedAtUs` is the time the sink handles
   * it, in microseconds since the epoch.
   */
  change(
    event: ChangeEvent,
    transaction: TransactionPosition | undefined,
    processedAtUs: number,
  ): OutgoingMessage;
  snapshotRow(row: SnapshotRow, processedAtUs: number): OutgoingMessage;
}

/** Returns the current time in microseconds since the epoch. */
export function nowMicros(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

/** Kafka headers every format sends: the event's seq and, when the write had one, its W3C trace context. */
export function messageHeaders(
  seq: number,
  traceparent: string | undefined,
): Record<string, string> {
  return traceparent ? { seq: String(seq), traceparent } : { seq: String(seq) };
}
