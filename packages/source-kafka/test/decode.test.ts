import t from "tap";
import {
  checkConfig,
  toObjectId,
  toObjectIdFromBytes,
  type ConfigProblem,
} from "@weft/core";
import {
  ConsumerSchema,
  MessageDecoder,
  type ConsumerConfig,
  type Decoded,
  type SourceMessage,
} from "@weft/source-kafka";

const classNames = new Set(["Product", "Order"]);

function decoder(settings: Record<string, unknown>): MessageDecoder {
  const problems: ConfigProblem[] = [];
  const config = checkConfig<ConsumerConfig>(
    ConsumerSchema,
    { topics: ["t"], groupId: "g", ...settings },
    "consumer",
    problems,
  );
  if (problems.length > 0) throw new Error(JSON.stringify(problems));
  return new MessageDecoder(config, classNames);
}

function message(
  key: string | Buffer | null,
  value: unknown,
  headers: SourceMessage["headers"] = {},
): SourceMessage {
  const encode = (input: string | Buffer | null) =>
    input === null || Buffer.isBuffer(input) ? input : Buffer.from(input);
  const body =
    value === null || typeof value === "string" || Buffer.isBuffer(value)
      ? encode(value as string | Buffer | null)
      : Buffer.from(JSON.stringify(value));
  return { key: encode(key), value: body, headers };
}

const code = (decoded: Decoded) =>
  decoded.kind === "reject" ? decoded.code : decoded.kind;

t.test("json decoding of keys and values", async (t) => {
  const json = decoder({ class: "Product" });
  t.same(json.decode("t", message("a", { sku: "a" })), {
    kind: "write",
    request: {
      op: "upsert",
      class: "Product",
      id: toObjectId("a"),
      properties: { sku: "a" },
    },
  });
  t.same(
    json.decode("t", message("a", null)),
    {
      kind: "write",
      request: { op: "delete", class: "Product", id: toObjectId("a") },
    },
    "tombstone deletes",
  );

  const uuid = "3F2504E0-4F89-11D3-9A0C-0305E82C3301";
  t.equal(
    (
      json.decode("t", message(uuid, { sku: "u" })) as {
        request: { id: string };
      }
    ).request.id,
    uuid.toLowerCase(),
    "a UUID key is kept",
  );
  const hashed = decoder({ class: "Product", idStrategy: "uuidv5" }).decode(
    "t",
    message(uuid, { sku: "u" }),
  );
  t.equal(
    (hashed as { request: { id: string } }).request.id,
    toObjectIdFromBytes(Buffer.from(uuid)),
    "uuidv5 hashes even a UUID key",
  );
});

t.test("json decoding rejects bad messages with a code", async (t) => {
  const json = decoder({ class: "Product", maxMessageBytes: 20 });
  t.equal(
    code(json.decode("t", message("a", ""))),
    "WEFT_ERR_SOURCE_KAFKA_EMPTY_VALUE",
  );
  t.equal(
    code(json.decode("t", message("a", "{"))),
    "WEFT_ERR_SOURCE_KAFKA_INVALID_JSON",
  );
  t.equal(
    code(json.decode("t", message("a", "42"))),
    "WEFT_ERR_SOURCE_KAFKA_NOT_OBJECT",
  );
  t.equal(
    code(json.decode("t", message("a", { sku: "x".repeat(30) }))),
    "WEFT_ERR_SOURCE_KAFKA_TOO_LARGE",
  );
  t.equal(
    code(json.decode("t", message(null, { sku: "a" }))),
    "WEFT_ERR_SOURCE_KAFKA_MISSING_ID",
  );
  t.equal(
    code(json.decode("t", message(Buffer.alloc(0), { sku: "a" }))),
    "WEFT_ERR_SOURCE_KAFKA_MISSING_ID",
    "an empty key is no id",
  );
  t.equal(
    code(json.decode("t", message(null, null))),
    "WEFT_ERR_SOURCE_KAFKA_MISSING_ID",
    "a tombstone without key",
  );

  const byField = decoder({ class: "Product", keyField: "id" });
  t.equal(
    code(byField.decode("t", message("k", { id: true }))),
    "write",
    "falls back to the message key",
  );
  const rejected = byField.decode("t", message(null, { id: { nested: 1 } }));
  t.equal(code(rejected), "WEFT_ERR_SOURCE_KAFKA_MISSING_ID");
  t.match(
    (rejected as { message: string }).message,
    /key field id must be a string or a number, got object/,
  );
});

t.test("routing and mapping", async (t) => {
  const byHeader = decoder({
    route: { header: "type", classes: { o: "Order" }, default: "Product" },
  });
  t.equal(
    (
      byHeader.decode("t", message("a", {}, { type: Buffer.from("o") })) as {
        request: { class: string };
      }
    ).request.class,
    "Order",
  );
  t.equal(
    (
      byHeader.decode("t", message("a", {}, { type: null })) as {
        request: { class: string };
      }
    ).request.class,
    "Product",
    "null header: default",
  );

  const noDefault = decoder({ route: { field: "kind" } });
  const rejected = noDefault.decode("t", message("a", { kind: "Unknown" }));
  t.equal(code(rejected), "WEFT_ERR_SOURCE_KAFKA_NO_CLASS");
  t.match((rejected as { message: string }).message, /field kind is "Unknown"/);
  t.equal(
    code(noDefault.decode("t", message("a", null))),
    "WEFT_ERR_SOURCE_KAFKA_NO_CLASS",
    "a tombstone has no field to route by",
  );

  const byTopic = decoder({
    route: { topic: true, classes: { "orders-topic": "Order" } },
  });
  t.equal(
    (
      byTopic.decode("orders-topic", message("a", {})) as {
        request: { class: string };
      }
    ).request.class,
    "Order",
  );

  const mapped = decoder({
    class: "Product",
    mapping: {
      headers: { h: "source" },
      rename: { "a.b": "name" },
      drop: ["a"],
    },
  });
  const decoded = mapped.decode(
    "t",
    message(
      "a",
      { a: { b: "x", c: 1 }, sku: "s" },
      { h: [Buffer.from("first"), Buffer.from("last")] },
    ),
  );
  t.same(
    (decoded as { request: { properties: unknown } }).request.properties,
    { sku: "s", name: "x", source: "last" },
    "a repeated header gives its last value",
  );
});

