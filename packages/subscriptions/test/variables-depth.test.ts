import t from "tap";
import { GraphQLError } from "graphql";
import { ErrorCode } from "@weft/core";
import { SubscriptionsErrorCode } from "@weft/subscriptions";
import { toGraphQLError } from "../src/errors.js";
import { MAX_VARIABLE_DEPTH } from "../src/manager/variables-depth.js";
import {
  connect,
  postQuery,
  startHost,
  subscribe,
  waitFor,
} from "./helpers.js";

const listQuery = `query ($where: ProductWhere) { productList(where: $where) { objects { name } } }`;
const changesSubscription = `subscription ($where: ProductWhere) { productChanges(where: $where) { seq } }`;

/** Wraps a condition in `levels` levels of `not`, as a variable value. */
function nestedNot(levels: number): Record<string, unknown> {
  let where: Record<string, unknown> = { price: { gt: 1 } };
  for (let i = 0; i < levels; i += 1) where = { not: where };
  return where;
}

/** Wraps a condition in `levels` levels of `{ and: [...] }`, as a variable value. */
function nestedAnd(levels: number): Record<string, unknown> {
  let where: Record<string, unknown> = { price: { gt: 1 } };
  for (let i = 0; i < levels; i += 1) where = { and: [where] };
  return where;
}

const tooDeep: Array<[string, Record<string, unknown>]> = [
  ["3,000 levels of not", nestedNot(3000)],
  ["1,000 levels of and", nestedAnd(1000)],
];

t.test("deep variable over POST is a client error", async (t) => {
  const testHost = await startHost(t);

  for (const [name, where] of tooDeep) {
    const response = await postQuery(testHost, {
      query: listQuery,
      variables: { where },
    });
    t.equal(response.status, 200, name);
    const error = response.body.errors?.[0];
    t.equal(
      error?.extensions?.code,
      SubscriptionsErrorCode.QUERY_TOO_DEEP,
      name,
    );
    t.match(error?.message, /variable \$where/, name);
    t.match(error?.message, String(MAX_VARIABLE_DEPTH), name);
  }
});

t.test("deep variable over WebSocket is a client error", async (t) => {
  const testHost = await startHost(t);
  const client = connect(t, testHost);

  for (const [name, where] of tooDeep) {
    const subscription = subscribe(client, changesSubscription, { where });
    const query = subscribe(client, listQuery, { where });
    await waitFor(
      () => subscription.error !== undefined && query.error !== undefined,
      `both rejections of ${name}`,
    );
    t.equal(
      subscription.errorCode,
      SubscriptionsErrorCode.QUERY_TOO_DEEP,
      name,
    );
    t.equal(query.errorCode, SubscriptionsErrorCode.QUERY_TOO_DEEP, name);
  }
  t.equal(testHost.manager.subscriberCount, 0);
});

t.test("variable at the depth limit reaches the filter", async (t) => {
  const testHost = await startHost(t);
  // The condition adds two levels, `{ price: { gt: 1 } }`.
  const where = nestedNot(MAX_VARIABLE_DEPTH - 2);

  const response = await postQuery(testHost, {
    query: listQuery,
    variables: { where },
  });
  t.equal(
    response.body.errors?.[0]?.extensions?.code,
    ErrorCode.FILTER_INVALID,
  );
});

t.test("stack overflow maps to the too-deep code", async (t) => {
  const overflow = new RangeError("Maximum call stack size exceeded");

  t.equal(
    toGraphQLError(overflow).extensions.code,
    SubscriptionsErrorCode.QUERY_TOO_DEEP,
  );
  const located = new GraphQLError("Maximum call stack size exceeded", {
    originalError: overflow,
  });
  t.equal(
    toGraphQLError(located).extensions.code,
    SubscriptionsErrorCode.QUERY_TOO_DEEP,
  );
  t.equal(
    toGraphQLError(new TypeError("x is undefined")).extensions.code,
    SubscriptionsErrorCode.INTERNAL,
  );
});
