// Throughput of host.write with the memory store and no plugins, against
// the memory store's own commit with the same batches, measured in one run.
// Run: pnpm build && node --import=tsx bench/write-path.ts
import { randomUUID } from "node:crypto";
import {
  Host,
  MemoryStore,
  createLogger,
  memoryStorePlugin,
  type ClassDefinition,
  type CommitBatch,
  type WriteRequest,
} from "@weft/core";
import { Registry } from "prom-client";

const BATCH = 1000;
const BATCHES = Number(process.env.BATCHES ?? 60);
const ROUNDS = Number(process.env.ROUNDS ?? 5);

const productClass: ClassDefinition = {
  name: "Product",
  properties: [
    { name: "name", type: "text" },
    { name: "description", type: "text" },
    { name: "price", type: "number" },
    { name: "stock", type: "int" },
    { name: "category", type: "text" },
    { name: "tags", type: "text[]" },
  ],
};

/** About 1 KB of JSON per object. */
function makeBatches(): WriteRequest[][] {
  const filler = "lorem ipsum dolor sit amet ".repeat(34);
  return Array.from({ length: BATCHES }, (_, b) =>
    Array.from({ length: BATCH }, (_, i) => ({
      op: "upsert" as const,
      class: "Product",
      id: randomUUID(),
      properties: {
        name: `product ${b}-${i}`,
        description: filler,
        price: i * 1.5,
        stock: i,
        category: `c${i % 100}`,
        tags: ["a", "b"],
      },
    })),
  );
}

async function timeHost(batches: WriteRequest[][]): Promise<number> {
  const host = new Host({
    classes: [productClass],
    server: false,
    logger: createLogger({ level: "silent" }),
    processMetrics: false,
    maxQueuedWrites: 1024,
  });
  await host.register(memoryStorePlugin, {
    retention: { maxRows: 1_000_000, force: false },
  });
  await host.start();

  const started = performance.now();
  for (const batch of batches) await host.write(batch);
  const seconds = (performance.now() - started) / 1000;
  await host.stop();
  return (batches.length * BATCH) / seconds;
}

async function timeStore(batches: WriteRequest[][]): Promise<number> {
  const store = new MemoryStore({
    retention: { maxRows: 1_000_000, force: false },
  });
  await store.open({
    classes: [productClass],
    logger: createLogger({ level: "silent" }),
    metrics: new Registry(),
  });

  const started = performance.now();
  for (const batch of batches) {
    const commit: CommitBatch = {
      txId: randomUUID(),
      mutations: batch.map((request) => ({
        op: "upsert",
        class: request.class,
        id: request.id as string,
        properties: request.properties!,
      })),
      origin: { plugin: "bench" },
      metadata: {},
      positions: [],
      state: [],
      timestamp: new Date().toISOString(),
    };
    await store.commit(commit);
  }
  const seconds = (performance.now() - started) / 1000;
  await store.close();
  return (batches.length * BATCH) / seconds;
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

const batches = makeBatches();
const bytes = Buffer.byteLength(JSON.stringify(batches[0][0]));
console.log(
  `write-path: ${BATCHES} batches of ${BATCH} objects, ${bytes} bytes of JSON each, ${ROUNDS} rounds`,
);

// One warm-up of each so both paths run JIT-compiled code.
await timeHost(batches.slice(0, 5));
await timeStore(batches.slice(0, 5));

const hostRates: number[] = [];
const storeRates: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  storeRates.push(await timeStore(batches));
  hostRates.push(await timeHost(batches));
}

const host = median(hostRates);
const store = median(storeRates);
console.log(
  `memory store commit (baseline): ${Math.round(store).toLocaleString("en")} objects/s (median)`,
);
console.log(
  `host.write:                     ${Math.round(host).toLocaleString("en")} objects/s (median)`,
);
console.log(
  `ratio host/baseline: ${(host / store).toFixed(2)} (target >= 0.80)`,
);
