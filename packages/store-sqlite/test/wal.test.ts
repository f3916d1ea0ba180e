import { copyFileSync, statSync } from "node:fs";
import { join } from "node:path";
import t from "tap";
import Database from "better-sqlite3";
import { pino } from "pino";
import { Registry } from "prom-client";
import type { Mutation } from "@weft/core";
import { createSqliteStore, type SqliteStore } from "@weft/store-sqlite";
import {
  batch,
  openStore,
  productClass,
  productId,
  tempDir,
  upsert,
} from "./helpers.js";

const MiB = 1024 * 1024;
const stalledWorker = new URL(
  "./fixtures/stalled-checkpoint-worker.mjs",
  import.meta.url,
);
const failingWorker = new URL(
  "./fixtures/failing-checkpoint-worker.mjs",
  import.meta.url,
);

/** `count` new objects of about 1 KB each, with ids from `first`. */
function products(first: number, count: number): Mutation[] {
  const mutations: Mutation[] = [];
  for (let n = first; n < first + count; n++)
    mutations.push(upsert(productId(n), { name: `product ${n} `.repeat(70) }));
  return mutations;
}

function walBytes(path: string): number {
  return statSync(`${path}-wal`, { throwIfNoEntry: false })?.size ?? 0;
}

/** Value of one sample in the registry's text output, 0 when absent. */
async function sample(registry: Registry, line: RegExp): Promise<number> {
  const match = line.exec(await registry.metrics());
  return match ? Number(match[1]) : 0;
}

const workerDone =
  /wal_checkpoints_total\{thread="worker",result="done"\} (\d+)/;
const writerDone =
  /wal_checkpoints_total\{thread="writer",result="done"\} (\d+)/;
const workerFailures = /wal_checkpoint_worker_failures_total (\d+)/;

