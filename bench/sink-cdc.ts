/**
 * Publish rate and lag of @weft/sink-cdc.
 *
 * Part 1, publish rate: commits 200,000 inserts (one class, 8 properties) to
 * a memory store. Then a host starts whose sink publishes them from an empty
 * checkpoint in the Debezium format, in batches of 1000: payload only by
 * default, or with Kafka Connect schemas with `--schemas true`. The rate is
 * events divided by the time from host start to the checkpoint passing the last
 * event, so producer connect is included. Baseline in the same run: a raw
 * kafkajs producer with the sink's producer settings (idempotent, one
 * request in flight, acks -1) sending the same messages, pre-built with the
 * sink's encoder and split the same way, one produce call after the other.
 * Both topics are created beforehand with one partition, and the rounds
 * alternate which of the two runs first.
 *
 * Part 2, lag under load: a host with @weft/store-sqlite (durability full)
 * takes paced writes at 20,000 objects/s for 20 s with the sink on, in
 * batches of 500 upserts over 50,000 ids. The sink's lag in events and in
 * time is sampled every 250 ms. Baseline: the same load on a host without
 * the sink, for the write rate and write latency it reaches.
 *
 * Run from the repository root (builds first). It starts a private broker,
 * or uses KAFKA_BROKERS when set:
 *   pnpm build && node --import=tsx bench/sink-cdc.ts [--events 200000] [--rate 20000] [--seconds 20] [--rounds 1] [--part 1|2] [--schemas true]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import {
  Host,
  MemoryStore,
  Type,
  checkConfig,
  definePlugin,
  formatProblems,
  type ClassDefinition,
  type ConfigProblem,
  type Plugin,
  type Store,
  type TSchema,
} from "@weft/core";
import cdcSink, {
  createEncoder,
  createTopicRouter,
  messageBytes,
  type CdcSinkConfig,
} from "@weft/sink-cdc";
import sqliteStore from "@weft/store-sqlite";
import {
  brokers as sharedBrokers,
  createTopic,
  startBroker,
  uniqueTopic,
  type Broker,
} from "@weft/testkit";
import kafkajs, { type Message } from "kafkajs";
import { pino } from "pino";

const { Kafka, Partitioners, logLevel } = kafkajs;

const { values: args } = parseArgs({
  options: {
    events: { type: "string", default: "200000" },
    rate: { type: "string", default: "20000" },
    seconds: { type: "string", default: "20" },
    rounds: { type: "string", default: "1" },
    part: { type: "string", default: "all" },
    schemas: { type: "string", default: "false" },
  },
});
const totalEvents = Number(args.events);
const targetRate = Number(args.rate);
const loadSeconds = Number(args.seconds);
const rounds = Number(args.rounds);
const parts = args.part === "all" ? ["1", "2"] : [args.part];
const schemas = args.schemas !== "false";
const BATCH = 1000;
/** The sink's default maxBatchBytes. */
const MAX_BATCH_BYTES = 1_000_000;
const WRITE_BATCH = 500;
const IDS = 50_000;

const productClass: ClassDefinition = {
  name: "Product",
  properties: [
    { name: "sku", type: "text" },
    { name: "name", type: "text" },
    { name: "category", type: "text" },
    { name: "price", type: "number" },
    { name: "stock", type: "int" },
    { name: "tags", type: "text[]" },
    { name: "active", type: "boolean" },
    { name: "released", type: "date" },
  ],
};

function properties(i: number, round: number) {
  return {
    sku: `sku-${i}`,
    name: `Product ${i} rev ${round}`,
    category: ["home", "office", "garden", "kitchen"][i % 4],
    price: (i % 997) + round / 100,
    stock: (i * 7 + round) % 500,
    tags: ["a", "b", `t${i % 13}`],
    active: (i + round) % 2 === 0,
    released: "2024-05-01T12:00:00Z",
  };
}

const logger = pino({ level: process.env.WEFT_LOG_LEVEL ?? "warn" });

