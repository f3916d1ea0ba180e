import { createServer } from "node:net";
import t from "tap";
import { readTopic, startBroker, uniqueTopic } from "@weft/testkit";
import { createKafkaClient, KafkaErrorCode } from "@weft/kafka";
import { captureLogger, levels } from "./log-capture.js";

/** Returns a loopback port that nothing listens on: bound once to find it, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

t.test("unreachable broker retries then fails", async (t) => {
  const port = await closedPort();
  const { logger, lines } = captureLogger();
  const client = createKafkaClient(
    {
      brokers: [`127.0.0.1:${port}`],
      startupTimeout: "2s",
      connectionTimeout: "500ms",
    },
    { logger },
  );
  const producer = client.producer();
  const startedAt = Date.now();
  const error = await producer.connect().then(
    () => undefined,
    (caught: unknown) =>
      caught as {
        code?: string;
        message: string;
        retryable?: boolean;
        details?: Record<string, unknown>;
      },
  );
  const elapsedMs = Date.now() - startedAt;

  t.equal(error?.code, KafkaErrorCode.UNREACHABLE);
  t.equal(error?.retryable, true);
  t.match(error?.message, `127.0.0.1:${port}`);
  t.match(error?.message, /ECONNREFUSED/);
  t.ok(elapsedMs >= 2_000, `waited ${elapsedMs} ms, the full startup timeout`);
  t.ok(elapsedMs < 8_000, `gave up after ${elapsedMs} ms, within the bound`);

  const retries = lines.filter(
    (line) => line.msg === "kafka broker unreachable, retrying",
  );
  t.ok(retries.length >= 3, `${retries.length} retry lines`);
  t.ok(retries.every((line) => line.level === levels.warn));
  const delays = retries.map((line) => line.retryInMs as number);
  t.ok(delays[1] > delays[0] * 1.2, `backoff grows: ${delays.join(", ")} ms`);
  t.same(retries[0].brokers, [`127.0.0.1:${port}`]);
  t.ok(
    lines.some(
      (line) =>
        line.level === levels.error && line.msg === "kafka broker unreachable",
    ),
  );
  t.equal((error?.details?.attempts as number) > 1, true);

  // A later connect starts a fresh bounded wait instead of repeating the old failure at once.
  const second = Date.now();
  await t.rejects(producer.connect(), { code: KafkaErrorCode.UNREACHABLE });
  t.ok(Date.now() - second >= 2_000);
});

t.test("private broker stopped and restarted", async (t) => {
  const broker = await startBroker();
  t.teardown(() => broker.close());
  const topic = uniqueTopic("outage");
  const { logger, lines } = captureLogger();
  const client = createKafkaClient(
    { brokers: broker.brokers, startupTimeout: "60s" },
    { logger },
  );

  const producer = client.producer({ allowAutoTopicCreation: true });
  await producer.connect();
  await producer.send({ topic, messages: [{ value: "before outage" }] });
  await producer.disconnect();

  await broker.stop();
  t.equal(broker.pid, undefined, "no JVM while stopped");

  // A client created during the outage retries until the broker is back.
  const late = createKafkaClient(
    { brokers: broker.brokers, startupTimeout: "60s" },
    { logger },
  );
  const lateProducer = late.producer();
  const connected = lateProducer.connect();
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  await broker.restart();
  await connected;
  t.teardown(() => lateProducer.disconnect());
  t.ok(
    lines.some((line) => line.msg === "kafka broker unreachable, retrying"),
    "retries were logged during the outage",
  );
  t.ok(lines.some((line) => line.msg === "kafka broker reachable"));

  await lateProducer.send({ topic, messages: [{ value: "after outage" }] });
  const messages = await readTopic(broker.brokers, topic, { expected: 2 });
  t.same(
    messages.map((message) => message.value?.toString()),
    ["before outage", "after outage"],
    "data written before the stop survives the restart",
  );
});
