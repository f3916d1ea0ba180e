import { isObjectId, toObjectId, toObjectIdFromBytes } from "@weft/core";

/** Strategy that turns keys into object ids; see the `idStrategy` setting. */
export type IdStrategy = "auto" | "uuidv5";

/**
 * Returns the object id of a message key. Keys are bytes and are hashed as
 * they are (core's `toObjectIdFromBytes`), so two different keys never share
 * an id, binary or not. A key whose bytes are the UTF-8 text `"42"` gets the
 * same id as `42` or `"42"` in a key field, because text is hashed as its
 * UTF-8 bytes. With `auto`, a key that is a UUID in text is kept
 * (lower-cased), as core's `toObjectId` does.
 */
export function idFromKeyBytes(key: Buffer, strategy: IdStrategy): string {
  if (strategy === "auto" && key.length === 36) {
    const text = key.toString("latin1");
    if (isObjectId(text)) return text.toLowerCase();
  }
  return toObjectIdFromBytes(key);
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
  // String#isWellFormed exists in Node 20 but not in the ES2023 library types.
  if (!(text as string & { isWellFormed(): boolean }).isWellFormed())
    return undefined;
  if (strategy === "auto") return toObjectId(text);
  return toObjectIdFromBytes(Buffer.from(text, "utf8"));
}
