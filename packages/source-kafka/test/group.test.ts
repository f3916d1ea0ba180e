import { setTimeout as sleep } from "node:timers/promises";
import tap from "tap";
import {
  definePlugin,
  toObjectId,
  Type,
  type Plugin,
  type WriteBatch,
} from "@weft/core";
import { brokers, createTopic, uniqueTopic } from "@weft/testkit";
import {
  captureLogger,
  committedOffsets,
  consumer,
  describeGroup,
  highWatermarks,
  newTopic,
  objects,
  produce,
  startSource,
  waitFor,
  waitForObjects,
  type LogLine,
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

/**
 * Checks from a consumer's logs that every offset commit names only
 * partitions of the assignment it was made in.
 */
function commitsStayInAssignment(
  t: Pick<typeof tap, "ok" | "same">,
  lines: LogLine[],
  consumerLabel: string,
): void {
  const assignments = new Map<number, Set<string>>();
  for (const line of lines) {
    if (line.msg === "kafka partitions assigned")
      assignments.set(
        line.epoch as number,
        new Set(line.partitions as string[]),
      );
  }
  const commits = lines.filter(
    (line) => line.msg === "kafka offsets committed",
  );
  t.ok(commits.length > 0, `${consumerLabel} committed offsets`);

  const outside = commits.flatMap((line) =>
    (line.offsets as Array<{ topic: string; partition: number }>)
      .map((offset) => `${offset.topic}/${offset.partition}`)
      .filter((stream) => !assignments.get(line.epoch as number)?.has(stream))
      .map((stream) => `${stream} in epoch ${String(line.epoch)}`),
  );
  t.same(
    outside,
    [],
    `${consumerLabel} committed nothing for partitions it did not own`,
  );
}

const messages = (from: number, count: number) =>
  Array.from({ length: count }, (_, i) => ({
    key: `u${from + i}`,
    value: { sku: `u${from + i}` },
    partition: (from + i) % 4,
  }));

tap.test(
  "rebalance between two consumers mid-stream keeps every message",
  async (t) => {
    const topic = await newTopic("rebalance", 4);
    const groupId = `${topic}-group`;
    await produce(topic, messages(0, 400));
    const slow = sourceTap(() => sleep(60));
    const config = consumer(topic, { groupId, batchSize: 20 });

    const first = captureLogger("debug");
    const a = await startSource(t, {
      logger: first.logger,
      before: [{ plugin: slow }],
      consumers: [config],
    });
    await waitFor(
      "the first consumer mid-stream",
      async () => (await objects(a.store, "Product")).size >= 40,
    );

    const second = captureLogger("debug");
    const b = await startSource(t, {
      logger: second.logger,
      before: [{ plugin: slow }],
      consumers: [config],
    });
    t.ok(
      (await objects(a.store, "Product")).size < 400,
      "the second consumer joined mid-stream",
    );
    await produce(topic, messages(400, 400));

    await waitFor(
      "every message in one of the stores",
      async () => {
        const ids = new Set([
          ...(await objects(a.store, "Product")).keys(),
          ...(await objects(b.store, "Product")).keys(),
        ]);
        return ids.size === 800;
      },
      60_000,
    );
    const high = await highWatermarks(topic);
    await waitFor("the group's offsets at the high watermarks", async () => {
      const committed = await committedOffsets(groupId, topic);
      return [...high].every(
        ([partition, offset]) => committed.get(partition) === offset,
      );
    });

    const rebalanced = first.lines.filter(
      (line) => line.msg === "kafka partitions assigned",
    );
    t.ok(rebalanced.length >= 2, "the first consumer's assignment changed");
    t.ok(
      (rebalanced.at(-1)?.partitions as string[]).length < 4,
      "the first consumer gave up partitions",
    );
    t.ok(
      (await objects(b.store, "Product")).size > 0,
      "the second consumer wrote messages",
    );
    commitsStayInAssignment(t, first.lines, "the first consumer");
    commitsStayInAssignment(t, second.lines, "the second consumer");
  },
);

tap.test(
  "stop finishes the batch in flight, commits and leaves the group",
  async (t) => {
    const topic = await newTopic("graceful-stop");
    await produce(
      topic,
      messages(0, 10).map((message) => ({ ...message, partition: 0 })),
    );

    let entered!: () => void;
    const inFlight = new Promise<void>((resolve) => (entered = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let first = true;
    const blocker = sourceTap(async () => {
      if (!first) return;
      first = false;
      entered();
      await released;
    });

    const config = consumer(topic, { batchSize: 5 });
    const host = await startSource(t, {
      before: [{ plugin: blocker }],
      consumers: [config],
    });
    await inFlight;

    const stopped = host.stop();
    await sleep(100);
    release();
    await stopped;

    const stored = await objects(host.store, "Product");
    t.equal(
      stored.size,
      10,
      "the batch in flight and the buffered one were written",
    );
    const committed = await committedOffsets(config.groupId as string, topic);
    t.equal(committed.get(0), 10n, "offsets committed before leaving");
    t.same(
      await describeGroup(config.groupId as string),
      { state: "Empty", members: 0 },
      "the member left the group",
    );
  },
);

tap.test("enabled false starts no consumer", async (t) => {
  const topic = await newTopic("disabled");
  await produce(topic, [{ key: "d", value: { sku: "d" } }]);
  const config = consumer(topic);
  const host = await startSource(t, {
    plugin: { enabled: false },
    consumers: [config],
  });

  // A consumer that started would have joined before host.start returned.
  t.equal((await objects(host.store, "Product")).size, 0);
  t.same(
    await describeGroup(config.groupId as string),
    { state: "Dead", members: 0 },
    "the group never formed",
  );
});

tap.test("topicPattern subscribes to matching topics", async (t) => {
  const prefix = uniqueTopic("sk-pattern");
  for (const suffix of ["a", "b", "other"])
    await createTopic(await brokers(), `${prefix}-${suffix}`);
  await produce(`${prefix}-a`, [{ key: "p1", value: { sku: "p1" } }]);
  await produce(`${prefix}-b`, [{ key: "p2", value: { sku: "p2" } }]);
  await produce(`${prefix}-other`, [{ key: "p3", value: { sku: "p3" } }]);

  const host = await startSource(t, {
    consumers: [consumer([], { topicPattern: `^${prefix}-[ab]$` })],
  });
  const stored = await waitForObjects(host, "Product", 2);
  t.notOk(
    stored.has(toObjectId("p3")),
    "the topic that does not match is not read",
  );
});
