import t from "tap";
import { MemoryStore } from "@weft/core";
import { SubscriptionsErrorCode } from "@weft/subscriptions";
import { connect, openRaw, startHost, subscribe, waitFor } from "./helpers.js";

/** A memory store whose firstSeq waits for a gate, to hold a resuming subscribe mid-way. */
class GatedStore extends MemoryStore {
  entered = 0;
  #open: () => void = () => {};
  #gate: Promise<void> = new Promise((resolve) => (this.#open = resolve));

  override async firstSeq(): Promise<number> {
    this.entered += 1;
    await this.#gate;
    return super.firstSeq();
  }

  release(): void {
    this.#open();
  }
}

const resumeQuery = `subscription { productChanges(afterSeq: "1") { seq } }`;

t.test(
  "closing the socket while a subscribe resolves leaks nothing",
  async (t) => {
    const store = new GatedStore();
    const testHost = await startHost(t, { store });
    await testHost.write([
      { op: "upsert", class: "Product", properties: { name: "a" } },
    ]);
    await testHost.write([
      { op: "upsert", class: "Product", properties: { name: "b" } },
    ]);

    const raw = await openRaw(t, testHost);
    raw.send({ type: "connection_init" });
    raw.send({ id: "s", type: "subscribe", payload: { query: resumeQuery } });
    await waitFor(
      () => store.entered === 1,
      "the subscribe to reach the store",
    );
    t.equal(
      testHost.manager.subscriberCount,
      1,
      "the subscriber is reserved while it resolves",
    );

    raw.ws.close();
    await raw.closed;
    await waitFor(() => testHost.manager.subscriberCount === 0, "the release");
    store.release();

    const before = testHost.manager.stats();
    await testHost.write([
      { op: "upsert", class: "Product", properties: { name: "c" } },
    ]);
    await waitFor(
      () => testHost.manager.stats().processedSeq === 3,
      "the dispatcher to pass the write",
    );
    const after = testHost.manager.stats();
    t.equal(after.subscribers, 0, "no subscriber");
    t.equal(after.groups, 0, "no group");
    t.equal(after.deliveries, before.deliveries, "nothing delivered");
  },
);

t.test(
  "complete while a subscribe resolves leaks nothing and sends nothing",
  async (t) => {
    const store = new GatedStore();
    const testHost = await startHost(t, { store });
    await testHost.write([
      { op: "upsert", class: "Product", properties: { name: "a" } },
    ]);
    await testHost.write([
      { op: "upsert", class: "Product", properties: { name: "b" } },
    ]);

    const raw = await openRaw(t, testHost);
    raw.send({ type: "connection_init" });
    raw.send({ id: "s", type: "subscribe", payload: { query: resumeQuery } });
    await waitFor(
      () => store.entered === 1,
      "the subscribe to reach the store",
    );
    raw.send({ id: "s", type: "complete" });
    await waitFor(() => testHost.manager.subscriberCount === 0, "the release");
    store.release();

    raw.send({
      id: "m",
      type: "subscribe",
      payload: { query: `subscription { changes(classes: [Marker]) { seq } }` },
    });
    await waitFor(
      () => testHost.manager.subscriberCount === 1,
      "the marker subscription",
    );
    await testHost.write([
      { op: "upsert", class: "Product", properties: { name: "c" } },
    ]);
    await testHost.write([
      { op: "upsert", class: "Marker", properties: { n: 1 } },
    ]);
    await waitFor(
      () => raw.messages.some((message) => message.id === "m"),
      "the marker",
    );

    t.same(
      raw.messages.filter((message) => message.id === "s"),
      [],
      "no message for the completed operation",
    );
    t.equal(
      testHost.manager.stats().groups,
      1,
      "only the marker group is left",
    );
  },
);

t.test("clients that go away at every stage leave no subscriber", async (t) => {
  const testHost = await startHost(t);
  const query = `subscription { productChanges { seq } }`;

  for (let i = 0; i < 20; i++) {
    const client = connect(t, testHost);
    subscribe(client, query);
    if (i % 2 === 0) await new Promise((resolve) => setImmediate(resolve));
    else
      await waitFor(
        () => testHost.manager.subscriberCount > 0,
        "a subscription",
      );
    await client.dispose();
  }
  await waitFor(() => testHost.manager.subscriberCount === 0, "every release");
  t.equal(testHost.manager.stats().groups, 0);

  let metrics = "";
  const readMetrics = async () => {
    metrics = await (await fetch(`${testHost.host.http!.url}/metrics`)).text();
    return metrics;
  };
  while (!/^weft_subscriptions_connections 0$/m.test(await readMetrics())) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  t.match(metrics, /^weft_subscriptions_subscribers 0$/m);
  t.match(metrics, /^weft_subscriptions_connections 0$/m);
});

t.test(
  "stopping the host closes connections with 1001 and ends iterators",
  async (t) => {
    const testHost = await startHost(t);
    let closeCode: number | undefined;
    const client = connect(t, testHost, {
      on: { closed: (event) => (closeCode = (event as CloseEvent).code) },
    });
    subscribe(client, `subscription { productChanges { seq } }`);
    const iterator = testHost.manager.iterate({
      query: `subscription { productChanges { seq } }`,
    });
    const pending = iterator.next();
    await waitFor(
      () => testHost.manager.subscriberCount === 2,
      "both subscriptions",
    );

    await testHost.host.stop();
    t.equal(closeCode, 1001);
    t.equal(testHost.manager.subscriberCount, 0);
    await t.rejects(pending, {
      errors: [{ extensions: { code: SubscriptionsErrorCode.STOPPING } }],
    });
  },
);
