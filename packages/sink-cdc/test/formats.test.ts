import t from "tap";
import { CLOUDEVENTS_CONTENT_TYPE } from "@weft/sink-cdc";
import { ids, published, startSinkHost } from "./helpers.js";

const traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

t.test("plain format sends weft's change event", async (t) => {
  const { host, topic, brokers } = await startSinkHost(t, {
    sink: { format: "plain" },
  });
  await host.write(
    [
      {
        op: "upsert",
        class: "Product",
        id: ids.lamp,
        properties: { name: "Lamp", price: 3 },
        vector: [1, 2],
      },
    ],
    {
      metadata: { traceparent, user: "ada" },
    },
  );
  await host.write([{ op: "delete", class: "Product", id: ids.lamp }]);
  const events = await host.store.readChanges(1, 10);

  const [insert, remove, tombstone] = await published(host, brokers, topic, 3);
  t.equal(insert.key, ids.lamp, "the key is the object id as text");
  const { vector: _vector, ...withoutVector } = events[0];
  t.same(
    insert.value,
    withoutVector,
    "the value is the change event, vector omitted by default",
  );
  t.same(insert.headers, { seq: "1", traceparent });
  t.same(remove.value, events[1]);
  t.equal(tombstone.value, null);
  t.equal(tombstone.key, ids.lamp);
});

t.test("plain format includes vectors when configured", async (t) => {
  const { host, topic, brokers } = await startSinkHost(t, {
    sink: { format: "plain", vectors: { default: "include" } },
  });
  await host.write([
    {
      op: "upsert",
      class: "Product",
      id: ids.lamp,
      properties: { name: "Lamp" },
      vector: [1, 2],
    },
  ]);
  const [message] = await published(host, brokers, topic, 1);
  t.same((message.value as { vector: number[] }).vector, [1, 2]);
});

t.test("cloudevents format sends structured CloudEvents", async (t) => {
  const { host, topic, brokers } = await startSinkHost(t, {
    sink: { format: "cloudevents", name: "shop", tombstonesOnDelete: false },
  });
  await host.write(
    [
      {
        op: "upsert",
        class: "Product",
        id: ids.lamp,
        properties: { name: "Lamp", price: 3 },
      },
    ],
    {
      metadata: { traceparent },
    },
  );
  await host.write([
    {
      op: "upsert",
      class: "Product",
      id: ids.lamp,
      properties: { name: "Lamp", price: 4 },
    },
  ]);
  await host.write([{ op: "delete", class: "Product", id: ids.lamp }]);
  const events = await host.store.readChanges(1, 10);

  const messages = await published(host, brokers, topic, 3, 300);
  t.equal(messages.length, 3);
  const [insert, update, remove] = messages;
  t.equal(insert.key, ids.lamp);
  t.same(insert.headers, {
    seq: "1",
    traceparent,
    "content-type": CLOUDEVENTS_CONTENT_TYPE,
  });
  t.same(insert.value, {
    specversion: "1.0",
    id: "1",
    source: "/weft/shop",
    type: "weft.change.insert",
    subject: ids.lamp,
    time: events[0].timestamp,
    datacontenttype: "application/json",
    weftop: "INSERT",
    weftclass: "Product",
    weftseq: "1",
    wefttxid: events[0].txId,
    traceparent,
    data: { before: null, after: { name: "Lamp", price: 3 } },
  });
  t.match(update.value, {
    id: "2",
    type: "weft.change.update",
    weftop: "UPDATE",
    weftseq: "2",
    data: {
      before: { name: "Lamp", price: 3 },
      after: { name: "Lamp", price: 4 },
    },
  });
  t.match(remove.value, {
    id: "3",
    type: "weft.change.delete",
    data: { before: { name: "Lamp", price: 4 }, after: null },
  });
  for (const message of messages) {
    const attributes = Object.keys(message.value as object).filter(
      (name) => name !== "data",
    );
    t.ok(
      attributes.every((name) => /^[a-z0-9]{1,20}$/.test(name)),
      `attribute names are lower-case letters and digits: ${attributes.join(", ")}`,
    );
  }
});
