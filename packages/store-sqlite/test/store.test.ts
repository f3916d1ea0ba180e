import { join } from "node:path";
import t from "tap";
import { Registry } from "prom-client";
import { isWeftError } from "@weft/core";
import { SqliteErrorCode, createSqliteStore } from "@weft/store-sqlite";
import { batch, openStore, productId, tempDir, upsert } from "./helpers.js";

t.test("vector round trip", async (t) => {
  const store = await openStore(t, join(tempDir(t), "weft.db"));
  const id = productId(1);

  const first = await store.commit(
    batch([upsert(id, { name: "a" }, [0.1, -2, 3.5])]),
  );
  const rounded = [Math.fround(0.1), -2, 3.5];
  t.same(
    first.events[0].vector,
    rounded,
    "event carries the float32-rounded vector",
  );
  t.same(
    (await store.get("Product", id))?.vector,
    rounded,
    "get returns the float32-rounded vector",
  );

  const again = await store.commit(
    batch([upsert(id, { name: "a" }, [0.1, -2, 3.5])]),
  );
  t.same(
    again.outcomes,
    [{ id, op: "NOOP" }],
    "rewriting the same float64 vector is a NOOP",
  );

  const empty = await store.commit(batch([upsert(id, { name: "a" }, [])]));
  t.equal(
    empty.outcomes[0].op,
    "UPDATE",
    "an empty vector differs from a stored one",
  );
  t.same(
    (await store.get("Product", id))?.vector,
    [],
    "an empty vector reads back empty",
  );

  t.equal(
    (await store.get("Product", id, { withVector: false }))?.vector,
    undefined,
    "withVector false omits it",
  );
});

t.test("committed and re-read events are equal", async (t) => {
  const store = await openStore(t, join(tempDir(t), "weft.db"));
  const id = productId(2);
  const result = await store.commit(
    batch(
      [
        upsert(id, { name: "lamp", price: 10, tags: ["home"] }, [1, 2]),
        { op: "patch", class: "Product", id, properties: { price: 12 } },
        { op: "delete", class: "Product", id },
      ],
      {
        origin: { plugin: "src", stream: "topic/0", position: "7" },
        metadata: { user: "ana", traceparent: "00-abc-def-01" },
      },
    ),
  );
  const reread = await store.readChanges(1, 10);
  t.same(
    reread,
    result.events,
    "readChanges returns the events commit returned",
  );
  t.same(
    reread.map((event) => JSON.stringify(event)),
    result.events.map((event) => JSON.stringify(event)),
    "key order is the same",
  );
  t.same(Object.keys(reread[0]), [
    "seq",
    "op",
    "class",
    "id",
    "before",
    "after",
    "vector",
    "timestamp",
    "txId",
    "origin",
    "metadata",
  ]);
  t.same(
    result.events[1].before,
    { name: "lamp", price: 10, tags: ["home"] },
    "update carries the full before image",
  );
  t.same(
    result.events[1].after,
    { name: "lamp", price: 12, tags: ["home"] },
    "patch keeps key order of stored properties",
  );
  t.same(
    result.events[2].before,
    { name: "lamp", price: 12, tags: ["home"] },
    "delete carries the full before image",
  );
  t.equal(result.events[2].vector, undefined, "delete has no vector");
});

t.test("failed batch applies nothing", async (t) => {
  const store = await openStore(t, join(tempDir(t), "weft.db"));
  await store.commit(batch([upsert(productId(1), { name: "kept" })]));

  const circular: Record<string, unknown> = {};
  circular.self = circular;
  const error = await store
    .commit(
      batch(
        [
          upsert(productId(1), { name: "changed" }),
          upsert(productId(2), { name: "new" }),
        ],
        {
          positions: [{ source: "s", stream: "p0", position: "9" }],
          state: [{ plugin: "p", key: "k", value: circular }],
        },
      ),
    )
    .catch((caught: unknown) => caught);
  t.ok(isWeftError(error), "commit rejects with a WeftError");
  t.equal((error as { code?: string }).code, SqliteErrorCode.COMMIT_FAILED);

  t.equal(await store.lastSeq(), 1, "seq did not move");
  t.same(
    (await store.get("Product", productId(1)))?.properties,
    { name: "kept" },
    "first object unchanged",
  );
  t.equal(
    await store.get("Product", productId(2)),
    undefined,
    "second object not inserted",
  );
  t.same(await store.positions("s"), [], "position not written");
  t.equal((await store.readChanges(2, 10)).length, 0, "no change-log rows");

  const next = await store.commit(
    batch([upsert(productId(2), { name: "new" })]),
  );
  t.same(
    next.outcomes,
    [{ id: productId(2), op: "INSERT", seq: 2 }],
    "next commit takes the next seq",
  );
});

