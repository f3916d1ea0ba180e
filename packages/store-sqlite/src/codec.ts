import type { ChangeEvent, ChangeOp, StoredObject } from "@weft/core";

/**
 * Encodes a vector as little-endian float32, 4 bytes per element. Values are
 * rounded to the nearest float32, so `0.1` reads back as `0.10000000149011612`.
 */
export function encodeVector(vector: readonly number[]): Buffer {
  const buffer = Buffer.allocUnsafe(vector.length * 4);
  for (let i = 0; i < vector.length; i++) buffer.writeFloatLE(vector[i], i * 4);
  return buffer;
}

/** Decodes a vector written by {@link encodeVector}. */
export function decodeVector(blob: Buffer): number[] {
  const vector = new Array<number>(blob.length / 4);
  for (let i = 0; i < vector.length; i++) vector[i] = blob.readFloatLE(i * 4);
  return vector;
}

/** A row of the `objects` table; `vector` is absent when the query did not select it. */
export interface ObjectRow {
  id: string;
  properties: string;
  vector?: Buffer | null;
  version: number;
  updated_at: string;
}

/** Builds the object that reads return, with a stable key order. */
export function rowToObject(className: string, row: ObjectRow): StoredObject {
  return {
    class: className,
    id: row.id,
    properties: JSON.parse(row.properties) as Record<string, unknown>,
    ...(row.vector ? { vector: decodeVector(row.vector) } : {}),
    version: row.version,
    updatedAt: row.updated_at,
  };
}

/** A row of the `changes` table. */
export interface ChangeRow {
  seq: number;
  op: string;
  class: string;
  id: string;
  before: string | null;
  after: string | null;
  vector: Buffer | null;
  timestamp: string;
  tx_id: string;
  origin: string;
  metadata: string;
}

/** Builds a change event from its row, with the key order `commit` uses. */
export function rowToEvent(row: ChangeRow): ChangeEvent {
  return buildEvent({
    seq: row.seq,
    op: row.op as ChangeOp,
    className: row.class,
    id: row.id,
    before:
      row.before === null
        ? null
        : (JSON.parse(row.before) as Record<string, unknown>),
    after:
      row.after === null
        ? null
        : (JSON.parse(row.after) as Record<string, unknown>),
    vector: row.vector ? decodeVector(row.vector) : undefined,
    timestamp: row.timestamp,
    txId: row.tx_id,
    origin: JSON.parse(row.origin) as ChangeEvent["origin"],
    metadata: JSON.parse(row.metadata) as ChangeEvent["metadata"],
  });
}

/** The fields of a change event, with the class under a name that is not a keyword. */
export interface EventFields {
  seq: number;
  op: ChangeOp;
  className: string;
  id: string;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  vector: number[] | undefined;
  timestamp: string;
  txId: string;
  origin: ChangeEvent["origin"];
  metadata: ChangeEvent["metadata"];
}

/** Builds a change event with one key order, so committed and re-read events serialise alike. */
export function buildEvent(fields: EventFields): ChangeEvent {
  return {
    seq: fields.seq,
    op: fields.op,
    class: fields.className,
    id: fields.id,
    before: fields.before,
    after: fields.after,
    ...(fields.vector ? { vector: fields.vector } : {}),
    timestamp: fields.timestamp,
    txId: fields.txId,
    origin: fields.origin,
    metadata: fields.metadata,
  };
}
