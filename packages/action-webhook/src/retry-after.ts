/**
 * Parses a `Retry-After` header (RFC 9110 section 10.2.3): a number of
 * seconds or an HTTP date. Returns the wait in milliseconds, or undefined
 * when the header is absent or unreadable. A date in the past means no wait.
 */
export function parseRetryAfter(
  value: string | string[] | undefined,
  now = Date.now(),
): number | undefined {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!text) return undefined;

  if (/^\d+$/.test(text)) return Number(text) * 1000;

  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}