/** Polls `check` until it holds; the worker runs on its own thread, so its effects arrive at no fixed time. */
async function waitFor(
  check: () => Promise<boolean>,
  condition: string,
): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await check())) {
    if (Date.now() > deadline)
      throw new Error(`timed out after 30 s waiting for ${condition}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Commits batches of 100 objects until the WAL file reaches `bytes`; returns the next free object number. */
async function fillWal(
  store: SqliteStore,
  path: string,
  bytes: number,
  first = 0,
): Promise<number> {
  let next = first;
  while (walBytes(path) < bytes) {
    await store.commit(batch(products(next, 100)));
    next += 100;
  }
  return next;
}

t.test("worker checkpoints the WAL", async (t) => {
  const registry = new Registry();
  const path = join(tempDir(t), "weft.db");
  // The worker starts once the WAL reaches half of maxBytes, here 2 MiB.
  const store = await openStore(
    t,
    path,
    { durability: "normal", wal: { maxBytes: 4 * MiB } },
    undefined,
    registry,
  );
  const committed = await fillWal(store, path, 2 * MiB);
  await waitFor(
    async () => (await sample(registry, workerDone)) >= 1,
    "the worker's first checkpoint",
  );

  // Without its WAL, a copy of the database file has only what checkpoints copied into it.
  const copy = join(tempDir(t), "copy.db");
  copyFileSync(path, copy);
  const db = new Database(copy);
  t.teardown(() => db.close());
  t.equal(
    db.prepare("SELECT count(*) FROM objects").pluck().get(),
    committed,
    "the database file holds every committed object",
  );

  // The worker copied every frame while no commit ran, so the next commit starts the WAL from its beginning.
  const before = walBytes(path);
  await store.commit(batch(products(committed, 1)));
  t.equal(walBytes(path), before, "the WAL file did not grow");
  t.equal(
    await sample(registry, writerDone),
    0,
    "the writer did not checkpoint",
  );
});

t.test("writer checkpoints when the worker stalls", async (t) => {
  const registry = new Registry();
  const path = join(tempDir(t), "weft.db");
  const store = await openStore(
    t,
    path,
    { wal: { maxBytes: MiB }, checkpointWorker: stalledWorker },
    undefined,
    registry,
  );

  let largest = 0;
  for (let round = 0; round < 30; round++) {
    await store.commit(batch(products(round * 50, 50)));
    largest = Math.max(largest, walBytes(path));
  }
  t.ok(
    largest <= 2 * MiB,
    `the WAL stayed within wal.maxBytes plus one commit (largest ${largest} bytes)`,
  );
  t.ok((await sample(registry, writerDone)) >= 1, "the writer checkpointed");
  t.equal(
    await sample(registry, workerDone),
    0,
    "the stalled worker did not checkpoint",
  );
  t.equal(await store.lastSeq(), 1500, "every commit is kept");
});

t.test("worker failure falls back to the writer", async (t) => {
  const registry = new Registry();
  const path = join(tempDir(t), "weft.db");
  const lines: string[] = [];
  const logger = pino(
    { level: "info" },
    { write: (line: string) => lines.push(line) },
  );
  const store = createSqliteStore({
    path,
    wal: { maxBytes: MiB },
    checkpointWorker: failingWorker,
  });
  await store.open({ classes: [productClass], logger, metrics: registry });
  t.teardown(() => store.close());

  let next = await fillWal(store, path, MiB / 2);
  await waitFor(
    async () => (await sample(registry, workerFailures)) === 1,
    "the worker failure to be counted",
  );
  const errors = lines
    .map(
      (line) =>
        JSON.parse(line) as { level: number; file?: string; msg: string },
    )
    .filter((entry) => entry.level === 50);
  t.ok(
    errors.some(
      (entry) => entry.file === path && /checkpoint worker/.test(entry.msg),
    ),
    "the failure is logged with the file",
  );

  let largest = 0;
  for (let round = 0; round < 30; round++) {
    await store.commit(batch(products(next, 50)));
    next += 50;
    largest = Math.max(largest, walBytes(path));
  }
  t.ok(
    largest <= 2 * MiB,
    `the WAL stayed bounded after the failure (largest ${largest} bytes)`,
  );
  t.equal(await store.lastSeq(), next, "every commit is kept");
});

t.test("close stops the worker and empties the WAL", async (t) => {
  const registry = new Registry();
  const path = join(tempDir(t), "weft.db");
  const lines: string[] = [];
  const logger = pino(
    { level: "debug" },
    { write: (line: string) => lines.push(line) },
  );
  const store = createSqliteStore({ path, wal: { maxBytes: MiB } });
  await store.open({ classes: [productClass], logger, metrics: registry });
  const committed = await fillWal(store, path, MiB / 2);
  await store.commit(batch(products(committed, 10)));

  await store.close();
  const messages = lines.map(
    (line) => (JSON.parse(line) as { msg: string }).msg,
  );
  t.ok(
    messages.includes("started the WAL checkpoint worker"),
    "the worker was running",
  );
  t.notOk(
    messages.some((message) => /did not stop in time/.test(message)),
    "the worker stopped on request",
  );
  t.equal(walBytes(path), 0, "the final checkpoint emptied the WAL file");

  const reopened = await openStore(t, path);
  t.equal(await reopened.lastSeq(), committed + 10, "every commit is kept");
});

t.test("background checkpoints can be turned off", async (t) => {
  const registry = new Registry();
  const path = join(tempDir(t), "weft.db");
  const store = await openStore(
    t,
    path,
    { wal: { backgroundCheckpoint: false, maxBytes: MiB } },
    undefined,
    registry,
  );
  const committed = await fillWal(store, path, MiB / 2);
  await store.commit(batch(products(committed, 10)));
  t.equal(await sample(registry, workerDone), 0, "no worker checkpoints");
  t.equal(await store.lastSeq(), committed + 10);
});

t.test("wal settings are validated", async (t) => {
  t.throws(() => createSqliteStore({ wal: { maxBytes: 1000 } }), {
    code: "WEFT_ERR_CONFIG_INVALID",
    message: /wal\.maxBytes/,
  });
  t.throws(
    () => createSqliteStore({ wal: { backgroundCheckpoint: "yes" as never } }),
    { code: "WEFT_ERR_CONFIG_INVALID" },
  );
  t.throws(() => createSqliteStore({ wal: { size: 1 } as never }), {
    code: "WEFT_ERR_CONFIG_INVALID",
  });
});
