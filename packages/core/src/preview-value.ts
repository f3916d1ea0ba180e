/** Characters of a value that an error message shows by default. */
const defaultLength = 40;

/**
 * Formats the start of a value as JSON for an error message, cut after about
 * `maxLength` characters with "…". A request may carry a string of megabytes,
 * an object with 100,000 keys or an array nested 100,000 deep, and
 * `JSON.stringify` of the last overflows the stack. The walk stops once the
 * text is long enough, and every level adds a bracket, so it recurses at most
 * about `maxLength` levels.
 */
export function previewValue(
  value: unknown,
  maxLength = defaultLength,
): string {
  const parts: string[] = [];
  let length = 0;
  const append = (text: string): boolean => {
    parts.push(text);
    length += text.length;
    return length <= maxLength;
  };

  const write = (item: unknown): boolean => {
    if (Array.isArray(item)) {
      if (!append("[")) return false;
      for (let i = 0; i < item.length; i += 1) {
        if (i > 0 && !append(",")) return false;
        if (!write(item[i])) return false;
      }
      return append("]");
    }
    if (typeof item === "object" && item !== null) {
      if (!append("{")) return false;
      let first = true;
      // for...in stops with the text, where Object.entries would list every key first.
      for (const key in item) {
        if (!Object.hasOwn(item, key)) continue;
        if (!first && !append(",")) return false;
        first = false;
        if (!append(`${JSON.stringify(key.slice(0, maxLength))}:`))
          return false;
        if (!write((item as Record<string, unknown>)[key])) return false;
      }
      return append("}");
    }
    return append(scalarText(item, maxLength));
  };

  const complete = write(value);
  const text = parts.join("");
  if (complete) return text;
  return `${text.slice(0, maxLength)}…`;
}

/** Formats a value that is neither an array nor an object, including those JSON cannot write. */
function scalarText(item: unknown, maxLength: number): string {
  if (typeof item === "string")
    return JSON.stringify(item.slice(0, maxLength + 1));
  if (typeof item === "bigint") return `${item}n`;
  // JSON writes no undefined, function or symbol, and writes NaN and Infinity as null.
  if (typeof item === "number" && !Number.isFinite(item)) return String(item);
  return JSON.stringify(item) ?? String(item);
}