function checked(
  schema: TSchema,
  config: Record<string, unknown>,
  path: string,
): Record<string, unknown> {
  const problems: ConfigProblem[] = [];
  const value = checkConfig<Record<string, unknown>>(
    schema,
    config,
    path,
    problems,
  );
  if (problems.length > 0) throw new Error(formatProblems(problems));
  return value;
}

function storePlugin(store: Store): Plugin {
  return definePlugin({
    name: "bench-store",
    version: "1.0.0",
    configSchema: Type.Object({}),
    register(host) {
      host.provideStore(store);
    },
  });
}

function sinkDetails(host: Host): {
  nextSeq?: number;
  lagSeq?: number;
  lagMs?: number;
} {
  return (host.readiness.toJSON()["@weft/sink-cdc"]?.details ?? {}) as {
    nextSeq?: number;
    lagSeq?: number;
    lagMs?: number;
  };
}

async function untilCaughtUp(host: Host, lastSeq: number): Promise<void> {
  while ((sinkDetails(host).nextSeq ?? 0) <= lastSeq) await sleep(5);
}

function sinkConfig(brokers: string[], topic: string): Record<string, unknown> {
  return checked(
    cdcSink.configSchema,
    { brokers, topic, snapshot: "never", maxBatch: BATCH, schemas },
    "plugins[0]",
  );
}

// ---------------------------------------------------------------- part 1

/** A rate by wall-clock time, and by CPU time of this process, which other work on the machine does not change. */
interface Measured {
  rate: number;
  perCpuSecond: number;
}

/** Returns the user plus system CPU seconds of this process since `start`. */
function cpuSeconds(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
}

async function loadStore(): Promise<MemoryStore> {
  const store = new MemoryStore({ retention: { maxRows: totalEvents + 1000 } });
  const host = new Host({
    classes: [productClass],
    server: false,
    logger,
    processMetrics: false,
  });
  await host.register(storePlugin(store), {});
  await host.start();
  for (let start = 0; start < totalEvents; start += WRITE_BATCH) {
    const size = Math.min(WRITE_BATCH, totalEvents - start);
    await host.write(
      Array.from({ length: size }, (_, offset) => ({
        op: "upsert" as const,
        class: "Product",
        id: `p-${start + offset}`,
        properties: properties(start + offset, 0),
      })),
    );
  }
  await host.stop();
  return store;
}

async function sinkRun(
  store: MemoryStore,
  brokers: string[],
): Promise<Measured & { firstAckMs: number }> {
  const topic = uniqueTopic("bench-cdc-sink");
  await createTopic(brokers, topic);
  const host = new Host({
    classes: [productClass],
    server: false,
    logger,
    processMetrics: false,
  });
  await host.register(storePlugin(store), {});
  await host.register(cdcSink, sinkConfig(brokers, topic), {
    configPath: "plugins[0]",
  });
  // Each run starts from an empty checkpoint, as a first start would.
  await store.stateDelete("@weft/sink-cdc", "checkpoint");

  const started = performance.now();
  const cpuStarted = process.cpuUsage();
  await host.start();
  await untilCaughtUp(host, 1);
  const firstAckMs = performance.now() - started;
  await untilCaughtUp(host, totalEvents);
  const seconds = (performance.now() - started) / 1000;
  const cpu = cpuSeconds(cpuStarted);
  await host.stop();
  return {
    rate: totalEvents / seconds,
    perCpuSecond: totalEvents / cpu,
    firstAckMs,
  };
}

async function prebuiltMessages(
  store: MemoryStore,
  brokers: string[],
): Promise<Message[]> {
  const config = sinkConfig(brokers, "unused") as CdcSinkConfig;
  const classes = new Map([[productClass.name, productClass]]);
  const encoder = createEncoder(config, {
    classes,
    topicFor: createTopicRouter("prebuilt", classes.keys(), "bench"),
    version: "0.1.0",
  });
  const events = await store.readChanges(1, totalEvents);
  const processedAtUs = Date.now() * 1000;
  return events.map((event) => {
    const message = encoder.change(event, undefined, processedAtUs);
    return { key: message.key, value: message.value, headers: message.headers };
  });
}

