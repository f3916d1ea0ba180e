import t from "tap";
import { Host, MemoryStore } from "@weft/core";
import {
  classes,
  fastRetries,
  receive,
  sinkStatus,
  startSinkHost,
  storePlugin,
  testLogger,
  waitFor,
} from "./helpers.js";

t.test("stop publishes what is left", async (t) => {
  const { host, topic, brokers } = await startSinkHost(t, {
    sink: { format: "plain", maxBatch: 10 },
  });
  await host.write(
    Array.from({ length: 200 }, (_, index) => ({
      op: "upsert" as const,
      class: "Order",
      id: `order-${index}`,
      properties: { total: index },
    })),
  );
  await host.stop();

  const messages = await receive(brokers, topic, 200, 300);
  t.equal(
    messages.length,
    200,
    "every event written before the stop was published",
  );
  t.same(
    messages.map((message) => Number(message.headers.seq)),
    Array.from({ length: 200 }, (_, index) => index + 1),
  );
});

t.test("unreachable broker at start leaves writes working", async (t) => {
  const started = Date.now();
  const { host } = await startSinkHost(t, {
    // Port 9 (discard) is closed on loopback, so every connection attempt is refused at once.
    sink: {
      brokers: ["127.0.0.1:9"],
      startupTimeout: "200ms",
      connectionTimeout: "200ms",
      sendRetries: 1,
      ...fastRetries,
    },
  });
  t.ok(
    Date.now() - started < 5000,
    "the host starts without waiting for the broker",
  );

  const [result] = await host.write([
    { op: "upsert", class: "Order", id: "order-1", properties: { total: 1 } },
  ]);
  t.equal(result.status, "ok", "writes succeed while the sink cannot publish");

  await waitFor(
    () => sinkStatus(host).details.retrying === true,
    "the sink to report the failed connection",
  );
  const { status, details } = sinkStatus(host);
  t.equal(status, "degraded");
  t.equal(details.lagSeq, 1, "the unpublished write shows as lag");
  t.match(
    details.lastError,
    /127\.0\.0\.1:9/,
    "the last error names the broker",
  );
});

t.test("checkpoint behind retention fails the sink", async (t) => {
  // Retention that ignores checkpoints keeps seqs 16 to 20 of the 20 written before the sink starts.
  const store = new MemoryStore({ retention: { maxRows: 5, force: true } });
  const seeder = new Host({
    classes,
    server: false,
    logger: testLogger(),
    processMetrics: false,
  });
  await seeder.register(storePlugin(store), {});
  await seeder.start();
  for (let round = 1; round <= 20; round++) {
    await seeder.write([
      {
        op: "upsert",
        class: "Order",
        id: "order-1",
        properties: { total: round },
      },
    ]);
  }
  await seeder.stop();
  await store.stateSet("@weft/sink-cdc", "checkpoint", { nextSeq: 3 });

  const { host } = await startSinkHost(t, {
    store,
    sink: { brokers: ["127.0.0.1:9"], startupTimeout: "200ms" },
  });
  await waitFor(() => sinkStatus(host).status === "failed", "the sink to fail");
  const { details } = sinkStatus(host);
  t.match(details.lastError, /change log no longer holds seq 3/);
  t.match(
    details.lastError,
    /delete the state key "checkpoint"/,
    "the error says how to recover",
  );
  t.equal(details.phase, "failed");
  const [result] = await host.write([
    { op: "upsert", class: "Order", id: "order-2", properties: { total: 1 } },
  ]);
  t.equal(result.status, "ok", "writes go on after the sink failed");
});

t.test("invalid stored checkpoint fails the sink", async (t) => {
  const store = new MemoryStore();
  await store.stateSet("@weft/sink-cdc", "checkpoint", { nextSeq: "three" });
  const { host } = await startSinkHost(t, {
    store,
    sink: { brokers: ["127.0.0.1:9"], startupTimeout: "200ms" },
  });

  await waitFor(() => sinkStatus(host).status === "failed", "the sink to fail");
  t.match(
    sinkStatus(host).details.lastError,
    /stored checkpoint of @weft\/sink-cdc is invalid/,
  );
});
