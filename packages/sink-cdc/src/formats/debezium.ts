import type {
  ChangeEvent,
  ChangeOp,
  ClassDefinition,
  PropertyType,
} from "@weft/core";
import { envelopeSchema, keySchema } from "./connect-schema.js";
import {
  messageHeaders,
  type MessageEncoder,
  type OutgoingMessage,
  type SnapshotRow,
  type TransactionPosition,
} from "./types.js";

/** Settings of {@link createDebeziumEncoder}. */
export interface DebeziumEncoderOptions {
  classes: ReadonlyMap<string, ClassDefinition>;
  topicFor: (className: string) => string;
  /** Logical name: `source.name` and the first part of every schema name. */
  name: string;
  /** Value of `source.db`. */
  database: string;
  /** Value of `source.version`: the sink package's version. */
  version: string;
  /** Wrap key and value in Kafka Connect JSON `{ schema, payload }`. */
  schemas: boolean;
  /** Name of the vector field of a class's rows, or undefined when the class's vectors are omitted. */
  vectorFieldFor: (className: string) => string | undefined;
}

const opCodes: Record<ChangeOp, "c" | "u" | "d"> = {
  INSERT: "c",
  UPDATE: "u",
  DELETE: "d",
};

/** Per-class data computed once: property types and the serialised schemas. */
interface ClassLayout {
  properties: Array<{ name: string; type: PropertyType }>;
  vectorField: string | undefined;
  /** `{"schema":…,"payload":` for the key, or undefined without schemas. */
  keyPrefix: string | undefined;
  valuePrefix: string | undefined;
}

/**
 * Encodes events as Debezium change events: key `{ id }`, value with before,
 * after, source, op, ts_ms, ts_us and the optional transaction block. Values
 * follow Debezium's semantic types: a date becomes an ISO-8601 UTC string
 * (ZonedTimestamp), an object property a JSON string (Json), the vector an
 * array of numbers (FloatVector).
 */
export function createDebeziumEncoder(
  options: DebeziumEncoderOptions,
): MessageEncoder {
  const layouts = new Map<string, ClassLayout>();
  for (const definition of options.classes.values()) {
    const prefix = `${options.name}.${definition.name}`;
    const vectorField = options.vectorFieldFor(definition.name);
    layouts.set(definition.name, {
      properties: definition.properties.map(({ name, type }) => ({
        name,
        type,
      })),
      vectorField,
      keyPrefix: options.schemas
        ? `{"schema":${JSON.stringify(keySchema(prefix))},"payload":`
        : undefined,
      valuePrefix: options.schemas
        ? `{"schema":${JSON.stringify(envelopeSchema(definition, prefix, vectorField))},"payload":`
        : undefined,
    });
  }

  const layoutOf = (className: string): ClassLayout => {
    const layout = layouts.get(className);
    if (!layout)
      throw new Error(
        `class ${className} is not configured on this host, so the sink has no schema for it`,
      );
    return layout;
  };

  const encodeKey = (layout: ClassLayout, id: string): string => {
    // Object ids are UUIDs, so they need no JSON escaping.
    const payload = `{"id":"${id}"}`;
    return layout.keyPrefix === undefined
      ? payload
      : `${layout.keyPrefix}${payload}}`;
  };

  const encodeValue = (
    layout: ClassLayout,
    payload: Record<string, unknown>,
  ): string => {
    const json = JSON.stringify(payload);
    return layout.valuePrefix === undefined
      ? json
      : `${layout.valuePrefix}${json}}`;
  };

  const source = (
    className: string,
    seq: number,
    tsMs: number,
    snapshot: string,
    txId: string | null,
  ) => ({
    version: options.version,
    connector: "weft",
    name: options.name,
    ts_ms: tsMs,
    snapshot,
    db: options.database,
    ts_us: tsMs * 1000,
    class: className,
    seq,
    txId,
  });

  return {
    change(
      event: ChangeEvent,
      transaction: TransactionPosition | undefined,
      processedAtUs: number,
    ): OutgoingMessage {
      const layout = layoutOf(event.class);
      const committedAtMs = Date.parse(event.timestamp);
      const payload = {
        before:
          event.before === null ? null : toRow(layout, event.before, undefined),
        after:
          event.after === null
            ? null
            : toRow(layout, event.after, event.vector),
        source: source(
          event.class,
          event.seq,
          committedAtMs,
          "false",
          event.txId,
        ),
        transaction: transaction
          ? {
              id: transaction.id,
              total_order: transaction.totalOrder,
              data_collection_order: transaction.dataCollectionOrder,
            }
          : null,
        op: opCodes[event.op],
        ts_ms: Math.floor(processedAtUs / 1000),
        ts_us: processedAtUs,
      };
      return {
        topic: options.topicFor(event.class),
        key: encodeKey(layout, event.id),
        value: encodeValue(layout, payload),
        headers: messageHeaders(event.seq, event.metadata.traceparent),
      };
    },

    snapshotRow(row: SnapshotRow, processedAtUs: number): OutgoingMessage {
      const { object } = row;
      const layout = layoutOf(object.class);
      const payload = {
        before: null,
        after: toRow(layout, object.properties, object.vector),
        source: source(
          object.class,
          row.seq,
          row.startedAtMs,
          row.marker,
          null,
        ),
        transaction: null,
        op: "r",
        ts_ms: Math.floor(processedAtUs / 1000),
        ts_us: processedAtUs,
      };
      return {
        topic: options.topicFor(object.class),
        key: encodeKey(layout, object.id),
        value: encodeValue(layout, payload),
        headers: messageHeaders(row.seq, undefined),
      };
    },
  };
}

/**
 * Builds a row with every property of the class in declaration order, null
 * when absent. `vector` is undefined for before images, because a change
 * event carries only the new vector.
 */
function toRow(
  layout: ClassLayout,
  properties: Record<string, unknown>,
  vector: number[] | undefined,
): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  for (const { name, type } of layout.properties)
    row[name] = toFieldValue(type, properties[name]);
  if (layout.vectorField !== undefined)
    row[layout.vectorField] = vector ?? null;
  return row;
}

/** An ISO-8601 date-time in UTC with `Z`, which ZonedTimestamp accepts as it is. */
const utcTimestamp = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

/**
 * Converts a date property to a ZonedTimestamp string, which needs an offset.
 * Core also accepts a date alone or a local time, read as `Date.parse`
 * reads them; those become UTC.
 */
function toZonedTimestamp(value: string): string {
  return utcTimestamp.test(value) ? value : new Date(value).toISOString();
}

function toFieldValue(type: PropertyType, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  switch (type) {
    case "date":
      return toZonedTimestamp(value as string);
    case "object":
      return JSON.stringify(value);
    default:
      return value;
  }
}
