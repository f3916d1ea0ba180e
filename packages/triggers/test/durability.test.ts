import t from "tap";
import { MemoryStore } from "@weft/core";
import { startWebhookReceiver, type ReceivedRequest } from "@weft/testkit";
import {
  api,
  fastRetry,
  loopback,
  product,
  productTrigger,
  startHost,
  waitUntil,
} from "./helpers.js";

t.test("host restart during retries, then delivery", async (t) => {
  // One store instance shared by two hosts plays the part of a database that outlives the process.
  const store = new MemoryStore();
  let failing = true;
  const nameOf = (request: ReceivedRequest) =>
    JSON.parse(request.body.toString("utf8")).data.after.name as string;
  const receiver = await startWebhookReceiver({
    responses: (request) => ({
      status: failing && nameOf(request) === "Before restart" ? 503 : 200,
    }),
  });
  t.teardown(() => receiver.close());
  const triggers = {
    retry: {
      ...fastRetry,
      maxAttempts: 10,
      initialDelay: "1s",
      maxDelay: "1s",
    },
    triggers: [productTrigger("durable", receiver.url)],
  };

  const first = await startHost(t, { triggers, store, stopAtTeardown: false });
  await first.write([product("p1", { name: "Before restart" })]);
  await first.write([product("p2", { name: "Delivered before restart" })]);
  await receiver.waitFor(2);
  await waitUntil(
    async () =>
      (await api(first, "GET", "/v1/triggers/durable")).body.pending === 1,
    "one pending retry",
  );
  const pending = (await api(first, "GET", "/v1/triggers/durable/pending")).body
    .pending;
  t.equal(pending.length, 1);
  t.equal(pending[0].attempts, 1, "one failed attempt is stored");
  t.equal(pending[0].event.after.name, "Before restart");
  t.ok(pending[0].nextAttemptAt > Date.now(), "the retry is still waiting");
  await first.stop();

  failing = false;
  const second = await startHost(t, { triggers, store });
  await second.write([product("p3", { name: "After restart" })]);

  await waitUntil(
    async () =>
      (await api(second, "GET", "/v1/triggers/durable")).body.pending === 0,
    "pending deliveries to finish",
  );
  const names = receiver.requests.map(nameOf);
  t.equal(
    names.filter((name) => name === "Before restart").length,
    2,
    "the retried event was delivered after the restart",
  );
  t.equal(
    names.filter((name) => name === "Delivered before restart").length,
    1,
    "the delivered event was not read again",
  );
  t.equal(names.filter((name) => name === "After restart").length, 1);

  const retried = receiver.requests.filter(
    (request) => nameOf(request) === "Before restart",
  );
  t.equal(
    retried[1].headers["weft-attempt"],
    "2",
    "the attempt count survived the restart",
  );
  t.equal(
    retried[0].headers["webhook-id"],
    retried[1].headers["webhook-id"],
    "so did the delivery id",
  );
  t.equal((await api(second, "GET", "/v1/triggers/durable")).body.nextSeq, 4);
});

t.test("checkpoint follows the position, not the pending events", async (t) => {
  const store = new MemoryStore();
  const receiver = await startWebhookReceiver({
    defaultResponse: { status: 500 },
  });
  t.teardown(() => receiver.close());
  const host = await startHost(t, {
    store,
    triggers: {
      retry: {
        ...fastRetry,
        maxAttempts: 1000,
        initialDelay: "20ms",
        maxDelay: "20ms",
      },
      disableAfterFailures: 0,
      triggers: [productTrigger("stuck", receiver.url)],
    },
  });

  await host.write([product("stuck-object", { name: "always failing" })]);
  for (let i = 0; i < 5; i += 1)
    await host.write([product(`other-${i}`, { name: `n${i}` })]);
  await waitUntil(
    async () => (await store.checkpoints()).get("@weft/triggers/stuck") === 7,
    "the checkpoint to pass the failing event",
  );
  t.equal(
    (await api(host, "GET", "/v1/triggers/stuck")).body.pending,
    6,
    "the failing events wait in state, not in the change log",
  );
});

t.test("replay since a seq delivers the events again", async (t) => {
  const receiver = await startWebhookReceiver();
  t.teardown(() => receiver.close());
  const host = await startHost(t, {
    triggers: {
      triggers: [productTrigger("replayed", receiver.url)],
    },
  });

  for (const id of ["a", "b", "c"])
    await host.write([product(id, { name: id })]);
  const firstRound = await receiver.waitFor(3);

  const replay = await api(host, "POST", "/v1/triggers/replayed/replay", {
    fromSeq: 2,
  });
  t.equal(replay.status, 202);
  t.equal(replay.body.nextSeq, 2);
  const all = await receiver.waitFor(5);
  await waitUntil(
    async () =>
      (await api(host, "GET", "/v1/triggers/replayed")).body.pending === 0,
    "replayed deliveries",
  );
  t.equal(receiver.requests.length, 5, "seq 2 and 3 again");
  t.same(
    all.slice(3).map((request) => request.headers["webhook-id"]),
    firstRound.slice(1).map((request) => request.headers["webhook-id"]),
    "a replayed event keeps its delivery id, so receivers can drop duplicates",
  );

  const beyond = await api(host, "POST", "/v1/triggers/replayed/replay", {
    fromSeq: 99,
  });
  t.equal(beyond.status, 400);
  t.equal(beyond.body.error.code, "WEFT_ERR_TRIGGERS_REQUEST_INVALID");
  const invalid = await api(host, "POST", "/v1/triggers/replayed/replay", {
    fromSeq: "1",
  });
  t.equal(invalid.status, 400);
});

