import t from "tap";
import { toObjectId, type ClassDefinition } from "@weft/core";
import {
  changes,
  consumer,
  newTopic,
  objects,
  produce,
  startSource,
  waitFor,
} from "./helpers.js";

const customerClass: ClassDefinition = {
  name: "Customer",
  properties: [
    { name: "id", type: "int" },
    { name: "name", type: "text" },
    { name: "email", type: "text" },
  ],
};

const source = {
  connector: "postgresql",
  db: "shop",
  table: "customers",
  lsn: 1,
};
const rowSchema = {
  type: "struct",
  name: "shop.public.customers.Envelope",
  optional: false,
  fields: [],
};
const keySchema = {
  type: "struct",
  name: "shop.public.customers.Key",
  optional: false,
  fields: [],
};

const envelope = (op: string, before: unknown, after: unknown) => ({
  before,
  after,
  op,
  source,
  ts_ms: 1700000000000,
});
const wrapped = (op: string, before: unknown, after: unknown) => ({
  schema: rowSchema,
  payload: envelope(op, before, after),
});
const key = (id: number) => JSON.stringify({ id });
const wrappedKey = (id: number) =>
  JSON.stringify({ schema: keySchema, payload: { id } });

t.test("debezium envelopes of every op are applied", async (t) => {
  const topic = await newTopic("debezium");
  await produce(topic, [
    // c (schemaless) and r (schema-wrapped) insert.
    {
      key: key(1),
      value: envelope("c", null, {
        id: 1,
        name: "Ada",
        email: "ada@example.com",
      }),
    },
    {
      key: wrappedKey(2),
      value: wrapped("r", null, {
        id: 2,
        name: "Bob",
        email: "bob@example.com",
      }),
    },
    // u with before, and u without before.
    {
      key: key(1),
      value: envelope(
        "u",
        { id: 1, name: "Ada", email: "ada@example.com" },
        { id: 1, name: "Ada L", email: "ada@example.com" },
      ),
    },
    {
      key: wrappedKey(2),
      value: wrapped("u", null, {
        id: 2,
        name: "Bobby",
        email: "bob@example.com",
      }),
    },
    // c then d by before, then the tombstone that follows a delete.
    {
      key: key(3),
      value: envelope("c", null, { id: 3, name: "Cy", email: null }),
    },
    {
      key: key(3),
      value: envelope("d", { id: 3, name: "Cy", email: null }, null),
    },
    { key: key(3), value: null },
    // d without before: the id comes from the key.
    { key: wrappedKey(2), value: wrapped("d", null, null) },
    { key: wrappedKey(2), value: null },
    // A truncate names no row and is skipped.
    { key: null, value: envelope("t", null, null) },
    {
      key: key(4),
      value: envelope("c", null, {
        id: 4,
        name: "Dee",
        email: "dee@example.com",
      }),
    },
  ]);

  const host = await startSource(t, {
    classes: [customerClass],
    consumers: [
      consumer(topic, {
        class: "Customer",
        format: "debezium",
        keyField: "id",
      }),
    ],
  });

  const stored = await waitFor("the final rows", async () => {
    const found = await objects(host.store, "Customer");
    return found.size === 2 && found.has(toObjectId(4)) ? found : undefined;
  });
  t.same(
    stored.get(toObjectId(1))?.properties,
    { id: 1, name: "Ada L", email: "ada@example.com" },
    "u applied from after",
  );
  t.equal(stored.get(toObjectId(4))?.properties.name, "Dee");
  t.notOk(stored.has(toObjectId(2)), "d without before deleted by key");
  t.notOk(stored.has(toObjectId(3)), "d deleted by before");

  const events = await changes(host.store);
  t.same(
    events.map((event) => `${event.op}:${event.after?.id ?? event.before?.id}`),
    [
      "INSERT:1",
      "INSERT:2",
      "UPDATE:1",
      "UPDATE:2",
      "INSERT:3",
      "DELETE:3",
      "DELETE:2",
      "INSERT:4",
    ],
    "one event per row change; tombstones and the truncate add none",
  );
});

t.test("debezium keys give the same ids without keyField", async (t) => {
  const topic = await newTopic("debezium-key");
  await produce(topic, [
    {
      key: wrappedKey(7),
      value: wrapped("c", null, { id: 7, name: "Gil", email: null }),
    },
    {
      key: key(8),
      value: envelope("c", null, { id: 8, name: "Hal", email: null }),
    },
    { key: key(8), value: envelope("d", null, null) },
  ]);

  const host = await startSource(t, {
    classes: [customerClass],
    consumers: [consumer(topic, { class: "Customer", format: "debezium" })],
  });
  const stored = await waitFor("Gil only", async () => {
    const found = await objects(host.store, "Customer");
    const events = await changes(host.store);
    return found.size === 1 && events.length === 3 ? found : undefined;
  });
  t.ok(
    stored.has(toObjectId(7)),
    "a one-column key struct gives the column's id",
  );
});
