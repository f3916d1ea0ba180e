import t from "tap";
import { v5 as uuidv5 } from "uuid";
import {
  ErrorCode,
  ID_NAMESPACE,
  Type,
  WeftError,
  definePlugin,
  toObjectId,
  type ChangeEvent,
} from "@weft/core";
import { startHost } from "./helpers.js";

const id = "3f0e8b4c-7d2a-4e5b-9c1d-2a3b4c5d6e7f";

t.test("insert, update, patch and delete", async (t) => {
  const host = await startHost(t);

  const [inserted] = await host.write([
    {
      op: "upsert",
      class: "Product",
      id,
      properties: { name: "Lamp", price: 10 },
    },
  ]);
  t.same(inserted, { id, status: "ok", op: "INSERT", seq: 1 });

  const [updated] = await host.write([
    {
      op: "upsert",
      class: "Product",
      id,
      properties: { name: "Lamp", price: 12 },
    },
  ]);
  t.same(updated, { id, status: "ok", op: "UPDATE", seq: 2 });

  const [patched] = await host.write([
    { op: "patch", class: "Product", id, properties: { stock: 4 } },
  ]);
  t.equal(patched.op, "UPDATE");
  t.same((await host.store.get("Product", id))?.properties, {
    name: "Lamp",
    price: 12,
    stock: 4,
  });

  const [deleted] = await host.write([{ op: "delete", class: "Product", id }]);
  t.same(deleted, { id, status: "ok", op: "DELETE", seq: 4 });
  t.equal(await host.store.get("Product", id), undefined);
});

t.test("no-op write and no-op delete commit no event", async (t) => {
  const host = await startHost(t);
  await host.write([
    { op: "upsert", class: "Product", id, properties: { name: "Lamp" } },
  ]);

  const [again] = await host.write([
    { op: "upsert", class: "Product", id, properties: { name: "Lamp" } },
  ]);
  t.same(again, { id, status: "noop" });

  const [missing] = await host.write([
    { op: "delete", class: "Product", id: "other-key" },
  ]);
  t.equal(missing.status, "noop");
  t.equal(await host.store.lastSeq(), 1);
});

t.test("UUIDv5 ids are deterministic for strings and numbers", async (t) => {
  t.equal(toObjectId("sku-1"), uuidv5("sku-1", ID_NAMESPACE));
  t.equal(
    toObjectId(42),
    toObjectId("42"),
    "a number and its digits give one id",
  );
  t.equal(
    toObjectId(12345678901234567890n),
    uuidv5("12345678901234567890", ID_NAMESPACE),
    "bigint keeps every digit",
  );
  t.equal(
    toObjectId(1e21),
    uuidv5("1000000000000000000000", ID_NAMESPACE),
    "large numbers use decimal digits, not exponent form",
  );
  t.equal(toObjectId(id.toUpperCase()), id, "a UUID is kept, lower-cased");
  t.not(toObjectId("a"), toObjectId("b"));

  const host = await startHost(t);
  const [result] = await host.write([
    { op: "upsert", class: "Product", id: "sku-1", properties: { name: "x" } },
  ]);
  t.equal(result.id, uuidv5("sku-1", ID_NAMESPACE));
});

t.test("invalid items are rejected while the rest commit", async (t) => {
  const host = await startHost(t);
  const results = await host.write([
    {
      op: "upsert",
      class: "Product",
      id: "good",
      properties: { name: "ok", price: 1 },
    },
    {
      op: "upsert",
      class: "Product",
      id: "bad-type",
      properties: { price: "cheap", stock: 1.5 },
    },
    { op: "upsert", class: "Nope", id: "x", properties: {} },
    {
      op: "upsert",
      class: "Product",
      id: "bad-prop",
      properties: { colour: "red" },
    },
    { op: "patch", class: "Product", properties: {} },
    {
      op: "upsert",
      class: "Product",
      id: "bad-vector",
      properties: {},
      vector: [1, Number.NaN],
    },
  ]);

  t.equal(results[0].status, "ok");
  t.equal(results[1].status, "rejected");
  t.equal(results[1].error?.code, ErrorCode.OBJECT_INVALID);
  t.match(
    results[1].error?.message,
    /class Product, id [0-9a-f-]{36}: price: expected number, got string "cheap"; stock: expected int/,
  );
  t.same(
    results[1].error?.problems?.map((problem) => problem.property),
    ["price", "stock"],
  );
  t.equal(results[2].error?.code, ErrorCode.CLASS_UNKNOWN);
  t.match(results[2].error?.message, /unknown class "Nope"/);
  t.equal(results[3].error?.property, "colour");
  t.equal(results[4].error?.code, ErrorCode.ID_INVALID);
  t.match(results[5].error?.message, /vector\[1\] must be a finite number/);
  t.equal(await host.store.lastSeq(), 1, "only the good item committed");
});

