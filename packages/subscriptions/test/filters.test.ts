import t from "tap";
import {
  Settler,
  connect,
  startHost,
  subscribe,
  waitFor,
  type Collector,
} from "./helpers.js";

const selection = `{ seq type product { id name price category } previous { name price } }`;

/** Subscriptions with the seqs each must receive from the writes below. */
const cases: Array<{
  name: string;
  args: string;
  expected: number[];
  field?: string;
  variables?: Record<string, unknown>;
  variablesDecl?: string;
}> = [
  {
    name: "equals",
    args: `(where: $where)`,
    variablesDecl: "($where: ProductWhere)",
    variables: { where: { category: { equals: "Electronics" } } },
    expected: [1, 5, 6, 8],
  },
  { name: "gt", args: `(where: { price: { gt: 100 } })`, expected: [1, 9] },
  {
    name: "or, and, not",
    args: `(where: { or: [{ category: { equals: "Books" } }, { and: [{ price: { lt: 10 } }, { not: { active: { equals: false } } }] }] })`,
    expected: [2, 4, 6],
  },
  {
    name: "in",
    args: `(where: { category: { in: ["Books", "Toys"] } })`,
    expected: [2, 3, 7],
  },
  {
    name: "operations DELETE",
    args: `(operations: [DELETE])`,
    expected: [7, 8],
  },
  {
    name: "equals with INSERT and UPDATE",
    args: `(where: { category: { equals: "Electronics" } }, operations: [INSERT, UPDATE])`,
    expected: [1, 5, 6],
  },
  {
    name: "like",
    args: `(where: { name: { like: "Lamp*" } })`,
    expected: [1, 4, 5, 8, 9],
  },
  {
    name: "contains on text[]",
    args: `(where: { tags: { contains: "sale" } })`,
    expected: [1, 5, 8],
  },
  {
    name: "date gte",
    args: `(where: { released: { gte: "2024-01-01T00:00:00Z" } })`,
    expected: [1, 5, 8],
  },
  { name: "int lte", args: `(where: { stock: { lte: 0 } })`, expected: [3, 7] },
  {
    name: "isNull",
    args: `(where: { released: { isNull: true } })`,
    expected: [2, 4, 6, 9],
  },
  {
    name: "notIn",
    args: `(where: { category: { notIn: ["Electronics", "Books"] } })`,
    expected: [3, 4, 7, 9],
  },
  {
    name: "notEquals",
    args: `(where: { active: { notEquals: true } })`,
    expected: [3, 7],
  },
  {
    name: "two conditions in one object",
    args: `(where: { category: { equals: "Electronics" }, price: { gte: 100 } })`,
    expected: [1],
  },
];

async function writeFixture(
  write: (
    requests: Parameters<Awaited<ReturnType<typeof startHost>>["write"]>[0],
  ) => Promise<number[]>,
) {
  const upsert = (id: string, properties: Record<string, unknown>) =>
    write([{ op: "upsert", class: "Product", id, properties }]);
  const patch = (id: string, properties: Record<string, unknown>) =>
    write([{ op: "patch", class: "Product", id, properties }]);
  const remove = (id: string) =>
    write([{ op: "delete", class: "Product", id }]);

  await upsert("a", {
    name: "Lamp A",
    price: 150,
    stock: 3,
    category: "Electronics",
    tags: ["sale", "home"],
    active: true,
    released: "2024-01-10T00:00:00Z",
  });
  await upsert("b", {
    name: "Book B",
    price: 8,
    stock: 100,
    category: "Books",
    tags: ["paper"],
    active: true,
  });
  await upsert("c", {
    name: "Toy C",
    price: 5,
    stock: 0,
    category: "Toys",
    tags: [],
    active: false,
    released: "2023-05-01T00:00:00Z",
  });
  await upsert("d", {
    name: "Lamp D",
    price: 9,
    category: "Garden",
    active: true,
  });
  await patch("a", { price: 90 });
  await patch("b", { category: "Electronics" });
  await remove("c");
  await remove("a");
  await patch("d", { price: 200 });
}

