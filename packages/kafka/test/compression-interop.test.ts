import { randomBytes } from "node:crypto";
import t from "tap";
import {
  brokers,
  hasKcat,
  kcatConsume,
  kcatProduce,
  uniqueTopic,
} from "@weft/testkit";
import {
  createKafkaClient,
  type CompressionName,
  type ConsumedMessage,
} from "@weft/kafka";
import { captureLogger } from "./log-capture.js";

const codecs: CompressionName[] = ["gzip", "snappy", "lz4", "zstd"];

/** Values that fill several 64 KB LZ4 blocks and include incompressible data and non-ASCII text. */
function testValues(): string[] {
  return [
    "hello",
    JSON.stringify({ id: 1, name: "Zoë", tags: ["ä", "✓"] }),
    "weft ".repeat(40_000),
    randomBytes(60_000).toString("base64"),
  ];
}

async function consumeAll(
  brokerList: string[],
  topic: string,
  count: number,
): Promise<ConsumedMessage[]> {
  const { logger } = captureLogger();
  const client = createKafkaClient(
    { brokers: brokerList, clientId: "interop-test" },
    { logger },
  );
  const consumer = client.consumer({
    groupId: `${topic}-group`,
    maxWaitTimeMs: 250,
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const received: ConsumedMessage[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(new Error(`received ${received.length} of ${count} messages`)),
        30_000,
      );
      consumer.onCrash((error) => {
        clearTimeout(timer);
        reject(error);
      });
      consumer
        .run({
          eachBatch: async ({ batch }) => {
            received.push(...batch.messages);
            if (received.length >= count) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return received;
}

t.test("kcat is installed", async (t) => {
  t.ok(
    hasKcat(),
    "kcat is on PATH; bin/setup.mjs installs it with apt-get as root, or run `apt-get install kcat`",
  );
});

for (const codec of codecs) {
  t.test(
    `kcat ${codec} batches consumed intact`,
    { skip: !hasKcat() && "kcat is not installed" },
    async (t) => {
      const brokerList = await brokers();
      const topic = uniqueTopic(`kcat-${codec}`);
      const values = testValues();
      await kcatProduce(brokerList, topic, values, codec);

      const messages = await consumeAll(brokerList, topic, values.length);
      t.equal(messages.length, values.length);
      values.forEach((value, index) => {
        t.equal(
          messages[index]?.value?.toString("utf8"),
          value,
          `message ${index} (${value.length} chars)`,
        );
      });
    },
  );

  t.test(
    `${codec} batches read intact by kcat`,
    { skip: !hasKcat() && "kcat is not installed" },
    async (t) => {
      const brokerList = await brokers();
      const topic = uniqueTopic(`out-${codec}`);
      const values = testValues();
      const { logger } = captureLogger();
      const client = createKafkaClient({ brokers: brokerList }, { logger });
      const producer = client.producer({ allowAutoTopicCreation: true });
      await producer.connect();
      t.teardown(() => producer.disconnect());
      // The broker decompresses every batch to validate it, so this also proves Java's decoder accepts ours.
      await producer.send({
        topic,
        compression: codec,
        messages: values.map((value) => ({ value })),
      });

      const messages = await kcatConsume(brokerList, topic, values.length);
      t.equal(messages.length, values.length);
      values.forEach((value, index) =>
        t.equal(messages[index]?.payload, value, `message ${index}`),
      );
    },
  );
}
