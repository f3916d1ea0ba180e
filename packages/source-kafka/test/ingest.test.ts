import t from "tap";
import {
  definePlugin,
  toObjectId,
  toObjectIdFromBytes,
  Type,
  type Plugin,
} from "@weft/core";
import {
  committedOffsets,
  consumer,
  highWatermarks,
  metricValue,
  newTopic,
  objects,
  changes,
  produce,
  produceWithKcat,
  startSource,
  waitFor,
  waitForObjects,
} from "./helpers.js";

/** Creates a plugin that records the size of every batch the source writes. */
function batchRecorder(sizes: number[]): Plugin {
  return definePlugin({
    name: "batch-recorder",
    version: "1.0.0",
    configSchema: Type.Object({}),
    register(host) {
      host.hooks.beforeWrite.tap("batch-recorder", (batch) => {
        if (batch.options.origin?.plugin === "@weft/source-kafka")
          sizes.push(batch.items.length);
        return batch;
      });
    },
  }) as unknown as Plugin;
}

t.test(
  "ingest writes JSON messages into the class and commits offsets",
  async (t) => {
    const topic = await newTopic("basic", 2);
    const messages = Array.from({ length: 20 }, (_, i) => ({
      key: `sku-${i}`,
      value: {
        sku: `sku-${i}`,
        name: `Product ${i}`,
        price: i * 1.5,
        stock: i,
      },
      partition: i % 2,
    }));
    await produce(topic, messages);

    const config = consumer(topic);
    const host = await startSource(t, { consumers: [config] });
    const stored = await waitForObjects(host, "Product", 20);

    const third = stored.get(toObjectId("sku-3"));
    t.same(third?.properties, {
      sku: "sku-3",
      name: "Product 3",
      price: 4.5,
      stock: 3,
    });

    const high = await highWatermarks(topic);
    const committed = await waitFor(
      "committed offsets at the high watermark",
      async () => {
        const offsets = await committedOffsets(config.groupId as string, topic);
        return [...high].every(
          ([partition, offset]) => offsets.get(partition) === offset,
        )
          ? offsets
          : undefined;
      },
    );
    t.equal(
      committed.get(0),
      10n,
      "partition 0 committed as the next offset to read",
    );
    t.equal(
      committed.get(1),
      10n,
      "partition 1 committed as the next offset to read",
    );

    const positions = await host.store.positions(
      "@weft/source-kafka:" + String(config.groupId),
    );
    t.same(
      positions.map((position) => [position.stream, position.position]).sort(),
      [
        [`${topic}/0`, "10"],
        [`${topic}/1`, "10"],
      ],
      "positions stored with the objects",
    );

    const events = await changes(host.store);
    t.equal(events.length, 20, "one change event per message");
    t.ok(
      events.every((event) => event.origin.plugin === "@weft/source-kafka"),
      "events name the source as origin",
    );
  },
);

t.test("batches hold at most batchSize messages", async (t) => {
  const topic = await newTopic("batch-size");
  await produce(
    topic,
    Array.from({ length: 23 }, (_, i) => ({
      key: `k${i}`,
      value: { sku: `k${i}` },
    })),
  );

  const sizes: number[] = [];
  const host = await startSource(t, {
    consumers: [consumer(topic, { batchSize: 5 })],
    before: [{ plugin: batchRecorder(sizes) }],
  });
  await waitForObjects(host, "Product", 23);

  t.ok(
    sizes.length >= 5,
    `at least 5 writes for 23 messages, got ${sizes.length}`,
  );
  t.ok(
    sizes.every((size) => size <= 5),
    `every write holds at most 5 messages: ${sizes.join(",")}`,
  );
  t.equal(
    sizes.reduce((sum, size) => sum + size, 0),
    23,
  );
});

t.test("flushInterval writes a partial batch", async (t) => {
  const topic = await newTopic("flush-interval");
  const sizes: number[] = [];
  const host = await startSource(t, {
    consumers: [consumer(topic, { batchSize: 1000, flushInterval: "50ms" })],
    before: [{ plugin: batchRecorder(sizes) }],
  });

  await produce(topic, [
    { key: "a", value: { sku: "a" } },
    { key: "b", value: { sku: "b" } },
    { key: "c", value: { sku: "c" } },
  ]);
  await waitForObjects(host, "Product", 3);
  t.same(
    sizes,
    [3],
    "the three messages went out in one write after the interval",
  );
});