t.test(
  "filters and operations deliver exactly the matching events",
  async (t) => {
    const testHost = await startHost(t);
    const client = connect(t, testHost);
    const settler = new Settler(testHost, client);
    await settler.ready();

    const collectors = new Map<string, Collector>();
    for (const testCase of cases) {
      const query = `subscription ${testCase.variablesDecl ?? ""} { productChanges${testCase.args} ${selection} }`;
      collectors.set(
        testCase.name,
        subscribe(client, query, testCase.variables),
      );
    }
    const generic = subscribe(
      client,
      `subscription { changes(classes: [Product], operations: [UPDATE]) { seq type class id object previous } }`,
    );
    await waitFor(
      () => testHost.manager.subscriberCount === cases.length + 2,
      "every subscription",
    );

    await writeFixture(testHost.write);
    await settler.settle();

    for (const testCase of cases) {
      const collector = collectors.get(testCase.name)!;
      t.equal(collector.error, undefined, `${testCase.name}: no error`);
      t.same(
        collector.seqs("productChanges"),
        testCase.expected,
        testCase.name,
      );
    }
    t.same(
      generic.seqs("changes"),
      [5, 6, 9],
      "generic changes with classes and operations",
    );
    const genericRow = generic.rows("changes")[0];
    t.equal(genericRow.class, "Product");
    t.same(genericRow.object, {
      name: "Lamp A",
      price: 90,
      stock: 3,
      category: "Electronics",
      tags: ["sale", "home"],
      active: true,
      released: "2024-01-10T00:00:00Z",
    });
    t.equal((genericRow.previous as { price: number }).price, 150);
  },
);

t.test("deletes deliver the before image and are filtered on it", async (t) => {
  const testHost = await startHost(t);
  const client = connect(t, testHost);
  const settler = new Settler(testHost, client);
  await settler.ready();
  const toys = subscribe(
    client,
    `subscription { productChanges(where: { category: { equals: "Toys" } }, operations: [DELETE]) ${selection} }`,
  );
  await waitFor(
    () => testHost.manager.subscriberCount === 2,
    "the subscription",
  );

  await writeFixture(testHost.write);
  await settler.settle();

  const rows = toys.rows("productChanges");
  t.equal(rows.length, 1, "only the deleted toy");
  t.equal(rows[0].type, "DELETE");
  t.equal(rows[0].seq, "7");
  t.same(rows[0].product, {
    id: (rows[0].product as { id: string }).id,
    name: "Toy C",
    price: 5,
    category: "Toys",
  });
  t.same(rows[0].previous, { name: "Toy C", price: 5 });
});

t.test(
  "inserts have a null previous and updates the before image",
  async (t) => {
    const testHost = await startHost(t);
    const client = connect(t, testHost);
    const collector = subscribe(
      client,
      `subscription { productChanges(where: { name: { equals: "Lamp A" } }) { type seq product { name price } previous { price } _metadata { timestamp user transactionId origin } } }`,
    );
    await waitFor(
      () => testHost.manager.subscriberCount === 1,
      "the subscription",
    );

    const [insertSeq] = await testHost.write([
      {
        op: "upsert",
        class: "Product",
        id: "a",
        properties: { name: "Lamp A", price: 150 },
      },
    ]);
    await testHost.host.write(
      [{ op: "patch", class: "Product", id: "a", properties: { price: 90 } }],
      { metadata: { user: "ana" } },
    );
    await waitFor(() => collector.results.length === 2, "two results");

    const [insert, update] = collector.rows("productChanges");
    t.equal(insert.type, "INSERT");
    t.equal(insert.seq, String(insertSeq));
    t.equal(insert.previous, null);
    t.equal(update.type, "UPDATE");
    t.same(update.previous, { price: 150 });
    t.same(update.product, { name: "Lamp A", price: 90 });
    const metadata = update._metadata as Record<string, unknown>;
    t.equal(metadata.user, "ana");
    t.match(metadata.timestamp, /^\d{4}-\d\d-\d\dT/);
    t.type(metadata.transactionId, "string");
  },
);

t.test(
  "subscribers with the same document and variables share one execution",
  async (t) => {
    const testHost = await startHost(t);
    const query = `subscription ($category: String, $after: String) { productChanges(where: { category: { equals: $category } }, afterSeq: $after) { seq } }`;
    const clients = [
      connect(t, testHost),
      connect(t, testHost),
      connect(t, testHost),
    ];
    const same = clients.map((client) =>
      subscribe(client, query, { category: "Books" }),
    );
    // afterSeq changes where a subscriber starts, not what it receives, so it joins the same group.
    const resumed = subscribe(clients[0], query, {
      category: "Books",
      after: "0",
    });
    const other = subscribe(clients[1], query, { category: "Toys" });
    await waitFor(
      () => testHost.manager.subscriberCount === 5,
      "five subscriptions",
    );
    await waitFor(() => testHost.manager.stats().groups === 2, "two groups");

    const before = testHost.manager.stats();
    await testHost.write([
      {
        op: "upsert",
        class: "Product",
        properties: { name: "B", category: "Books" },
      },
    ]);
    await waitFor(
      () =>
        [...same, resumed].every((collector) => collector.results.length === 1),
      "results of the Books group",
    );
    const after = testHost.manager.stats();

    t.equal(
      after.executions - before.executions,
      1,
      "one execution for four subscribers",
    );
    t.equal(after.deliveries - before.deliveries, 4);
    t.equal(other.results.length, 0);
  },
);
