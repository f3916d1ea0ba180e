import { createHmac, createSecretKey, type KeyObject } from "node:crypto";
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
 * of `id.timestamp.body` under each key, separated by spaces.
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
