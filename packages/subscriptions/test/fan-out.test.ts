import t from "tap";
import {
  Settler,
  connect,
  startHost,
  subscribe,
  waitFor,
  type Collector,
} from "./helpers.js";

const CLIENTS = 20;
const PER_CLIENT = 50;
const CATEGORIES = 100;

t.test(
  "1,000 subscribers each receive exactly their matching events",
  async (t) => {
    const testHost = await startHost(t);
    const query = `subscription ($where: ProductWhere, $operations: [ChangeOperation!]) {
    productChanges(where: $where, operations: $operations) { seq type product { category } }
  }`;

    const settlers: Settler[] = [];
    const subscribers: Array<{
      collector: Collector;
      category: string;
      insertsOnly: boolean;
    }> = [];
    for (let c = 0; c < CLIENTS; c++) {
      const client = connect(t, testHost);
      settlers.push(new Settler(testHost, client));
      for (let s = 0; s < PER_CLIENT; s++) {
        const index = c * PER_CLIENT + s;
        const category = `c${index % CATEGORIES}`;
        const insertsOnly = Math.floor(index / CATEGORIES) % 2 === 1;
        const variables = {
          where: { category: { equals: category } },
          ...(insertsOnly ? { operations: ["INSERT"] } : {}),
        };
        subscribers.push({
          collector: subscribe(client, query, variables),
          category,
          insertsOnly,
        });
      }
    }
    const total = CLIENTS * PER_CLIENT + CLIENTS;
    await waitFor(
      () => testHost.manager.subscriberCount === total,
      `${total} subscriptions`,
    );

    // 200 inserts (two per category), then 100 updates (one per category), in batches.
    const expected = new Map<
      string,
      { inserts: number[]; updates: number[] }
    >();
    for (let k = 0; k < CATEGORIES; k++)
      expected.set(`c${k}`, { inserts: [], updates: [] });
    for (let batch = 0; batch < 4; batch++) {
      const requests = Array.from({ length: 50 }, (_, i) => {
        const k = batch * 50 + i;
        return {
          op: "upsert" as const,
          class: "Product",
          id: `p${k}`,
          properties: { name: `p${k}`, category: `c${k % CATEGORIES}` },
        };
      });
      const seqs = await testHost.write(requests);
      requests.forEach((request, i) =>
        expected.get(request.properties.category)!.inserts.push(seqs[i]),
      );
    }
    for (let batch = 0; batch < 2; batch++) {
      const requests = Array.from({ length: 50 }, (_, i) => ({
        op: "patch" as const,
        class: "Product",
        id: `p${batch * 50 + i}`,
        properties: { price: 1 },
      }));
      const seqs = await testHost.write(requests);
      seqs.forEach((seq, i) =>
        expected.get(`c${batch * 50 + i}`)!.updates.push(seq),
      );
    }
    await Promise.all(settlers.map((settler) => settler.settle()));

    let exact = 0;
    for (const { collector, category, insertsOnly } of subscribers) {
      const wanted = expected.get(category)!;
      const seqs = insertsOnly
        ? wanted.inserts
        : [...wanted.inserts, ...wanted.updates].sort((a, b) => a - b);
      if (
        JSON.stringify(collector.seqs("productChanges")) ===
        JSON.stringify(seqs)
      )
        exact += 1;
      else
        t.same(
          collector.seqs("productChanges"),
          seqs,
          `subscriber of ${category}${insertsOnly ? " (inserts)" : ""}`,
        );
    }
    t.equal(
      exact,
      CLIENTS * PER_CLIENT,
      "every subscriber got exactly its events",
    );
    t.equal(
      testHost.manager.stats().groups,
      CATEGORIES * 2 + 1,
      "one group per category and operation set, plus the markers",
    );
  },
);

