import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import tap from "tap";
import { pino } from "pino";
import { Registry } from "prom-client";
import type { ChangeEvent, ClassDefinition, Plugin, Store } from "@weft/core";
import sqliteStore, { createSqliteStore } from "@weft/store-sqlite";
import { brokers } from "@weft/testkit";
import kafkajs from "kafkajs";
import {
  captureLogger,
  changes,
  committedOffsets,
  consumer,
  highWatermarks,
  newTopic,
  objects,
  produce,
  startSource,
  waitFor,
} from "./helpers.js";

const crashHost = join(
  dirname(fileURLToPath(import.meta.url)),
  "fixtures",
  "crash-host.mjs",
);

async function tempDir(t: {
  teardown(fn: () => unknown): void;
}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "weft-source-kafka-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** The class of crash-host.mjs. */
const crashClass: ClassDefinition = {
  name: "Product",
  properties: [
    { name: "sku", type: "text" },
    { name: "seq", type: "int" },
  ],
};

/** Opens the crash host's SQLite file, runs `read` and closes the store. */
async function readStore<T>(
  file: string,
  read: (store: Store) => Promise<T>,
): Promise<T> {
  const store = createSqliteStore({ path: file });
  await store.open({
    classes: [crashClass],
    logger: pino({ level: "silent" }),
    metrics: new Registry(),
  });
  try {
    return await read(store);
  } finally {
    await store.close();
  }
}

/** Messages that update 50 ids 20 times each; every message changes its object, so each one is one event. */
function versions(count: number, start = 0) {
  return Array.from({ length: count }, (_, i) => ({
    key: `k${(start + i) % 50}`,
    value: { sku: `k${(start + i) % 50}`, seq: start + i },
  }));
}

/** Checks that the events hold each message's version exactly once and in offset order per id. */
function checkExactlyOnce(
  t: Pick<typeof tap, "equal" | "same" | "ok">,
  events: ChangeEvent[],
  expected: number,
): void {
  t.equal(
    events.length,
    expected,
    `${expected} change events, one per message`,
  );
  t.same(
    events.map((event) => event.seq),
    Array.from({ length: events.length }, (_, i) => i + 1),
    "seqs are gap-free from 1",
  );
  const seqs = events.map((event) => event.after?.seq as number);
  t.equal(
    new Set(seqs).size,
    seqs.length,
    "no message version was applied twice",
  );

  const lastById = new Map<string, number>();
  let ordered = true;
  for (const event of events) {
    const previous = lastById.get(event.id) ?? -1;
    if ((event.after?.seq as number) <= previous) ordered = false;
    lastById.set(event.id, event.after?.seq as number);
  }
  t.ok(ordered, "versions of each id applied in offset order");
}

tap.test(
  "restart resumes from stored positions and drops older messages",
  async (t) => {
    const dir = await tempDir(t);
    const file = join(dir, "weft.db");
    const topic = await newTopic("restart", 2);
    const config = consumer(topic, { name: "restart" });
    const store = {
      plugin: sqliteStore as unknown as Plugin,
      config: { path: file },
    };
    await produce(topic, versions(100));

    const first = await startSource(t, { store, consumers: [config] });
    await waitFor(
      "100 events",
      async () => (await changes(first.store)).length === 100,
    );
    await first.stop();

    // Move the group back to the start, as if the Kafka commits had been lost.
    const admin = new kafkajs.Kafka({
      brokers: await brokers(),
      logLevel: kafkajs.logLevel.NOTHING,
    }).admin();
    await admin.connect();
    await admin.resetOffsets({
      groupId: config.groupId as string,
      topic,
      earliest: true,
    });
    await admin.disconnect();

    const { logger, lines } = captureLogger();
    const second = await startSource(t, { store, consumers: [config], logger });
    await produce(topic, versions(10, 100));
    await waitFor(
      "110 events",
      async () => (await changes(second.store)).length >= 110,
    );

    checkExactlyOnce(t, await changes(second.store), 110);
    t.ok(
      lines.some(
        (line) =>
          line.msg ===
          "resuming the partition at the position stored with the objects",
      ),
      "the consumer sought to the stored positions",
    );
    const high = await highWatermarks(topic);
    await waitFor(
      "kafka offsets committed up to the stored positions",
      async () => {
        const committed = await committedOffsets(
          config.groupId as string,
          topic,
        );
        return [...high].every(
          ([partition, offset]) => committed.get(partition) === offset,
        );
      },
    );
  },
);

tap.test(
  "store behind the group reads back without committing backwards",
  async (t) => {
    const dir = await tempDir(t);
    const topic = await newTopic("behind");
    const config = consumer(topic, { name: "behind" });
    const groupId = config.groupId as string;
    const store = {
      plugin: sqliteStore as unknown as Plugin,
      config: { path: join(dir, "weft.db") },
    };
    await produce(topic, versions(20));

    const first = await startSource(t, { store, consumers: [config] });
    await waitFor(
      "20 events",
      async () => (await changes(first.store)).length === 20,
    );
    await first.stop();

    // Messages the store never saw, and a group offset already past them.
    await produce(topic, versions(10, 20));
    const admin = new kafkajs.Kafka({
      brokers: await brokers(),
      logLevel: kafkajs.logLevel.NOTHING,
    }).admin();
    await admin.connect();
    await admin.setOffsets({
      groupId,
      topic,
      partitions: [{ partition: 0, offset: "30" }],
    });

    const commits: string[] = [];
    const second = await startSource(t, { store, consumers: [config] });
    await waitFor(
      "30 events",
      async () => (await changes(second.store)).length === 30,
    );
    checkExactlyOnce(t, await changes(second.store), 30);

    // Only this consumer commits for the group, so any commit below 30 would show here.
    for (let poll = 0; poll < 5; poll++) {
      const [result] = await admin.fetchOffsets({ groupId, topics: [topic] });
      commits.push(result.partitions[0].offset);
    }
    await admin.disconnect();
    t.ok(
      commits.every((offset) => BigInt(offset) >= 30n),
      `the group's offset never went below 30: ${commits.join(", ")}`,
    );
  },
);

/** Runs the crash host; resolves with its exit code or signal, and calls `onLine` for each stdout line. */
function runHost(
  args: string[],
  env: Record<string, string>,
  onLine: (line: string) => void,
) {
  const child = spawn(process.execPath, [crashHost, ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let buffered = "";
  child.stdout.on("data", (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split("\n");
    buffered = lines.pop() ?? "";
    lines.forEach(onLine);
  });
  const exited = new Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
  }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  return { child, exited };
}

tap.test(
  "crash mid-stream and restart lose nothing and duplicate no change event",
  async (t) => {
    const dir = await tempDir(t);
    const file = join(dir, "weft.db");
    const topic = await newTopic("crash", 3);
    const groupId = `${topic}-group`;
    const total = 1000;
    await produce(topic, versions(total));
    const args = [file, topic, groupId, (await brokers()).join(",")];

    // The host kills itself right after a store commit, before the Kafka commit.
    const crashed = runHost(args, { CRASH_AFTER_SEQ: "400" }, () => undefined);
    t.teardown(() => crashed.child.kill("SIGKILL"));
    const crash = await crashed.exited;
    t.equal(crash.signal, "SIGKILL", "the host was killed");

    const stored = await readStore(file, async (store) => ({
      events: (await changes(store)).length,
      positions: await store.positions(`@weft/source-kafka:${groupId}`),
    }));
    t.ok(
      stored.events >= 400 && stored.events < total,
      `killed mid-stream after ${stored.events} events`,
    );
    const committed = await committedOffsets(groupId, topic);
    const storedSum = stored.positions.reduce(
      (sum, position) => sum + BigInt(position.position),
      0n,
    );
    const committedSum = [...committed.values()].reduce(
      (sum, offset) => sum + (offset > 0n ? offset : 0n),
      0n,
    );
    t.ok(
      storedSum > committedSum,
      `the store is ahead of the Kafka commits (${storedSum} > ${committedSum})`,
    );

    let lastSeq = 0;
    const restarted = runHost(args, {}, (line) => {
      const match = /^written (\d+)$/.exec(line);
      if (match) lastSeq = Number(match[1]);
    });
    t.teardown(() => restarted.child.kill("SIGKILL"));
    await waitFor(
      "every message written after the restart",
      () => lastSeq >= total,
      60_000,
    );
    restarted.child.kill("SIGTERM");
    const stop = await restarted.exited;
    t.equal(stop.code, 0, "the restarted host stopped cleanly");

    await readStore(file, async (store) => {
      checkExactlyOnce(t, await changes(store), total);
      const products = await objects(store, "Product");
      t.equal(products.size, 50);
      t.ok(
        [...products.values()].every(
          (product) => (product.properties.seq as number) >= total - 50,
        ),
        "every object holds its last version",
      );
    });
  },
);
