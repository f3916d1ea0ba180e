import t from "tap";
import { ENVELOPE_SCHEMA_VERSION, SOURCE_SCHEMA_NAME } from "@weft/sink-cdc";
import { ids, published, startSinkHost, type Received } from "./helpers.js";

const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const lamp = {
  name: "Lamp",
  price: 12.5,
  stock: 3,
  category: "home",
  tags: ["light", "desk"],
  active: true,
  released: "2024-05-01",
  ref: ids.desk,
  meta: { color: "red", sizes: [1, 2] },
};

/** The row Debezium sends for `lamp`: every property, dates in UTC, objects as JSON text. */
const lampRow = {
  name: "Lamp",
  price: 12.5,
  stock: 3,
  category: "home",
  tags: ["light", "desk"],
  active: true,
  released: "2024-05-01T00:00:00.000Z",
  ref: ids.desk,
  meta: '{"color":"red","sizes":[1,2]}',
};

type Envelope = Record<string, unknown> & { source: Record<string, unknown> };

function payload(message: Received): Envelope {
  return message.value as Envelope;
}

t.test("insert, update and delete envelopes", async (t) => {
  const started = Date.now();
  const { host, topic, brokers } = await startSinkHost(t, {
    sink: { schemas: false },
  });

  await host.write(
    [{ op: "upsert", class: "Product", id: ids.lamp, properties: lamp }],
    { metadata: { traceparent } },
  );
  await host.write([
    {
      op: "patch",
      class: "Product",
      id: ids.lamp,
      properties: { price: 14, meta: null },
    },
  ]);
  await host.write([{ op: "delete", class: "Product", id: ids.lamp }]);
  const events = await host.store.readChanges(1, 10);

  const messages = await published(host, brokers, topic, 4, 300);
  t.equal(messages.length, 4, "insert, update, delete and the tombstone");
  const [insert, update, remove, tombstone] = messages;

  t.same(JSON.parse(insert.key), { id: ids.lamp }, "key is { id }");
  t.same(
    insert.headers,
    { seq: "1", traceparent },
    "headers carry seq and the write's traceparent",
  );
  t.same(
    update.headers,
    { seq: "2" },
    "no traceparent header when the write had none",
  );

  const created = payload(insert);
  t.same(
    Object.keys(created),
    ["before", "after", "source", "transaction", "op", "ts_ms", "ts_us"],
    "envelope fields in Debezium's order",
  );
  t.equal(created.op, "c");
  t.equal(created.before, null);
  t.same(created.after, lampRow);
  t.equal(created.transaction, null, "no transaction block unless enabled");
  const committedMs = Date.parse(events[0].timestamp);
  t.same(created.source, {
    version: "0.1.0",
    connector: "weft",
    name: "weft",
    ts_ms: committedMs,
    snapshot: "false",
    db: "weft",
    ts_us: committedMs * 1000,
    class: "Product",
    seq: 1,
    txId: events[0].txId,
  });
  const processedMs = created.ts_ms as number;
  t.ok(
    processedMs >= committedMs && processedMs <= Date.now(),
    "ts_ms is the time the sink processed the event",
  );
  t.ok(processedMs >= started);
  t.equal(
    Math.floor((created.ts_us as number) / 1000),
    processedMs,
    "ts_us is ts_ms in microseconds",
  );

  const updated = payload(update);
  t.equal(updated.op, "u");
  t.same(updated.before, lampRow, "update carries the full before image");
  t.same(updated.after, { ...lampRow, price: 14, meta: null });
  t.equal(updated.source.seq, 2);

  const deleted = payload(remove);
  t.equal(deleted.op, "d");
  t.same(
    deleted.before,
    { ...lampRow, price: 14, meta: null },
    "delete carries the full before image",
  );
  t.equal(deleted.after, null);
  t.equal(deleted.source.seq, 3);
  t.equal(deleted.source.txId, events[2].txId);

  t.equal(tombstone.value, null, "the delete is followed by a tombstone");
  t.equal(tombstone.key, remove.key, "the tombstone has the delete's key");
  t.equal(tombstone.partition, remove.partition);
  t.same(tombstone.headers, { seq: "3" });
});

