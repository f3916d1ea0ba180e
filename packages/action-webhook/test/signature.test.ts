import { createHmac } from "node:crypto";
import t from "tap";
import { Webhook } from "standardwebhooks";
import { WebhookSigner, signatureHeader } from "@weft/action-webhook";

/** Returns a key of `length` bytes whose bytes differ, so a wrong padding or truncation changes the digest. */
function key(length: number, seed: number): Buffer {
  return Buffer.from(
    Array.from({ length }, (_, i) => (i * 31 + seed * 17 + 1) % 256),
  );
}

/** Returns a body of `length` bytes of JSON-like text with some multi-byte UTF-8 characters. */
function body(length: number): Buffer {
  const text = '{"name":"Läm\u20ac","d":"lorem ipsum"}'.repeat(
    Math.ceil(length / 30) + 1,
  );
  return Buffer.from(text, "utf8").subarray(0, length);
}

t.test("signer matches createHmac for every key length", async (t) => {
  // Around the SHA-256 block size of 64 bytes, where HMAC switches from padding the key to hashing it.
  for (const length of [1, 16, 24, 32, 63, 64, 65, 100, 200]) {
    const keys = [key(length, length)];
    const signer = new WebhookSigner(keys);
    const message = body(658);
    const expected = `v1,${createHmac("sha256", keys[0])
      .update("msg_1.1700000000.")
      .update(message)
      .digest("base64")}`;
    t.equal(
      signer.sign("msg_1", 1_700_000_000, message),
      expected,
      `key of ${length} bytes`,
    );
  }
});

t.test("signer matches signatureHeader for any message", async (t) => {
  const keys = [key(32, 1), key(24, 2), key(80, 3)];
  const signer = new WebhookSigner(keys);
  const cases: Array<{ id: string; length: number }> = [
    { id: "msg_short", length: 0 },
    { id: "msg_short", length: 1 },
    { id: "bench_12_3f9c", length: 658 },
    // Longer than the scratch buffer the signer starts with, so it grows.
    { id: "bench_13_3f9c", length: 5000 },
    // Longer than the largest scratch buffer the signer keeps.
    { id: "bench_14_3f9c", length: 70_000 },
    // Back to a short message after a long one: no bytes of the long one may leak in.
    { id: "bench_15_3f9c", length: 10 },
    // Non-ASCII ids take more UTF-8 bytes than UTF-16 code units.
    { id: "trigger_ü€😀_1", length: 300 },
  ];
  for (const { id, length } of cases) {
    const message = body(length);
    t.equal(
      signer.sign(id, 1_700_000_123, message),
      signatureHeader(keys, id, 1_700_000_123, message),
      `id ${id}, body of ${length} bytes`,
    );
  }
});

t.test("signer output verifies with standardwebhooks", async (t) => {
  const secret = `whsec_${key(32, 5).toString("base64")}`;
  const signer = new WebhookSigner([key(32, 5)]);
  const message = body(658);
  const timestamp = 1_700_000_000;
  const headers = {
    "webhook-id": "msg_verify",
    "webhook-timestamp": String(timestamp),
    "webhook-signature": signer.sign("msg_verify", timestamp, message),
  };
  t.equal(
    headers["webhook-signature"],
    new Webhook(secret).sign("msg_verify", new Date(timestamp * 1000), message),
  );
});

t.test("signer without keys", async (t) => {
  const signer = new WebhookSigner([]);
  t.equal(signer.hasKeys, false);
  t.equal(signer.sign("msg_1", 1, body(10)), "");
});
