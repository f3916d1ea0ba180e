import t from "tap";
import { uniqueTopic } from "@weft/testkit";
import {
  ids,
  published,
  receive,
  startSinkHost,
  waitForCaughtUp,
} from "./helpers.js";

type Plain = { seq: number; op: string; class: string; id: string };

t.test("classes filter publishes only the listed classes", async (t) => {
  const { host, topic, brokers } = await startSinkHost(t, {
    sink: { format: "plain", classes: ["Order"] },
  });
  await host.write([
    {
      op: "upsert",
      class: "Product",
      id: ids.lamp,
      properties: { name: "Lamp" },
    },
    { op: "upsert", class: "Order", id: ids.order, properties: { total: 1 } },
  ]);
  await host.write([
    { op: "upsert", class: "Order", id: ids.order, properties: { total: 2 } },
  ]);

  const messages = await published(host, brokers, topic, 2, 500);
  t.same(
    messages.map((message) => [
      (message.value as Plain).class,
      (message.value as Plain).seq,
    ]),
    [
      ["Order", 2],
      ["Order", 3],
    ],
  );
});

t.test("operations filter publishes only the listed operations", async (t) => {
  const { host, topic, brokers } = await startSinkHost(t, {
    sink: { format: "plain", operations: ["INSERT", "DELETE"] },
  });
  await host.write([
    {
      op: "upsert",
      class: "Product",
      id: ids.lamp,
      properties: { name: "Lamp" },
    },
  ]);
  await host.write([
    {
      op: "upsert",
      class: "Product",
      id: ids.lamp,
      properties: { name: "Lamp 2" },
    },
  ]);
  await host.write([{ op: "delete", class: "Product", id: ids.lamp }]);

  const messages = await published(host, brokers, topic, 3, 500);
  t.same(
    messages.map((message) =>
      message.value === null ? "tombstone" : (message.value as Plain).op,
    ),
    ["INSERT", "DELETE", "tombstone"],
  );
});

t.test(
  "where filter applies to after, and to before for deletes",
  async (t) => {
    const { host, topic, brokers } = await startSinkHost(t, {
      sink: {
        format: "plain",
        classes: ["Product"],
        where: { category: { equals: "home" } },
      },
    });
    await host.write([
      {
        op: "upsert",
        class: "Product",
        id: ids.lamp,
        properties: { name: "Lamp", category: "home" },
      },
      {
        op: "upsert",
        class: "Product",
        id: ids.desk,
        properties: { name: "Desk", category: "office" },
      },
    ]);
    await host.write([{ op: "delete", class: "Product", id: ids.lamp }]);
    await host.write([{ op: "delete", class: "Product", id: ids.desk }]);

    const messages = await published(host, brokers, topic, 3, 500);
    t.same(
      messages.map((message) =>
        message.value === null
          ? ["tombstone", message.key]
          : [(message.value as Plain).op, message.key],
      ),
      [
        ["INSERT", ids.lamp],
        ["DELETE", ids.lamp],
        ["tombstone", ids.lamp],
      ],
    );
  },
);

t.test("topic template routes each class to its own topic", async (t) => {
  const prefix = uniqueTopic("cdc-route");
  const { host, brokers } = await startSinkHost(t, {
    sink: { format: "plain", topic: `${prefix}.{class}` },
  });
  await host.write([
    {
      op: "upsert",
      class: "Product",
      id: ids.lamp,
      properties: { name: "Lamp" },
    },
    { op: "upsert", class: "Order", id: ids.order, properties: { total: 1 } },
    {
      op: "upsert",
      class: "Product",
      id: ids.desk,
      properties: { name: "Desk" },
    },
  ]);
  await waitForCaughtUp(host);

  const products = await receive(brokers, `${prefix}.Product`, 2, 300);
  const orders = await receive(brokers, `${prefix}.Order`, 1, 300);
  t.same(
    products.map((message) => message.key),
    [ids.lamp, ids.desk],
  );
  t.same(
    orders.map((message) => message.key),
    [ids.order],
  );
});

t.test("vectors are included or omitted per class", async (t) => {
  const { host, topic, brokers } = await startSinkHost(t, {
    sink: {
      schemas: false,
      vectors: {
        default: "include",
        classes: { Order: "omit" },
        field: "embedding",
      },
    },
  });
  await host.write([
    {
      op: "upsert",
      class: "Product",
      id: ids.lamp,
      properties: { name: "Lamp" },
      vector: [1, 0.5],
    },
    {
      op: "upsert",
      class: "Order",
      id: ids.order,
      properties: { total: 1 },
      vector: [3, 4],
    },
  ]);
  await host.write([
    {
      op: "upsert",
      class: "Product",
      id: ids.lamp,
      properties: { name: "Lamp 2" },
    },
  ]);

  const [product, order, update] = await published(host, brokers, topic, 3);
  const afterOf = (value: unknown) =>
    (value as { after: Record<string, unknown> }).after;
  const beforeOf = (value: unknown) =>
    (value as { before: Record<string, unknown> }).before;
  t.same(
    afterOf(product.value).embedding,
    [1, 0.5],
    "Product includes its vector",
  );
  t.notOk("embedding" in afterOf(order.value), "Order omits its vector");
  t.notOk("vector" in afterOf(order.value));
  t.same(
    afterOf(update.value).embedding,
    [1, 0.5],
    "an update without a vector keeps the stored one",
  );
  t.equal(
    beforeOf(update.value).embedding,
    null,
    "before images carry no vector",
  );
});
