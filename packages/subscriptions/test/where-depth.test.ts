import t from "tap";
import { ErrorCode, MAX_WHERE_DEPTH } from "@weft/core";
import { SubscriptionsErrorCode } from "@weft/subscriptions";
import {
  connect,
  postQuery,
  startHost,
  subscribe,
  waitFor,
} from "./helpers.js";

/** Wraps a condition in `levels` levels of `{ and: [...] }`, as GraphQL text. */
function nestedLiteral(levels: number): string {
  let where = `{ price: { gt: 1 } }`;
  for (let i = 0; i < levels; i += 1) where = `{ and: [${where}] }`;
  return where;
}

/** Wraps a condition in `levels` levels of `not`, as a variable value. */
function nestedVariable(levels: number): Record<string, unknown> {
  let where: Record<string, unknown> = { price: { gt: 1 } };
  for (let i = 0; i < levels; i += 1) where = { not: where };
  return where;
}

t.test("query where past the limit is invalid", async (t) => {
  const testHost = await startHost(t);
  const tooDeep = nestedVariable(MAX_WHERE_DEPTH + 1);

  const response = await postQuery(testHost, {
    query: `query ($where: ProductWhere) { productList(where: $where) { objects { name } } }`,
    variables: { where: tooDeep },
  });
  t.equal(response.status, 200);
  const error = response.body.errors?.[0];
  t.equal(error?.extensions?.code, ErrorCode.FILTER_INVALID);
  t.match(error?.message, /nested deeper than 64 levels/);

  const atLimit = await postQuery(testHost, {
    query: `query ($where: ProductWhere) { productList(where: $where) { objects { name } } }`,
    variables: { where: nestedVariable(MAX_WHERE_DEPTH) },
  });
  t.same(atLimit.body, { data: { productList: { objects: [] } } });
});

t.test("subscription where past the limit is invalid", async (t) => {
  const testHost = await startHost(t);
  const client = connect(t, testHost);

  const viaVariable = subscribe(
    client,
    `subscription ($where: ProductWhere) { productChanges(where: $where) { seq } }`,
    // Far past the filter's limit but within MAX_VARIABLE_DEPTH, which rejects deeper variables first.
    { where: nestedVariable(400) },
  );
  const viaLiteral = subscribe(
    client,
    `subscription { productChanges(where: ${nestedLiteral(MAX_WHERE_DEPTH + 1)}) { seq } }`,
  );
  await waitFor(
    () => viaVariable.error !== undefined && viaLiteral.error !== undefined,
    "both subscriptions rejected",
  );
  t.equal(viaVariable.errorCode, ErrorCode.FILTER_INVALID);
  t.equal(viaLiteral.errorCode, ErrorCode.FILTER_INVALID);
});

t.test("literal too deep to parse is a client error", async (t) => {
  const testHost = await startHost(t);
  const query = `{ productList(where: ${nestedLiteral(2000)}) { objects { name } } }`;

  const response = await postQuery(testHost, { query });
  const error = response.body.errors?.[0];
  t.equal(error?.extensions?.code, SubscriptionsErrorCode.QUERY_TOO_DEEP);
  t.match(error?.message, /nests too deep to parse/);

  const client = connect(t, testHost);
  const subscription = subscribe(
    client,
    `subscription { productChanges(where: ${nestedLiteral(2000)}) { seq } }`,
  );
  await waitFor(() => subscription.error !== undefined, "the rejection");
  t.equal(subscription.errorCode, SubscriptionsErrorCode.QUERY_TOO_DEEP);
});