/** Splits messages as the sink does: at most BATCH messages and MAX_BATCH_BYTES per produce call. */
function chunk(messages: Message[]): Message[][] {
  const chunks: Message[][] = [];
  for (let start = 0; start < messages.length; start += BATCH) {
    let current: Message[] = [];
    let bytes = 0;
    for (const message of messages.slice(start, start + BATCH)) {
      const size = messageBytes(
        message as {
          key: string;
          value: string;
          headers: Record<string, string>;
        },
      );
      if (bytes + size > MAX_BATCH_BYTES && current.length > 0) {
        chunks.push(current);
        current = [];
        bytes = 0;
      }
      current.push(message);
      bytes += size;
    }
    chunks.push(current);
  }
  return chunks;
}

async function rawRun(
  messages: Message[],
  brokers: string[],
): Promise<Measured> {
  const topic = uniqueTopic("bench-cdc-raw");
  await createTopic(brokers, topic);
  const chunks = chunk(messages);
  const kafka = new Kafka({
    clientId: "bench-raw",
    brokers,
    logLevel: logLevel.NOTHING,
  });
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });

  const started = performance.now();
  const cpuStarted = process.cpuUsage();
  await producer.connect();
  for (const messagesOfCall of chunks) {
    await producer.sendBatch({
      topicMessages: [{ topic, messages: messagesOfCall }],
      acks: -1,
    });
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = cpuSeconds(cpuStarted);
  await producer.disconnect();
  return {
    rate: messages.length / seconds,
    perCpuSecond: messages.length / cpu,
  };
}

// ---------------------------------------------------------------- part 2

interface LoadResult {
  writesPerSecond: number;
  writeP99Ms: number;
  lag?: {
    maxEvents: number;
    p95Events: number;
    maxMs: number;
    p95Ms: number;
    catchUpMs: number;
    published: number;
  };
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[
    Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))
  ];
}