t.test("tombstone deletes by key", async (t) => {
  const topic = await newTopic("tombstone");
  const host = await startSource(t, { consumers: [consumer(topic)] });

  await produce(topic, [
    { key: "t1", value: { sku: "t1" } },
    { key: "t2", value: { sku: "t2" } },
  ]);
  await waitForObjects(host, "Product", 2);

  await produce(topic, [{ key: "t1", value: null }]);
  const left = await waitForObjects(host, "Product", 1);
  t.ok(left.has(toObjectId("t2")), "the other object stays");

  const events = await changes(host.store);
  t.equal(events.at(-1)?.op, "DELETE");
  t.equal(events.at(-1)?.id, toObjectId("t1"));
});

t.test("null key takes the id from keyField", async (t) => {
  const topic = await newTopic("null-key");
  const host = await startSource(t, {
    consumers: [consumer(topic, { keyField: "sku", idSource: "key" })],
  });

  await produce(topic, [
    { key: null, value: { sku: "from-field" } },
    { key: "from-key", value: { sku: "other" } },
  ]);
  const stored = await waitForObjects(host, "Product", 2);
  t.ok(stored.has(toObjectId("from-field")), "null key: id from the key field");
  t.ok(stored.has(toObjectId("from-key")), "key present: id from the key");
});

t.test("binary keys map to distinct ids without loss", async (t) => {
  const topic = await newTopic("binary-key");
  const host = await startSource(t, { consumers: [consumer(topic)] });

  // Both keys are invalid UTF-8; decoding them as text would turn both into "\uFFFD\uFFFD".
  const first = Buffer.from([0xff, 0xfe]);
  const second = Buffer.from([0xfe, 0xff]);
  await produce(topic, [
    { key: first, value: { sku: "first" } },
    { key: second, value: { sku: "second" } },
  ]);
  const stored = await waitForObjects(host, "Product", 2);
  t.equal(stored.get(toObjectIdFromBytes(first))?.properties.sku, "first");
  t.equal(stored.get(toObjectIdFromBytes(second))?.properties.sku, "second");
});

t.test("numbers in key fields keep every digit", async (t) => {
  const topic = await newTopic("big-number");
  const host = await startSource(t, {
    consumers: [consumer(topic, { keyField: "id", mapping: { drop: ["id"] } })],
  });

  // Both parse to the same float64 (12345678901234567000).
  await produce(topic, [
    { key: null, value: '{"sku":"a","id":12345678901234567890}' },
    { key: null, value: '{"sku":"b","id":12345678901234567891}' },
    { key: null, value: '{"meta":{"id":1},"sku":"c","id":  42 }' },
  ]);
  const stored = await waitForObjects(host, "Product", 3);
  t.equal(stored.get(toObjectId("12345678901234567890"))?.properties.sku, "a");
  t.equal(stored.get(toObjectId("12345678901234567891"))?.properties.sku, "b");
  t.equal(
    stored.get(toObjectId(42))?.properties.sku,
    "c",
    "the key field, not the nested id",
  );
});

t.test(
  "last message for an id wins, in a batch and across batches",
  async (t) => {
    const topic = await newTopic("last-wins");
    await produce(
      topic,
      Array.from({ length: 30 }, (_, i) => ({
        key: `id-${i % 3}`,
        value: { sku: `id-${i % 3}`, seq: i },
      })),
    );

    const host = await startSource(t, {
      consumers: [consumer(topic, { batchSize: 7 })],
    });
    const stored = await waitFor("the last versions", async () => {
      const found = await objects(host.store, "Product");
      const seqs = [...found.values()]
        .map((object) => object.properties.seq)
        .sort();
      return found.size === 3 && seqs.join() === "27,28,29" ? found : undefined;
    });
    t.equal(stored.get(toObjectId("id-0"))?.properties.seq, 27);

    // Every version was applied in offset order: each id's seq only grows.
    const seqsById = new Map<string, number[]>();
    for (const event of await changes(host.store)) {
      const list = seqsById.get(event.id) ?? [];
      list.push(event.after?.seq as number);
      seqsById.set(event.id, list);
    }
    for (const [id, seqs] of seqsById) {
      t.same(
        seqs,
        [...seqs].sort((a, b) => a - b),
        `events of ${id} in offset order`,
      );
      t.equal(seqs.length, 10, `one event per version of ${id}`);
    }
  },
);

