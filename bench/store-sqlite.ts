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
 * The plain writer gets the store's checkpoint arrangement, so the ratio
 * compares the code and not the checkpoint placement. SQLite's automatic
 * checkpoint is off, and a worker thread runs `wal_checkpoint(PASSIVE)` on its
 * own connection after each batch. The writer checkpoints itself when the WAL
 * file exceeds 64 MiB (the store's default `wal.maxBytes`), and
 * `journal_size_limit` is the same size.
 *
 * A third writer is the same plain writer on a file in /dev/shm, a tmpfs
 * without disk I/O (`:memory:` where /dev/shm does not exist). It is the CPU
 * ceiling of SQLite for these rows on this machine, so its difference to the
 * plain writer on disk is what the disk costs.
 *
 * The writers alternate batch by batch on their own files, and each round
 * reports the load average, because other work on the machine moves the
 * absolute figures much more than the ratio. Each writer's main-thread CPU
 * time (Linux only) gives a second rate, objects per CPU second, which other
 * processes move much less; it leaves out the checkpoint threads.
 *
 * Run from the repository root (builds first):
 *   pnpm build && node --import=tsx bench/store-sqlite.ts [--batches 100] [--seed 20000] [--rounds 3]
 */
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
} from "node:fs";
import { createRequire } from "node:module";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Worker } from "node:worker_threads";
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

/** Elapsed wall-clock seconds and main-thread CPU seconds of the timed batches of one writer. */
interface Timing {
  seconds: number;
  cpuSeconds: number;
  objects: number;
}

/**
 * CPU time of the calling thread in seconds, from Linux's schedstat (in
 * nanoseconds); NaN elsewhere. Unlike process.cpuUsage() it leaves out the
 * checkpoint threads, and unlike wall-clock time it does not grow while other
 * processes hold the CPU.
 */
function threadCpuSeconds(): number {
  try {
    return (
      Number(
        readFileSync("/proc/thread-self/schedstat", "utf8").split(" ")[0],
      ) / 1e9
    );
  } catch {
    return Number.NaN;
  }
}

/** A writer that commits one batch of mutations per call. */
interface Writer {
  write(mutations: Mutation[]): Promise<number>;
  close(): Promise<void>;
}

async function openStoreWriter(
  dir: string,
  durability: Durability,
): Promise<Writer & { walCheckpoints(): Promise<string> }> {
  const store = createSqliteStore({
    path: join(dir, `store-${durability}.db`),
    durability,
  });
  const registry = new Registry();
  await store.open({
    classes: [productClass],
    logger: pino({ level: "silent" }),
    metrics: registry,
  });
  let index = 0;
  return {
    async write(mutations) {
      const result = await store.commit(commitBatch(mutations, index++));
      return result.events.length;
    },
    close: () => store.close(),
    /** Returns the store's WAL checkpoint counts so far, as `thread/result=n` pairs. */
    async walCheckpoints() {
      const metric = registry.getSingleMetric(
        "weft_store_sqlite_wal_checkpoints_total",
      );
      const values = (await metric?.get())?.values ?? [];
      return values
        .map(
          (value) =>
            `${value.labels.thread}/${value.labels.result}=${value.value}`,
        )
        .join(" ");
    },
  };
}

/** The store's default `wal.maxBytes`. */
const MAX_WAL_BYTES = 64 * 1024 * 1024;

/**
 * Checkpoint thread of the plain writers, the same arrangement as the store's.
 * It waits on a shared counter (slot 0) that the writer bumps after each batch
 * and runs a passive checkpoint. Slot 1 stops it, and slot 2 is set while the
 * writer checkpoints itself.
 */
const checkpointWorkerSource = `
const { workerData } = require("node:worker_threads");
const Database = require(workerData.module);
const control = new Int32Array(workerData.control);
const db = new Database(workerData.file);
db.pragma("synchronous = " + workerData.synchronous);
let seen = 0;
while (Atomics.load(control, 1) === 0) {
  const commits = Atomics.load(control, 0);
  if (commits === seen) { Atomics.wait(control, 0, commits); continue; }
  seen = commits;
  if (Atomics.load(control, 2) === 1) continue;
  db.pragma("wal_checkpoint(PASSIVE)");
}
db.close();
`;
const betterSqlite3Path = createRequire(import.meta.url).resolve(
  "better-sqlite3",
);

