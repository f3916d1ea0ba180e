import t from "tap";
import { SubscriptionsErrorCode } from "@weft/subscriptions";
import { connect, openRaw, startHost, subscribe, waitFor } from "./helpers.js";

const query = `subscription { productChanges { seq type } }`;

t.test("subscribe before connection_ack closes with 4401", async (t) => {
  const testHost = await startHost(t);
  const raw = await openRaw(t, testHost);
  raw.send({ id: "1", type: "subscribe", payload: { query } });
  const closed = await raw.closed;
  t.equal(closed.code, 4401);
  t.equal(closed.reason, "Unauthorized");
});

t.test("a second subscribe with a running id closes with 4409", async (t) => {
  const testHost = await startHost(t);
  let closeCode: number | undefined;
  const client = connect(t, testHost, {
    generateID: () => "same-id",
    on: { closed: (event) => (closeCode = (event as CloseEvent).code) },
  });
  subscribe(client, query);
  subscribe(client, query);

  await waitFor(() => closeCode !== undefined, "the close");
  t.equal(closeCode, 4409);
  await waitFor(() => testHost.manager.subscriberCount === 0, "the release");
  t.equal(
    testHost.manager.subscriberCount,
    0,
    "the first subscription was released with the connection",
  );
});

t.test("an id can be reused once its operation completed", async (t) => {
  const testHost = await startHost(t);
  const raw = await openRaw(t, testHost);
  raw.send({ type: "connection_init" });
  raw.send({ id: "a", type: "subscribe", payload: { query } });
  await waitFor(
    () => testHost.manager.subscriberCount === 1,
    "the subscription",
  );
  raw.send({ id: "a", type: "complete" });
  await waitFor(() => testHost.manager.subscriberCount === 0, "the release");

  raw.send({ id: "a", type: "subscribe", payload: { query } });
  await waitFor(
    () => testHost.manager.subscriberCount === 1,
    "the second subscription",
  );
  await testHost.write([
    { op: "upsert", class: "Product", properties: { name: "lamp" } },
  ]);
  await waitFor(
    () => raw.messages.some((message) => message.type === "next"),
    "a result",
  );
  t.equal(raw.ws.readyState, raw.ws.OPEN);
});

t.test(
  "an invalid document gets an error message and no subscriber",
  async (t) => {
    const testHost = await startHost(t);
    const client = connect(t, testHost);
    const cases = [
      {
        query: `subscription { productChanges { nope } }`,
        pattern: /Cannot query field "nope"/,
      },
      { query: `subscription {`, pattern: /Syntax Error/ },
      {
        query: `subscription { productChanges(where: { price: { like: "x" } }) { seq } }`,
        pattern: /Field "like" is not defined/,
      },
      {
        query: `subscription { productChanges(afterSeq: "12a") { seq } }`,
        code: SubscriptionsErrorCode.AFTER_SEQ_INVALID,
        pattern: /must be a string of digits/,
      },
      {
        query: `subscription { productChanges(afterSeq: "99999999999999999999999") { seq } }`,
        code: SubscriptionsErrorCode.AFTER_SEQ_INVALID,
        pattern: /is above the largest seq/,
      },
      {
        query: `subscription { changes(classes: [Nope]) { seq } }`,
        pattern: /Value "Nope" does not exist in "ClassName" enum/,
      },
    ];

    for (const testCase of cases) {
      const collector = subscribe(client, testCase.query);
      await waitFor(
        () => collector.error !== undefined,
        `the error of ${testCase.query}`,
      );
      const errors = collector.error as Array<{
        message: string;
        extensions?: { code?: string };
      }>;
      if (testCase.pattern)
        t.match(errors[0].message, testCase.pattern, testCase.query);
      if (testCase.code)
        t.equal(collector.errorCode, testCase.code, testCase.query);
    }
    t.equal(testHost.manager.subscriberCount, 0);
  },
);

