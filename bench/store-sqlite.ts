/**
 * Write throughput of @weft/store-sqlite against plain better-sqlite3.
 *
 * Each timed batch contains 1000 objects of about 1 KB: 500 inserts of new ids
 * and 500 updates of objects written earlier. The store commits them through
 * `Store.commit`. The plain writer uses prepared statements to write the same
 * rows (the objects and one change-log row per object, with the before image
 * of every update) in one transaction per batch. It takes the before images
 * from an in-memory map instead of reading them, so it is an upper bound for
 * a writer of the same tables. Both serialise properties with JSON.stringify
 * inside the timed section.
 *
 * The two writers alternate batch by batch on their own files, and each
 * round reports the load average, because other work on the machine moves
 * the absolute figures much more than the ratio.
 *
 * Run from the repository root (builds first):
 *   pnpm build && node --import=tsx bench/store-sqlite.ts [--batches 100] [--seed 20000] [--rounds 3]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import Database from "better-sqlite3";
import { pino } from "pino";
import { Registry } from "prom-client";
import type { ClassDefinition, CommitBatch, Mutation } from "@weft/core";
import { createSqliteStore } from "@weft/store-sqlite";

const BATCH_SIZE = 1000;

const { values: args } = parseArgs({
  options: {
    batches: { type: "string", default: "100" },
    seed: { type: "string", default: "20000" },
    rounds: { type: "string", default: "3" },
  },
});
const timedBatches = Number(args.batches);
const seedObjects = Number(args.seed);
const rounds = Number(args.rounds);

const productClass: ClassDefinition = {
  name: "Product",
  properties: [
    { name: "name", type: "text" },
    { name: "category", type: "text" },
    { name: "price", type: "number" },
    { name: "stock", type: "int" },
    { name: "tags", type: "text[]" },
    { name: "description", type: "text" },
  ],
};

const words =
  "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore".split(
    " ",
  );

/** Deterministic pseudo-random numbers, so every run writes the same data. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** About 1 KB of JSON once serialised. */
function productProperties(
  next: () => number,
  revision: number,
): Record<string, unknown> {
  const description: string[] = [];
  while (description.join(" ").length < 860)
    description.push(words[Math.floor(next() * words.length)]);
  return {
    name: `product ${Math.floor(next() * 1e9)}`,
    category: ["Electronics", "Books", "Garden", "Toys"][
      Math.floor(next() * 4)
    ],
    price: Math.round(next() * 100_000) / 100,
    stock: revision,
    tags: ["a", "b", "c"].slice(0, 1 + Math.floor(next() * 3)),
    description: description.join(" "),
  };
}

function objectId(index: number): string {
  return `00000000-0000-4000-8000-${index.toString(16).padStart(12, "0")}`;
}

/** Builds the batches of one run: seed batches of inserts, then timed batches with half inserts and half updates. */
function makeBatches(): { seed: Mutation[][]; timed: Mutation[][] } {
  const next = random(42);
  const seed: Mutation[][] = [];
  let created = 0;
  while (created < seedObjects) {
    const mutations: Mutation[] = [];
    for (let i = 0; i < BATCH_SIZE && created < seedObjects; i++, created++) {
      mutations.push({
        op: "upsert",
        class: "Product",
        id: objectId(created),
        properties: productProperties(next, 0),
      });
    }
    seed.push(mutations);
  }

  const timed: Mutation[][] = [];
  for (let b = 0; b < timedBatches; b++) {
    const mutations: Mutation[] = [];
    for (let i = 0; i < BATCH_SIZE / 2; i++) {
      mutations.push({
        op: "upsert",
        class: "Product",
        id: objectId(created++),
        properties: productProperties(next, 0),
      });
      // Distinct existing ids within one batch, so every update changes a different object.
      const existing =
        Math.floor((i + next()) * (created / (BATCH_SIZE / 2))) % created;
      mutations.push({
        op: "upsert",
        class: "Product",
        id: objectId(existing),
        properties: productProperties(next, b + 1),
      });
    }
    timed.push(mutations);
  }
  return { seed, timed };
}

function commitBatch(mutations: Mutation[], index: number): CommitBatch {
  return {
    txId: `bench-${index}`,
    mutations,
    origin: { plugin: "bench" },
    metadata: {},
    positions: [],
    state: [],
    timestamp: new Date().toISOString(),
  };
}

type Durability = "full" | "normal";

/** Elapsed wall-clock seconds of the timed batches of one writer. */
interface Timing {
  seconds: number;
  objects: number;
}

/** A writer that commits one batch of mutations per call. */
interface Writer {
  write(mutations: Mutation[]): Promise<number>;
  close(): Promise<void>;
}

async function openStoreWriter(
  dir: string,
  durability: Durability,
): Promise<Writer> {
  const store = createSqliteStore({
    path: join(dir, `store-${durability}.db`),
    durability,
  });
  await store.open({
    classes: [productClass],
    logger: pino({ level: "silent" }),
    metrics: new Registry(),
  });
  let index = 0;
  return {
    async write(mutations) {
      const result = await store.commit(commitBatch(mutations, index++));
      return result.events.length;
    },
    close: () => store.close(),
  };
}