t.test("replay before the oldest retained seq is refused", async (t) => {
  const store = new MemoryStore({ retention: { maxRows: 2, force: true } });
  const receiver = await startWebhookReceiver();
  t.teardown(() => receiver.close());
  const host = await startHost(t, {
    store,
    triggers: {
      triggers: [productTrigger("short", receiver.url)],
    },
  });
  for (const id of ["a", "b", "c", "d"])
    await host.write([product(id, { name: id })]);

  const response = await api(host, "POST", "/v1/triggers/short/replay", {
    fromSeq: 1,
  });
  t.equal(response.status, 409);
  t.equal(response.body.error.code, "WEFT_ERR_TRIGGERS_REPLAY_TRUNCATED");
  t.match(response.body.error.message, /oldest seq it holds is 3/);
});

t.test(
  "a trigger removed from the config releases its checkpoint",
  async (t) => {
    const store = new MemoryStore();
    const receiver = await startWebhookReceiver();
    t.teardown(() => receiver.close());
    const action = { use: "webhook", url: receiver.url, ...loopback };

    const first = await startHost(t, {
      store,
      stopAtTeardown: false,
      triggers: {
        triggers: [
          { name: "old", action },
          { name: "kept", action },
        ],
      },
    });
    t.same([...(await store.checkpoints()).keys()].sort(), [
      "@weft/triggers/kept",
      "@weft/triggers/old",
    ]);
    await first.stop();

    await startHost(t, {
      store,
      triggers: { triggers: [{ name: "kept", action }] },
    });
    t.same([...(await store.checkpoints()).keys()], ["@weft/triggers/kept"]);
  },
);

t.test("startFrom earliest reads the retained history", async (t) => {
  const store = new MemoryStore();
  const receiver = await startWebhookReceiver();
  t.teardown(() => receiver.close());
  const first = await startHost(t, {
    store,
    stopAtTeardown: false,
    triggers: {},
  });
  await first.write([product("a", { name: "a" }), product("b", { name: "b" })]);
  await first.stop();

  await startHost(t, {
    store,
    triggers: {
      triggers: [
        {
          name: "history",
          startFrom: "earliest",
          action: { use: "webhook", url: receiver.url, ...loopback },
        },
        {
          name: "latest",
          action: {
            use: "webhook",
            url: `${receiver.url}/latest`,
            ...loopback,
          },
        },
      ],
    },
  });
  const requests = await receiver.waitFor(2);
  t.same(
    requests.map((request) => request.path).sort(),
    ["/", "/"],
    "only the earliest trigger delivered the two old events",
  );
});

t.test("queued events survive a clean stop", async (t) => {
  const store = new MemoryStore();
  let slow = true;
  const nameOf = (request: ReceivedRequest) =>
    JSON.parse(request.body.toString("utf8")).data.after.name as string;
  const receiver = await startWebhookReceiver({
    responses: () => ({ status: 200, delayMs: slow ? 2000 : 0 }),
  });
  t.teardown(() => receiver.close());
  const triggers = {
    maxInFlight: 1,
    stopTimeout: "50ms",
    triggers: [productTrigger("held", receiver.url)],
  };

  const first = await startHost(t, { triggers, store, stopAtTeardown: false });
  for (const id of ["a", "b", "c", "d"])
    await first.write([product(id, { name: id })]);
  await receiver.waitFor(1);
  await first.stop();

  const stored = await store.stateList(
    "@weft/triggers",
    "trigger/held/pending/",
  );
  t.equal(stored.length, 4, "stop stored every queued event as pending");
  t.equal(
    (await store.checkpoints()).get("@weft/triggers/held"),
    5,
    "and then moved the checkpoint past them",
  );

  slow = false;
  const second = await startHost(t, { triggers, store });
  await waitUntil(
    async () =>
      (await api(second, "GET", "/v1/triggers/held")).body.pending === 0,
    "the stored events to be delivered",
  );
  const names = receiver.requests.map(nameOf);
  t.same(
    names,
    ["a", "a", "b", "c", "d"],
    "the cancelled attempt is repeated, the rest arrive once and in order",
  );
});