t.test("an operation nested above maxQueryDepth is rejected", async (t) => {
  const testHost = await startHost(t, { config: { maxQueryDepth: 2 } });
  const client = connect(t, testHost);
  const shallow = subscribe(client, `subscription { productChanges { seq } }`);
  const deep = subscribe(
    client,
    `subscription { productChanges { product { name } } }`,
  );
  const viaFragment = subscribe(
    client,
    `subscription { productChanges { ...F } } fragment F on ProductChange { _metadata { user } }`,
  );

  await waitFor(
    () => deep.error !== undefined && viaFragment.error !== undefined,
    "both errors",
  );
  t.equal(deep.errorCode, SubscriptionsErrorCode.QUERY_TOO_DEEP);
  t.equal(viaFragment.errorCode, SubscriptionsErrorCode.QUERY_TOO_DEEP);
  await waitFor(
    () => testHost.manager.subscriberCount === 1,
    "the shallow subscription",
  );
  t.equal(shallow.error, undefined);
});

t.test("maxSubscribers rejects the subscription past the limit", async (t) => {
  const testHost = await startHost(t, { config: { maxSubscribers: 3 } });
  const client = connect(t, testHost);
  const accepted = [
    subscribe(client, query),
    subscribe(client, query),
    subscribe(client, query),
  ];
  await waitFor(
    () => testHost.manager.subscriberCount === 3,
    "three subscriptions",
  );

  const rejected = subscribe(client, query);
  await waitFor(() => rejected.error !== undefined, "the rejection");
  t.equal(rejected.errorCode, SubscriptionsErrorCode.LIMIT);
  t.match(
    (rejected.error as Array<{ message: string }>)[0].message,
    /maxSubscribers/,
  );

  accepted[0].unsubscribe();
  await waitFor(() => testHost.manager.subscriberCount === 2, "the release");
  const next = subscribe(client, query);
  await waitFor(
    () => testHost.manager.subscriberCount === 3,
    "a subscription after the release",
  );
  t.equal(next.error, undefined);
});

t.test(
  "maxSubscriptionsPerConnection rejects the operation past the limit",
  async (t) => {
    const testHost = await startHost(t, {
      config: { maxSubscriptionsPerConnection: 2 },
    });
    const client = connect(t, testHost);
    subscribe(client, query);
    subscribe(client, query);
    const third = subscribe(client, query);

    await waitFor(() => third.error !== undefined, "the rejection");
    t.equal(third.errorCode, SubscriptionsErrorCode.CONNECTION_LIMIT);
    t.equal(testHost.manager.subscriberCount, 2);

    const other = connect(t, testHost);
    subscribe(other, query);
    await waitFor(
      () => testHost.manager.subscriberCount === 3,
      "a subscription on another connection",
    );
  },
);

t.test(
  "a query over the WebSocket gets one result and completes",
  async (t) => {
    const testHost = await startHost(t);
    await testHost.write([
      {
        op: "upsert",
        class: "Product",
        id: "p1",
        properties: { name: "lamp" },
      },
    ]);
    const client = connect(t, testHost);
    const collector = subscribe(
      client,
      `query { product(id: "p1") { name } lastSeq }`,
    );

    await waitFor(() => collector.completed, "completion");
    t.same(collector.results, [
      { data: { product: { name: "lamp" }, lastSeq: "1" } },
    ]);
    t.equal(testHost.manager.subscriberCount, 0);
  },
);

t.test("complete from the client releases the subscriber", async (t) => {
  const testHost = await startHost(t);
  const client = connect(t, testHost);
  const collectors = [subscribe(client, query), subscribe(client, query)];
  await waitFor(
    () => testHost.manager.subscriberCount === 2,
    "two subscriptions",
  );

  collectors[0].unsubscribe();
  await waitFor(() => testHost.manager.subscriberCount === 1, "one release");
  await testHost.write([
    { op: "upsert", class: "Product", properties: { name: "lamp" } },
  ]);
  await waitFor(
    () => collectors[1].results.length === 1,
    "a result on the other subscription",
  );
  t.equal(
    collectors[0].results.length,
    0,
    "the completed subscription got nothing",
  );
});
