import { v4 as uuidv4, v5 as uuidv5, validate as isUuid } from "uuid";

/**
 * Namespace of weft's UUIDv5 ids. Fixed forever: changing it would give every
 * non-UUID key a new id.
 */
export const ID_NAMESPACE = "6f1c2f4e-7a43-5b0e-9a8d-3c2b1e0f4d5a";

/** An object key as sources and clients pass it. */
export type ObjectKey = string | number | bigint;

/**
 * Turns a key into an object id. A UUID is kept (lower-cased); anything else
 * becomes the UUIDv5 of its text in {@link ID_NAMESPACE}. Numbers use their
 * exact decimal digits, so `42` and `"42"` give the same id.
 */
export function toObjectId(key: ObjectKey): string {
  if (typeof key === "string" && isUuid(key)) return key.toLowerCase();

  return uuidv5(keyText(key), ID_NAMESPACE);
}

/** Returns the UUIDv5 id of raw key bytes, so distinct binary keys never share an id. */
export function toObjectIdFromBytes(key: Uint8Array): string {
  return uuidv5(key, ID_NAMESPACE);
}

/** Returns a fresh random id for objects written without one. */
export function newObjectId(): string {
  return uuidv4();
}

export function isObjectId(value: unknown): value is string {
  return typeof value === "string" && isUuid(value);
}

function keyText(key: ObjectKey): string {
  if (typeof key === "number") {
    // Number#toString switches to exponent form past 1e21, which is not
    // the key's decimal digits.
    return Number.isInteger(key) ? BigInt(key).toString() : String(key);
  }

  return String(key);
}
