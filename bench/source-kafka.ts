/**
 * Ingest rate of @weft/source-kafka against a raw kafkajs consumer.
 *
 * Produces 200,000 JSON messages of about 1 KB, keyed by a unique id, into a
 * topic with 8 partitions. Then each round reads the whole topic with a new
 * consumer group, three ways:
 *
 * - baseline: a kafkajs consumer whose `eachBatch` only runs `JSON.parse` on
 *   each value (no writes, no offset commits beyond kafkajs's defaults);
 * - the source into the memory store, through `host.write` with validation;
 * - the source into @weft/store-sqlite (durability full: one fsync per batch).
 *
 * Each rate is messages divided by the time from starting the consumer to
 * the last message processed, so group join time is in all three. The
 * machine is shared, so each phase also reports the CPU time this process
 * used per message (user plus system, all threads), which other work on the
 * machine changes much less. The broker's own CPU time is not in it.
 *
 * A fourth phase, the SQLite ceiling, reads no Kafka. It writes the objects
 * the source would write (the same JSON values, parsed, with the same ids)
 * with plain better-sqlite3 into a file with the store's `objects` and
 * `changes` tables. Each object gets one row in each table, and each batch of
 * the source's default batch size is one transaction. The file uses WAL and
 * synchronous FULL, as the store does with durability full. Only the
 * transactions are timed, `JSON.stringify` of the properties included.
 * The store does more per object (it reads the current row first) and per
 * batch (positions, the last seq, retention), and it checkpoints the WAL
 * from a worker thread, where this phase runs no checkpoint at all. So this
 * rate is an upper bound for store-sqlite on this machine's disk.
 *
 * Run from the repository root (builds first). It starts a private broker,
 * or uses KAFKA_BROKERS when set:
 *   pnpm build && node --import=tsx bench/source-kafka.ts [--messages 200000] [--rounds 1]
 *
 * For profiling one phase against a broker that keeps running: produce once
 * with `--keep-topic`, then read that topic again with `--topic NAME` and
 * `--phases memory` (any of raw, memory, sqlite, ceiling), for example under
 * `node --cpu-prof`. `--messages` must match the topic's message count.
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  Host,
  MemoryStore,
  Type,
  definePlugin,
  toObjectIdFromBytes,
  type ClassDefinition,
  type Plugin,
} from "@weft/core";
import sourceKafka, { ConsumerSchema } from "@weft/source-kafka";
import sqliteStore from "@weft/store-sqlite";
// The schema steps are internal to the store, so the ceiling phase reads them from its build.
import { migrations as storeMigrations } from "../packages/store-sqlite/dist/schema.js";
import {
  brokers as sharedBrokers,
  createTopic,
  startBroker,
  uniqueTopic,
  type Broker,
} from "@weft/testkit";
import Database from "better-sqlite3";
import kafkajs from "kafkajs";
import { pino } from "pino";

const PARTITIONS = 8;

const { values: args } = parseArgs({
  options: {
    messages: { type: "string", default: "200000" },
    rounds: { type: "string", default: "1" },
    // Comma-separated subset of raw, memory, sqlite, ceiling, e.g. for a CPU profile of one phase.
    phases: { type: "string", default: "raw,memory,sqlite,ceiling" },
    // An existing topic that already has the messages (from --keep-topic), so a run skips producing.
    topic: { type: "string" },
    "keep-topic": { type: "boolean", default: false },
  },
});
const total = Number(args.messages);
const rounds = Number(args.rounds);
const phases = new Set(args.phases.split(","));

const productClass: ClassDefinition = {
  name: "Product",
  properties: [
    { name: "sku", type: "text" },
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

/** Returns the message value of index `i`: about 1 KB of JSON, the same in every run. */
function value(i: number): string {
  const description = Array.from(
    { length: 140 },
    (_, w) => words[(i + w * 7) % words.length],
  ).join(" ");
  return JSON.stringify({
    sku: `sku-${i}`,
    name: `Product ${i}`,
    category: words[i % words.length],
    price: (i % 1000) / 10,
    stock: i % 500,
    tags: [words[i % 5], words[(i + 3) % 7]],
    description: description.slice(0, 850),
  });
}

/** KAFKA_BROKERS when set; otherwise a private broker, so other test runs on the shared one cannot stop or slow it. */
async function resolveBrokers(): Promise<{ list: string[]; broker?: Broker }> {
  if (process.env.KAFKA_BROKERS) return { list: await sharedBrokers() };
  const broker = await startBroker({ heapMb: 1024 });
  return { list: broker.brokers, broker };
}

