import type { ChangeEvent } from "@weft/core";

/**
 * The source object types resolve from: a stored object read by
 * a query, or the before or after image of a change event. Events carry no
 * version or update time, so those fields resolve to null there.
 */
export interface ObjectSource {
  id: string;
  properties: Record<string, unknown>;
  vector?: number[];
  version?: number;
  updatedAt?: string;
}

/** Returns the object a change event is about: the after image, or the before image for deletes. */
export function eventObject(event: ChangeEvent): ObjectSource | null {
  const image = event.op === "DELETE" ? event.before : event.after;
  if (!image) return null;

  return event.op === "DELETE" || !event.vector
    ? { id: event.id, properties: image }
    : { id: event.id, properties: image, vector: event.vector };
}

/** Returns the before image of a change event; null for inserts. */
export function eventPrevious(event: ChangeEvent): ObjectSource | null {
  return event.before ? { id: event.id, properties: event.before } : null;
}
