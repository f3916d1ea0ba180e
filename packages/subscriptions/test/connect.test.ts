import t from "tap";
import { EndpointCloseCode } from "@weft/subscriptions";
import { connect, openRaw, startHost, subscribe, waitFor } from "./helpers.js";

const query = `subscription { productChanges { seq } }`;

t.test("connection_init with a valid key is acknowledged", async (t) => {
  const testHost = await startHost(t, { apiKeys: ["secret-1"] });
  let acknowledged = false;
  const client = connect(t, testHost, {
    key: "secret-1",
    on: { connected: () => (acknowledged = true) },
  });
  const collector = subscribe(client, query);

  await waitFor(
    () => testHost.manager.subscriberCount === 1,
    "the subscription",
  );
  await testHost.write([
    { op: "upsert", class: "Product", properties: { name: "lamp" } },
  ]);
  await waitFor(() => collector.results.length === 1, "one result");
  t.ok(acknowledged, "the client saw connection_ack");
});

for (const [name, key] of [
  ["missing key", undefined],
  ["wrong key", "not-the-key"],
] as const) {
  t.test(`connection_init with a ${name} closes with 4403`, async (t) => {
    const testHost = await startHost(t, { apiKeys: ["secret-1"] });
    let closeCode: number | undefined;
    const client = connect(t, testHost, {
      ...(key ? { key } : {}),
      on: { closed: (event) => (closeCode = (event as CloseEvent).code) },
    });
    const collector = subscribe(client, query);

    await waitFor(() => closeCode !== undefined, "the close");
    t.equal(closeCode, EndpointCloseCode.Forbidden);
    t.equal(closeCode, 4403);
    t.equal(
      testHost.manager.subscriberCount,
      0,
      "no subscriber was registered",
    );
    t.equal(collector.results.length, 0);
  });
}

t.test("a key in a bare authorization value is accepted", async (t) => {
  const testHost = await startHost(t, { apiKeys: ["secret-1"] });
  const raw = await openRaw(t, testHost);
  raw.send({ type: "connection_init", payload: { authorization: "secret-1" } });
  await waitFor(() => raw.messages.length === 1, "connection_ack");
  t.same(raw.messages[0], { type: "connection_ack" });
});

t.test("without configured keys any connection is acknowledged", async (t) => {
  const testHost = await startHost(t);
  const raw = await openRaw(t, testHost);
  raw.send({ type: "connection_init" });
  await waitFor(() => raw.messages.length === 1, "connection_ack");
  t.same(raw.messages[0], { type: "connection_ack" });
});

t.test("no connection_init within the timeout closes with 4408", async (t) => {
  const testHost = await startHost(t, {
    config: { connectionInitTimeout: "100ms" },
  });
  let closeCode: number | undefined;
  const client = connect(t, testHost, {
    // Never resolves, so the client never sends connection_init.
    connectionParams: () => new Promise<Record<string, unknown>>(() => {}),
    on: { closed: (event) => (closeCode = (event as CloseEvent).code) },
  });
  subscribe(client, query);

  await waitFor(() => closeCode !== undefined, "the close");
  t.equal(closeCode, 4408);
});

t.test("a second connection_init closes with 4429", async (t) => {
  const testHost = await startHost(t);
  const raw = await openRaw(t, testHost);
  raw.send({ type: "connection_init" });
  raw.send({ type: "connection_init" });
  const closed = await raw.closed;
  t.equal(closed.code, 4429);
  t.equal(closed.reason, "Too many initialisation requests");
});

t.test("a client that offers no subprotocol is closed with 4406", async (t) => {
  const testHost = await startHost(t);
  const raw = await openRaw(t, testHost, []);
  const closed = await raw.closed;
  t.equal(closed.code, 4406);
  t.equal(closed.reason, "Subprotocol not acceptable");
});

t.test(
  "a client that offers only other subprotocols fails the handshake",
  async (t) => {
    const testHost = await startHost(t);
    // The server selects no subprotocol, so RFC 6455 clients abort the handshake.
    await t.rejects(openRaw(t, testHost, ["graphql-ws"]), /no subprotocol/);
  },
);

t.test("an invalid message closes with 4400", async (t) => {
  const testHost = await startHost(t);
  for (const message of [
    "not json",
    JSON.stringify({ type: "connection_init", payload: "text" }),
    JSON.stringify({ type: "next", id: "1", payload: {} }),
  ]) {
    const raw = await openRaw(t, testHost);
    raw.send({ type: "connection_init" });
    await waitFor(() => raw.messages.length === 1, "connection_ack");
    raw.send(message);
    const closed = await raw.closed;
    t.equal(closed.code, 4400, `message ${message}`);
  }
});

t.test("a message above maxMessageBytes closes with 1009", async (t) => {
  const testHost = await startHost(t, { config: { maxMessageBytes: 2048 } });
  const raw = await openRaw(t, testHost);
  raw.send({ type: "connection_init" });
  await waitFor(() => raw.messages.length === 1, "connection_ack");
  raw.send({
    id: "1",
    type: "subscribe",
    payload: {
      query: `subscription { productChanges { seq } } # ${"x".repeat(4096)}`,
    },
  });
  const closed = await raw.closed;
  t.equal(closed.code, 1009);
  t.equal(testHost.manager.subscriberCount, 0);
});

t.test("an upgrade on another path is refused", async (t) => {
  const testHost = await startHost(t);
  const url = testHost.wsUrl.replace("/v1/graphql", "/v1/other");
  const { default: WebSocket } = await import("ws");
  const ws = new WebSocket(url, ["graphql-transport-ws"]);
  const status = await new Promise<number | undefined>((resolve) => {
    ws.on("unexpected-response", (_request, response) =>
      resolve(response.statusCode),
    );
    ws.on("error", () => resolve(undefined));
  });
  t.equal(status, 404);
});
