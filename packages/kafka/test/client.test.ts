import t from "tap";
import { isWeftError } from "@weft/core";
import { setTimeout as sleep } from "node:timers/promises";
import { brokers, produceMessages, uniqueTopic } from "@weft/testkit";
import {
  createKafkaClient,
  ensureTopic,
  KafkaErrorCode,
  type ConsumedBatch,
  type KafkaClient,
} from "@weft/kafka";
import { captureLogger } from "./log-capture.js";

async function client(): Promise<KafkaClient> {
  const { logger } = captureLogger();
  return createKafkaClient(
    { brokers: await brokers(), clientId: "client-test" },
    { logger },
  );
}

t.test("produce and consume round trip", async (t) => {
  const kafka = await client();
  const topic = uniqueTopic("round-trip");
  const admin = kafka.admin();
  await admin.connect();
  t.teardown(() => admin.disconnect());
  await ensureTopic(admin, { topic, partitions: 2 });

  const producer = kafka.producer({ idempotent: true });
  await producer.connect();
  t.teardown(() => producer.disconnect());
  const metadata = await producer.send({
    topic,
    acks: -1,
    messages: [
      { key: "a", value: "first", headers: { source: "test" } },
      { key: "a", value: "second" },
      { key: "b", value: Buffer.from([0, 1, 2, 255]) },
      { key: "c", value: null },
    ],
  });
  t.ok(metadata.length > 0);
  t.ok(
    metadata.every(
      (entry) => entry.topic === topic && entry.baseOffset !== undefined,
    ),
  );

  const groupId = `${topic}-group`;
  const consumer = kafka.consumer({ groupId, maxWaitTimeMs: 250 });
  await consumer.connect();
  t.teardown(() => consumer.disconnect());
  await consumer.subscribe({ topics: [topic], fromBeginning: true });

  const batches: ConsumedBatch[] = [];
  const received = new Map<string, Array<Buffer | null>>();
  let count = 0;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`received ${count} of 4 messages`)),
      30_000,
    );
    consumer
      .run({
        autoCommit: false,
        eachBatch: async ({ batch, resolveOffset }) => {
          batches.push(batch);
          for (const message of batch.messages) {
            const key = message.key?.toString() ?? "";
            received.set(key, [...(received.get(key) ?? []), message.value]);
            resolveOffset(message.offset);
          }
          const last = batch.messages.at(-1);
          if (last) {
            await consumer.commitOffsets([
              {
                topic,
                partition: batch.partition,
                offset: String(BigInt(last.offset) + 1n),
              },
            ]);
          }
          count += batch.messages.length;
          if (count >= 4) {
            clearTimeout(timer);
            resolve();
          }
        },
      })
      .catch(reject);
  });

  t.same(
    received.get("a")?.map((value) => value?.toString()),
    ["first", "second"],
    "order kept within a key",
  );
  t.same(
    received.get("b")?.[0],
    Buffer.from([0, 1, 2, 255]),
    "binary value intact",
  );
  t.equal(received.get("c")?.[0], null, "tombstone has a null value");
  const headerBatch = batches
    .flatMap((batch) => batch.messages)
    .find((message) => message.headers.source);
  t.equal(headerBatch?.headers.source?.toString(), "test", "header intact");
  t.ok(
    batches.every(
      (batch) => batch.topic === topic && BigInt(batch.highWatermark) > 0n,
    ),
  );

  await consumer.stop();
  const committed = await admin.fetchCommittedOffsets(groupId, topic);
  const offsets = await admin.fetchTopicOffsets(topic);
  t.equal(offsets.length, 2);
  for (const { partition, high } of offsets) {
    const entry = committed.find((item) => item.partition === partition);
    t.equal(
      entry?.offset,
      high === "0" ? "-1" : high,
      `partition ${partition} committed up to the high watermark`,
    );
  }
});