t.test("tombstones off and transaction block on", async (t) => {
  const { host, topic, brokers } = await startSinkHost(t, {
    sink: { schemas: false, tombstonesOnDelete: false, transaction: true },
  });

  await host.write([
    {
      op: "upsert",
      class: "Product",
      id: ids.lamp,
      properties: { name: "Lamp" },
    },
    { op: "upsert", class: "Order", id: ids.order, properties: { total: 5 } },
    {
      op: "upsert",
      class: "Product",
      id: ids.desk,
      properties: { name: "Desk" },
    },
  ]);
  await host.write([{ op: "delete", class: "Product", id: ids.lamp }]);
  const events = await host.store.readChanges(1, 10);

  const messages = await published(host, brokers, topic, 4, 500);
  t.equal(messages.length, 4, "no tombstone after the delete");
  t.same(
    messages.map((message) => payload(message).transaction),
    [
      { id: events[0].txId, total_order: 1, data_collection_order: 1 },
      { id: events[0].txId, total_order: 2, data_collection_order: 1 },
      { id: events[0].txId, total_order: 3, data_collection_order: 2 },
      { id: events[3].txId, total_order: 1, data_collection_order: 1 },
    ],
  );
});

t.test("schemas wrap key and value in Kafka Connect JSON", async (t) => {
  const { host, topic, brokers } = await startSinkHost(t, {
    sink: { schemas: true, vectors: { classes: { Product: "include" } } },
  });
  await host.write([
    {
      op: "upsert",
      class: "Product",
      id: ids.lamp,
      properties: lamp,
      vector: [0.5, -1, 2],
    },
  ]);

  const [message] = await published(host, brokers, topic, 1);
  const key = JSON.parse(message.key);
  t.same(key, {
    schema: {
      type: "struct",
      fields: [
        {
          type: "string",
          optional: false,
          name: "io.debezium.data.Uuid",
          version: 1,
          field: "id",
        },
      ],
      optional: false,
      name: "weft.Product.Key",
    },
    payload: { id: ids.lamp },
  });

  const value = message.value as {
    schema: Record<string, unknown> & {
      fields: Array<Record<string, unknown>>;
    };
    payload: Envelope;
  };
  t.same(Object.keys(value), ["schema", "payload"]);
  t.equal(value.schema.type, "struct");
  t.equal(value.schema.name, "weft.Product.Envelope");
  t.equal(value.schema.version, ENVELOPE_SCHEMA_VERSION);
  t.same(
    value.schema.fields.map((field) => field.field),
    ["before", "after", "source", "transaction", "op", "ts_ms", "ts_us"],
  );

  const after = value.schema.fields[1] as {
    fields: Array<Record<string, unknown>>;
    name: string;
    optional: boolean;
  };
  t.equal(after.name, "weft.Product.Value");
  t.equal(after.optional, true);
  t.same(after.fields, [
    { type: "string", optional: true, field: "name" },
    { type: "double", optional: true, field: "price" },
    { type: "int64", optional: true, field: "stock" },
    { type: "string", optional: true, field: "category" },
    {
      type: "array",
      items: { type: "string", optional: false },
      optional: true,
      field: "tags",
    },
    { type: "boolean", optional: true, field: "active" },
    {
      type: "string",
      optional: true,
      name: "io.debezium.time.ZonedTimestamp",
      version: 1,
      field: "released",
    },
    {
      type: "string",
      optional: true,
      name: "io.debezium.data.Uuid",
      version: 1,
      field: "ref",
    },
    {
      type: "string",
      optional: true,
      name: "io.debezium.data.Json",
      version: 1,
      field: "meta",
    },
    {
      type: "array",
      items: { type: "float", optional: false },
      optional: true,
      name: "io.debezium.data.FloatVector",
      version: 1,
      field: "vector",
    },
  ]);

  const source = value.schema.fields[2] as {
    fields: Array<Record<string, unknown>>;
    name: string;
    version: number;
  };
  t.equal(source.name, SOURCE_SCHEMA_NAME);
  t.same(
    source.fields.map((field) => [field.field, field.type, field.optional]),
    [
      ["version", "string", false],
      ["connector", "string", false],
      ["name", "string", false],
      ["ts_ms", "int64", false],
      ["snapshot", "string", true],
      ["db", "string", false],
      ["ts_us", "int64", true],
      ["class", "string", false],
      ["seq", "int64", false],
      ["txId", "string", true],
    ],
  );
  t.same(source.fields[4], {
    type: "string",
    optional: true,
    name: "io.debezium.data.Enum",
    version: 1,
    parameters: {
      allowed:
        "true,first,first_in_data_collection,last_in_data_collection,last,false,incremental",
    },
    default: "false",
    field: "snapshot",
  });
  t.same(value.schema.fields[3], {
    type: "struct",
    fields: [
      { type: "string", optional: false, field: "id" },
      { type: "int64", optional: false, field: "total_order" },
      { type: "int64", optional: false, field: "data_collection_order" },
    ],
    optional: true,
    name: "event.block",
    version: 1,
    field: "transaction",
  });

  t.same(
    value.payload.after,
    { ...lampRow, vector: [0.5, -1, 2] },
    "the payload is the same as without schemas, plus the vector",
  );
  t.equal(value.payload.op, "c");
});
