// Measures the whole pipeline on the GeoNames cities. It reports the ingest
// rate from Kafka into store-sqlite with CDC, subscriptions and the webhook
// trigger running, and the latency from produce to subscriber receipt at a
// fixed produce rate. The baseline, in the same run, is the raw kafkajs
// consume rate of the same topic.
// Run: pnpm build && node packages/testkit/bin/setup.mjs && node --import=tsx bench/pipeline.ts
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { createTopic, startBroker, startWebhookReceiver } from "@weft/testkit";
import { lastSeq } from "../examples/cities/src/count-store.js";
import { loadCities, type CityRecord } from "../examples/cities/src/dataset.js";
import { startHostProcess } from "../examples/cities/src/host-process.js";
import {
  createKafka,
  defaultPartitioner,
} from "../examples/cities/src/kafka-client.js";
import { produceMessages } from "../examples/cities/src/produce.js";

const RATE = Number(process.env.RATE ?? 5000);
const LATENCY_SECONDS = Number(process.env.LATENCY_SECONDS ?? 20);
const config = fileURLToPath(
  new URL("../examples/cities/weft.yaml", import.meta.url),
);

/** Reads `topic` with kafkajs `eachBatch` doing only JSON.parse: the baseline. */
async function rawConsumeRate(
  brokers: string[],
  topic: string,
  count: number,
): Promise<number> {
  const consumer = createKafka(brokers, "bench-raw").consumer({
    groupId: `bench-raw-${Date.now()}`,
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });

  let seen = 0;
  let started = 0;
  const done = new Promise<number>((resolve) => {
    void consumer.run({
      eachBatch: async ({ batch }) => {
        if (started === 0) started = performance.now();
        for (const message of batch.messages)
          if (message.value) JSON.parse(message.value.toString("utf8"));
        seen += batch.messages.length;
        if (seen >= count) resolve((performance.now() - started) / 1000);
      },
    });
  });
  const seconds = await done;
  await consumer.disconnect();
  return count / seconds;
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

const broker = await startBroker({ heapMb: 512 });
const dataDir = await mkdtemp(join(tmpdir(), "weft-bench-pipeline-"));
const receiver = await startWebhookReceiver();

try {
  const cities = loadCities();
  const topic = "bench.cities";
  await createTopic(broker.brokers, topic, { partitions: 8 });
  await produceMessages(
    broker.brokers,
    topic,
    cities.map((city) => ({ key: String(city.cityId), value: city })),
  );
  console.log(`pipeline: ${cities.length} cities produced into 8 partitions`);

  const raw = await rawConsumeRate(broker.brokers, topic, cities.length);
  console.log(
    `raw kafkajs eachBatch + JSON.parse (baseline): ${Math.round(raw).toLocaleString("en")} messages/s`,
  );

  const startedAt = performance.now();
  const host = await startHostProcess(
    config,
    {
      KAFKA_BROKERS: broker.brokers.join(","),
      WEFT_PORT: "0",
      WEFT_DATA: dataDir,
      CITIES_TOPIC: topic,
      CDC_TOPIC: "bench.changes",
      WEBHOOK_URL: `${receiver.url}/hook`,
      WEBHOOK_SECRET: `whsec_${Buffer.from("bench-secret").toString("base64")}`,
      WEFT_LOG_LEVEL: "warn",
    },
    join(dataDir, "host.log"),
  );
  while ((await lastSeq(host.url)) < cities.length)
    await new Promise((resolve) => setTimeout(resolve, 100));
  const ingest = cities.length / ((performance.now() - startedAt) / 1000);
  console.log(
    `ingest into store-sqlite, host start included: ${Math.round(ingest).toLocaleString("en")} messages/s (${(ingest / raw).toFixed(2)} of raw)`,
  );

  // Latency: population updates at a fixed rate; the subscriber matches each by cityId and population.
  const client = createClient({
    url: `${host.url.replace(/^http/, "ws")}/v1/graphql`,
    webSocketImpl: WebSocket,
  });
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  const updates: CityRecord[] = [];
  for (let i = 0; i < RATE * LATENCY_SECONDS; i++) {
    const city = cities[(i * 7919) % cities.length];
    updates.push({ ...city, population: city.population + 1 + i });
  }
  await new Promise<void>((resolve, reject) => {
    client.subscribe<{
      cityChanges: { city: { cityId: number; population: number } };
    }>(
      {
        query:
          "subscription { cityChanges(operations: [UPDATE]) { city { cityId population } } }",
      },
      {
        next: (result) => {
          const city = result.data?.cityChanges.city;
          const sent = city && sentAt.get(`${city.cityId}/${city.population}`);
          if (sent) latencies.push(performance.now() - sent);
        },
        error: reject,
        complete: resolve,
      },
    );
    setTimeout(resolve, 500);
  });

  const producer = createKafka(broker.brokers, "bench-latency").producer({
    createPartitioner: defaultPartitioner,
  });
  await producer.connect();
  const latencyStart = performance.now();
  for (let i = 0; i < updates.length; i += RATE / 50) {
    const chunk = updates.slice(i, i + RATE / 50);
    const now = performance.now();
    for (const city of chunk)
      sentAt.set(`${city.cityId}/${city.population}`, now);
    await producer.send({
      topic,
      messages: chunk.map((city) => ({
        key: String(city.cityId),
        value: JSON.stringify(city),
      })),
    });
    const due = latencyStart + ((i + chunk.length) / RATE) * 1000;
    if (due > performance.now())
      await new Promise((resolve) =>
        setTimeout(resolve, due - performance.now()),
      );
  }
  const deadline = performance.now() + 60_000;
  while (latencies.length < updates.length && performance.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 100));
  await producer.disconnect();
  await client.dispose();

  const sorted = [...latencies].sort((a, b) => a - b);
  console.log(
    `produce -> subscriber at ${RATE}/s for ${LATENCY_SECONDS} s: received ${latencies.length} of ${updates.length}, ` +
      `p50 ${percentile(sorted, 50).toFixed(0)} ms, p99 ${percentile(sorted, 99).toFixed(0)} ms`,
  );
  await host.stop();
} finally {
  await receiver.close();
  await broker.close();
  await rm(dataDir, { recursive: true, force: true });
}
