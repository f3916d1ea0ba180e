/**
 * Write throughput of @weft/store-sqlite against plain better-sqlite3.
 *
 * Each timed batch holds 1000 objects of about 1 KB: 500 inserts of new ids
 * and 500 updates of objects written earlier. The store commits them through
 * `Store.commit`. The plain writer uses prepared statements to write the same
 * rows (the objects and one change-log row per object, with the before image
 * of every update) in one transaction per batch. It takes the before images
 * from an in-memory map instead of reading them, so it is an upper bound for
 * a writer of the same tables. Both serialise properties with JSON.stringify
 * inside the timed section.
 *
 * Run from the repository root (builds first):
 *   pnpm build && node --import=tsx bench/store-sqlite.ts [--batches 100] [--seed 20000] [--rounds 3]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir, cpus } from "node:os";
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

const words = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore".split(" ");

/** Deterministic pseudo-random numbers, so every run writes the same data. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** About 1 KB of JSON once serialised. */
function productProperties(next: () => number, revision: number): Record<string, unknown> {
  const description: string[] = [];
  while (description.join(" ").length < 860) description.push(words[Math.floor(next() * words.length)]);
  return {
    name: `product ${Math.floor(next() * 1e9)}`,
    category: ["Electronics", "Books", "Garden", "Toys"][Math.floor(next() * 4)],
    price: Math.round(next() * 100_000) / 100,
    stock: revision,
    tags: ["a", "b", "c"].slice(0, 1 + Math.floor(next() * 3)),
    description: description.join(" "),
  };
}

function objectId(index: number): string {
  return `00000000-0000-4000-8000-${index.toString(16).padStart(12, "0")}`;
}

/** The batches of one run: seed batches of inserts, then timed batches with half inserts and half updates. */
function makeBatches(): { seed: Mutation[][]; timed: Mutation[][] } {
  const next = random(42);
  const seed: Mutation[][] = [];
  let created = 0;
  while (created < seedObjects) {
    const mutations: Mutation[] = [];
    for (let i = 0; i < BATCH_SIZE && created < seedObjects; i++, created++) {
      mutations.push({ op: "upsert", class: "Product", id: objectId(created), properties: productProperties(next, 0) });
    }
    seed.push(mutations);
  }

  const timed: Mutation[][] = [];
  for (let b = 0; b < timedBatches; b++) {
    const mutations: Mutation[] = [];
    for (let i = 0; i < BATCH_SIZE / 2; i++) {
      mutations.push({ op: "upsert", class: "Product", id: objectId(created++), properties: productProperties(next, 0) });
      // Distinct existing ids within one batch, so every update changes a different object.
      const existing = Math.floor((i + next()) * (created / (BATCH_SIZE / 2))) % created;
      mutations.push({ op: "upsert", class: "Product", id: objectId(existing), properties: productProperties(next, b + 1) });
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

async function runStore(dir: string, durability: Durability, batches: { seed: Mutation[][]; timed: Mutation[][] }): Promise<number> {
  const store = createSqliteStore({ path: join(dir, `store-${durability}.db`), durability });
  await store.open({ classes: [productClass], logger: pino({ level: "silent" }), metrics: new Registry() });
  let index = 0;
  for (const mutations of batches.seed) await store.commit(commitBatch(mutations, index++));

  const started = process.hrtime.bigint();
  let written = 0;
  for (const mutations of batches.timed) {
    const result = await store.commit(commitBatch(mutations, index++));
    written += result.events.length;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await store.close();
  if (written !== batches.timed.length * BATCH_SIZE) throw new Error(`store wrote ${written} events, expected ${batches.timed.length * BATCH_SIZE}`);
  return written / seconds;
}

function runPlain(dir: string, durability: Durability, batches: { seed: Mutation[][]; timed: Mutation[][] }): number {
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
  const updateObject = db.prepare("UPDATE objects SET properties = ?, version = ?, updated_at = ? WHERE class = ? AND id = ?");
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
      if (before) {
        updateObject.run(text, before.version + 1, timestamp, mutation.class, mutation.id);
        insertChange.run(++seq, "UPDATE", mutation.class, mutation.id, before.text, text, timestamp, timestampMs, txId, origin);
        current.set(mutation.id, { text, version: before.version + 1 });
      } else {
        insertObject.run(mutation.class, mutation.id, text, timestamp);
        insertChange.run(++seq, "INSERT", mutation.class, mutation.id, null, text, timestamp, timestampMs, txId, origin);
        current.set(mutation.id, { text, version: 1 });
      }
    }
  });

  for (const mutations of batches.seed) writeBatch(mutations);
  const started = process.hrtime.bigint();
  for (const mutations of batches.timed) writeBatch(mutations);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  db.close();
  return (batches.timed.length * BATCH_SIZE) / seconds;
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
  for (let round = 0; round < rounds; round++) {
    const dir = mkdtempSync(join(tmpdir(), "weft-bench-sqlite-"));
    try {
      storeRates.push(await runStore(dir, durability, batches));
      plainRates.push(runPlain(dir, durability, batches));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    console.log(
      `  ${durability} round ${round + 1}: store ${Math.round(storeRates[round])} objects/s, plain ${Math.round(plainRates[round])} objects/s`,
    );
  }
  const store = median(storeRates);
  const plain = median(plainRates);
  rows.push(`| ${durability} | ${Math.round(store)} | ${Math.round(plain)} | ${(store / plain).toFixed(2)} |`);
}

console.log("\n| durability | store objects/s | plain better-sqlite3 objects/s | store / plain |");
console.log("| --- | --- | --- | --- |");
for (const row of rows) console.log(row);