t.test("data survives reopen", async (t) => {
  const path = join(tempDir(t), "weft.db");
  const first = createSqliteStore({ path });
  const context = {
    classes: [],
    logger: (await import("pino")).pino({ level: "silent" }),
    metrics: new Registry(),
  };
  await first.open(context);
  await first.commit(
    batch([upsert(productId(1), { name: "a" }, [1, 2])], {
      positions: [
        { source: "kafka", stream: "t/1", position: "10" },
        { source: "kafka", stream: "t/0", position: "5" },
      ],
      state: [{ plugin: "p", key: "k", value: { n: 1 } }],
    }),
  );
  await first.commit(
    batch([], {
      positions: [{ source: "kafka", stream: "t/0", position: "6" }],
    }),
  );
  await first.setCheckpoint("sink", 2);
  await first.stateSet("p", "other", [1, "two"]);
  await first.close();

  const second = createSqliteStore({ path });
  await second.open({ ...context, metrics: new Registry() });
  t.teardown(() => second.close());
  t.same((await second.get("Product", productId(1)))?.vector, [1, 2]);
  t.same(await second.positions("kafka"), [
    { source: "kafka", stream: "t/0", position: "6" },
    { source: "kafka", stream: "t/1", position: "10" },
  ]);
  t.same(await second.stateGet("p", "k"), { n: 1 });
  t.same(await second.stateGet("p", "other"), [1, "two"]);
  t.same([...(await second.checkpoints())], [["sink", 2]]);
  t.equal(await second.lastSeq(), 1);
  const next = await second.commit(
    batch([upsert(productId(2), { name: "b" })]),
  );
  t.equal(next.outcomes[0].seq, 2, "seq continues after reopen");
});

t.test("list pages through many objects", async (t) => {
  const store = await openStore(t, join(tempDir(t), "weft.db"));
  const mutations = [];
  for (let n = 0; n < 250; n++)
    mutations.push(upsert(productId(n), { name: `p${n}`, price: n }, [n]));
  await store.commit(batch(mutations));

  const seen: string[] = [];
  let after: string | undefined;
  let pages = 0;
  do {
    const page = await store.list({
      class: "Product",
      limit: 40,
      where: { price: { gte: 100 } },
      ...(after ? { after } : {}),
    });
    pages += 1;
    for (const object of page.objects) {
      seen.push(object.id);
      t.equal(object.vector, undefined, "list omits vectors by default");
    }
    after = page.next ?? undefined;
  } while (after);
  t.equal(pages, 4, "150 matches in pages of 40");
  t.same(
    seen,
    Array.from({ length: 150 }, (_, index) => productId(index + 100)),
    "every match once, in id order",
  );

  const withVector = await store.list({
    class: "Product",
    limit: 1,
    withVector: true,
  });
  t.same(withVector.objects[0].vector, [0]);

  const unfiltered = await store.list({ class: "Product", limit: 250 });
  t.equal(unfiltered.objects.length, 250);
  t.equal(unfiltered.next, null, "exactly full last page has no cursor");

  await t.rejects(
    store.list({ class: "Product", limit: 10, after: "not-a-cursor" }),
    { code: "WEFT_ERR_HTTP_BAD_REQUEST" },
  );
  await t.rejects(store.list({ class: "Product", limit: 0 }), {
    code: SqliteErrorCode.ARGUMENT_INVALID,
  });
  await t.rejects(
    store.list({
      class: "Product",
      limit: 10,
      where: { price: { between: 1 } },
    }),
    {
      code: "WEFT_ERR_FILTER_INVALID",
    },
  );
});

t.test("getMany returns found objects", async (t) => {
  const store = await openStore(t, join(tempDir(t), "weft.db"));
  await store.commit(
    batch([
      upsert(productId(1), { name: "a" }),
      upsert(productId(2), { name: "b" }),
    ]),
  );
  const found = await store.getMany("Product", [
    productId(2),
    productId(9),
    productId(1),
    productId(2),
  ]);
  t.same([...found.keys()], [productId(2), productId(1)]);
  t.equal(found.get(productId(1))?.version, 1);
});