t.test("debezium decoding", async (t) => {
  const debezium = decoder({
    class: "Product",
    format: "debezium",
    keyField: "id",
  });
  const decode = (key: string | null, value: unknown) =>
    debezium.decode("t", message(key, value));

  t.equal(code(decode('{"id":1}', null)), "skip", "tombstone is a no-op");
  t.equal(
    code(decode(null, { schema: {}, payload: null })),
    "skip",
    "schema-wrapped null payload",
  );
  t.equal(
    code(decode(null, { op: "t", before: null, after: null })),
    "skip",
    "truncate",
  );
  t.equal(
    code(decode(null, { op: "m", message: {} })),
    "skip",
    "logical-decoding message",
  );
  t.equal(
    code(decode(null, { op: "x", after: {} })),
    "WEFT_ERR_SOURCE_KAFKA_DEBEZIUM_INVALID",
    "unknown op",
  );
  t.equal(
    code(decode(null, { op: "c", after: null })),
    "WEFT_ERR_SOURCE_KAFKA_DEBEZIUM_INVALID",
    "create without after",
  );
  t.equal(
    code(decode(null, { schema: {}, payload: 5 })),
    "WEFT_ERR_SOURCE_KAFKA_DEBEZIUM_INVALID",
    "payload not an object",
  );
  t.equal(
    code(decode(null, { op: "d", before: null })),
    "WEFT_ERR_SOURCE_KAFKA_MISSING_ID",
    "delete with neither before nor key",
  );

  const wrapped = debezium.decode(
    "t",
    message(
      null,
      '{"schema":{"fields":[{"field":"id"}]},"payload":{"op":"c","after":{"id":98765432109876543210,"sku":"big"}}}',
    ),
  );
  t.equal(
    (wrapped as { request: { id: string } }).request.id,
    toObjectId("98765432109876543210"),
    "large id of a wrapped row keeps its digits",
  );

  const keyed = decoder({ class: "Product", format: "debezium" });
  const composite = keyed.decode(
    "t",
    message('{"a":1,"b":"x"}', { op: "d", before: null }),
  );
  t.same(
    composite,
    {
      kind: "write",
      request: {
        op: "delete",
        class: "Product",
        id: toObjectId('{"a":1,"b":"x"}'),
      },
    },
    "a composite key is its struct text",
  );
  const single = keyed.decode(
    "t",
    message('{"schema":{},"payload":{"id":18446744073709551615}}', {
      op: "d",
      before: null,
    }),
  );
  t.equal(
    (single as { request: { id: string } }).request.id,
    toObjectId("18446744073709551615"),
    "a one-column key keeps its digits",
  );
  const plain = keyed.decode(
    "t",
    message("not-json", { op: "d", before: null }),
  );
  t.equal(
    (plain as { request: { id: string } }).request.id,
    toObjectId("not-json"),
    "a key that is not JSON is used as bytes",
  );
});

t.test("ids match core's toObjectId for text and bytes", async (t) => {
  const json = decoder({ class: "Product" });
  const texts = [
    "a",
    "sku-1",
    "héllo wörld",
    "𝄞 clef",
    "42",
    "x".repeat(300),
    "3F2504E0-4F89-11D3-9A0C-0305E82C3301",
  ];
  for (const text of texts) {
    const decoded = json.decode("t", message(text, { sku: "s" }));
    t.equal(
      (decoded as { request: { id: string } }).request.id,
      toObjectId(text),
      `key ${JSON.stringify(text.slice(0, 20))}`,
    );
  }
  for (let length = 0; length < 80; length += 7) {
    const bytes = Buffer.from(
      Array.from({ length: length + 1 }, (_, i) => (i * 97 + length) & 255),
    );
    const decoded = json.decode("t", message(bytes, { sku: "s" }));
    t.equal(
      (decoded as { request: { id: string } }).request.id,
      toObjectIdFromBytes(bytes),
      `binary key of ${bytes.length} bytes`,
    );
  }
});

t.test("ids reject a key field with a lone surrogate", async (t) => {
  const byField = decoder({ class: "Product", keyField: "id" });
  const rejected = byField.decode("t", message(null, '{"id":"\\ud800"}'));
  t.equal(code(rejected), "WEFT_ERR_SOURCE_KAFKA_MISSING_ID");
  t.match((rejected as { message: string }).message, /not valid Unicode/);
});

t.test("routing ignores inherited object members", async (t) => {
  const routed = decoder({
    route: { field: "kind", classes: { p: "Product" }, default: "Order" },
  });
  const decoded = routed.decode("t", message("a", { kind: "constructor" }));
  t.equal((decoded as { request: { class: string } }).request.class, "Order");
});
