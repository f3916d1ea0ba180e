const redacted = "[redacted]";

/**
 * Header names whose values are credentials. Besides these, any header whose
 * name contains `token`, `secret`, `key`, `signature`, `auth`, `cookie` or
 * `password` is treated as one.
 */
const sensitiveHeaderPattern =
  /authorization|token|secret|key|signature|auth|cookie|password|credential/i;

/** Whether a header's value must never be logged or stored. */
export function isSensitiveHeader(name: string): boolean {
  return sensitiveHeaderPattern.test(name);
}

/**
 * Returns a URL safe to log: user name and password become `[redacted]`,
 * and so does every query value, because endpoints often take tokens there.
 * Text that is not a valid URL with a host is redacted the same way by
 * pattern, so a malformed URL stays readable in the error that reports it.
 */
export function redactUrl(url: string | URL): string {
  let parsed: URL;
  try {
    parsed = new URL(url.toString());
  } catch {
    return redactUnparsedUrl(url.toString());
  }
  // Without a host, as in `user:secret@example` (scheme `user:`), the URL
  // parser puts credentials in the path, so the text is redacted by pattern.
  if (!parsed.host) return redactUnparsedUrl(url.toString());
  if (parsed.username) parsed.username = redacted;
  if (parsed.password) parsed.password = redacted;
  for (const key of [...new Set(parsed.searchParams.keys())])
    parsed.searchParams.set(key, redacted);
  return parsed.toString().replace(/%5Bredacted%5D/g, redacted);
}

/**
 * Redacts what could be credentials in text that `URL` cannot parse: every
 * run of characters before an `@` (user name and password), and every
 * value of a `name=value` pair after `?` or `&`.
 */
function redactUnparsedUrl(text: string): string {
  return text
    .replace(/[^\s/?#@]+@/g, `${redacted}@`)
    .replace(/([?&][^=&#?]*=)[^&#]*/g, `$1${redacted}`);
}

/**
 * Removes known secret values from text that came from elsewhere (error
 * messages of libraries), in case one quotes a header or URL.
 */
export class Scrubber {
  readonly #values: string[];

  constructor(values: Iterable<string>) {
    // Longest first, so a secret that contains another is removed whole. Values shorter than 6 characters are skipped, because they would redact ordinary words.
    this.#values = [...new Set(values)]
      .filter((value) => value.length >= 6)
      .sort((a, b) => b.length - a.length);
  }

  scrub(text: string): string {
    let result = text;
    for (const value of this.#values)
      result = result.split(value).join(redacted);
    return result;
  }
}
