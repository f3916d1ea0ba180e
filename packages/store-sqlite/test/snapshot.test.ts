import { readdirSync } from "node:fs";
import { join } from "node:path";
import t from "tap";
import type { StoredObject } from "@weft/core";
import { SqliteErrorCode } from "@weft/store-sqlite";
import { batch, openStore, productId, tempDir, upsert } from "./helpers.js";

t.test("snapshot ignores commits made while reading", async (t) => {
  const store = await openStore(t, join(tempDir(t), "weft.db"));
  const mutations = [];
  for (let n = 0; n < 500; n++)
    mutations.push(upsert(productId(n), { name: `p${n}`, price: n }, [n, 1]));
  await store.commit(batch(mutations));

  const snapshot = await store.snapshot("Product");
  t.equal(snapshot.seq, 500);

  const seen: StoredObject[] = [];
  for await (const object of snapshot.objects) {
    seen.push(object);
    if (seen.length === 100) {
      // Commit in the middle of the read: updates, deletes and inserts of the same class.
      await store.commit(
        batch([
          upsert(productId(400), { name: "changed", price: -1 }),
          { op: "delete", class: "Product", id: productId(450) },
          upsert(productId(999), { name: "late" }),
        ]),
      );
      t.equal(
        (await store.readChanges(501, 10)).length,
        3,
        "the change feed sees the new commit meanwhile",
      );
    }
  }
  t.equal(seen.length, 500, "all objects as of the snapshot");
  t.same(
    seen.map((object) => object.id),
    Array.from({ length: 500 }, (_, n) => productId(n)),
    "in id order",
  );
  t.same(
    seen[400].properties,
    { name: "p400", price: 400 },
    "update after the snapshot is not visible",
  );
  t.same(
    seen[450].vector,
    [450, 1],
    "deleted object still in the snapshot, with its vector",
  );
  t.equal(seen[400].version, 1);

  const after = await store.snapshot("Product");
  t.equal(after.seq, 503);
  let count = 0;
  for await (const object of after.objects) {
    count += 1;
    if (object.id === productId(400))
      t.same(object.properties, { name: "changed", price: -1 });
  }
  t.equal(count, 500, "a new snapshot sees the commit: one delete, one insert");
});

t.test("snapshot of an empty class", async (t) => {
  const store = await openStore(t, join(tempDir(t), "weft.db"));
  const snapshot = await store.snapshot("Product");
  t.equal(snapshot.seq, 0);
  const seen = [];
  for await (const object of snapshot.objects) seen.push(object);
  t.same(seen, []);
});

t.test("early exit and close release snapshots", async (t) => {
  const dir = tempDir(t);
  const store = await openStore(t, join(dir, "weft.db"));
  await store.commit(
    batch([
      upsert(productId(1), { name: "a" }),
      upsert(productId(2), { name: "b" }),
    ]),
  );

  const partial = await store.snapshot("Product");
  for await (const object of partial.objects) {
    t.equal(object.id, productId(1));
    break;
  }
  // Never iterated, and suspended mid-read: both closed by close() below.
  const untouched = await store.snapshot("Product");
  const suspended = (await store.snapshot("Product")).objects[
    Symbol.asyncIterator
  ]();
  t.equal((await suspended.next()).value?.id, productId(1));

  await store.commit(batch([upsert(productId(3), { name: "c" })]));
  await store.close();
  t.same(
    readdirSync(dir).sort(),
    ["weft.db"],
    "closing the last connection checkpoints the WAL and removes the -wal and -shm files",
  );
  await t.rejects(
    suspended.next(),
    { code: SqliteErrorCode.NOT_OPEN },
    "a suspended read fails after close",
  );
  const late = untouched.objects[Symbol.asyncIterator]();
  await t.rejects(
    late.next(),
    { code: SqliteErrorCode.NOT_OPEN },
    "an unread snapshot fails after close",
  );
});
