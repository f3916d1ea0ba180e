import t from "tap";
import { Host, MemoryStore, definePlugin, type PluginHost } from "@weft/core";
import cdcSinkPlugin, { isFatalProducerError } from "@weft/sink-cdc";
import kafkajs, { type Message } from "kafkajs";
import { brokers as sharedBrokers, uniqueTopic } from "@weft/testkit";
// Internals the plugin does not export, for injecting a producer failure between the publisher and the broker.
import { createClients } from "../dist/kafka/create-clients.js";
import { ProducerSession } from "../dist/kafka/producer-session.js";
import { TopicCreator } from "../dist/kafka/topic-creator.js";
import { createPublisher, type PublisherParts } from "../dist/plugin.js";
import type { CdcSinkConfig } from "../dist/config.js";
import {
  checkDelivery,
  classes,
  fastRetries,
  receive,
  sinkStatus,
  storePlugin,
  testLogger,
  waitForCaughtUp,
  withDefaults,
} from "./helpers.js";

const {
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
  KafkaJSConnectionError,
} = kafkajs;

function protocolError(type: string, retriable = false) {
  return new KafkaJSProtocolError({
    message: `broker error ${type}`,
    type,
    code: 45,
    retriable,
  } as never);
}

/** Creates the error that kafkajs's retrier raises for a non-retriable broker error, with the broker error as its cause. */
function retrierError(type: string) {
  const cause = protocolError(type);
  return new KafkaJSNonRetriableError(cause, { cause });
}

t.test("fatal producer errors are told apart", async (t) => {
  const outOfOrder = protocolError("OUT_OF_ORDER_SEQUENCE_NUMBER");
  t.ok(isFatalProducerError(outOfOrder), "out-of-order sequence");
  t.ok(
    isFatalProducerError(retrierError("OUT_OF_ORDER_SEQUENCE_NUMBER")),
    "wrapped by the kafkajs retrier",
  );
  t.ok(
    isFatalProducerError(protocolError("UNKNOWN_PRODUCER_ID")),
    "unknown producer id",
  );
  t.ok(
    isFatalProducerError(protocolError("INVALID_PRODUCER_EPOCH")),
    "invalid producer epoch",
  );

  const connection = new KafkaJSConnectionError(
    "Connection error: connect ECONNREFUSED 127.0.0.1:9",
  );
  t.notOk(isFatalProducerError(connection), "a connection error is not fatal");
  t.notOk(
    isFatalProducerError(
      new KafkaJSNumberOfRetriesExceeded(connection, {
        retryCount: 5,
        retryTime: 100,
      }),
    ),
    "retries exhausted on a connection error",
  );
  t.notOk(
    isFatalProducerError(protocolError("NOT_LEADER_OR_FOLLOWER", true)),
    "a leader change is not fatal",
  );
});

/** Creates the sink plugin with its real hooks, but with the publisher's Kafka parts supplied by the test. */
function sinkWithParts(
  makeParts: (host: PluginHost, config: CdcSinkConfig) => PublisherParts,
) {
  return definePlugin({
    ...cdcSinkPlugin,
    register(host, config) {
      const publisher = createPublisher(
        host,
        config,
        { configPath: "plugins[0]" },
        makeParts(host, config),
      );
      host.hooks.start.tapPromise(host.name, async () => publisher.start());
      host.hooks.stop.tapPromise(host.name, () => publisher.stop());
    },
  });
}

async function startHost(
  t: { teardown(fn: () => unknown): void },
  plugin: ReturnType<typeof sinkWithParts>,
  config: Record<string, unknown>,
): Promise<Host> {
  const host = new Host({
    classes,
    server: false,
    logger: testLogger(),
    processMetrics: false,
  });
  await host.register(storePlugin(new MemoryStore()), {});
  await host.register(
    plugin,
    withDefaults({
      snapshot: "never",
      format: "plain",
      maxBatch: 10,
      ...fastRetries,
      ...config,
    }),
    { configPath: "plugins[0]" },
  );
  await host.start();
  t.teardown(() => host.stop());
  return host;
}

async function writeRounds(host: Host, rounds: number): Promise<void> {
  for (let round = 1; round <= rounds; round++) {
    await host.write(
      Array.from({ length: 5 }, (_, index) => ({
        op: "upsert" as const,
        class: "Order",
        id: `order-${index}`,
        properties: { total: round },
      })),
    );
  }
}

t.test(
  "a fatal error replaces the producer and resends the batch",
  async (t) => {
    const delivered: Array<{ topic: string; seq: string }> = [];
    let calls = 0;
    let replaced = 0;
    const plugin = sinkWithParts(() => ({
      sender: {
        async send(groups: ReadonlyMap<string, Message[]>) {
          calls += 1;
          if (calls === 2) throw retrierError("OUT_OF_ORDER_SEQUENCE_NUMBER");
          for (const [topic, messages] of groups)
            for (const message of messages)
              delivered.push({ topic, seq: String(message.headers!.seq) });
        },
        async replace() {
          replaced += 1;
        },
        async close() {},
      },
      topics: { async ensure() {}, forget() {}, async close() {} },
    }));
    const host = await startHost(t, plugin, {
      brokers: ["127.0.0.1:9"],
      topic: "unused",
    });

    await writeRounds(host, 6);
    await waitForCaughtUp(host);
    t.equal(replaced, 1, "the producer was replaced once");
    t.same(
      delivered.map((entry) => Number(entry.seq)),
      Array.from({ length: 30 }, (_, index) => index + 1),
      "every event was sent once, in order",
    );
    t.equal(sinkStatus(host).details.producerRestarts, 1);
    t.match(await host.metrics.metrics(), /weft_cdc_producer_restarts_total 1/);
    t.match(
      await host.metrics.metrics(),
      /weft_cdc_send_failures_total\{reason="OUT_OF_ORDER_SEQUENCE_NUMBER"\} 1/,
    );
  },
);

t.test("a replaced producer resumes on the real broker", async (t) => {
  const brokers = await sharedBrokers();
  const topic = uniqueTopic("cdc-fatal");
  let calls = 0;
  const plugin = sinkWithParts((host, config) => {
    const { kafka, client } = createClients(
      { brokers: config.brokers, clientId: config.clientId },
      {
        logger: host.logger,
        path: "plugins[0]",
        retry: { retries: 5, initialMs: 50, maxMs: 500 },
      },
    );
    const session = new ProducerSession({
      kafka,
      waitForBroker: () => client.waitForBroker(),
      logger: host.logger,
      compression: "none",
      sendTimeoutMs: 5000,
    });
    return {
      sender: {
        async send(groups: ReadonlyMap<string, Message[]>) {
          calls += 1;
          // The first sends reach the broker; the third fails as if the broker had lost this producer's sequence.
          if (calls === 3) throw retrierError("OUT_OF_ORDER_SEQUENCE_NUMBER");
          await session.send(groups);
        },
        replace: () => session.replace(),
        close: () => session.close(),
      },
      topics: new TopicCreator(client, config.createTopics, host.logger),
    };
  });
  const host = await startHost(t, plugin, { brokers, topic });

  await writeRounds(host, 10);
  await waitForCaughtUp(host);
  t.equal(sinkStatus(host).details.producerRestarts, 1);
  const messages = await receive(brokers, topic, 50, 500);
  checkDelivery(t, messages, 50);
});
