import type { Duplex } from "node:stream";
import t from "tap";
import type WebSocket from "ws";
import { SubscriptionsErrorCode } from "@weft/subscriptions";
import {
  connect,
  startHost,
  subscribe,
  waitFor,
  type TestHost,
} from "./helpers.js";

/** Results large enough to fill the kernel's socket buffers in a few hundred writes. */
const blob = "x".repeat(64 * 1024);
const MAX_WRITES = 5000;

/** Returns the TCP socket under a ws WebSocket, so a test can stop reading like a slow client. */
function tcpSocket(ws: WebSocket): Duplex {
  return (ws as unknown as { _socket: Duplex })._socket;
}

/** Writes products one at a time until `done` returns true after the dispatcher ran; returns how many. */
async function writeUntil(
  testHost: TestHost,
  done: () => boolean,
): Promise<number> {
  let writes = 0;
  while (!done()) {
    if (writes === MAX_WRITES)
      throw new Error(`the policy did not apply within ${MAX_WRITES} writes`);
    await testHost.write([
      {
        op: "upsert",
        class: "Product",
        properties: { name: `p${writes}`, blob },
      },
    ]);
    writes += 1;
    await new Promise((resolve) => setImmediate(resolve));
  }
  return writes;
}

t.test(
  "drop-oldest drops the oldest results and reports the count in extensions",
  async (t) => {
    const testHost = await startHost(t, {
      config: { bufferSize: 5, slowConsumer: "drop-oldest" },
    });
    let socket: WebSocket | undefined;
    const client = connect(t, testHost, {
      on: { opened: (opened) => (socket = opened as WebSocket) },
    });
    const collector = subscribe(
      client,
      `subscription { productChanges { seq product { blob } } }`,
    );
    await waitFor(
      () => testHost.manager.subscriberCount === 1,
      "the subscription",
    );

    tcpSocket(socket!).pause();
    let writes = await writeUntil(
      testHost,
      () => testHost.manager.stats().dropped >= 3,
    );
    for (let i = 0; i < 3; i++) {
      await testHost.write([
        {
          op: "upsert",
          class: "Product",
          properties: { name: `late${i}`, blob },
        },
      ]);
      writes += 1;
    }
    tcpSocket(socket!).resume();

    const dropped = () => testHost.manager.stats().dropped;
    await waitFor(
      () => collector.results.length + dropped() === writes,
      "every result received or dropped",
    );
    const seqs = collector.seqs("productChanges");
    let reported = 0;
    for (let i = 0; i < collector.results.length; i++) {
      const count =
        (collector.results[i].extensions?.dropped as number | undefined) ?? 0;
      const gap = seqs[i] - (i === 0 ? 0 : seqs[i - 1]) - 1;
      if (gap !== count)
        t.fail(
          `result seq ${seqs[i]} follows a gap of ${gap} but reports ${count} dropped`,
        );
      reported += count;
    }
    t.ok(dropped() >= 3, "results were dropped");
    t.equal(
      reported,
      dropped(),
      "extensions.dropped adds up to every dropped result",
    );
    t.equal(seqs[seqs.length - 1], writes, "the newest result arrived");
    t.equal(
      testHost.manager.subscriberCount,
      1,
      "the subscriber stays connected",
    );
  },
);

t.test(
  "disconnect closes the connection of a slow subscriber with 1013",
  async (t) => {
    const testHost = await startHost(t, {
      config: { bufferSize: 5, slowConsumer: "disconnect" },
    });
    let socket: WebSocket | undefined;
    let closed: { code: number; reason: string } | undefined;
    const client = connect(t, testHost, {
      on: {
        opened: (opened) => (socket = opened as WebSocket),
        closed: (event) =>
          (closed = {
            code: (event as CloseEvent).code,
            reason: (event as CloseEvent).reason,
          }),
      },
    });
    const slow = subscribe(
      client,
      `subscription { productChanges { seq product { blob } } }`,
    );
    const other = subscribe(
      client,
      `subscription { changes(classes: [Marker]) { seq } }`,
    );
    await waitFor(
      () => testHost.manager.subscriberCount === 2,
      "the subscriptions",
    );

    tcpSocket(socket!).pause();
    await writeUntil(
      testHost,
      () => testHost.manager.stats().slowDisconnects === 1,
    );
    t.equal(
      testHost.manager.subscriberCount,
      0,
      "every subscription of the connection was released",
    );
    tcpSocket(socket!).resume();

    await waitFor(() => closed !== undefined, "the close");
    t.equal(closed!.code, 1013);
    t.match(closed!.reason, /slow consumer/);
    t.ok(slow.results.length > 0, "results before the overflow were delivered");
    t.ok(
      other.error !== undefined || slow.error !== undefined,
      "the client reported the close to its sinks",
    );
  },
);

t.test(
  "the in-process iterator throws under the disconnect policy",
  async (t) => {
    const testHost = await startHost(t, {
      config: { bufferSize: 2, slowConsumer: "disconnect" },
    });
    const iterator = testHost.manager.iterate({
      query: `subscription { productChanges { seq } }`,
    });
    const first = iterator.next();
    await waitFor(
      () => testHost.manager.subscriberCount === 1,
      "the subscription",
    );

    await testHost.write([
      { op: "upsert", class: "Product", properties: { name: "first" } },
    ]);
    t.same((await first).value, { data: { productChanges: { seq: "1" } } });
    // The iterator is not pulled now, so these wait in the buffer of two until it overflows.
    await writeUntil(
      testHost,
      () => testHost.manager.stats().slowDisconnects === 1,
    );

    await t.rejects(
      (async () => {
        for (;;) if ((await iterator.next()).done) return;
      })(),
      {
        errors: [
          { extensions: { code: SubscriptionsErrorCode.SLOW_CONSUMER } },
        ],
      },
    );
    t.equal(testHost.manager.subscriberCount, 0);
  },
);
