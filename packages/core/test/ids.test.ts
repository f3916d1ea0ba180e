import t from "tap";
import { v5 as uuidv5 } from "uuid";
import {
  ErrorCode,
  ID_NAMESPACE,
  toObjectId,
  toObjectIdFromBytes,
} from "@weft/core";

t.test("text ids match the uuid package's v5", async (t) => {
  const keys = [
    "sku-1",
    "",
    " ",
    "é",
    "漢字",
    "emoji 😀",
    "x".repeat(255),
    // Longer than the hash input buffer starts out, so it grows.
    "long-".repeat(400),
    "a",
  ];
  for (const key of keys) {
    const label =
      key.length > 20 ? `${key.length} characters` : JSON.stringify(key);
    t.equal(toObjectId(key), uuidv5(key, ID_NAMESPACE), label);
  }
});

t.test("byte ids match the uuid package's v5", async (t) => {
  const every = Uint8Array.from({ length: 256 }, (_, byte) => byte);
  const inputs = [
    Buffer.from([0xff, 0x00, 0x80]),
    every,
    Buffer.alloc(5000, 7),
    new Uint8Array(0),
    Buffer.from("sku-1"),
  ];
  for (const bytes of inputs)
    t.equal(
      toObjectIdFromBytes(bytes),
      uuidv5(bytes, ID_NAMESPACE),
      `${bytes.length} bytes`,
    );
  t.equal(
    toObjectIdFromBytes(Buffer.from("sku-1")),
    toObjectId("sku-1"),
    "text is hashed as its UTF-8 bytes",
  );
});

t.test("ids have version 5 and the RFC variant", async (t) => {
  const shape =
    /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
  const ids = Array.from({ length: 200 }, (_, i) => toObjectId(`key-${i}`));
  t.same(
    ids.filter((id) => !shape.test(id)),
    [],
    "every id is a lower-case UUIDv5",
  );
});

t.test("UUID keys are kept lower-cased", async (t) => {
  const uuid = "3F0E8B4C-7D2A-4E5B-9C1D-2A3B4C5D6E7F";
  t.equal(toObjectId(uuid), uuid.toLowerCase());
  t.equal(
    toObjectIdFromBytes(Buffer.from(uuid)),
    uuidv5(Buffer.from(uuid), ID_NAMESPACE),
    "bytes are always hashed",
  );
});

t.test("lone surrogate key is rejected", async (t) => {
  t.throws(() => toObjectId("bad\ud800"), {
    code: ErrorCode.ID_INVALID,
    message: /not well-formed Unicode/,
  });
});