/** Starts the checkpoint thread of a plain writer; returns the call to make after each batch and the stop function. */
function startCheckpointer(
  db: Database.Database,
  file: string,
  synchronous: string,
): { afterBatch(): void; stop(): Promise<void> } {
  db.pragma("wal_autocheckpoint = 0");
  db.pragma(`journal_size_limit = ${MAX_WAL_BYTES}`);
  const control = new Int32Array(new SharedArrayBuffer(12));
  const worker = new Worker(checkpointWorkerSource, {
    eval: true,
    execArgv: [],
    workerData: {
      module: betterSqlite3Path,
      file,
      synchronous,
      control: control.buffer,
    },
  });
  const exited = new Promise((resolve) => worker.once("exit", resolve));
  return {
    afterBatch() {
      Atomics.add(control, 0, 1);
      Atomics.notify(control, 0);
      if (statSync(`${file}-wal`).size <= MAX_WAL_BYTES) return;
      Atomics.store(control, 2, 1);
      const [result] = db.pragma("wal_checkpoint(PASSIVE)") as Array<{
        busy: number;
      }>;
      if (result.busy === 0) Atomics.store(control, 2, 0);
    },
    async stop() {
      Atomics.store(control, 1, 1);
      Atomics.add(control, 0, 1);
      Atomics.notify(control, 0);
      await exited;
    },
  };
}

function openPlainWriter(file: string, durability: Durability): Writer {
  const db = new Database(file);
  const synchronous = durability === "full" ? "FULL" : "NORMAL";
  db.pragma("journal_mode = WAL");
  db.pragma(`synchronous = ${synchronous}`);
  db.exec(`
    CREATE TABLE objects (class TEXT NOT NULL, id TEXT NOT NULL, properties TEXT NOT NULL, vector BLOB,
      version INTEGER NOT NULL, updated_at TEXT NOT NULL, PRIMARY KEY (class, id));
    CREATE TABLE changes (seq INTEGER PRIMARY KEY, op TEXT NOT NULL, class TEXT NOT NULL, id TEXT NOT NULL,
      before TEXT, after TEXT, vector BLOB, timestamp TEXT NOT NULL, timestamp_ms INTEGER NOT NULL,
      tx_id TEXT NOT NULL, origin TEXT NOT NULL, metadata TEXT NOT NULL);
  `);
  // `:memory:` has no WAL, so there is nothing to checkpoint.
  const checkpointer =
    file === ":memory:" ? undefined : startCheckpointer(db, file, synchronous);
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
    async write(mutations) {
      const written = writeBatch(mutations);
      checkpointer?.afterBatch();
      return written;
    },
    async close() {
      await checkpointer?.stop();
      db.close();
    },
  };
}

const writerNames = ["store", "plain", "ceiling"] as const;
type WriterName = (typeof writerNames)[number];

/** Folder of the ceiling writer's file: tmpfs when the machine has it, else none, and the writer uses `:memory:`. */
const ceilingDir = existsSync("/dev/shm") ? "/dev/shm" : undefined;

/**
 * Runs one round: the writers get the same batches, in an order that rotates
 * batch by batch, so load from other processes on the machine hits all alike.
 */
