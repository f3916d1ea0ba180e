import t from "tap";
import { Registry } from "prom-client";
import { ErrorCode, MemoryStore, type CommitBatch } from "@weft/core";
import { runStoreContract, contractClass } from "@weft/core/testing";
import { silentLogger } from "./helpers.js";

t.test("store contract", (t) => runStoreContract(t, () => new MemoryStore()));

function commit(store: MemoryStore, count: number): Promise<unknown> {
  const batch: CommitBatch = {
    txId: "tx",
    mutations: [
      {
        op: "upsert",
        class: "Item",
        id: "00000000-0000-4000-8000-000000000001",
        properties: { count },
      },
    ],
    origin: { plugin: "test" },
    metadata: {},
    positions: [],
    state: [],
    timestamp: new Date().toISOString(),
  };
  return store.commit(batch);
}

async function openStore(
  options: ConstructorParameters<typeof MemoryStore>[0],
): Promise<MemoryStore> {
  const store = new MemoryStore(options);
  await store.open({
    classes: [contractClass],
    logger: silentLogger(),
    metrics: new Registry(),
  });
  return store;
}

t.test("retention keeps maxRows and reports readers behind it", async (t) => {
  const store = await openStore({ retention: { maxRows: 3, force: false } });
  for (let i = 0; i < 10; i++) await commit(store, i);

  t.equal(await store.firstSeq(), 8);
  t.equal(await store.lastSeq(), 10);
  const error = await store.readChanges(2, 10).catch((e: unknown) => e);
  t.match(error, {
    code: ErrorCode.CHANGES_TRUNCATED,
    details: { fromSeq: 2, firstSeq: 8 },
  });
  t.same(
    (await store.readChanges(8, 10)).map((event) => event.seq),
    [8, 9, 10],
  );
});

t.test(
  "retention never passes the slowest checkpoint unless forced",
  async (t) => {
    const kept = await openStore({ retention: { maxRows: 2, force: false } });
    await kept.setCheckpoint("slow-sink", 3);
    for (let i = 0; i < 10; i++) await commit(kept, i);
    t.equal(await kept.firstSeq(), 3, "the checkpoint holds the log");

    const forced = await openStore({ retention: { maxRows: 2, force: true } });
    await forced.setCheckpoint("slow-sink", 3);
    for (let i = 0; i < 10; i++) await commit(forced, i);
    t.equal(await forced.firstSeq(), 9);
  },
);

t.test("retention by age", async (t) => {
  const store = await openStore({
    retention: { maxRows: 1000, maxAge: 1, force: false },
  });
  await commit(store, 1);
  await new Promise((resolve) => setTimeout(resolve, 5));
  await commit(store, 2);
  t.equal(await store.firstSeq(), 2, "the older event aged out");
});

t.test("failed commit leaves nothing applied", async (t) => {
  const store = await openStore({});
  const existing = "00000000-0000-4000-8000-000000000001";
  const created = "00000000-0000-4000-8000-000000000002";
  await commit(store, 1);
  const before = await store.get("Item", existing);

  const unreadable = {};
  Object.defineProperty(unreadable, "count", {
    enumerable: true,
    get() {
      throw new Error("property getter failed");
    },
  });
  const failing: CommitBatch = {
    txId: "tx-failing",
    mutations: [
      { op: "upsert", class: "Item", id: existing, properties: { count: 2 } },
      { op: "upsert", class: "Item", id: created, properties: { count: 3 } },
      { op: "delete", class: "Item", id: existing, properties: {} },
      { op: "upsert", class: "Other", id: created, properties: unreadable },
    ],
    origin: { plugin: "test" },
    metadata: {},
    positions: [{ source: "test", stream: "s", position: "9" }],
    state: [],
    timestamp: new Date().toISOString(),
  };
  await t.rejects(store.commit(failing), { message: "property getter failed" });

  t.equal(await store.get("Item", existing), before, "existing object kept");
  t.equal(await store.get("Item", created), undefined, "new object absent");
  t.equal(await store.get("Other", created), undefined, "other class empty");
  t.equal(await store.lastSeq(), 1);
  t.same(await store.positions("test"), []);
  t.same(
    (await store.readChanges(1, 10)).map((event) => event.txId),
    ["tx"],
  );
});