async function produceAll(
  kafka: kafkajs.Kafka,
  topic: string,
): Promise<number> {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  let bytes = 0;
  const chunk = 2000;
  for (let start = 0; start < total; start += chunk) {
    const messages = Array.from(
      { length: Math.min(chunk, total - start) },
      (_, offset) => {
        const text = value(start + offset);
        bytes += text.length;
        return { key: `sku-${start + offset}`, value: text };
      },
    );
    await producer.send({ topic, acks: -1, messages });
  }
  await producer.disconnect();
  return bytes / total;
}

/** Wall-clock and CPU time of one phase, in ms. */
interface Timing {
  wallMs: number;
  cpuMs: number;
}

function cpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

/** Reads the topic with a raw kafkajs consumer that only parses each value. */
async function baseline(kafka: kafkajs.Kafka, topic: string): Promise<Timing> {
  const consumer = kafka.consumer({
    groupId: uniqueTopic("bench-raw"),
    maxWaitTimeInMs: 1000,
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });

  let seen = 0;
  let parsedFields = 0;
  const started = performance.now();
  const startedCpu = cpuMs();
  const done = new Promise<Timing>((resolve) => {
    void consumer.run({
      eachBatch: async ({ batch }) => {
        for (const message of batch.messages) {
          parsedFields += Object.keys(
            JSON.parse(message.value!.toString("utf8")) as object,
          ).length;
          seen += 1;
        }
        if (seen >= total)
          resolve({
            wallMs: performance.now() - started,
            cpuMs: cpuMs() - startedCpu,
          });
      },
    });
  });
  const elapsed = await done;
  await consumer.disconnect();
  if (parsedFields === 0) throw new Error("baseline parsed nothing");
  return elapsed;
}

/** Reads the topic with the source into a host with the given store; resolves when every message is committed. */
async function source(
  brokerList: string[],
  topic: string,
  store: { plugin: Plugin; config: Record<string, unknown> },
): Promise<Timing> {
  const host = new Host({
    classes: [productClass],
    server: false,
    logger: pino({ level: "warn" }),
    processMetrics: false,
  });
  await host.register(store.plugin, store.config);

  let written = 0;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const counter = definePlugin({
    name: "bench-counter",
    version: "1.0.0",
    configSchema: Type.Object({}),
    register(view) {
      view.hooks.afterWrite.tap("bench-counter", (events) => {
        written += events.length;
        if (written >= total) finish();
      });
    },
  }) as unknown as Plugin;
  await host.register(counter, {});
  await host.register(sourceKafka as unknown as Plugin, {
    brokers: brokerList,
    consumers: [
      {
        topics: [topic],
        groupId: uniqueTopic("bench-source"),
        class: "Product",
        fromBeginning: true,
      },
    ],
  });

  const started = performance.now();
  const startedCpu = cpuMs();
  await host.start();
  await finished;
  const timing = {
    wallMs: performance.now() - started,
    cpuMs: cpuMs() - startedCpu,
  };
  await host.stop();
  return timing;
}

/** The source's default `batchSize`: the ceiling phase commits this many objects per transaction. */
const SOURCE_BATCH_SIZE = ConsumerSchema.properties.batchSize.default as number;

/** Returns the objects the source writes for messages `start` to `end - 1`: parsed values with the ids of their keys. */
function parsedObjects(
  start: number,
  end: number,
): Array<{ id: string; properties: Record<string, unknown> }> {
  const objects = [];
  for (let i = start; i < end; i++) {
    objects.push({
      id: toObjectIdFromBytes(Buffer.from(`sku-${i}`)),
      properties: JSON.parse(value(i)) as Record<string, unknown>,
    });
  }
  return objects;
}

/**
 * Writes every object with plain better-sqlite3 into a new file and times
 * only the transactions. See the file header for what the phase leaves out.
 */