t.test(
  "writes committed in one turn are dispatched as one batch",
  async (t) => {
    const testHost = await startHost(t);
    const client = connect(t, testHost);
    const collector = subscribe(
      client,
      `subscription { productChanges { seq } }`,
    );
    await waitFor(
      () => testHost.manager.subscriberCount === 1,
      "the subscription",
    );
    let batches = 0;
    const removeListener = testHost.manager.onBatchEnd(() => (batches += 1));
    t.teardown(removeListener);

    const writes = Array.from({ length: 20 }, (_, i) =>
      testHost.write([
        { op: "upsert", class: "Product", properties: { name: `p${i}` } },
      ]),
    );
    const seqs = (await Promise.all(writes)).flat();
    await waitFor(() => collector.results.length === 20, "20 results");

    t.equal(batches, 1, "the 20 events went out in one dispatch batch");
    t.same(collector.seqs("productChanges"), seqs, "results in seq order");
  },
);

t.test(
  "a batch beyond the socket's high-water mark arrives whole and in order",
  async (t) => {
    const testHost = await startHost(t);
    const client = connect(t, testHost);
    const collector = subscribe(
      client,
      `subscription { productChanges { seq product { blob } } }`,
    );
    await waitFor(
      () => testHost.manager.subscriberCount === 1,
      "the subscription",
    );

    // Each result is larger than the 16 KiB high-water mark, so all but the
    // first wait in the subscriber's buffer until the batch is written.
    const blob = "x".repeat(40 * 1024);
    const seqs = await testHost.write(
      Array.from({ length: 6 }, (_, i) => ({
        op: "upsert" as const,
        class: "Product",
        properties: { name: `p${i}`, blob },
      })),
    );
    await waitFor(() => collector.results.length === 6, "6 results");

    t.same(collector.seqs("productChanges"), seqs, "results in seq order");
    t.ok(
      collector
        .rows("productChanges")
        .every(
          (row) => (row.product as { blob: string } | null)?.blob === blob,
        ),
      "every result carries the whole blob",
    );
    t.equal(testHost.manager.stats().dropped, 0, "nothing was dropped");
  },
);

t.test(
  "connections with the same operation id each get their own results",
  async (t) => {
    const testHost = await startHost(t);
    const query = `subscription ($category: String!, $withPrice: Boolean!) {
      productChanges(where: { category: { equals: $category } }) {
        seq product { name price @include(if: $withPrice) }
      }
    }`;
    const subscribers = [
      { id: "1", category: "a", withPrice: false },
      { id: "1", category: "a", withPrice: false },
      { id: "1", category: "a", withPrice: true },
      { id: "1", category: "b", withPrice: false },
      { id: undefined, category: "a", withPrice: false },
    ].map(({ id, category, withPrice }) => {
      const client = connect(
        t,
        testHost,
        id === undefined ? {} : { generateID: () => id },
      );
      return {
        category,
        withPrice,
        collector: subscribe(client, query, { category, withPrice }),
      };
    });
    await waitFor(
      () => testHost.manager.subscriberCount === subscribers.length,
      "the subscriptions",
    );

    // One batch gives the category "a" connections two results in one
    // write; the later single writes give each connection one.
    const products = [
      { name: "a1", price: 1, category: "a" },
      { name: "b1", price: 2, category: "b" },
      { name: "a2", price: 3, category: "a" },
    ];
    const seqs = await testHost.write(
      products.map((properties) => ({
        op: "upsert" as const,
        class: "Product",
        properties,
      })),
    );
    for (const properties of [
      { name: "a3", price: 4, category: "a" },
      { name: "b2", price: 5, category: "b" },
    ]) {
      products.push(properties);
      seqs.push(
        ...(await testHost.write([
          { op: "upsert", class: "Product", properties },
        ])),
      );
    }

    for (const { category, withPrice, collector } of subscribers) {
      const expected = products.flatMap((product, i) =>
        product.category === category
          ? [
              {
                seq: String(seqs[i]),
                product: withPrice
                  ? { name: product.name, price: product.price }
                  : { name: product.name },
              },
            ]
          : [],
      );
      const name = `category ${category}${withPrice ? " with price" : ""}`;
      await waitFor(
        () => collector.results.length === expected.length,
        `the results of ${name}`,
      );
      t.same(collector.rows("productChanges"), expected, name);
    }
  },
);
