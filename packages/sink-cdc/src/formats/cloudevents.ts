import type { ChangeEvent, ChangeOp } from "@weft/core";
import {
  messageHeaders,
  type MessageEncoder,
  type OutgoingMessage,
  type SnapshotRow,
} from "./types.js";

/** Settings of {@link createCloudEventsEncoder}. */
export interface CloudEventsEncoderOptions {
  topicFor: (className: string) => string;
  /** Logical name of the host; the event `source` is `/weft/<name>`. */
  name: string;
  /** Name of the vector field inside `data`, or undefined when the class's vectors are omitted. */
  vectorFieldFor: (className: string) => string | undefined;
}

/** Media type of a structured-mode message, per the CloudEvents Kafka protocol binding. */
export const CLOUDEVENTS_CONTENT_TYPE =
  "application/cloudevents+json; charset=UTF-8";

const eventTypes: Record<ChangeOp | "READ", string> = {
  INSERT: "weft.change.insert",
  UPDATE: "weft.change.update",
  DELETE: "weft.change.delete",
  READ: "weft.change.read",
};

/**
 * Encodes events as CloudEvents 1.0 in structured mode (JSON event format),
 * keyed by the object id. Extension attribute names may hold only lower-case
 * letters and digits, hence `weftop`, `weftclass` and `weftseq`. The seq is a
 * decimal string because a CloudEvents Integer is 32-bit and seq is not.
 */
export function createCloudEventsEncoder(
  options: CloudEventsEncoderOptions,
): MessageEncoder {
  const source = `/weft/${options.name}`;

  const data = (
    className: string,
    before: unknown,
    after: unknown,
    vector: number[] | undefined,
  ) => {
    const vectorField = options.vectorFieldFor(className);
    return vectorField === undefined
      ? { before, after }
      : { before, after, [vectorField]: vector ?? null };
  };

  const headersFor = (seq: number, traceparent: string | undefined) => ({
    ...messageHeaders(seq, traceparent),
    "content-type": CLOUDEVENTS_CONTENT_TYPE,
  });

  return {
    change(event: ChangeEvent): OutgoingMessage {
      const value = {
        specversion: "1.0",
        id: String(event.seq),
        source,
        type: eventTypes[event.op],
        subject: event.id,
        time: event.timestamp,
        datacontenttype: "application/json",
        weftop: event.op,
        weftclass: event.class,
        weftseq: String(event.seq),
        wefttxid: event.txId,
        ...(event.metadata.traceparent
          ? { traceparent: event.metadata.traceparent }
          : {}),
        data: data(event.class, event.before, event.after, event.vector),
      };
      return {
        topic: options.topicFor(event.class),
        key: event.id,
        value: JSON.stringify(value),
        headers: headersFor(event.seq, event.metadata.traceparent),
      };
    },

    snapshotRow(row: SnapshotRow): OutgoingMessage {
      const { object } = row;
      const value = {
        specversion: "1.0",
        // Snapshot rows share their class's snapshot seq, so the id adds the class and object id to stay unique per source.
        id: `${row.seq}:${object.class}:${object.id}`,
        source,
        type: eventTypes.READ,
        subject: object.id,
        time: new Date(row.startedAtMs).toISOString(),
        datacontenttype: "application/json",
        weftop: "READ",
        weftclass: object.class,
        weftseq: String(row.seq),
        weftsnapshot: row.marker,
        data: data(object.class, null, object.properties, object.vector),
      };
      return {
        topic: options.topicFor(object.class),
        key: object.id,
        value: JSON.stringify(value),
        headers: headersFor(row.seq, undefined),
      };
    },
  };
}