async function runRound(
  durability: Durability,
  batches: { seed: Mutation[][]; timed: Mutation[][] },
): Promise<{ timings: Record<WriterName, Timing>; walCheckpoints: string }> {
  const dir = mkdtempSync(join(tmpdir(), "weft-bench-sqlite-"));
  const shmDir = ceilingDir
    ? mkdtempSync(join(ceilingDir, "weft-bench-sqlite-"))
    : undefined;
  const store = await openStoreWriter(dir, durability);
  const writers: Record<WriterName, Writer> = {
    store,
    plain: openPlainWriter(join(dir, `plain-${durability}.db`), durability),
    ceiling: openPlainWriter(
      shmDir ? join(shmDir, `ceiling-${durability}.db`) : ":memory:",
      durability,
    ),
  };
  const timings: Record<WriterName, Timing> = {
    store: { seconds: 0, cpuSeconds: 0, objects: 0 },
    plain: { seconds: 0, cpuSeconds: 0, objects: 0 },
    ceiling: { seconds: 0, cpuSeconds: 0, objects: 0 },
  };
  let walCheckpoints = "";
  try {
    for (const mutations of batches.seed) {
      for (const name of writerNames) await writers[name].write(mutations);
    }
    for (const [index, mutations] of batches.timed.entries()) {
      // Rotate which writer goes first, so none always follows another's fsync.
      for (let i = 0; i < writerNames.length; i++) {
        const name = writerNames[(index + i) % writerNames.length];
        const started = process.hrtime.bigint();
        const cpuStarted = threadCpuSeconds();
        const written = await writers[name].write(mutations);
        timings[name].cpuSeconds += threadCpuSeconds() - cpuStarted;
        timings[name].seconds +=
          Number(process.hrtime.bigint() - started) / 1e9;
        timings[name].objects += written;
      }
    }
    walCheckpoints = await store.walCheckpoints();
  } finally {
    for (const name of writerNames) await writers[name].close();
    rmSync(dir, { recursive: true, force: true });
    if (shmDir) rmSync(shmDir, { recursive: true, force: true });
  }
  const expected = batches.timed.length * BATCH_SIZE;
  if (timings.store.objects !== expected) {
    throw new Error(
      `store committed ${timings.store.objects} events, expected ${expected}`,
    );
  }
  return { timings, walCheckpoints };
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
const cpuRows: string[] = [];
for (const durability of ["normal", "full"] as const) {
  const rates: Record<WriterName, number[]> = {
    store: [],
    plain: [],
    ceiling: [],
  };
  const cpuRates: Record<WriterName, number[]> = {
    store: [],
    plain: [],
    ceiling: [],
  };
  const ratios: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const load = loadavg()[0].toFixed(1);
    const { timings, walCheckpoints } = await runRound(durability, batches);
    for (const name of writerNames) {
      rates[name].push(timings[name].objects / timings[name].seconds);
      cpuRates[name].push(timings[name].objects / timings[name].cpuSeconds);
    }
    const [store, plain, ceiling] = writerNames.map((name) =>
      Math.round(rates[name][round]),
    );
    const [storeCpu, plainCpu, ceilingCpu] = writerNames.map((name) =>
      Math.round(cpuRates[name][round]),
    );
    ratios.push(store / plain);
    console.log(
      `  ${durability} round ${round + 1} (load average ${load}): store ${store} objects/s, plain ${plain} objects/s, ratio ${(store / plain).toFixed(2)}, ceiling (plain on ${ceilingDir ?? ":memory:"}) ${ceiling} objects/s`,
    );
    console.log(
      `    per main-thread CPU second: store ${storeCpu}, plain ${plainCpu}, ceiling ${ceilingCpu}; store WAL checkpoints: ${walCheckpoints}`,
    );
  }
  rows.push(
    `| ${durability} | ${Math.round(median(rates.store))} | ${Math.round(median(rates.plain))} | ${median(ratios).toFixed(2)} | ${Math.round(median(rates.ceiling))} |`,
  );
  cpuRows.push(
    `| ${durability} | ${Math.round(median(cpuRates.store))} | ${Math.round(median(cpuRates.plain))} | ${Math.round(median(cpuRates.ceiling))} |`,
  );
}

console.log(
  "\nMedians over the rounds (the ratio is the median of the per-round ratios):",
);
console.log(
  "| durability | store objects/s | plain better-sqlite3 objects/s | store / plain | CPU ceiling: plain on tmpfs objects/s |",
);
console.log("| --- | --- | --- | --- | --- |");
for (const row of rows) console.log(row);
console.log(
  "\nObjects per second of main-thread CPU time (checkpoint threads not counted), medians:",
);
console.log("| durability | store | plain | plain on tmpfs |");
console.log("| --- | --- | --- | --- |");
for (const row of cpuRows) console.log(row);
