import t from "tap";
import {
  ErrorCode,
  Host,
  MemoryStore,
  Type,
  createLogger,
  definePlugin,
  truncatedError,
  type PluginHost,
} from "@weft/core";
import {
  SubscriptionManager,
  SubscriptionsErrorCode,
  buildSchema,
  toSettings,
} from "@weft/subscriptions";
import {
  Settler,
  connect,
  productClass,
  startHost,
  subscribe,
  waitFor,
  type TestHost,
} from "./helpers.js";

const query = `subscription ($after: String) {
  productChanges(where: { category: { equals: "E" } }, afterSeq: $after) { seq product { name } }
}`;

/** Writes `count` products in batches of `batchSize`, every second one in category E; returns the seqs of category E. */
async function writeProducts(
  testHost: TestHost,
  prefix: string,
  count: number,
  batchSize: number,
): Promise<number[]> {
  const matching: number[] = [];
  for (let start = 0; start < count; start += batchSize) {
    const requests = Array.from(
      { length: Math.min(batchSize, count - start) },
      (_, i) => ({
        op: "upsert" as const,
        class: "Product",
        id: `${prefix}${start + i}`,
        properties: {
          name: `${prefix}${start + i}`,
          category: (start + i) % 2 === 0 ? "E" : "X",
        },
      }),
    );
    const seqs = await testHost.write(requests);
    requests.forEach((request, i) => {
      if (request.properties.category === "E") matching.push(seqs[i]);
    });
  }
  return matching;
}

t.test(
  "resume with afterSeq across a disconnect has no gap and no duplicate",
  async (t) => {
    const testHost = await startHost(t, { config: { bufferSize: 10 } });
    const expected: number[] = [];

    // First session: live results, then the client goes away.
    const first = connect(t, testHost);
    const firstResults = subscribe(first, query);
    await waitFor(
      () => testHost.manager.subscriberCount === 1,
      "the first subscription",
    );
    expected.push(...(await writeProducts(testHost, "a", 40, 5)));
    await waitFor(
      () => firstResults.results.length === expected.length,
      "the first session's results",
    );
    await first.dispose();
    await waitFor(() => testHost.manager.subscriberCount === 0, "the release");
    const lastSeen = firstResults.seqs("productChanges").at(-1)!;

    // Writes while no client is connected.
    expected.push(...(await writeProducts(testHost, "b", 900, 50)));

    // Second session: replays from the change log while writes continue.
    const second = connect(t, testHost);
    const settler = new Settler(testHost, second);
    await settler.ready();
    const secondResults = subscribe(second, query, { after: String(lastSeen) });
    const concurrent = writeProducts(testHost, "c", 300, 3);
    expected.push(...(await concurrent));
    await settler.settle();

    const seqs = [
      ...firstResults.seqs("productChanges"),
      ...secondResults.seqs("productChanges"),
    ];
    t.equal(secondResults.error, undefined);
    t.equal(seqs.length, expected.length, "as many results as matching writes");
    t.same(seqs, expected, "every matching seq once, in order");
    t.equal(new Set(seqs).size, seqs.length, "no duplicate");
  },
);

t.test("afterSeq equal to the last seq goes live without replay", async (t) => {
  const testHost = await startHost(t);
  const [seq] = await testHost.write([
    {
      op: "upsert",
      class: "Product",
      properties: { name: "old", category: "E" },
    },
  ]);
  const collector = subscribe(connect(t, testHost), query, {
    after: String(seq),
  });
  await waitFor(
    () => testHost.manager.subscriberCount === 1,
    "the subscription",
  );

  const [next] = await testHost.write([
    {
      op: "upsert",
      class: "Product",
      properties: { name: "new", category: "E" },
    },
  ]);
  await waitFor(() => collector.results.length === 1, "one result");
  t.same(collector.seqs("productChanges"), [next]);
});

