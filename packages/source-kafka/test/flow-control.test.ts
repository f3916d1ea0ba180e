import { setTimeout as sleep } from "node:timers/promises";
import t from "tap";
import {
  definePlugin,
  MemoryStore,
  Type,
  type CommitBatch,
  type Plugin,
  type WriteBatch,
} from "@weft/core";
import {
  captureLogger,
  changes,
  committedOffsets,
  consumer,
  highWatermarks,
  metricValue,
  newTopic,
  objects,
  produce,
  startSource,
  waitFor,
  waitForObjects,
} from "./helpers.js";

const fromSource = (batch: WriteBatch) =>
  batch.options.origin?.plugin === "@weft/source-kafka";

/** Creates a plugin whose beforeWrite tap runs `tap` on the source's batches. */
function sourceTap(tap: (batch: WriteBatch) => void | Promise<void>): Plugin {
  return definePlugin({
    name: "test-tap",
    version: "1.0.0",
    configSchema: Type.Object({}),
    register(host) {
      host.hooks.beforeWrite.tapPromise("test-tap", async (batch) => {
        if (fromSource(batch)) await tap(batch);
        return batch;
      });
    },
  }) as unknown as Plugin;
}

t.test(
  "retryable rejection pauses and retries without dead letters",
  async (t) => {
    const topic = await newTopic("retryable");
    const deadLetterTopic = await newTopic("retryable-dlq");
    let failures = 3;
    const { logger, lines } = captureLogger();

    const host = await startSource(t, {
      logger,
      before: [
        {
          plugin: sourceTap((batch) => {
            if (failures <= 0) return;
            failures -= 1;
            for (const item of [...batch.items])
              batch.reject(
                item,
                "WEFT_ERR_VECTORIZER_FAILED",
                "vectorizer is down",
                { retryable: true },
              );
          }),
        },
      ],
      consumers: [consumer(topic, { name: "retryable", deadLetterTopic })],
    });
    await produce(
      topic,
      Array.from({ length: 5 }, (_, i) => ({
        key: `r${i}`,
        value: { sku: `r${i}` },
      })),
    );

    await waitForObjects(host, "Product", 5);
    t.equal(failures, 0, "the tap failed three writes");
    t.equal(
      await metricValue(host, "weft_source_kafka_write_retries_total", {
        consumer: "retryable",
        code: "WEFT_ERR_WRITE_RETRYABLE",
      }),
      3,
    );
    t.equal(
      await metricValue(host, "weft_source_kafka_paused", {
        consumer: "retryable",
        reason: "retry",
      }),
      0,
      "resumed after success",
    );
    t.ok(
      lines.some((line) =>
        String(line.msg).includes("partitions paused, retrying"),
      ),
      "the retry is logged",
    );
    t.equal(
      (await highWatermarks(deadLetterTopic)).get(0),
      0n,
      "nothing was dead-lettered",
    );
    t.equal((await changes(host.store)).length, 5, "each message written once");
  },
);

t.test("store failures are retried with backoff", async (t) => {
  const topic = await newTopic("store-down");
  let failures = 2;
  class FlakyStore extends MemoryStore {
    override async commit(batch: CommitBatch) {
      if (batch.positions.length > 0 && failures > 0) {
        failures -= 1;
        throw new Error("database is locked");
      }
      return super.commit(batch);
    }
  }
  const flakyStore = definePlugin({
    name: "flaky-store",
    version: "1.0.0",
    configSchema: Type.Object({}),
    register: (host) => host.provideStore(new FlakyStore()),
  }) as unknown as Plugin;

  const host = await startSource(t, {
    store: { plugin: flakyStore },
    consumers: [consumer(topic, { name: "flaky" })],
  });
  await produce(topic, [{ key: "s1", value: { sku: "s1" } }]);

  await waitForObjects(host, "Product", 1);
  t.equal(failures, 0);
  t.equal(
    await metricValue(host, "weft_source_kafka_write_retries_total", {
      consumer: "flaky",
      code: "WEFT_ERR_WRITE_RETRYABLE",
    }),
    2,
  );
});

t.test(
  "a full write queue pauses the consumer until it has room",
  async (t) => {
    const topic = await newTopic("backpressure");
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const blocker = definePlugin({
      name: "blocker",
      version: "1.0.0",
      configSchema: Type.Object({}),
      register(host) {
        host.hooks.beforeWrite.tapPromise("blocker", async (batch) => {
          if (batch.items.some((item) => item.properties.sku === "block"))
            await released;
          return batch;
        });
      },
    }) as unknown as Plugin;

    const { logger, lines } = captureLogger();
    const host = await startSource(t, {
      logger,
      host: { maxQueuedWrites: 1 },
      before: [{ plugin: blocker }],
      consumers: [consumer(topic, { name: "backpressure" })],
    });

    // This write holds the only queue slot until released.
    const blocked = host.write([
      {
        op: "upsert",
        class: "Product",
        id: "blocking",
        properties: { sku: "block" },
      },
    ]);
    t.ok(host.writeQueue.full, "the write queue is full");

    await produce(topic, [{ key: "q1", value: { sku: "q1" } }]);
    await waitFor(
      "the consumer to pause",
      async () =>
        (await metricValue(host, "weft_source_kafka_paused", {
          consumer: "backpressure",
          reason: "backpressure",
        })) === 1,
    );
    t.equal(
      (await objects(host.store, "Product")).size,
      0,
      "nothing written while paused",
    );
    t.ok(
      lines.some(
        (line) => line.msg === "host write queue is full; partitions paused",
      ),
    );

    release();
    await blocked;
    await waitForObjects(host, "Product", 2);
    t.equal(
      await metricValue(host, "weft_source_kafka_paused", {
        consumer: "backpressure",
        reason: "backpressure",
      }),
      0,
      "resumed",
    );
  },
);

t.test(
  "heartbeats during a slow write keep the group membership",
  async (t) => {
    const topic = await newTopic("heartbeat");
    await produce(
      topic,
      Array.from({ length: 10 }, (_, i) => ({
        key: `h${i}`,
        value: { sku: `h${i}` },
      })),
    );

    let slowWrites = 1;
    const { logger, lines } = captureLogger();
    // Small batches and queue fill up while the first write is slow, so eachBatch blocks and must heartbeat.
    const config = consumer(topic, {
      batchSize: 2,
      queuedBatches: 1,
      sessionTimeout: "2s",
      heartbeatInterval: "300ms",
    });
    const host = await startSource(t, {
      logger,
      before: [
        {
          plugin: sourceTap(async () => {
            if (slowWrites <= 0) return;
            slowWrites -= 1;
            // Twice the session timeout: without heartbeats the member would be dropped.
            await sleep(4000);
          }),
        },
      ],
      consumers: [config],
    });

    await waitForObjects(host, "Product", 10, 30_000);
    await waitFor(
      "all offsets committed",
      async () =>
        (await committedOffsets(config.groupId as string, topic)).get(0) ===
        10n,
      30_000,
    );
    t.notOk(
      lines.some(
        (line) =>
          line.msg ===
          "committing kafka offsets failed; a later batch commits them again",
      ),
      "no commit failed for a lost membership",
    );
    const assignments = lines.filter(
      (line) => line.msg === "kafka partitions assigned",
    );
    t.equal(assignments.length, 1, "no rebalance happened");
    t.equal(
      (await changes(host.store)).length,
      10,
      "each message written once",
    );
  },
);