t.test("stateList matches prefixes exactly", async (t) => {
  const store = await openStore(t, join(tempDir(t), "weft.db"));
  for (const key of ["a", "a/1", "a/2", "a0", "b", "a/\u{1F600}", "a/\uFFFF"])
    await store.stateSet("p", key, key);
  t.same(
    (await store.stateList("p", "a/")).map((entry) => entry.key),
    ["a/1", "a/2", "a/\uFFFF", "a/\u{1F600}"],
    "keys in code point order",
  );
  t.same(await store.stateList("p", "zzz"), []);
  await store.stateSet("p", "a/1", undefined);
  t.equal(
    await store.stateGet("p", "a/1"),
    undefined,
    "setting undefined deletes",
  );
  await t.rejects(
    store.stateSet("p", "f", () => 1),
    { code: SqliteErrorCode.ARGUMENT_INVALID },
  );
});

t.test("methods reject before open and after close", async (t) => {
  const store = createSqliteStore({ path: join(tempDir(t), "weft.db") });
  await t.rejects(store.get("Product", productId(1)), {
    code: SqliteErrorCode.NOT_OPEN,
  });
  await t.rejects(store.lastSeq(), { code: SqliteErrorCode.NOT_OPEN });
  await store.close();
});

t.test("metrics appear on the registry", async (t) => {
  const registry = new Registry();
  const store = await openStore(
    t,
    join(tempDir(t), "weft.db"),
    {},
    undefined,
    registry,
  );
  await store.commit(
    batch([
      upsert(productId(1), { name: "a" }),
      upsert(productId(2), { name: "b" }),
    ]),
  );
  await store.setCheckpoint("sink", 2);

  const text = await registry.metrics();
  t.match(text, /weft_store_sqlite_change_log_last_seq 2/);
  t.match(text, /weft_store_sqlite_change_log_first_seq 1/);
  t.match(
    text,
    /weft_store_sqlite_checkpoint_lag_events\{checkpoint="sink"\} 1/,
  );
  t.match(
    text,
    /weft_store_sqlite_checkpoint_behind_retention\{checkpoint="sink"\} 0/,
  );
  t.match(text, /weft_store_sqlite_commit_duration_seconds_count 1/);

  await store.close();
  t.notMatch(
    await registry.metrics(),
    /weft_store_sqlite/,
    "close removes the metrics",
  );
});

t.test("config defaults and path resolution", async (t) => {
  const dir = tempDir(t);
  t.equal(
    createSqliteStore({ configDir: dir }).file,
    join(dir, "data", "weft.db"),
    "default path is data/weft.db under configDir",
  );
  t.equal(
    createSqliteStore({ configDir: dir, path: "x/y.db" }).file,
    join(dir, "x", "y.db"),
  );
  t.equal(
    createSqliteStore({ configDir: dir, path: "/abs/z.db" }).file,
    "/abs/z.db",
  );

  const store = createSqliteStore({ configDir: dir });
  await store.open({
    classes: [],
    logger: (await import("pino")).pino({ level: "silent" }),
    metrics: new Registry(),
  });
  t.teardown(() => store.close());
  t.equal(await store.lastSeq(), 0, "opening creates the data folder");

  t.throws(() => createSqliteStore({ durability: "fast" as never }), {
    code: "WEFT_ERR_CONFIG_INVALID",
  });
  t.throws(() => createSqliteStore({ retention: { maxRows: 0 } }), {
    code: "WEFT_ERR_CONFIG_INVALID",
  });
  t.throws(() => createSqliteStore({ retention: { maxAge: "soon" } }), {
    code: "WEFT_ERR_CONFIG_INVALID",
  });
  t.throws(() => createSqliteStore({ path: ":memory:" }), {
    code: "WEFT_ERR_CONFIG_INVALID",
  });
  t.throws(() => createSqliteStore({ unknown: 1 } as never), {
    code: "WEFT_ERR_CONFIG_INVALID",
  });
});

t.test("commit error message leaves out the file path", async (t) => {
  const file = join(tempDir(t), "weft.db");
  const store = await openStore(t, file);
  let value: unknown = 1;
  for (let i = 0; i < 100_000; i++) value = [value];

  const error = await store
    .commit(batch([upsert(productId(1), { tags: value })]))
    .then(
      () => undefined,
      (failure: unknown) => failure,
    );
  t.ok(isWeftError(error), "fails with a WeftError");
  if (!isWeftError(error)) return;
  t.equal(error.code, SqliteErrorCode.COMMIT_FAILED);
  t.notOk(error.message.includes(file), "message has no path");
  t.equal(error.details.file, file, "details keep the path for the log");
  t.equal(await store.get("Product", productId(1)), undefined);
});
