/**
 * Reads the source text of one value inside a JSON document.
 *
 * Node 20's `JSON.parse` turns every number into a float64, so a key such as
 * `12345678901234567890` comes back as `12345678901234567000` and two
 * different keys can become one id. The source reads the rest of the value
 * with `JSON.parse` and calls {@link rawJsonText} only for a key field whose
 * parsed value is a number: this scanner walks the text once, skipping every
 * member that is not on the path without building values, and returns the
 * number exactly as written.
 *
 * The input must already be valid JSON (the caller parsed it first), so the
 * scanner does not validate. Where an object repeats a member name, the last
 * member wins, as in `JSON.parse`.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COLON = 0x3a;
const COMMA = 0x2c;

/**
 * Returns the source text of the value at `path` (member names from the
 * root object), or undefined when the path does not lead to a value.
 */
export function rawJsonText(
  text: string,
  path: readonly string[],
): string | undefined {
  let start = skipWhitespace(text, 0);

  for (const name of path) {
    if (text.charCodeAt(start) !== OPEN_BRACE) return undefined;
    const member = findMember(text, start, name);
    if (member < 0) return undefined;
    start = member;
  }
  return text.slice(start, skipValue(text, start));
}

/**
 * Returns the index where the value of the last member `name` of the object
 * at `open` starts, or -1 when the object has no such member.
 */
function findMember(text: string, open: number, name: string): number {
  let found = -1;
  let i = skipWhitespace(text, open + 1);
  if (text.charCodeAt(i) === CLOSE_BRACE) return found;

  for (;;) {
    const keyEnd = skipString(text, i);
    const matches = memberName(text, i, keyEnd) === name;
    i = skipWhitespace(text, keyEnd);
    if (text.charCodeAt(i) !== COLON) return found;
    i = skipWhitespace(text, i + 1);
    if (matches) found = i;

    i = skipWhitespace(text, skipValue(text, i));
    if (text.charCodeAt(i) !== COMMA) return found;
    i = skipWhitespace(text, i + 1);
  }
}

/** Decodes a member name; only names with escapes go through `JSON.parse`. */
function memberName(text: string, start: number, end: number): string {
  const inner = text.slice(start + 1, end - 1);
  return inner.includes("\\")
    ? (JSON.parse(text.slice(start, end)) as string)
    : inner;
}

/** Returns the index just past the value that starts at `start`. */
function skipValue(text: string, start: number): number {
  const first = text.charCodeAt(start);
  if (first === QUOTE) return skipString(text, start);
  if (first === OPEN_BRACE || first === OPEN_BRACKET)
    return skipContainer(text, start);

  // A number, true, false or null ends at the first delimiter.
  let i = start;
  while (i < text.length) {
    const code = text.charCodeAt(i);
    if (
      code === COMMA ||
      code === CLOSE_BRACE ||
      code === CLOSE_BRACKET ||
      isWhitespace(code)
    )
      break;
    i += 1;
  }
  return i;
}

/** Returns the index just past the string whose opening quote is at `start`. */
function skipString(text: string, start: number): number {
  let i = start + 1;
  for (;;) {
    const quote = text.indexOf('"', i);
    if (quote < 0) return text.length;

    // The quote is escaped when an odd number of backslashes precede it.
    let backslashes = 0;
    while (text.charCodeAt(quote - 1 - backslashes) === BACKSLASH)
      backslashes += 1;
    if (backslashes % 2 === 0) return quote + 1;
    i = quote + 1;
  }
}

/** Returns the index just past the object or array that opens at `start`. */
function skipContainer(text: string, start: number): number {
  let depth = 0;
  let i = start;
  while (i < text.length) {
    const code = text.charCodeAt(i);
    if (code === QUOTE) {
      i = skipString(text, i);
      continue;
    }
    if (code === OPEN_BRACE || code === OPEN_BRACKET) depth += 1;
    else if (code === CLOSE_BRACE || code === CLOSE_BRACKET) {
      depth -= 1;
      if (depth === 0) return i + 1;
    }
    i += 1;
  }
  return i;
}

function skipWhitespace(text: string, start: number): number {
  let i = start;
  while (i < text.length && isWhitespace(text.charCodeAt(i))) i += 1;
  return i;
}

function isWhitespace(code: number): boolean {
  return code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09;
}
