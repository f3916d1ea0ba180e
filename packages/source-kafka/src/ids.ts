import { hash } from "node:crypto";
import { ID_NAMESPACE, isObjectId } from "@weft/core";

/** Strategy that turns keys into object ids; see the `idStrategy` setting. */
export type IdStrategy = "auto" | "uuidv5";

const hexBytes = Array.from({ length: 256 }, (_, byte) =>
  byte.toString(16).padStart(2, "0"),
);

/** The namespace followed by the name, reused across calls so hashing allocates no input buffer. */
let scratch = Buffer.from(ID_NAMESPACE.replaceAll("-", ""), "hex");

function ensureScratch(nameBytes: number): void {
  if (scratch.length >= 16 + nameBytes) return;
  const grown = Buffer.allocUnsafe(
    Math.max(16 + nameBytes, scratch.length * 2),
  );
  scratch.copy(grown, 0, 0, 16);
  scratch = grown;
}

/**
 * Returns the UUIDv5 of the first `nameBytes` bytes after the namespace in
 * the scratch buffer: the same id as `toObjectIdFromBytes` of `@weft/core`
 * for those bytes (a test compares them). The uuid package that core uses
 * creates a SHA-1 hasher and buffers per call. The one-shot `crypto.hash` on
 * a reused buffer measured about three times faster (Node 20), which matters at one id per
 * Kafka message.
 */
function uuidv5FromScratch(nameBytes: number): string {
  const digest = hash("sha1", scratch.subarray(0, 16 + nameBytes), "buffer");

  // RFC 9562: version 5 in the high nibble of byte 6, variant 10 in the high bits of byte 8.
  digest[6] = (digest[6] & 0x0f) | 0x50;
  digest[8] = (digest[8] & 0x3f) | 0x80;
  const h = (index: number) => hexBytes[digest[index]];
  return (
    `${h(0)}${h(1)}${h(2)}${h(3)}-${h(4)}${h(5)}-${h(6)}${h(7)}-` +
    `${h(8)}${h(9)}-${h(10)}${h(11)}${h(12)}${h(13)}${h(14)}${h(15)}`
  );
}

/**
 * Returns the object id of a message key. Keys are bytes and are hashed as
 * they are, so two different keys never share an id, binary or not. A key
 * whose bytes are the UTF-8 text `"42"` gets the same id as `42` or `"42"` in
 * a key field, because text is hashed as its UTF-8 bytes. With `auto`, a key
 * that is a UUID in text is kept (lower-cased), as core's `toObjectId` does.
 */
export function idFromKeyBytes(key: Buffer, strategy: IdStrategy): string {
  if (strategy === "auto" && key.length === 36) {
    const text = key.toString("latin1");
    if (isObjectId(text)) return text.toLowerCase();
  }
  ensureScratch(key.length);
  key.copy(scratch, 16);
  return uuidv5FromScratch(key.length);
}

/**
 * Returns the object id of a key's text, such as a key field's string or
 * number source text. Returns undefined when the text has a lone surrogate,
 * because such text has no UTF-8 form and so no id.
 */
export function idFromKeyText(
  text: string,
  strategy: IdStrategy,
): string | undefined {
  if (strategy === "auto" && isObjectId(text)) return text.toLowerCase();
  // String#isWellFormed exists in Node 20 but not in the ES2023 library types.
  if (!(text as string & { isWellFormed(): boolean }).isWellFormed())
    return undefined;
  // At most 3 UTF-8 bytes per UTF-16 code unit.
  ensureScratch(text.length * 3);
  return uuidv5FromScratch(scratch.write(text, 16, "utf8"));
}
