import type { ChangeEvent, ChangeOp } from "@weft/core";

const eventTypes: Record<ChangeOp, string> = {
  INSERT: "object.inserted",
  UPDATE: "object.updated",
  DELETE: "object.deleted",
};

/**
 * The JSON body of a webhook, in the shape Standard Webhooks recommends:
 * `type`, `timestamp` (the commit time of the change) and `data` (the change
 * event), plus the trigger's name. The body is the same on every attempt of
 * one delivery.
 */
export interface WebhookPayload {
  /** `object.inserted`, `object.updated` or `object.deleted`. */
  type: string;
  timestamp: string;
  trigger: string;
  data: ChangeEvent;
}

/** Serialises the body of one delivery; the vector is left out unless `includeVector` is set. */
export function encodePayload(
  trigger: string,
  event: ChangeEvent,
  includeVector: boolean,
): Buffer {
  let data = event;
  if (!includeVector && event.vector !== undefined) {
    const { vector: _vector, ...rest } = event;
    data = rest;
  }
  const payload: WebhookPayload = {
    type: eventTypes[event.op] ?? `object.${String(event.op).toLowerCase()}`,
    timestamp: event.timestamp,
    trigger,
    data,
  };
  return Buffer.from(JSON.stringify(payload), "utf8");
}