t.test("afterSeq removed by retention gives the truncated code", async (t) => {
  const testHost = await startHost(t, {
    store: new MemoryStore({ retention: { maxRows: 5, force: false } }),
  });
  await writeProducts(testHost, "p", 20, 1);
  const client = connect(t, testHost);

  const truncated = subscribe(client, query, { after: "2" });
  await waitFor(() => truncated.error !== undefined, "the error");
  t.equal(truncated.errorCode, ErrorCode.CHANGES_TRUNCATED);
  t.equal(truncated.errorCode, "WEFT_ERR_CHANGES_TRUNCATED");
  t.match((truncated.error as Array<{ message: string }>)[0].message, /resync/);

  // seq 16 is the oldest kept, so afterSeq 15 still resumes.
  const kept = subscribe(client, query, { after: "15" });
  await waitFor(
    () => kept.results.length === 2,
    "the replay of seqs 17 and 19",
  );
  t.same(kept.seqs("productChanges"), [17, 19]);
  t.equal(testHost.manager.subscriberCount, 1);
});

t.test("afterSeq past the last seq gives the ahead code", async (t) => {
  const testHost = await startHost(t);
  await writeProducts(testHost, "p", 3, 3);
  const collector = subscribe(connect(t, testHost), query, { after: "999" });
  await waitFor(() => collector.error !== undefined, "the error");
  t.equal(collector.errorCode, SubscriptionsErrorCode.AFTER_SEQ_AHEAD);
  t.equal(testHost.manager.subscriberCount, 0);
});

t.test("the in-process iterator resumes with afterSeq", async (t) => {
  const testHost = await startHost(t);
  const matching = await writeProducts(testHost, "p", 6, 6);
  const iterator = testHost.manager.iterate({
    query,
    variables: { after: String(matching[0]) },
  });

  const seqs: number[] = [];
  for await (const result of iterator) {
    seqs.push(
      Number(
        (result as { data: { productChanges: { seq: string } } }).data
          .productChanges.seq,
      ),
    );
    if (seqs.length === 2) break;
  }
  t.same(seqs, matching.slice(1));
  t.equal(
    testHost.manager.subscriberCount,
    0,
    "leaving the loop releases the subscriber",
  );
});

t.test("a dispatcher behind retention ends live subscriptions", async (t) => {
  let view: PluginHost | undefined;
  const host = new Host({
    classes: [productClass],
    server: false,
    logger: createLogger({ level: "silent" }),
    processMetrics: false,
  });
  await host.register(
    definePlugin({
      name: "capture",
      version: "1.0.0",
      configSchema: Type.Object({}),
      register: (pluginHost) => {
        pluginHost.provideStore(new MemoryStore());
        view = pluginHost;
      },
    }),
    {},
  );
  await host.start();
  t.teardown(() => host.stop());

  // The first read of the dispatcher fails as if retention had removed its next seq.
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => (release = resolve));
  let reads = 0;
  const feed = host.changes;
  const changes = {
    lastSeq: () => feed.lastSeq(),
    batches: (fromSeq: number, options: Parameters<typeof feed.batches>[1]) => {
      reads += 1;
      if (reads > 1) return feed.batches(fromSeq, options);
      return {
        [Symbol.asyncIterator]: () => ({
          next: async () => {
            await gate;
            throw truncatedError(fromSeq, fromSeq + 10);
          },
        }),
      };
    },
  } as unknown as typeof feed;

  const manager = new SubscriptionManager({
    host: { ...view!, changes },
    generated: buildSchema([productClass]),
    settings: toSettings({}),
    registerMetrics: false,
  });
  manager.start();
  t.teardown(() => manager.stop());

  const live = manager.iterate({
    query: `subscription { productChanges { seq } }`,
  });
  const pending = live.next();
  await waitFor(() => manager.subscriberCount === 1, "the live subscription");
  release();
  await t.rejects(pending, {
    errors: [{ extensions: { code: ErrorCode.CHANGES_TRUNCATED } }],
  });
  t.equal(manager.subscriberCount, 0);

  // The dispatcher goes on from the newest change.
  const next = manager.iterate({
    query: `subscription { productChanges { seq } }`,
  });
  const first = next.next();
  await waitFor(() => manager.subscriberCount === 1, "the new subscription");
  const [seq] = await host
    .write([{ op: "upsert", class: "Product", properties: { name: "after" } }])
    .then((results) => results.map((result) => result.seq));
  t.same((await first).value, {
    data: { productChanges: { seq: String(seq) } },
  });
  await next.return(undefined);
});
