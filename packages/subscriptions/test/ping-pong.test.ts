import t from "tap";
import { connect, openRaw, startHost, subscribe, waitFor } from "./helpers.js";

t.test("a protocol ping gets a pong with the same payload", async (t) => {
  const testHost = await startHost(t);
  const raw = await openRaw(t, testHost);
  raw.send({ type: "connection_init" });
  raw.send({ type: "ping", payload: { at: 1 } });
  raw.send({ type: "ping" });

  await waitFor(() => raw.messages.length === 3, "ack and two pongs");
  t.same(raw.messages, [
    { type: "connection_ack" },
    { type: "pong", payload: { at: 1 } },
    { type: "pong" },
  ]);
});

t.test("the graphql-ws client's keep-alive pings are answered", async (t) => {
  const testHost = await startHost(t);
  let pongs = 0;
  const client = connect(t, testHost, {
    keepAlive: 20,
    on: { pong: (received) => (pongs += received ? 1 : 0) },
  });
  subscribe(client, `subscription { productChanges { seq } }`);

  await waitFor(() => pongs >= 2, "two pongs");
  t.ok(pongs >= 2, "the server answered each ping");
});

t.test(
  "the server sends keep-alive pings and keeps a peer that answers",
  async (t) => {
    const testHost = await startHost(t, { config: { keepAlive: "50ms" } });
    const raw = await openRaw(t, testHost);
    let pings = 0;
    raw.ws.on("ping", () => (pings += 1));
    raw.send({ type: "connection_init" });

    await waitFor(() => pings >= 3, "three pings");
    t.equal(raw.ws.readyState, raw.ws.OPEN, "the connection stays open");
  },
);

t.test("the server terminates a peer that does not answer pings", async (t) => {
  const testHost = await startHost(t, { config: { keepAlive: "50ms" } });
  const raw = await openRaw(t, testHost, ["graphql-transport-ws"], {
    autoPong: false,
  });
  raw.send({ type: "connection_init" });
  raw.send({
    id: "1",
    type: "subscribe",
    payload: { query: `subscription { productChanges { seq } }` },
  });
  await waitFor(
    () => testHost.manager.subscriberCount === 1,
    "the subscription",
  );

  const closed = await raw.closed;
  t.equal(closed.code, 1006, "closed without a closing handshake");
  await waitFor(() => testHost.manager.subscriberCount === 0, "the release");
  t.equal(testHost.manager.subscriberCount, 0);
});