t.test("non-retryable rejection fails only that item", async (t) => {
  const rejecter = definePlugin({
    name: "rejecter",
    version: "1.0.0",
    configSchema: Type.Object({}),
    register(host) {
      host.hooks.beforeWrite.tapPromise("rejecter", async (batch) => {
        for (const item of batch.items)
          if (item.properties.name === "forbidden")
            batch.reject(item, "TEST_FORBIDDEN", "name is forbidden");
        return batch;
      });
    },
  });
  const host = await startHost(t, { plugins: [{ plugin: rejecter }] });
  const results = await host.write([
    {
      op: "upsert",
      class: "Product",
      id: "a",
      properties: { name: "forbidden" },
    },
    { op: "upsert", class: "Product", id: "b", properties: { name: "fine" } },
  ]);
  t.same(results[0], {
    id: toObjectId("a"),
    status: "rejected",
    error: {
      code: "TEST_FORBIDDEN",
      message: "name is forbidden",
      retryable: false,
    },
  });
  t.equal(results[1].status, "ok");
});

t.test("retryable rejection fails the whole write as retryable", async (t) => {
  let down = true;
  const flaky = definePlugin({
    name: "flaky",
    version: "1.0.0",
    configSchema: Type.Object({}),
    register(host) {
      host.hooks.beforeWrite.tapPromise("flaky", async (batch) => {
        if (down)
          batch.reject(batch.items[0], "TEST_DOWN", "dependency down", {
            retryable: true,
          });
        return batch;
      });
    },
  });
  const host = await startHost(t, { plugins: [{ plugin: flaky }] });
  const write = () =>
    host.write([
      { op: "upsert", class: "Product", id: "a", properties: { name: "one" } },
      { op: "upsert", class: "Product", id: "b", properties: { name: "two" } },
    ]);

  await t.rejects(write(), {
    code: ErrorCode.WRITE_RETRYABLE,
    retryable: true,
  });
  t.equal(await host.store.lastSeq(), 0, "nothing committed");

  down = false;
  const results = await write();
  t.same(
    results.map((result) => result.status),
    ["ok", "ok"],
  );
});

t.test(
  "hooks see events and per-class taps run after global ones",
  async (t) => {
    const order: string[] = [];
    const seen: ChangeEvent[] = [];
    const spy = definePlugin({
      name: "spy",
      version: "1.0.0",
      configSchema: Type.Object({}),
      register(host) {
        host.hooks.beforeWriteFor
          .for("Product")
          .tapPromise("spy", async (batch) => {
            order.push("class");
            return batch;
          });
        host.hooks.beforeWrite.tapPromise("spy", async (batch) => {
          order.push("global");
          for (const item of batch.items) item.properties.category = "tagged";
          return batch;
        });
        host.hooks.afterWrite.tapPromise(
          "spy",
          async (events) => void seen.push(...events),
        );
      },
    });
    const host = await startHost(t, { plugins: [{ plugin: spy }] });
    await host.write(
      [{ op: "upsert", class: "Product", id, properties: { name: "x" } }],
      { metadata: { user: "ana", traceparent: "00-abc-def-01" } },
    );

    t.same(order, ["global", "class"]);
    t.equal(seen.length, 1);
    t.same(seen[0].after, { name: "x", category: "tagged" });
    t.same(seen[0].metadata, { user: "ana", traceparent: "00-abc-def-01" });
    t.equal(seen[0].origin.plugin, "host");
  },
);

t.test(
  "afterWrite failure is logged and the write stays committed",
  async (t) => {
    const broken = definePlugin({
      name: "broken-after",
      version: "1.0.0",
      configSchema: Type.Object({}),
      register(host) {
        host.hooks.afterWrite.tapPromise("broken-after", async () => {
          throw new Error("boom");
        });
      },
    });
    const host = await startHost(t, { plugins: [{ plugin: broken }] });
    const [result] = await host.write([
      { op: "upsert", class: "Product", id, properties: { name: "x" } },
    ]);
    t.equal(result.status, "ok");
  },
);

t.test("hook error names plugin and hook, with the cause", async (t) => {
  const failing = definePlugin({
    name: "failing",
    version: "1.0.0",
    configSchema: Type.Object({}),
    register(host) {
      host.hooks.beforeWrite.tapPromise("some-other-name", async () => {
        throw new Error("tap exploded");
      });
    },
  });
  const host = await startHost(t, { plugins: [{ plugin: failing }] });
  const error = (await host
    .write([{ op: "upsert", class: "Product", id, properties: {} }])
    .catch((e: unknown) => e)) as WeftError;

  t.equal(error.code, ErrorCode.HOOK_FAILED);
  t.equal(
    error.details.plugin,
    "failing",
    "attributed to the registering plugin, not the tap name",
  );
  t.equal(error.details.hook, "beforeWrite");
  t.equal((error.cause as Error).message, "tap exploded");
  t.match(
    error.message,
    /plugin failing failed in hook beforeWrite: tap exploded/,
  );
});