function openPlainWriter(dir: string, durability: Durability): Writer {
  const db = new Database(join(dir, `plain-${durability}.db`));
  db.pragma("journal_mode = WAL");
  db.pragma(`synchronous = ${durability === "full" ? "FULL" : "NORMAL"}`);
  db.exec(`
    CREATE TABLE objects (class TEXT NOT NULL, id TEXT NOT NULL, properties TEXT NOT NULL, vector BLOB,
      version INTEGER NOT NULL, updated_at TEXT NOT NULL, PRIMARY KEY (class, id));
    CREATE TABLE changes (seq INTEGER PRIMARY KEY, op TEXT NOT NULL, class TEXT NOT NULL, id TEXT NOT NULL,
      before TEXT, after TEXT, vector BLOB, timestamp TEXT NOT NULL, timestamp_ms INTEGER NOT NULL,
      tx_id TEXT NOT NULL, origin TEXT NOT NULL, metadata TEXT NOT NULL);
  `);
  const insertObject = db.prepare(
    "INSERT INTO objects (class, id, properties, vector, version, updated_at) VALUES (?, ?, ?, NULL, 1, ?)",
  );
  const updateObject = db.prepare(
    "UPDATE objects SET properties = ?, version = ?, updated_at = ? WHERE class = ? AND id = ?",
  );
  const insertChange = db.prepare(
    `INSERT INTO changes (seq, op, class, id, before, after, vector, timestamp, timestamp_ms, tx_id, origin, metadata)
     VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, '{}')`,
  );

  // Known current state, so the plain writer never reads a row back.
  const current = new Map<string, { text: string; version: number }>();
  let seq = 0;
  let index = 0;
  const writeBatch = db.transaction((mutations: Mutation[]) => {
    const timestamp = new Date().toISOString();
    const timestampMs = Date.parse(timestamp);
    const txId = `bench-${index++}`;
    const origin = JSON.stringify({ plugin: "bench" });
    for (const mutation of mutations) {
      if (mutation.op === "delete") continue;
      const text = JSON.stringify(mutation.properties);
      const before = current.get(mutation.id);
      const op = before ? "UPDATE" : "INSERT";
      const version = before ? before.version + 1 : 1;
      if (before) {
        updateObject.run(text, version, timestamp, mutation.class, mutation.id);
      } else {
        insertObject.run(mutation.class, mutation.id, text, timestamp);
      }
      seq += 1;
      insertChange.run(
        seq,
        op,
        mutation.class,
        mutation.id,
        before?.text ?? null,
        text,
        timestamp,
        timestampMs,
        txId,
        origin,
      );
      current.set(mutation.id, { text, version });
    }
    return mutations.length;
  });
  return {
    write: async (mutations) => writeBatch(mutations),
    close: async () => db.close(),
  };
}

/**
 * Runs one round: both writers get the same batches, alternating batch by
 * batch, so load from other processes on the machine hits both alike.
 */
async function runRound(
  durability: Durability,
  batches: { seed: Mutation[][]; timed: Mutation[][] },
): Promise<{ store: Timing; plain: Timing }> {
  const dir = mkdtempSync(join(tmpdir(), "weft-bench-sqlite-"));
  const store = await openStoreWriter(dir, durability);
  const plain = openPlainWriter(dir, durability);
  const timings = {
    store: { seconds: 0, objects: 0 },
    plain: { seconds: 0, objects: 0 },
  };
  try {
    for (const mutations of batches.seed) {
      await store.write(mutations);
      await plain.write(mutations);
    }
    for (const [index, mutations] of batches.timed.entries()) {
      // Alternate which writer goes first, so neither always follows the other's fsync.
      const order =
        index % 2 === 0
          ? (["store", "plain"] as const)
          : (["plain", "store"] as const);
      for (const name of order) {
        const writer = name === "store" ? store : plain;
        const started = process.hrtime.bigint();
        const written = await writer.write(mutations);
        timings[name].seconds +=
          Number(process.hrtime.bigint() - started) / 1e9;
        timings[name].objects += written;
      }
    }
  } finally {
    await store.close();
    await plain.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const expected = batches.timed.length * BATCH_SIZE;
  if (timings.store.objects !== expected) {
    throw new Error(
      `store committed ${timings.store.objects} events, expected ${expected}`,
    );
  }
  return timings;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const batches = makeBatches();
const sample = JSON.stringify(batches.timed[0][0].properties).length;
console.log(
  `store-sqlite bench: ${timedBatches} timed batches of ${BATCH_SIZE} objects (half updates), ${seedObjects} seed objects, object JSON ~${sample} bytes, ${rounds} rounds, ${cpus().length} CPUs, Node ${process.version}`,
);

const rows: string[] = [];
for (const durability of ["normal", "full"] as const) {
  const storeRates: number[] = [];
  const plainRates: number[] = [];
  const ratios: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const load = loadavg()[0].toFixed(1);
    const timings = await runRound(durability, batches);
    const storeRate = timings.store.objects / timings.store.seconds;
    const plainRate = timings.plain.objects / timings.plain.seconds;
    storeRates.push(storeRate);
    plainRates.push(plainRate);
    ratios.push(storeRate / plainRate);
    console.log(
      `  ${durability} round ${round + 1} (load average ${load}): store ${Math.round(storeRate)} objects/s, plain ${Math.round(plainRate)} objects/s, ratio ${(storeRate / plainRate).toFixed(2)}`,
    );
  }
  rows.push(
    `| ${durability} | ${Math.round(median(storeRates))} | ${Math.round(median(plainRates))} | ${median(ratios).toFixed(2)} |`,
  );
}

console.log(
  "\nMedians over the rounds (the ratio is the median of the per-round ratios):",
);
console.log(
  "| durability | store objects/s | plain better-sqlite3 objects/s | store / plain |",
);
console.log("| --- | --- | --- | --- |");
for (const row of rows) console.log(row);
