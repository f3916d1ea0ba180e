import { createHash, timingSafeEqual } from "node:crypto";

/**
 * Checks `Authorization: Bearer <key>` headers against the configured API
 * keys. Keys are compared as SHA-256 digests with `timingSafeEqual`, so the
 * time taken says nothing about how much of a key matched, not even its
 * length.
 */
export class ApiKeyAuth {
  readonly #digests: Buffer[];

  constructor(keys: readonly string[]) {
    this.#digests = keys.map(digest);
  }

  /** Whether requests must carry a key. */
  get enabled(): boolean {
    return this.#digests.length > 0;
  }

  /** Checks an `Authorization` header value, or a bare key. Always true without configured keys. */
  authenticate(authorization: string | undefined | null): boolean {
    if (!this.enabled) return true;
    if (typeof authorization !== "string") return false;

    const match = /^Bearer\s+(.+)$/i.exec(authorization.trim());
    const presented = digest(match ? match[1] : authorization.trim());
    let ok = false;
    for (const candidate of this.#digests)
      ok = timingSafeEqual(candidate, presented) || ok;
    return ok;
  }
}

function digest(key: string): Buffer {
  return createHash("sha256").update(key, "utf8").digest();
}
