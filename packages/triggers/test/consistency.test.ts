import t from "tap";
import { toObjectId, type ChangeEvent } from "@weft/core";
import { startWebhookReceiver, type ReceivedRequest } from "@weft/testkit";
import {
  FaultyStore,
  api,
  captureLogger,
  fastRetry,
  product,
  productTrigger,
  startHost,
  waitUntil,
} from "./helpers.js";

const plugin = "@weft/triggers";

function nameOf(request: ReceivedRequest): string {
  return JSON.parse(request.body.toString("utf8")).data.after.name as string;
}

t.test("concurrent dead-letter calls on one id", async (t) => {
  const store = new FaultyStore();
  const receiver = await startWebhookReceiver({
    responses: [{ status: 400 }, { status: 400 }],
  });
  t.teardown(() => receiver.close());
  const host = await startHost(t, {
    store,
    triggers: {
      triggers: [productTrigger("dead", receiver.url)],
    },
  });
  await host.write([product("p1", { name: "first" })]);
  await host.write([product("p2", { name: "second" })]);
  const listed = await waitUntil(async () => {
    const { body } = await api(host, "GET", "/v1/triggers/dead/dead-letters");
    return body.deadLetters.length === 2 && body.deadLetters;
  }, "two dead letters");
  // Every state call now waits, so the two requests of each pair interleave.
  store.stateLatencyMs = 5;

  const path = `/v1/triggers/dead/dead-letters/${listed[0].id}`;
  const twice = await Promise.all([
    api(host, "POST", `${path}/redeliver`),
    api(host, "POST", `${path}/redeliver`),
  ]);
  t.same(
    twice.map((response) => response.status).sort(),
    [202, 404],
    "one redelivery is queued, the other finds the dead letter gone",
  );
  const missing = twice.find((response) => response.status === 404)!;
  t.equal(missing.body.error.code, "WEFT_ERR_TRIGGERS_DEAD_LETTER_NOT_FOUND");

  const other = `/v1/triggers/dead/dead-letters/${listed[1].id}`;
  const mixed = await Promise.all([
    api(host, "POST", `${other}/redeliver`),
    api(host, "DELETE", other),
  ]);
  t.equal(
    mixed.filter((response) => response.status === 404).length,
    1,
    "redeliver and delete on one dead letter: the second gets 404",
  );

  await waitUntil(
    async () =>
      (await api(host, "GET", "/v1/triggers/dead")).body.pending === 0,
    "the redeliveries to finish",
  );
  const status = (await api(host, "GET", "/v1/triggers/dead")).body;
  t.equal(status.deadLetters, 0, "the count matches the stored dead letters");
  t.equal(
    (await store.stateList(plugin, "trigger/dead/dead/")).length,
    0,
    "no dead letter is left in state",
  );
  const firstCount = receiver.requests.filter(
    (request) => nameOf(request) === "first",
  ).length;
  t.equal(firstCount, 2, "the first event was redelivered once");
});

t.test("retry attempts count while state writes fail", async (t) => {
  const store = new FaultyStore();
  store.failSet = (key) => key.includes("/pending/");
  const { logger, lines } = captureLogger();
  const receiver = await startWebhookReceiver({
    defaultResponse: { status: 503 },
  });
  t.teardown(() => receiver.close());
  const host = await startHost(t, {
    store,
    logger,
    triggers: {
      retry: { ...fastRetry, maxAttempts: 3 },
      disableAfterFailures: 0,
      triggers: [productTrigger("flaky", receiver.url)],
    },
  });
  await host.write([product("p1", { name: "Phone" })]);

  const dead = await waitUntil(
    async () =>
      (await api(host, "GET", "/v1/triggers/flaky/dead-letters")).body
        .deadLetters[0],
    "a dead letter although the retry records cannot be stored",
    5000,
  );
  t.equal(dead.reason, "exhausted");
  t.equal(dead.attempts, 3);
  t.equal(receiver.requests.length, 3, "maxAttempts attempts, no more");

  const failure = lines
    .map((line) => JSON.parse(line))
    .find((line) => /storing a delivery outcome failed/.test(line.msg));
  t.ok(failure, "the failed state write is logged");
  t.equal(failure?.trigger, "flaky");
  t.equal(failure?.objectId, toObjectId("p1"));
  t.equal(failure?.seq, 1);
});