t.test("seek, pause and committed offsets", async (t) => {
  const kafka = await client();
  const brokerList = await brokers();
  const topic = uniqueTopic("seek");
  await produceMessages(brokerList, topic, ["m0", "m1", "m2", "m3"]);

  const admin = kafka.admin();
  await admin.connect();
  t.teardown(() => admin.disconnect());
  const groupId = `${topic}-group`;
  await admin.setCommittedOffsets(groupId, [
    { topic, partition: 0, offset: "2" },
  ]);
  const committed = await admin.fetchCommittedOffsets(groupId, topic);
  t.same(committed, [{ topic, partition: 0, offset: "2" }]);

  const consumer = kafka.consumer({ groupId, maxWaitTimeMs: 250 });
  await consumer.connect();
  t.teardown(() => consumer.disconnect());
  await consumer.subscribe({ topics: [topic] });
  const values: string[] = [];
  const waiters: Array<() => void> = [];
  const waitForCount = (count: number) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(`expected ${count} values, received ${values.join(",")}`),
          ),
        30_000,
      );
      const check = () => {
        if (values.length < count) return false;
        clearTimeout(timer);
        resolve();
        return true;
      };
      if (!check()) waiters.push(() => void check());
    });
  let sought = false;
  await consumer.run({
    eachBatch: async ({ batch, isStale }) => {
      for (const message of batch.messages) {
        if (isStale()) return;
        values.push(message.value?.toString() ?? "");
      }
      if (!sought) {
        // Reading starts at the committed offset 2; then go back to offset 1 once.
        sought = true;
        consumer.seek({ topic, partition: 0, offset: "1" });
      }
      for (const waiter of waiters) waiter();
    },
  });
  await waitForCount(5);
  t.same(values.slice(0, 2), ["m2", "m3"], "starts at the committed offset");
  t.same(values.slice(2), ["m1", "m2", "m3"], "seek rewinds");

  consumer.pause([{ topic }]);
  await produceMessages(brokerList, topic, ["m4"]);
  await sleep(1_500);
  t.equal(values.length, 5, "paused partition delivers nothing");
  consumer.resume([{ topic, partitions: [0] }]);
  await waitForCount(6);
  t.equal(values[5], "m4", "resumed partition delivers again");
});

t.test("ensureTopic creates, accepts and rejects", async (t) => {
  const kafka = await client();
  const admin = kafka.admin();
  await admin.connect();
  t.teardown(() => admin.disconnect());
  const topic = uniqueTopic("compacted");
  const spec = {
    topic,
    partitions: 3,
    replicationFactor: 1,
    configs: { "cleanup.policy": "compact" },
  };

  const created = await ensureTopic(admin, spec);
  t.same(created, { created: true, mismatches: [] });
  const description = await admin.describeTopic(topic, ["cleanup.policy"]);
  t.same(description, {
    topic,
    partitions: 3,
    configs: { "cleanup.policy": "compact" },
  });
  t.ok((await admin.listTopics()).includes(topic));

  const again = await ensureTopic(admin, spec);
  t.same(again, { created: false, mismatches: [] });

  const mismatch = {
    topic,
    partitions: 2,
    configs: { "cleanup.policy": "delete" },
  };
  await t.rejects(ensureTopic(admin, mismatch), {
    code: KafkaErrorCode.TOPIC_MISMATCH,
    message:
      /has 3 partitions, not 2 and has cleanup.policy=compact, not delete/,
  });
  const { logger, lines } = captureLogger();
  const warned = await ensureTopic(admin, mismatch, {
    onMismatch: "warn",
    logger,
  });
  t.equal(warned.mismatches.length, 2);
  t.ok(
    lines.some(
      (line) =>
        line.msg === "kafka topic differs from the requested settings" &&
        line.topic === topic,
    ),
  );

  try {
    await ensureTopic(admin, {
      topic: uniqueTopic("too-many-replicas"),
      replicationFactor: 3,
    });
    t.fail(
      "expected a replication factor of 3 to be rejected by a single broker",
    );
  } catch (error) {
    t.ok(isWeftError(error));
    t.equal(
      (error as { code: string }).code,
      KafkaErrorCode.TOPIC_CREATE_FAILED,
    );
    t.match((error as Error).message, /replication factor 3/);
  }

  await admin.deleteTopics([topic]);
  // Kafka acknowledges a delete once its controller committed it, and the
  // broker's metadata may still list the topic for a moment after that.
  const deadline = Date.now() + 10_000;
  let described = await admin.describeTopic(topic);
  while (described !== undefined && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    described = await admin.describeTopic(topic);
  }
  t.equal(described, undefined, "deleted topic no longer described");
});
