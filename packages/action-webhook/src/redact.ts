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
 */
export function redactUrl(url: string | URL): string {
  let parsed: URL;
  try {
    parsed = new URL(url.toString());
  } catch {
    return redacted;
  }
  if (parsed.username) parsed.username = redacted;
  if (parsed.password) parsed.password = redacted;
  for (const key of [...new Set(parsed.searchParams.keys())])
    parsed.searchParams.set(key, redacted);
  return parsed.toString().replace(/%5Bredacted%5D/g, redacted);
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