t.test("vectorizer runs only when its fields change", async (t) => {
  let calls = 0;
  const counting = definePlugin({
    name: "counting-vectorizer",
    version: "1.0.0",
    configSchema: Type.Object({}),
    register(host) {
      host.provideVectorizer("counting", {
        async vectorize(texts) {
          calls += texts.length;
          return texts.map((text) => [text.length, 1]);
        },
      });
    },
  });
  const host = await startHost(t, {
    classes: [
      {
        name: "Doc",
        properties: [
          { name: "title", type: "text" },
          { name: "views", type: "int" },
        ],
        vectorizer: { use: "counting", fields: ["title"] },
      },
    ],
    plugins: [{ plugin: counting }],
  });

  await host.write([
    {
      op: "upsert",
      class: "Doc",
      id,
      properties: { title: "hello", views: 1 },
    },
  ]);
  t.equal(calls, 1);
  t.same((await host.store.get("Doc", id))?.vector, [5, 1]);

  await host.write([
    { op: "patch", class: "Doc", id, properties: { views: 2 } },
  ]);
  t.equal(calls, 1, "a change of another field keeps the vector");
  t.same((await host.store.get("Doc", id))?.vector, [5, 1]);

  await host.write([
    { op: "patch", class: "Doc", id, properties: { title: "hello world" } },
  ]);
  t.equal(calls, 2);
  t.same((await host.store.get("Doc", id))?.vector, [11, 1]);
});

t.test("vectorizer failure is a retryable write error", async (t) => {
  const down = definePlugin({
    name: "down-vectorizer",
    version: "1.0.0",
    configSchema: Type.Object({}),
    register(host) {
      host.provideVectorizer("down", {
        async vectorize() {
          throw new Error("connection refused");
        },
      });
    },
  });
  const host = await startHost(t, {
    classes: [
      {
        name: "Doc",
        properties: [{ name: "title", type: "text" }],
        vectorizer: { use: "down", fields: ["title"] },
      },
    ],
    plugins: [{ plugin: down }],
  });
  await t.rejects(
    host.write([
      { op: "upsert", class: "Doc", id, properties: { title: "x" } },
    ]),
    {
      code: ErrorCode.WRITE_RETRYABLE,
      message: /vectorizer down failed for class Doc/,
    },
  );
});

t.test("positions and state commit with the batch", async (t) => {
  const host = await startHost(t);
  await host.write(
    [{ op: "upsert", class: "Product", id, properties: { name: "x" } }],
    {
      positions: [
        { source: "file", stream: "/data/in.jsonl", position: "120" },
      ],
      state: [{ plugin: "file", key: "lines", value: 3 }],
    },
  );
  t.same(await host.store.positions("file"), [
    { source: "file", stream: "/data/in.jsonl", position: "120" },
  ]);
  t.equal(await host.state("file").get("lines"), 3);
});

t.test("vector length must match the class's vectorizer", async (t) => {
  const host = await startHost(t, {
    hashDimensions: 8,
    classes: [
      {
        name: "Doc",
        properties: [{ name: "title", type: "text" }],
        vectorizer: { use: "hash", fields: ["title"] },
      },
    ],
  });
  const [wrong, right] = await host.write([
    {
      op: "upsert",
      class: "Doc",
      id: "a",
      properties: { title: "x" },
      vector: [1, 2],
    },
    {
      op: "upsert",
      class: "Doc",
      id: "b",
      properties: { title: "y" },
      vector: [1, 0, 0, 0, 0, 0, 0, 0],
    },
  ]);
  t.equal(wrong.status, "rejected");
  t.match(
    wrong.error?.message,
    /vector: expected 8 dimensions, the size of the class's vectorizer hash, got 2/,
  );
  t.equal(right.status, "ok");
});

t.test("vectorDimensions must match the vectorizer", async (t) => {
  const started = startHost(t, {
    hashDimensions: 8,
    classes: [
      {
        name: "Doc",
        properties: [{ name: "title", type: "text" }],
        vectorizer: { use: "hash", fields: ["title"] },
        vectorDimensions: 4,
      },
    ],
  });
  const error = (await started.catch((caught: unknown) => caught)) as WeftError;
  t.equal(error.code, ErrorCode.CONFIG_INVALID);
  t.equal(error.details.path, "classes[0].vectorDimensions");
  t.match(
    error.message,
    /class Doc declares 4 dimensions, but its vectorizer hash produces 8/,
  );
});

t.test("lone surrogate id is rejected", async (t) => {
  const host = await startHost(t);
  const [result] = await host.write([
    { op: "upsert", class: "Product", id: "bad\ud800", properties: {} },
  ]);
  t.equal(result.status, "rejected");
  t.equal(result.error?.code, ErrorCode.ID_INVALID);
});
