import t from "tap";
import {
  ErrorCode,
  MAX_WHERE_DEPTH,
  compileFilter,
  type Where,
} from "@weft/core";
import { toCoreWhere } from "@weft/subscriptions";
import {
  Settler,
  connect,
  postQuery,
  productClass,
  startHost,
  subscribe,
  waitFor,
} from "./helpers.js";

const products = [
  { name: "lamp", price: 20 },
  { name: "desk", price: 200 },
];

/** Filters whose GraphQL text is also the core filter, with the names they must match. */
const cases: Array<{ graphQL: string; core: Where; expected: string[] }> = [
  { graphQL: `{ not: {} }`, core: { not: {} }, expected: [] },
  {
    graphQL: `{ not: { not: {} } }`,
    core: { not: { not: {} } },
    expected: ["desk", "lamp"],
  },
  { graphQL: `{ or: [{}] }`, core: { or: [{}] }, expected: ["desk", "lamp"] },
  {
    graphQL: `{ and: [{ not: {} }] }`,
    core: { and: [{ not: {} }] },
    expected: [],
  },
  {
    graphQL: `{ or: [{ not: {} }, { price: { gt: 100 } }] }`,
    core: { or: [{ not: {} }, { price: { gt: 100 } }] },
    expected: ["desk"],
  },
];

/** Wraps `{}` in `levels` levels of `not`. */
function nestedNot(levels: number): Record<string, unknown> {
  let where: Record<string, unknown> = {};
  for (let i = 0; i < levels; i += 1) where = { not: where };
  return where;
}

t.test("empty clauses filter as in core", async (t) => {
  const testHost = await startHost(t);
  await testHost.write(
    products.map((properties) => ({
      op: "upsert" as const,
      class: "Product",
      properties,
    })),
  );

  for (const testCase of cases) {
    const predicate = compileFilter(testCase.core, productClass);
    const coreNames = products
      .filter((properties) => predicate(properties))
      .map((properties) => properties.name)
      .sort();
    t.same(coreNames, testCase.expected, `core ${testCase.graphQL}`);

    const response = await postQuery(testHost, {
      query: `{ productList(where: ${testCase.graphQL}) { objects { name } } }`,
    });
    const objects = (
      response.body.data?.productList as { objects: Array<{ name: string }> }
    )?.objects;
    t.same(
      objects?.map((object) => object.name).sort(),
      testCase.expected,
      `GraphQL ${testCase.graphQL}`,
    );
  }
});

t.test("toCoreWhere keeps an empty not", async (t) => {
  t.same(toCoreWhere({ not: {} }), { not: {} });
  t.same(toCoreWhere({ not: { price: null } }), { not: {} });
  t.same(toCoreWhere({ or: [{}] }), { or: [{}] });
  t.equal(toCoreWhere({}), undefined);
  t.equal(toCoreWhere({ not: null }), undefined);
});

t.test("subscription with not {} receives nothing", async (t) => {
  const testHost = await startHost(t);
  const client = connect(t, testHost);
  const settler = new Settler(testHost, client);
  const none = subscribe(
    client,
    `subscription { productChanges(where: { not: {} }) { seq } }`,
  );
  const all = subscribe(
    client,
    `subscription { productChanges(where: { not: { not: {} } }) { seq } }`,
  );
  await settler.ready();
  await waitFor(
    () => testHost.manager.subscriberCount === 3,
    "three subscribers",
  );

  await testHost.write([
    { op: "upsert", class: "Product", properties: products[0] },
  ]);
  await settler.settle();
  t.equal(all.results.length, 1);
  t.equal(none.results.length, 0);
});

t.test("empty not past the depth limit is invalid", async (t) => {
  const testHost = await startHost(t);
  const listQuery = `query ($where: ProductWhere) { productList(where: $where) { objects { name } } }`;

  const tooDeep = await postQuery(testHost, {
    query: listQuery,
    variables: { where: nestedNot(MAX_WHERE_DEPTH + 1) },
  });
  t.equal(tooDeep.body.errors?.[0]?.extensions?.code, ErrorCode.FILTER_INVALID);
  t.match(tooDeep.body.errors?.[0]?.message, /nested deeper than 64 levels/);

  const literal = JSON.stringify(nestedNot(MAX_WHERE_DEPTH + 1)).replace(
    /"/g,
    "",
  );
  const viaLiteral = await postQuery(testHost, {
    query: `{ productList(where: ${literal}) { objects { name } } }`,
  });
  t.equal(
    viaLiteral.body.errors?.[0]?.extensions?.code,
    ErrorCode.FILTER_INVALID,
  );

  const atLimit = await postQuery(testHost, {
    query: listQuery,
    variables: { where: nestedNot(MAX_WHERE_DEPTH) },
  });
  t.equal(atLimit.body.errors, undefined);

  const client = connect(t, testHost);
  const subscription = subscribe(
    client,
    `subscription ($where: ProductWhere) { productChanges(where: $where) { seq } }`,
    { where: nestedNot(MAX_WHERE_DEPTH + 1) },
  );
  await waitFor(() => subscription.error !== undefined, "the rejection");
  t.equal(subscription.errorCode, ErrorCode.FILTER_INVALID);
});