t.test("routing picks the class by field, header or topic", async (t) => {
  const fieldTopic = await newTopic("route-field");
  const headerTopic = await newTopic("route-header");
  const host = await startSource(t, {
    consumers: [
      consumer(fieldTopic, {
        class: undefined,
        route: {
          field: "type",
          classes: { product: "Product", order: "Order" },
        },
        mapping: { drop: ["type"] },
      }),
      consumer(headerTopic, { class: undefined, route: { header: "x-class" } }),
    ],
  });

  await produce(fieldTopic, [
    { key: "p", value: { type: "product", sku: "p" } },
    { key: "o", value: { type: "order", number: "o-1" } },
  ]);
  await produce(headerTopic, [
    { key: "h", value: { number: "o-2" }, headers: { "x-class": "Order" } },
  ]);

  await waitForObjects(host, "Order", 2);
  const products = await waitForObjects(host, "Product", 1);
  t.ok(products.has(toObjectId("p")));
  const orders = await objects(host.store, "Order");
  t.equal(orders.get(toObjectId("o"))?.properties.number, "o-1");
  t.equal(orders.get(toObjectId("h"))?.properties.number, "o-2");
});

t.test("field mapping renames, drops and copies headers", async (t) => {
  const topic = await newTopic("mapping");
  const host = await startSource(t, {
    consumers: [
      consumer(topic, {
        mapping: {
          rename: { "details.title": "name", cost: "price" },
          drop: ["internal", "details"],
          headers: { "x-source": "source", "x-missing": "sku" },
        },
      }),
    ],
  });

  await produce(topic, [
    {
      key: "m1",
      value: {
        details: { title: "Lamp", color: "red" },
        cost: 12.5,
        internal: { a: 1 },
      },
      headers: { "x-source": Buffer.from("warehouse") },
    },
  ]);
  const stored = await waitForObjects(host, "Product", 1);
  t.same(stored.get(toObjectId("m1"))?.properties, {
    name: "Lamp",
    price: 12.5,
    source: "warehouse",
  });
});

t.test("null header values never crash the consumer", async (t) => {
  const topic = await newTopic("null-header");
  const host = await startSource(t, {
    consumers: [
      consumer(topic, { mapping: { headers: { "x-source": "source" } } }),
    ],
  });

  await produceWithKcat(topic, {
    key: "n1",
    value: '{"sku":"n1"}',
    headers: [
      ["x-source", null],
      ["other", null],
    ],
  });
  await produce(topic, [{ key: "n2", value: { sku: "n2" } }]);

  const stored = await waitForObjects(host, "Product", 2);
  t.same(
    stored.get(toObjectId("n1"))?.properties,
    { sku: "n1", source: null },
    "a null header becomes a null property",
  );
});

t.test("metrics count messages, batches and lag", async (t) => {
  const topic = await newTopic("metrics");
  await produce(
    topic,
    Array.from({ length: 5 }, (_, i) => ({
      key: `m${i}`,
      value: { sku: `m${i}` },
    })),
  );
  const config = consumer(topic, { name: "metrics-consumer" });
  const host = await startSource(t, { consumers: [config] });
  await waitForObjects(host, "Product", 5);

  const labels = { consumer: "metrics-consumer" };
  await waitFor(
    "the lag gauge at 0",
    async () =>
      (await metricValue(host, "weft_source_kafka_lag", {
        ...labels,
        topic,
        partition: "0",
      })) === 0,
  );
  t.equal(
    await metricValue(host, "weft_source_kafka_messages_total", {
      ...labels,
      topic,
      outcome: "written",
    }),
    5,
  );
  t.ok(
    (await metricValue(host, "weft_source_kafka_batches_total", labels)) >= 1,
  );
  const text = await host.metrics.metrics();
  t.match(
    text,
    /weft_source_kafka_batch_write_seconds_count\{consumer="metrics-consumer"\} [1-9]/,
  );
});
