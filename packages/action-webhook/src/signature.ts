import { createHmac, createSecretKey, hash, type KeyObject } from "node:crypto";
import { WebhookErrorCode, webhookError } from "./errors.js";

const secretPrefix = "whsec_";
const base64Pattern =
  /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Decodes Standard Webhooks secrets: `whsec_` followed by the base64 key, or
 * the bare base64 key, as the reference libraries accept them. Several
 * secrets sign every message with each key, so a receiver can rotate keys
 * without a gap. Error messages name the secret's index, never its value.
 */
export function decodeSecrets(secrets: string | readonly string[]): Buffer[] {
  const list = typeof secrets === "string" ? secrets.split(/[\s,]+/) : secrets;
  return list
    .map((secret) => secret.trim())
    .filter((secret) => secret.length > 0)
    .map((secret, i) => {
      const encoded = secret.startsWith(secretPrefix)
        ? secret.slice(secretPrefix.length)
        : secret;
      const key = base64Pattern.test(encoded)
        ? Buffer.from(encoded, "base64")
        : Buffer.alloc(0);
      if (key.length === 0) {
        throw webhookError(
          WebhookErrorCode.CONFIG_INVALID,
          `secrets[${i}] is not a Standard Webhooks secret; write whsec_ followed by a base64 key of 24 to 64 bytes`,
          {
            details: { path: `secrets[${i}]` },
          },
        );
      }
      return key;
    });
}

/**
 * Wraps decoded secrets as `KeyObject`s for {@link signatureHeader}. An HMAC
 * under a `KeyObject` reuses the prepared key, while a `Buffer` key is
 * checked and copied again by every `createHmac` call.
 */
export function signingKeys(keys: readonly Buffer[]): KeyObject[] {
  return keys.map((key) => createSecretKey(key));
}

/**
 * Computes the `webhook-signature` header: `v1,` plus the base64 HMAC-SHA256
 * of `id.timestamp.body` under each key, separated by spaces. It is the
 * reference for {@link WebhookSigner}, which computes the same header with
 * less CPU.
 */
export function signatureHeader(
  keys: readonly (Buffer | KeyObject)[],
  id: string,
  timestampSeconds: number,
  body: Buffer,
): string {
  const prefix = `${id}.${timestampSeconds}.`;
  let header = "";
  for (const key of keys) {
    const digest = createHmac("sha256", key)
      .update(prefix, "utf8")
      .update(body)
      .digest("base64");
    header += header === "" ? `v1,${digest}` : ` v1,${digest}`;
  }
  return header;
}

/** Block size of SHA-256 in bytes, which HMAC pads its key to (RFC 2104). */
const blockSize = 64;

/** Largest message the signer keeps its scratch buffer for. A longer one gets a buffer of its own. */
const maxScratchBytes = 64 * 1024;

/**
 * Computes the same `webhook-signature` header as {@link signatureHeader},
 * but as HMAC-SHA256 written out over two one-shot `crypto.hash` calls:
 * SHA-256 of the key XOR ipad followed by the message, then SHA-256 of the
 * key XOR opad followed by that digest. The padded keys are computed once,
 * and the message is copied into a scratch buffer behind the inner pad.
 * `createHmac` builds a native HMAC context for every message instead, and
 * in CPU profiles of bench/triggers.ts (Node 20) setting up that context
 * took more time than the hashing itself.
 */
export class WebhookSigner {
  /** Per key: the key XOR 0x36, one block long. */
  readonly #innerPads: Buffer[];
  /** Per key: the key XOR 0x5c, one block long, followed by room for the inner digest. */
  readonly #outerMessages: Buffer[];
  #scratch = Buffer.allocUnsafeSlow(blockSize + 2048);

  constructor(keys: readonly Buffer[]) {
    this.#innerPads = [];
    this.#outerMessages = [];
    for (const key of keys) {
      // HMAC hashes a key longer than a block first and pads a shorter one with zeros.
      const block = Buffer.alloc(blockSize);
      (key.length > blockSize ? hash("sha256", key, "buffer") : key).copy(
        block,
      );
      const inner = Buffer.alloc(blockSize);
      const outer = Buffer.alloc(blockSize + 32);
      for (let i = 0; i < blockSize; i += 1) {
        inner[i] = block[i] ^ 0x36;
        outer[i] = block[i] ^ 0x5c;
      }
      this.#innerPads.push(inner);
      this.#outerMessages.push(outer);
    }
  }

  /** Whether the signer has any key. Without one, requests carry no signature. */
  get hasKeys(): boolean {
    return this.#innerPads.length > 0;
  }

  /** Computes the `webhook-signature` header of one message. */
  sign(id: string, timestampSeconds: number, body: Buffer): string {
    const prefix = `${id}.${timestampSeconds}.`;
    // A UTF-16 code unit takes at most 3 bytes in UTF-8, so this never truncates the prefix.
    const maxLength = blockSize + prefix.length * 3 + body.length;
    const buffer = this.#buffer(maxLength);
    const prefixLength = buffer.write(prefix, blockSize, "utf8");
    body.copy(buffer, blockSize + prefixLength);
    const inner = buffer.subarray(0, blockSize + prefixLength + body.length);

    let header = "";
    for (let i = 0; i < this.#innerPads.length; i += 1) {
      this.#innerPads[i].copy(buffer, 0);
      const outer = this.#outerMessages[i];
      // A "binary" (latin1) string maps each digest byte to one character, so writing it back gives the same bytes.
      outer.write(hash("sha256", inner, "binary"), blockSize, "binary");
      const digest = hash("sha256", outer, "base64");
      header += header === "" ? `v1,${digest}` : ` v1,${digest}`;
    }
    return header;
  }

  /** Returns a buffer of at least `length` bytes: the scratch buffer, grown if needed, or a new one for a long message. */
  #buffer(length: number): Buffer {
    if (length <= this.#scratch.length) return this.#scratch;
    if (length > maxScratchBytes) return Buffer.allocUnsafe(length);
    this.#scratch = Buffer.allocUnsafeSlow(
      Math.min(maxScratchBytes, Math.max(length, this.#scratch.length * 2)),
    );
    return this.#scratch;
  }
}
