import t from "tap";
import {
  brokers,
  createTopic,
  produceMessages,
  readTopic,
  uniqueTopic,
} from "@weft/testkit";

t.test("produceMessages and readTopic round trip", async (t) => {
  const brokerList = await brokers();
  const topic = uniqueTopic("io");
  await createTopic(brokerList, topic, { partitions: 2 });
  await produceMessages(brokerList, topic, [
    { key: "k", value: "v", headers: { h: "1" }, partition: 1 },
    { value: "p0", partition: 0 },
    "plain string",
  ]);
  const messages = await readTopic(brokerList, topic, {
    expected: 3,
    settleMs: 200,
  });
  t.equal(messages.length, 3);
  const keyed = messages.find((message) => message.key?.toString() === "k");
  t.equal(keyed?.value?.toString(), "v");
  t.equal(keyed?.headers.h?.toString(), "1");
  t.equal(keyed?.partition, 1);
  t.ok(
    messages.every(
      (message, index) =>
        index === 0 || message.partition >= messages[index - 1].partition,
    ),
  );
});

t.test("readTopic timeout names the count", async (t) => {
  const brokerList = await brokers();
  const topic = uniqueTopic("io-timeout");
  await produceMessages(brokerList, topic, ["only one"]);
  await t.rejects(
    readTopic(brokerList, topic, { expected: 2, timeoutMs: 3_000 }),
    {
      message: `readTopic: expected 2 messages from topic ${topic} within 3000 ms, received 1`,
    },
  );
});
