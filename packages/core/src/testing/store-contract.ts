import type { ChangeEvent } from "../changes/types.js";
import type { ClassDefinition } from "../classes/types.js";
import { ErrorCode } from "../errors.js";
import { createLogger } from "../logger.js";
import { Registry } from "prom-client";
import type { CommitBatch, Mutation, Store } from "../store/types.js";

/** The part of a tap `Test` the contract suite uses, so core needs no tap dependency. */
export interface ContractTest {
  test(
    name: string,
    fn: (t: ContractTest) => Promise<void>,
  ): Promise<unknown> | unknown;
  equal(actual: unknown, expected: unknown, message?: string): void;
  same(actual: unknown, expected: unknown, message?: string): void;
  ok(value: unknown, message?: string): void;
  rejects(
    promise: Promise<unknown> | (() => Promise<unknown>),
    expected?: unknown,
    message?: string,
  ): Promise<unknown>;
}

/** The class every contract test writes. */
export const contractClass: ClassDefinition = {
  name: "Item",
  properties: [
    { name: "title", type: "text" },
    { name: "count", type: "int" },
    { name: "tags", type: "text[]" },
  ],
};

const ids = {
  a: "00000000-0000-4000-8000-00000000000a",
  b: "00000000-0000-4000-8000-00000000000b",
  c: "00000000-0000-4000-8000-00000000000c",
};

let txCounter = 0;

function batch(
  mutations: Mutation[],
  extra: Partial<CommitBatch> = {},
): CommitBatch {
  txCounter += 1;
  return {
    txId: `tx-${txCounter}`,
    mutations,
    origin: { plugin: "contract" },
    metadata: {},
    positions: [],
    state: [],
    timestamp: new Date().toISOString(),
    ...extra,
  };
}

const upsert = (
  id: string,
  properties: Record<string, unknown>,
  vector?: number[] | null,
): Mutation => ({
  op: "upsert",
  class: "Item",
  id,
  properties,
  ...(vector !== undefined ? { vector } : {}),
});

/**
 * Runs the store contract: the semantics every weft store must share. Call
 * it from a store package's tests with a factory that returns a new, empty,
 * not yet opened store each time.
 */