function sqliteCeiling(file: string): Timing {
  const db = new Database(file);
  try {
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = FULL");
    // The store checkpoints from a worker thread, so here no checkpoint runs at all and none is timed.
    db.pragma("wal_autocheckpoint = 0");
    // The store's first schema step creates its objects and changes tables (and empty others), without indexes.
    storeMigrations[0].up(db);
    const insertObject = db.prepare(
      "INSERT INTO objects (class, id, properties, vector, version, updated_at) VALUES (?, ?, ?, NULL, 1, ?)",
    );
    const insertChange = db.prepare(
      `INSERT INTO changes (seq, op, class, id, before, after, vector, timestamp, timestamp_ms, tx_id, origin, metadata)
       VALUES (?, 'INSERT', ?, ?, NULL, ?, NULL, ?, ?, ?, ?, ?)`,
    );
    const origin = JSON.stringify({ plugin: "@weft/source-kafka" });
    let seq = 0;
    const writeBatch = db.transaction(
      (objects: ReturnType<typeof parsedObjects>) => {
        const timestamp = new Date().toISOString();
        const timestampMs = Date.parse(timestamp);
        const txId = randomUUID();
        for (const object of objects) {
          const properties = JSON.stringify(object.properties);
          insertObject.run(productClass.name, object.id, properties, timestamp);
          seq += 1;
          insertChange.run(
            seq,
            productClass.name,
            object.id,
            properties,
            timestamp,
            timestampMs,
            txId,
            origin,
            "{}",
          );
        }
      },
    );

    const timing: Timing = { wallMs: 0, cpuMs: 0 };
    for (let start = 0; start < total; start += SOURCE_BATCH_SIZE) {
      const objects = parsedObjects(
        start,
        Math.min(total, start + SOURCE_BATCH_SIZE),
      );
      const started = performance.now();
      const startedCpu = cpuMs();
      writeBatch.immediate(objects);
      timing.wallMs += performance.now() - started;
      timing.cpuMs += cpuMs() - startedCpu;
    }
    return timing;
  } finally {
    db.close();
  }
}

function memoryStore(): { plugin: Plugin; config: Record<string, unknown> } {
  const plugin = definePlugin({
    name: "bench-memory",
    version: "1.0.0",
    configSchema: Type.Object({}),
    // A short change log keeps memory flat; retention trimming is part of the commit cost.
    register: (view) =>
      view.provideStore(
        new MemoryStore({ retention: { maxRows: 10_000, force: false } }),
      ),
  }) as unknown as Plugin;
  return { plugin, config: {} };
}

const format = (n: number) => Math.round(n).toLocaleString("en-US");

function report(
  label: string,
  timing: Timing,
  base?: Timing,
  target?: string,
): void {
  const wall = total / (timing.wallMs / 1000);
  const cpuMicros = (timing.cpuMs * 1000) / total;
  const ratios = base
    ? ` | ${(wall / (total / (base.wallMs / 1000))).toFixed(2)} / ${((base.cpuMs * 1000) / total / cpuMicros).toFixed(2)} of baseline`
    : "";
  console.log(
    `  ${label.padEnd(46)} ${format(wall).padStart(8)} msg/s wall, ${cpuMicros.toFixed(1).padStart(5)} µs CPU/msg${ratios}${target ? ` (target ${target})` : ""}`,
  );
}

const { list: brokerList, broker } = await resolveBrokers();
const kafka = new kafkajs.Kafka({
  clientId: "weft-bench",
  brokers: brokerList,
  logLevel: kafkajs.logLevel.NOTHING,
});
const machine = `${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.versions.node}`;
const topic = args.topic ?? uniqueTopic("bench-source-kafka");
if (args.topic) {
  console.log(`reading the existing topic ${topic} (${machine})`);
} else {
  await createTopic(brokerList, topic, { partitions: PARTITIONS });
  const produceStarted = performance.now();
  const averageBytes = await produceAll(kafka, topic);
  console.log(
    `produced ${format(total)} messages of ${Math.round(averageBytes)} bytes into ${PARTITIONS} partitions of ${topic} in ${((performance.now() - produceStarted) / 1000).toFixed(1)} s (${machine})`,
  );
}

const dir = mkdtempSync(join(tmpdir(), "weft-bench-source-kafka-"));
try {
  for (let round = 1; round <= rounds; round++) {
    const raw = phases.has("raw") ? await baseline(kafka, topic) : undefined;
    const memory = phases.has("memory")
      ? await source(brokerList, topic, memoryStore())
      : undefined;
    const sqlite = phases.has("sqlite")
      ? await source(brokerList, topic, {
          plugin: sqliteStore as unknown as Plugin,
          config: { path: join(dir, `round-${round}.db`) },
        })
      : undefined;
    const ceiling = phases.has("ceiling")
      ? sqliteCeiling(join(dir, `ceiling-${round}.db`))
      : undefined;
    console.log(`round ${round}`);
    if (raw) report("raw kafkajs eachBatch + JSON.parse (baseline)", raw);
    if (memory)
      report(
        "source into the memory store",
        memory,
        raw,
        ">= 50,000 msg/s and >= 0.5 of baseline",
      );
    if (sqlite)
      report("source into store-sqlite", sqlite, raw, ">= 25,000 msg/s");
    if (ceiling)
      report("sqlite ceiling: plain better-sqlite3, no Kafka", ceiling);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
  if (!args.topic && !args["keep-topic"]) {
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  }
  await broker?.close();
}
