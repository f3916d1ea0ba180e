import { setTimeout as sleep } from "node:timers/promises";
import t from "tap";
import { Host, MemoryStore, type Snapshot } from "@weft/core";
import {
  classes,
  ids,
  published,
  startSinkHost,
  storePlugin,
  testLogger,
  type Received,
} from "./helpers.js";

type Envelope = {
  op: string;
  before: unknown;
  after: Record<string, unknown> | null;
  source: { snapshot: string; seq: number; class: string };
};

/** Writes through a short-lived host without the sink, so the objects exist before the sink first starts. */
async function seed(
  store: MemoryStore,
  write: (host: Host) => Promise<unknown>,
): Promise<void> {
  const host = new Host({
    classes,
    server: false,
    logger: testLogger(),
    processMetrics: false,
  });
  await host.register(storePlugin(store), {});
  await host.start();
  await write(host);
  await host.stop();
}

function summary(
  messages: Received[],
): Array<[string, string, string, number]> {
  return messages.map((message) => {
    const value = message.value as Envelope;
    return [
      value.op,
      JSON.parse(message.key).id,
      value.source.snapshot,
      value.source.seq,
    ];
  });
}

t.test(
  "initial snapshot, then streaming from the snapshot's seq",
  async (t) => {
    const store = new MemoryStore();
    await seed(store, async (host) => {
      await host.write([
        {
          op: "upsert",
          class: "Product",
          id: ids.lamp,
          properties: { name: "Lamp" },
        },
        {
          op: "upsert",
          class: "Product",
          id: ids.desk,
          properties: { name: "Desk" },
        },
        {
          op: "upsert",
          class: "Order",
          id: ids.order,
          properties: { total: 9 },
        },
      ]);
      await host.write([
        {
          op: "patch",
          class: "Product",
          id: ids.lamp,
          properties: { name: "Lamp 2" },
        },
      ]);
    });

    const { host, topic, brokers } = await startSinkHost(t, {
      store,
      sink: { snapshot: "initial", schemas: false },
    });
    await host.write([
      {
        op: "patch",
        class: "Product",
        id: ids.desk,
        properties: { name: "Desk 2" },
      },
    ]);
    await host.write([{ op: "delete", class: "Order", id: ids.order }]);

    const messages = await published(host, brokers, topic, 6, 300);
    t.same(
      summary(messages.slice(0, 5)),
      [
        ["r", ids.lamp, "first", 4],
        ["r", ids.desk, "last_in_data_collection", 4],
        ["r", ids.order, "last", 4],
        ["u", ids.desk, "false", 5],
        ["d", ids.order, "false", 6],
      ],
      "read rows of the snapshot, then the changes after it",
    );
    const first = messages[0].value as Envelope;
    t.equal(first.before, null);
    t.equal(
      first.after?.name,
      "Lamp 2",
      "a read row carries the object as of the snapshot",
    );
    t.equal(messages[5].value, null, "the delete's tombstone");
  },
);

t.test("a restart with a checkpoint does not snapshot again", async (t) => {
  const store = new MemoryStore();
  await seed(store, (host) =>
    host.write([
      {
        op: "upsert",
        class: "Product",
        id: ids.lamp,
        properties: { name: "Lamp" },
      },
    ]),
  );

  const first = await startSinkHost(t, {
    store,
    sink: { snapshot: "initial", format: "plain" },
  });
  await published(first.host, first.brokers, first.topic, 1);
  await first.host.stop();

  const second = await startSinkHost(t, {
    store,
    sink: { snapshot: "initial", format: "plain", topic: first.topic },
  });
  await second.host.write([
    {
      op: "upsert",
      class: "Product",
      id: ids.desk,
      properties: { name: "Desk" },
    },
  ]);
  const messages = await published(
    second.host,
    second.brokers,
    second.topic,
    2,
    500,
  );
  t.same(
    messages.map((message) => [
      (message.value as { op: string }).op,
      message.key,
    ]),
    [
      ["READ", ids.lamp],
      ["INSERT", ids.desk],
    ],
  );
});

/** A memory store that runs `between` after the first class's snapshot, so writes land between two class snapshots. */
class SeamStore extends MemoryStore {
  between: (() => Promise<void>) | undefined;

  override async snapshot(className: string): Promise<Snapshot> {
    const snapshot = await super.snapshot(className);
    const hook = this.between;
    this.between = undefined;
    if (hook) await hook();
    return snapshot;
  }
}