export async function runStoreContract(
  t: ContractTest,
  createStore: () => Store | Promise<Store>,
): Promise<void> {
  const open = async (): Promise<Store> => {
    const store = await createStore();
    await store.open({
      classes: [contractClass],
      logger: createLogger({ level: "silent" }),
      metrics: new Registry(),
    });
    return store;
  };
  const withStore = (
    name: string,
    fn: (t: ContractTest, store: Store) => Promise<void>,
  ) =>
    t.test(name, async (tt) => {
      const store = await open();
      try {
        await fn(tt, store);
      } finally {
        await store.close();
      }
    });

  await withStore(
    "insert, update and delete emit events",
    async (tt, store) => {
      const first = await store.commit(
        batch([upsert(ids.a, { title: "one", count: 1 })]),
      );
      tt.same(first.outcomes, [{ id: ids.a, op: "INSERT", seq: 1 }]);
      tt.equal(first.events[0].before, null);
      tt.same(first.events[0].after, { title: "one", count: 1 });

      const second = await store.commit(
        batch([upsert(ids.a, { title: "two", count: 1 })]),
      );
      tt.equal(second.events[0].op, "UPDATE");
      tt.same(second.events[0].before, { title: "one", count: 1 });

      const third = await store.commit(
        batch([{ op: "delete", class: "Item", id: ids.a }]),
      );
      tt.equal(third.events[0].op, "DELETE");
      tt.same(third.events[0].before, { title: "two", count: 1 });
      tt.equal(third.events[0].after, null);
      tt.equal(await store.get("Item", ids.a), undefined);
      tt.equal(await store.lastSeq(), 3);
    },
  );

  await withStore(
    "unchanged write and missing delete are NOOP",
    async (tt, store) => {
      await store.commit(batch([upsert(ids.a, { title: "same", count: 2 })]));
      const again = await store.commit(
        batch([upsert(ids.a, { count: 2, title: "same" })]),
      );
      tt.same(again.outcomes, [{ id: ids.a, op: "NOOP" }]);
      tt.equal(again.events.length, 0);

      const missing = await store.commit(
        batch([{ op: "delete", class: "Item", id: ids.b }]),
      );
      tt.same(missing.outcomes, [{ id: ids.b, op: "NOOP" }]);
      tt.equal(await store.lastSeq(), 1);
    },
  );

  await withStore("patch merges and keeps the vector", async (tt, store) => {
    await store.commit(
      batch([upsert(ids.a, { title: "x", count: 1 }, [0.5, 0.25])]),
    );
    const patched = await store.commit(
      batch([
        { op: "patch", class: "Item", id: ids.a, properties: { count: 2 } },
      ]),
    );
    tt.same(patched.events[0].after, { title: "x", count: 2 });

    const stored = await store.get("Item", ids.a);
    tt.same(stored?.properties, { title: "x", count: 2 });
    tt.same(stored?.vector, [0.5, 0.25]);
    tt.equal(stored?.version, 2);

    await store.commit(batch([upsert(ids.a, { title: "x", count: 2 }, null)]));
    tt.equal((await store.get("Item", ids.a))?.vector, undefined);
  });

  await withStore(
    "several writes to one id apply in order",
    async (tt, store) => {
      const result = await store.commit(
        batch([
          upsert(ids.a, { title: "1" }),
          upsert(ids.a, { title: "2" }),
          { op: "delete", class: "Item", id: ids.a },
          upsert(ids.a, { title: "3" }),
        ]),
      );
      tt.same(
        result.events.map((event) => event.op),
        ["INSERT", "UPDATE", "DELETE", "INSERT"],
      );
      tt.same(
        result.events.map((event) => event.seq),
        [1, 2, 3, 4],
      );
      tt.same((await store.get("Item", ids.a))?.properties, { title: "3" });
    },
  );

  await withStore("change log reads by seq", async (tt, store) => {
    for (let i = 0; i < 5; i++)
      await store.commit(batch([upsert(ids.a, { count: i })]));
    const events: ChangeEvent[] = await store.readChanges(2, 2);
    tt.same(
      events.map((event) => event.seq),
      [2, 3],
    );
    tt.equal((await store.readChanges(6, 10)).length, 0);
    tt.equal(await store.firstSeq(), 1);
  });

  await withStore(
    "positions and state commit with the batch",
    async (tt, store) => {
      await store.commit(
        batch([upsert(ids.a, { title: "p" })], {
          positions: [{ source: "src", stream: "topic/0", position: "42" }],
          state: [{ plugin: "p1", key: "checkpoint", value: { next: 7 } }],
        }),
      );
      tt.same(await store.positions("src"), [
        { source: "src", stream: "topic/0", position: "42" },
      ]);
      tt.same(await store.stateGet("p1", "checkpoint"), { next: 7 });

      await store.commit(
        batch([], {
          state: [{ plugin: "p1", key: "checkpoint", value: undefined }],
        }),
      );
      tt.equal(await store.stateGet("p1", "checkpoint"), undefined);
    },
  );

  await withStore("plugin state set, list and delete", async (tt, store) => {
    await store.stateSet("p", "a/2", 2);
    await store.stateSet("p", "a/1", 1);
    await store.stateSet("p", "b/1", 3);
    await store.stateSet("other", "a/9", 9);
    tt.same(await store.stateList("p", "a/"), [
      { key: "a/1", value: 1 },
      { key: "a/2", value: 2 },
    ]);
    await store.stateDelete("p", "a/1");
    tt.same(
      (await store.stateList("p", "")).map((entry) => entry.key),
      ["a/2", "b/1"],
    );
  });

  await withStore("list filters and pages by cursor", async (tt, store) => {
    await store.commit(
      batch([
        upsert(ids.a, { count: 1 }),
        upsert(ids.b, { count: 2 }),
        upsert(ids.c, { count: 3 }),
      ]),
    );
    const first = await store.list({ class: "Item", limit: 2 });
    tt.same(
      first.objects.map((object) => object.id),
      [ids.a, ids.b],
    );
    tt.ok(first.next, "first page has a cursor");

    const second = await store.list({
      class: "Item",
      limit: 2,
      after: first.next!,
    });
    tt.same(
      second.objects.map((object) => object.id),
      [ids.c],
    );
    tt.equal(second.next, null);

    const filtered = await store.list({
      class: "Item",
      limit: 10,
      where: { count: { gte: 2 } },
    });
    tt.same(
      filtered.objects.map((object) => object.id),
      [ids.b, ids.c],
    );
  });

  await withStore("snapshot is consistent as of its seq", async (tt, store) => {
    await store.commit(
      batch([upsert(ids.a, { count: 1 }), upsert(ids.b, { count: 2 })]),
    );
    const snapshot = await store.snapshot("Item");
    await store.commit(
      batch([
        upsert(ids.c, { count: 3 }),
        { op: "delete", class: "Item", id: ids.a },
      ]),
    );

    const seen: string[] = [];
    for await (const object of snapshot.objects) seen.push(object.id);
    tt.equal(snapshot.seq, 2);
    tt.same(seen.sort(), [ids.a, ids.b]);
  });

  await withStore("checkpoints are listed", async (tt, store) => {
    await store.setCheckpoint("sink", 5);
    tt.same([...(await store.checkpoints())], [["sink", 5]]);
    await store.setCheckpoint("sink", null);
    tt.equal((await store.checkpoints()).size, 0);
  });

  await withStore("reading before the log start fails", async (tt, store) => {
    // Seq 0 never exists, so every store reports it as truncated.
    await tt.rejects(store.readChanges(0, 10), {
      code: ErrorCode.CHANGES_TRUNCATED,
    });
  });
}
