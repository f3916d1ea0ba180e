/**
 * Sets an own property of a plain object. A plain assignment to `__proto__`
 * would replace the object's prototype instead, and a property of that name
 * can come from JSON, where `JSON.parse` makes it an own key.
 */
export function setOwnProperty(
  target: Record<string, unknown>,
  key: string,
  value: unknown,
): void {
  if (key === "__proto__")
    Object.defineProperty(target, key, {
      value,
      writable: true,
      enumerable: true,
      configurable: true,
    });
  else target[key] = value;
}