async function loadRun(
  brokers: string[],
  withSink: boolean,
): Promise<LoadResult> {
  const dir = mkdtempSync(join(tmpdir(), "weft-bench-cdc-"));
  try {
    const host = new Host({
      classes: [productClass],
      server: false,
      logger,
      processMetrics: false,
    });
    await host.register(
      sqliteStore,
      checked(
        sqliteStore.configSchema,
        { path: join(dir, "weft.db") },
        "store",
      ),
      { configPath: "store" },
    );
    const topic = uniqueTopic("bench-cdc-load");
    if (withSink) {
      await createTopic(brokers, topic);
      await host.register(cdcSink, sinkConfig(brokers, topic), {
        configPath: "plugins[0]",
      });
    }
    await host.start();

    const lagEvents: number[] = [];
    const lagMs: number[] = [];
    const sampler = setInterval(() => {
      const details = sinkDetails(host);
      lagEvents.push(details.lagSeq ?? 0);
      lagMs.push(details.lagMs ?? 0);
    }, 250);

    const latencies: number[] = [];
    const intervalMs = (WRITE_BATCH / targetRate) * 1000;
    const batches = Math.round((targetRate * loadSeconds) / WRITE_BATCH);
    const started = performance.now();
    for (let i = 0; i < batches; i++) {
      const due = started + i * intervalMs;
      const wait = due - performance.now();
      // Behind schedule, still yield once: HTTP and Kafka sources write from I/O callbacks, and a writer that only
      // chains promises would starve the sink's sockets of event-loop turns.
      if (wait > 1) await sleep(wait);
      else await new Promise((resolve) => setImmediate(resolve));
      const requests = Array.from({ length: WRITE_BATCH }, (_, offset) => {
        const n = i * WRITE_BATCH + offset;
        return {
          op: "upsert" as const,
          class: "Product",
          id: `p-${n % IDS}`,
          properties: properties(n % IDS, Math.floor(n / IDS) + 1),
        };
      });
      const writeStarted = performance.now();
      await host.write(requests);
      latencies.push(performance.now() - writeStarted);
    }
    const writeSeconds = (performance.now() - started) / 1000;
    const result: LoadResult = {
      writesPerSecond: (batches * WRITE_BATCH) / writeSeconds,
      writeP99Ms: percentile(latencies, 99),
    };

    if (withSink) {
      const lastSeq = host.changes.lastSeq();
      const catchUpStarted = performance.now();
      await untilCaughtUp(host, lastSeq);
      result.lag = {
        maxEvents: Math.max(...lagEvents),
        p95Events: percentile(lagEvents, 95),
        maxMs: Math.max(...lagMs),
        p95Ms: percentile(lagMs, 95),
        catchUpMs: performance.now() - catchUpStarted,
        published: lastSeq,
      };
    }
    clearInterval(sampler);
    await host.stop();
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- main

/** Uses KAFKA_BROKERS when set; otherwise a private broker, so other runs on the shared broker do not skew the figures. */
async function connect(): Promise<{ brokers: string[]; broker?: Broker }> {
  if (process.env.KAFKA_BROKERS) return { brokers: await sharedBrokers() };
  const broker = await startBroker({ heapMb: 512 });
  return { brokers: broker.brokers, broker };
}

const round1 = (value: number) => Math.round(value * 10) / 10;

const { brokers, broker } = await connect();
try {
  console.log(
    `machine: ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}; brokers ${brokers.join(",")}`,
  );
  if (parts.includes("1")) await publishRate();
  if (parts.includes("2")) await lagUnderLoad();
} finally {
  await broker?.close();
}

async function publishRate(): Promise<void> {
  console.log(
    `\npart 1: publish rate for ${totalEvents} changes (debezium, schemas ${schemas}, batches of ${BATCH})`,
  );
  const store = await loadStore();
  const messages = await prebuiltMessages(store, brokers);
  const bytes = messages.reduce(
    (sum, message) =>
      sum +
      Buffer.byteLength(message.value as string) +
      Buffer.byteLength(message.key as string),
    0,
  );
  console.log(
    `  message size: ${Math.round(bytes / messages.length)} bytes on average (key and value)`,
  );
  for (let round = 1; round <= rounds; round++) {
    // Alternate which runs first, so a change in the machine's load hits both alike.
    let raw: Measured;
    let sink: Measured & { firstAckMs: number };
    if (round % 2 === 1) {
      raw = await rawRun(messages, brokers);
      sink = await sinkRun(store, brokers);
    } else {
      sink = await sinkRun(store, brokers);
      raw = await rawRun(messages, brokers);
    }
    console.log(
      `  round ${round}: raw kafkajs ${Math.round(raw.rate)} msg/s (${Math.round(raw.perCpuSecond)} per CPU-second), ` +
        `sink ${Math.round(sink.rate)} events/s (${Math.round(sink.perCpuSecond)} per CPU-second), ` +
        `ratio ${(sink.rate / raw.rate).toFixed(2)} by wall clock, ${(sink.perCpuSecond / raw.perCpuSecond).toFixed(2)} by CPU; ` +
        `first batch acknowledged ${Math.round(sink.firstAckMs)} ms after host start`,
    );
  }
}

async function lagUnderLoad(): Promise<void> {
  console.log(
    `\npart 2: ${targetRate} objects/s for ${loadSeconds} s into store-sqlite (batches of ${WRITE_BATCH}; debezium, schemas ${schemas})`,
  );
  const baseline = await loadRun(brokers, false);
  console.log(
    `  without sink: ${Math.round(baseline.writesPerSecond)} objects/s, write p99 ${round1(baseline.writeP99Ms)} ms`,
  );
  const loaded = await loadRun(brokers, true);
  const lag = loaded.lag!;
  console.log(
    `  with sink:    ${Math.round(loaded.writesPerSecond)} objects/s, write p99 ${round1(loaded.writeP99Ms)} ms`,
  );
  console.log(
    `  sink lag: max ${lag.maxEvents} events (p95 ${lag.p95Events}), max ${Math.round(lag.maxMs)} ms (p95 ${Math.round(lag.p95Ms)} ms); ` +
      `caught up ${Math.round(lag.catchUpMs)} ms after the last write; ${lag.published} events published`,
  );
}
