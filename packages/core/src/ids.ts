import { hash } from "node:crypto";
import { v4 as uuidv4, validate as isUuid } from "uuid";
import { ErrorCode, WeftError } from "./errors.js";

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
 * @throws WeftError `WEFT_ERR_ID_INVALID` for a string with a lone UTF-16
 * surrogate, which has no UTF-8 form to hash.
 */
export function toObjectId(key: ObjectKey): string {
  if (typeof key === "string" && isUuid(key)) return key.toLowerCase();

  return uuidV5FromText(keyText(key));
}

/** Returns the UUIDv5 id of raw key bytes, so distinct binary keys never share an id. */
export function toObjectIdFromBytes(key: Uint8Array): string {
  reserveName(key.length);
  hashInput.set(key, NAMESPACE_BYTES);
  return uuidV5FromHashInput(key.length);
}

/**
 * Returns the UUIDv5 id of a text's UTF-8 bytes, also when the text is a
 * UUID; {@link toObjectId} keeps UUIDs instead.
 * @throws WeftError `WEFT_ERR_ID_INVALID` for text with a lone surrogate.
 */
export function uuidV5FromText(text: string): string {
  if (!isWellFormed(text)) {
    throw new WeftError(
      ErrorCode.ID_INVALID,
      `key ${JSON.stringify(text)} is not well-formed Unicode (it has a lone surrogate), so it has no UTF-8 bytes to hash into an id; send the key as valid UTF-16 text`,
    );
  }
  // At most 3 UTF-8 bytes per UTF-16 code unit, so the write is never cut short.
  reserveName(text.length * 3);
  return uuidV5FromHashInput(hashInput.write(text, NAMESPACE_BYTES, "utf8"));
}

/** Returns a fresh random id for objects written without one. */
export function newObjectId(): string {
  return uuidv4();
}

export function isObjectId(value: unknown): value is string {
  return typeof value === "string" && isUuid(value);
}

/** Tells whether a string has no lone surrogate, so it has a UTF-8 form. */
export function isWellFormed(text: string): boolean {
  // String#isWellFormed exists in Node 20 but not in the ES2023 library types.
  return (text as string & { isWellFormed(): boolean }).isWellFormed();
}

function keyText(key: ObjectKey): string {
  if (typeof key === "number") {
    // Number#toString switches to exponent form past 1e21, which is not
    // the key's decimal digits.
    return Number.isInteger(key) ? BigInt(key).toString() : String(key);
  }

  return String(key);
}

// UUIDv5 (RFC 9562, section 5.5) is the SHA-1 of the namespace's 16 bytes
// followed by the name's bytes, with version and variant bits set. Sources
// compute one id per message, so this code avoids the uuid package's v5
// (11.x). That one parses the namespace, copies the name into a new array
// and creates a hasher per call, then builds the id by string concatenation.
// Every step here is synchronous, so two calls never share the buffers below
// at the same time.

const NAMESPACE_BYTES = 16;

/** The namespace followed by the current name; grown when a name does not fit. */
let hashInput = Buffer.alloc(NAMESPACE_BYTES + 240);
Buffer.from(ID_NAMESPACE.replaceAll("-", ""), "hex").copy(hashInput);

/** Views of `hashInput` by length, so hashing a name of a length seen before allocates no view. */
let hashInputViews: Buffer[] = [];

/** Hash inputs of at most this many bytes reuse a cached view. Longer ones (rare for keys) get a new view per call. */
const MAX_CACHED_VIEW = 512;

/** The 36 ASCII characters of the id being formatted; the dashes never change. */
const idText = Buffer.from("00000000-0000-0000-0000-000000000000", "latin1");

/** Offset in the id's text of the two hex digits of each of the 16 bytes. */
const HEX_POSITIONS = [
  0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34,
];

const HEX_DIGITS = Buffer.from("0123456789abcdef", "latin1");

function reserveName(nameBytes: number): void {
  if (hashInput.length >= NAMESPACE_BYTES + nameBytes) return;

  const grown = Buffer.alloc(
    Math.max(NAMESPACE_BYTES + nameBytes, hashInput.length * 2),
  );
  hashInput.copy(grown, 0, 0, NAMESPACE_BYTES);
  hashInput = grown;
  hashInputViews = [];
}

/** Returns the UUIDv5 of the namespace and the first `nameBytes` name bytes in `hashInput`. */
function uuidV5FromHashInput(nameBytes: number): string {
  const length = NAMESPACE_BYTES + nameBytes;
  let input = hashInputViews[length];
  if (input === undefined) {
    input = hashInput.subarray(0, length);
    if (length <= MAX_CACHED_VIEW) hashInputViews[length] = input;
  }

  // A "binary" (latin1) digest is a 20-character string of the digest's
  // bytes. In Node 20 it costs a quarter to a third of a Buffer digest, which
  // allocates a new backing store per call.
  const digest = hash("sha1", input, "binary");
  for (let i = 0; i < 16; i++) {
    let byte = digest.charCodeAt(i);
    // Version 5 in the high nibble of byte 6, variant 0b10 in the high bits of byte 8.
    if (i === 6) byte = (byte & 0x0f) | 0x50;
    else if (i === 8) byte = (byte & 0x3f) | 0x80;
    const at = HEX_POSITIONS[i];
    idText[at] = HEX_DIGITS[byte >> 4];
    idText[at + 1] = HEX_DIGITS[byte & 0x0f];
  }
  // This gives one flat string. A string built by concatenation is flattened (copied) again when first hashed as a map key.
  return idText.toString("latin1", 0, 36);
}
