import { join } from "node:path";
import t from "tap";
import { Registry } from "prom-client";
import { ErrorCode } from "@weft/core";
import { batch, openStore, productId, tempDir, upsert } from "./helpers.js";

/** Commits `count` single-object batches with the given timestamp. */
async function commitMany(
  store: Awaited<ReturnType<typeof openStore>>,
  count: number,
  timestamp = new Date().toISOString(),
): Promise<void> {
  for (let n = 0; n < count; n++) {
    await store.commit(
      batch([upsert(productId(n % 3), { name: `v${Math.random()}` })], {
        timestamp,
      }),
    );
  }
}

t.test("maxRows keeps the newest rows", async (t) => {
  const store = await openStore(t, join(tempDir(t), "weft.db"), {
    retention: { maxRows: 5 },
  });
  await commitMany(store, 12);
  t.equal(await store.lastSeq(), 12);
  t.equal(await store.firstSeq(), 8, "rows 1..7 removed");
  t.same(
    (await store.readChanges(8, 100)).map((event) => event.seq),
    [8, 9, 10, 11, 12],
  );
  await t.rejects(
    store.readChanges(7, 10),
    { code: ErrorCode.CHANGES_TRUNCATED },
    "fall-behind read fails",
  );
});

t.test("checkpoint holds rows until it moves", async (t) => {
  const store = await openStore(t, join(tempDir(t), "weft.db"), {
    retention: { maxRows: 5 },
  });
  await store.setCheckpoint("slow", 3);
  await commitMany(store, 12);
  t.equal(
    await store.firstSeq(),
    3,
    "retention stops at the slowest checkpoint",
  );
  t.equal(
    (await store.readChanges(3, 100)).length,
    10,
    "the consumer can still read from its checkpoint",
  );

  await store.setCheckpoint("slow", 10);
  await commitMany(store, 1);
  t.equal(
    await store.firstSeq(),
    9,
    "moving the checkpoint lets the row limit apply",
  );

  await store.setCheckpoint("slow", null);
  await store.setCheckpoint("fast", 14);
  await commitMany(store, 1);
  t.equal(await store.firstSeq(), 10, "only remaining checkpoints count");
});

t.test("force trims past checkpoints", async (t) => {
  const registry = new Registry();
  const store = await openStore(
    t,
    join(tempDir(t), "weft.db"),
    { retention: { maxRows: 4, force: true } },
    undefined,
    registry,
  );
  await store.setCheckpoint("slow", 1);
  await commitMany(store, 10);
  t.equal(await store.firstSeq(), 7);

  const error = await store
    .readChanges(1, 10)
    .catch((caught: unknown) => caught);
  t.equal(
    (error as { code?: string }).code,
    ErrorCode.CHANGES_TRUNCATED,
    "the slow consumer gets the truncated error",
  );
  t.match((error as Error).message, /seq 1/, "message names the requested seq");
  t.match(
    (error as Error).message,
    /seq 7/,
    "message names the first seq still kept",
  );

  const metrics = await registry.metrics();
  t.match(
    metrics,
    /weft_store_sqlite_checkpoint_behind_retention\{checkpoint="slow"\} 1/,
    "behind gauge is 1",
  );
  t.match(
    metrics,
    /weft_store_sqlite_changes_truncated_total 1/,
    "truncated reads are counted",
  );
  t.match(
    metrics,
    /weft_store_sqlite_retention_deleted_total 6/,
    "deleted rows are counted",
  );

  await store.setCheckpoint("slow", 7);
  t.match(
    await registry.metrics(),
    /weft_store_sqlite_checkpoint_behind_retention\{checkpoint="slow"\} 0/,
    "caught up",
  );
});

t.test("maxAge removes old rows", async (t) => {
  const store = await openStore(t, join(tempDir(t), "weft.db"), {
    retention: { maxAge: "1h" },
  });
  const old = new Date(Date.now() - 2 * 3_600_000).toISOString();
  await commitMany(store, 4, old);
  t.equal(
    await store.firstSeq(),
    5,
    "a commit of only old rows removes them all",
  );
  t.equal(await store.lastSeq(), 4);

  await commitMany(store, 3, old);
  await commitMany(store, 2);
  t.equal(await store.firstSeq(), 8, "old rows go, young rows stay");
  t.same(
    (await store.readChanges(8, 10)).map((event) => event.seq),
    [8, 9],
  );
});

t.test("maxAge respects checkpoints", async (t) => {
  const store = await openStore(t, join(tempDir(t), "weft.db"), {
    retention: { maxAge: "1h" },
  });
  await store.setCheckpoint("sink", 3);
  await commitMany(
    store,
    6,
    new Date(Date.now() - 2 * 3_600_000).toISOString(),
  );
  t.equal(await store.firstSeq(), 3);
});

t.test("empty log reports lastSeq + 1", async (t) => {
  const store = await openStore(t, join(tempDir(t), "weft.db"), {
    retention: { maxRows: 1, maxAge: "1ms" },
  });
  await commitMany(store, 3, new Date(0).toISOString());
  t.equal(await store.firstSeq(), 4);
  t.same(
    await store.readChanges(4, 10),
    [],
    "reading from the next seq is allowed",
  );
  await t.rejects(store.readChanges(3, 10), {
    code: ErrorCode.CHANGES_TRUNCATED,
  });
  const next = await store.commit(batch([upsert(productId(9), { name: "x" })]));
  t.equal(
    next.outcomes[0].seq,
    4,
    "seq is never reused after retention empties the log",
  );
});

t.test("retention applies at open", async (t) => {
  const path = join(tempDir(t), "weft.db");
  const loose = await openStore(t, path);
  await commitMany(loose, 10);
  await loose.close();

  const strict = await openStore(t, path, { retention: { maxRows: 3 } });
  t.equal(await strict.firstSeq(), 8);
});