t.test("dead letter stored, pending delete fails", async (t) => {
  const store = new FaultyStore();
  store.failDelete = (key) => key.includes("/pending/");
  const receiver = await startWebhookReceiver({
    responses: [{ status: 503 }, { status: 400 }],
  });
  t.teardown(() => receiver.close());
  const triggers = {
    retry: fastRetry,
    triggers: [productTrigger("sticky", receiver.url)],
  };
  const first = await startHost(t, { store, triggers, stopAtTeardown: false });
  let stopped = false;
  t.teardown(() => (stopped ? undefined : first.stop()));
  await first.write([product("p1", { name: "Phone" })]);

  await waitUntil(async () => {
    const { body } = await api(first, "GET", "/v1/triggers/sticky");
    return body.deadLetters === 1 && body.pending === 0;
  }, "the event to leave the queue once its dead letter is stored");
  t.equal(receiver.requests.length, 2, "no attempt after the dead letter");
  t.equal(
    (await store.stateList(plugin, "trigger/sticky/pending/")).length,
    1,
    "the pending record the store failed to delete is still in state",
  );
  stopped = true;
  await first.stop();

  store.failDelete = () => false;
  const second = await startHost(t, { store, triggers });
  const status = (await api(second, "GET", "/v1/triggers/sticky")).body;
  t.equal(status.pending, 0, "a restart drops the stale pending record");
  t.equal(status.deadLetters, 1);
  t.equal(
    (await store.stateList(plugin, "trigger/sticky/pending/")).length,
    0,
    "and deletes it from state",
  );
  t.equal(receiver.requests.length, 2, "nothing is delivered again");
});

t.test("stored order survives replay and restart", async (t) => {
  const store = new FaultyStore();
  let failing = true;
  const receiver = await startWebhookReceiver({
    responses: (request) => ({
      status: failing && nameOf(request) === "b" ? 503 : 200,
    }),
  });
  t.teardown(() => receiver.close());
  const triggers = {
    retry: {
      ...fastRetry,
      maxAttempts: 100,
      initialDelay: "1s",
      maxDelay: "1s",
    },
    maxInFlight: 1,
    stopTimeout: "50ms",
    triggers: [productTrigger("ordered", receiver.url)],
  };
  const first = await startHost(t, { store, triggers, stopAtTeardown: false });
  let stopped = false;
  t.teardown(() => (stopped ? undefined : first.stop()));
  await first.write([product("p1", { name: "a" })]);
  await receiver.waitFor(1);
  await first.write([product("p1", { name: "b" })]);
  await waitUntil(
    async () =>
      (await api(first, "GET", "/v1/triggers/ordered/pending")).body.pending[0]
        ?.attempts === 1,
    "seq 2 waiting for its retry",
  );

  // Seq 1 is read again and queued behind the retry record of seq 2.
  const replay = await api(first, "POST", "/v1/triggers/ordered/replay", {
    fromSeq: 1,
  });
  t.equal(replay.status, 202);
  await waitUntil(
    async () =>
      (await api(first, "GET", "/v1/triggers/ordered")).body.pending === 2,
    "the replayed event to queue",
  );
  const invoked = await api(first, "POST", "/v1/triggers/ordered/invoke", {
    id: "p1",
  });
  t.equal(invoked.status, 202);
  const listed = (await api(first, "GET", "/v1/triggers/ordered/pending")).body
    .pending as Array<{ event: { seq: number } }>;
  t.same(
    listed.map((record) => record.event.seq),
    [2, 1, 2],
    "the pending list shows the delivery order",
  );
  stopped = true;
  await first.stop();
  t.equal(receiver.requests.length, 2, "nothing else was delivered");

  failing = false;
  const second = await startHost(t, { store, triggers });
  await waitUntil(
    async () =>
      (await api(second, "GET", "/v1/triggers/ordered")).body.pending === 0,
    "the stored events to be delivered",
  );
  const after = receiver.requests.slice(2);
  t.same(
    after.map((request) => JSON.parse(request.body.toString()).data.seq),
    [2, 1, 2],
    "seq 2, then the replayed seq 1, then the manual invocation",
  );
  t.equal(
    after[2].headers["webhook-id"],
    invoked.body.deliveryId,
    "the manual invocation comes last",
  );
});

t.test("pending records of the old format load in key order", async (t) => {
  const store = new FaultyStore();
  const receiver = await startWebhookReceiver();
  t.teardown(() => receiver.close());
  const event = (seq: number, name: string): ChangeEvent => ({
    seq,
    op: "UPDATE",
    class: "Product",
    id: toObjectId("p1"),
    before: null,
    after: { name },
    timestamp: new Date(0).toISOString(),
    txId: `tx-${seq}`,
    origin: { plugin: "test" },
    metadata: {},
  });
  // Records as the previous version wrote them: no order field, ordered by key.
  const keys = [
    "trigger/legacy/pending/0000000000000003",
    "trigger/legacy/pending/0000000000000003/manual-x",
    "trigger/legacy/pending/0000000000000007",
  ];
  const names = ["three", "manual", "seven"];
  for (const [index, key] of keys.entries()) {
    const seq = index === 2 ? 7 : 3;
    await store.stateSet(plugin, key, {
      key,
      deliveryId: `legacy-${index}`,
      source: index === 1 ? "manual" : "change",
      event: event(seq, names[index]),
      attempts: 1,
      nextAttemptAt: 0,
    });
  }

  const host = await startHost(t, {
    store,
    triggers: {
      triggers: [productTrigger("legacy", receiver.url)],
    },
  });
  const requests = await receiver.waitFor(3);
  t.same(requests.map(nameOf), names, "delivered in the stored key order");
  await waitUntil(
    async () =>
      (await api(host, "GET", "/v1/triggers/legacy")).body.pending === 0,
    "the old records to be delivered",
  );
  t.same(await store.stateList(plugin, "trigger/legacy/pending/"), []);
});
