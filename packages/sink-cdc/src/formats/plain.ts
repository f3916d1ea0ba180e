import type { ChangeEvent } from "@weft/core";
import {
  messageHeaders,
  type MessageEncoder,
  type OutgoingMessage,
  type SnapshotRow,
} from "./types.js";

/** Settings of {@link createPlainEncoder}. */
export interface PlainEncoderOptions {
  topicFor: (className: string) => string;
  includeVector: (className: string) => boolean;
}

/**
 * Encodes weft's change event as JSON, keyed by the object id. Snapshot rows
 * have the same shape with `op: "READ"`, the snapshot's seq, a null `txId`
 * and a `snapshot` field with Debezium's marker.
 */
export function createPlainEncoder(
  options: PlainEncoderOptions,
): MessageEncoder {
  return {
    change(event: ChangeEvent): OutgoingMessage {
      let value: ChangeEvent = event;
      if (event.vector !== undefined && !options.includeVector(event.class)) {
        const { vector: _vector, ...rest } = event;
        value = rest;
      }
      return {
        topic: options.topicFor(event.class),
        key: event.id,
        value: JSON.stringify(value),
        headers: messageHeaders(event.seq, event.metadata.traceparent),
      };
    },

    snapshotRow(row: SnapshotRow): OutgoingMessage {
      const { object } = row;
      const value = {
        seq: row.seq,
        op: "READ",
        class: object.class,
        id: object.id,
        before: null,
        after: object.properties,
        ...(object.vector !== undefined && options.includeVector(object.class)
          ? { vector: object.vector }
          : {}),
        timestamp: object.updatedAt,
        txId: null,
        origin: { plugin: "@weft/sink-cdc" },
        metadata: {},
        snapshot: row.marker,
      };
      return {
        topic: options.topicFor(object.class),
        key: object.id,
        value: JSON.stringify(value),
        headers: messageHeaders(row.seq, undefined),
      };
    },
  };
}