t.test(
  "writes between class snapshots are neither missed nor doubled",
  async (t) => {
    const store = new SeamStore();
    await seed(store, (host) =>
      host.write([
        {
          op: "upsert",
          class: "Product",
          id: ids.lamp,
          properties: { name: "Lamp" },
        },
        {
          op: "upsert",
          class: "Order",
          id: ids.order,
          properties: { total: 1 },
        },
      ]),
    );

    const started: { host?: Host } = {};
    let hookDone!: () => void;
    const hookFinished = new Promise<void>((resolve) => (hookDone = resolve));
    store.between = async () => {
      // The sink snapshots in the background and may get here before startSinkHost returned the host.
      while (!started.host) await sleep(10);
      // Product's snapshot is taken (seq 2); these land before Order's (seq 4).
      await started.host.write([
        {
          op: "patch",
          class: "Product",
          id: ids.lamp,
          properties: { name: "Lamp 2" },
        },
      ]);
      await started.host.write([
        {
          op: "patch",
          class: "Order",
          id: ids.order,
          properties: { total: 2 },
        },
      ]);
      hookDone();
    };
    const { host, topic, brokers } = await startSinkHost(t, {
      store,
      sink: { snapshot: "initial", format: "plain" },
    });
    started.host = host;
    await hookFinished;
    await host.write([
      { op: "patch", class: "Order", id: ids.order, properties: { total: 3 } },
    ]);

    const messages = await published(host, brokers, topic, 4, 500);
    t.same(
      messages.map((message) => {
        const value = message.value as {
          op: string;
          class: string;
          seq: number;
          after: Record<string, unknown>;
        };
        return [value.op, value.class, value.seq, value.after];
      }),
      [
        ["READ", "Product", 2, { name: "Lamp" }],
        ["READ", "Order", 4, { total: 2 }],
        ["UPDATE", "Product", 3, { name: "Lamp 2" }],
        ["UPDATE", "Order", 5, { total: 3 }],
      ],
      "Product's update after its snapshot is streamed; Order's update inside its snapshot is not repeated",
    );
  },
);

t.test("snapshot applies the where filter", async (t) => {
  const store = new MemoryStore();
  await seed(store, (host) =>
    host.write([
      {
        op: "upsert",
        class: "Product",
        id: ids.lamp,
        properties: { name: "Lamp", category: "home" },
      },
      {
        op: "upsert",
        class: "Product",
        id: ids.desk,
        properties: { name: "Desk", category: "office" },
      },
    ]),
  );
  const { host, topic, brokers } = await startSinkHost(t, {
    store,
    sink: {
      snapshot: "initial",
      format: "plain",
      classes: ["Product"],
      where: { category: { equals: "office" } },
    },
  });
  const messages = await published(host, brokers, topic, 1, 500);
  t.same(
    messages.map((message) => [
      message.key,
      (message.value as { snapshot: string }).snapshot,
    ]),
    [[ids.desk, "last"]],
    "a single row is the snapshot's last",
  );
});

t.test("snapshot markers follow Debezium's precedence", async (t) => {
  const { snapshotRows, takeSnapshots } = await import("../dist/snapshot.js");
  const store = new MemoryStore();
  await seed(store, (host) =>
    host.write([
      { op: "upsert", class: "Product", id: "p1", properties: { name: "a" } },
      { op: "upsert", class: "Product", id: "p2", properties: { name: "b" } },
      { op: "upsert", class: "Order", id: "o1", properties: { total: 1 } },
      { op: "upsert", class: "Order", id: "o2", properties: { total: 2 } },
      { op: "upsert", class: "Order", id: "o3", properties: { total: 3 } },
    ]),
  );
  const markers: Array<[string, string]> = [];
  for await (const row of snapshotRows(
    await takeSnapshots(store, ["Product", "Order"]),
    () => true,
  )) {
    markers.push([row.object.class, row.marker]);
  }
  t.same(markers, [
    ["Product", "first"],
    ["Product", "last_in_data_collection"],
    ["Order", "first_in_data_collection"],
    ["Order", "true"],
    ["Order", "last"],
  ]);

  const empty: unknown[] = [];
  for await (const row of snapshotRows(
    await takeSnapshots(new MemoryStore(), ["Product"]),
    () => true,
  ))
    empty.push(row);
  t.same(empty, [], "an empty snapshot has no rows");
});
