import t from "tap";
import { hasKcat, kcatConsume } from "@weft/testkit";
import { ids, startSinkHost, waitForCaughtUp } from "./helpers.js";

type Connect = {
  schema: { name: string; type: string };
  payload: Record<string, unknown> & { source: Record<string, unknown> };
};

t.test(
  "kcat reads the Debezium topic field by field",
  {
    skip: hasKcat()
      ? false
      : "kcat is not installed; run node packages/testkit/bin/setup.mjs",
  },
  async (t) => {
    const { host, topic, brokers } = await startSinkHost(t, {
      sink: { schemas: true, name: "shop", database: "main" },
    });
    await host.write([
      {
        op: "upsert",
        class: "Product",
        id: ids.lamp,
        properties: { name: "Lamp", price: 10, tags: ["a"], meta: { k: 1 } },
      },
    ]);
    await host.write([
      {
        op: "patch",
        class: "Product",
        id: ids.lamp,
        properties: { price: 12 },
      },
    ]);
    await host.write([{ op: "delete", class: "Product", id: ids.lamp }]);
    await waitForCaughtUp(host);

    const messages = await kcatConsume(brokers, topic, 4);
    t.equal(messages.length, 4);
    t.same(
      messages.map((message) => message.offset),
      [0, 1, 2, 3],
    );

    const keys = messages.map((message) => JSON.parse(message.key!) as Connect);
    for (const key of keys) {
      t.equal(key.schema.name, "shop.Product.Key");
      t.same(key.payload, { id: ids.lamp });
    }

    const [insert, update, remove] = messages
      .slice(0, 3)
      .map((message) => JSON.parse(message.payload!) as Connect);
    t.equal(insert.schema.name, "shop.Product.Envelope");
    t.equal(insert.schema.type, "struct");
    t.equal(insert.payload.op, "c");
    t.equal(insert.payload.before, null);
    t.same(insert.payload.after, {
      name: "Lamp",
      price: 10,
      stock: null,
      category: null,
      tags: ["a"],
      active: null,
      released: null,
      ref: null,
      meta: '{"k":1}',
    });
    t.equal(insert.payload.source.connector, "weft");
    t.equal(insert.payload.source.name, "shop");
    t.equal(insert.payload.source.db, "main");
    t.equal(insert.payload.source.class, "Product");
    t.equal(insert.payload.source.seq, 1);
    t.equal(insert.payload.source.snapshot, "false");
    t.equal(typeof insert.payload.source.ts_ms, "number");
    t.equal(typeof insert.payload.ts_us, "number");

    t.equal(update.payload.op, "u");
    t.equal((update.payload.before as { price: number }).price, 10);
    t.equal((update.payload.after as { price: number }).price, 12);
    t.equal(update.payload.source.seq, 2);

    t.equal(remove.payload.op, "d");
    t.equal(remove.payload.after, null);
    t.equal((remove.payload.before as { price: number }).price, 12);

    t.equal(
      messages[3].payload,
      null,
      "kcat sees the tombstone as a null payload",
    );
    t.equal(JSON.parse(messages[3].key!).payload.id, ids.lamp);
  },
);
