import t from "tap";
import {
  connect,
  postQuery,
  startHost,
  subscribe,
  waitFor,
} from "./helpers.js";

/** Requests every transport rejects, with the code each error must carry. */
const cases: Array<{
  name: string;
  query: string;
  variables?: Record<string, unknown>;
  operationName?: string;
  code: string;
}> = [
  {
    name: "several operations without operationName",
    query: `query A { productList { next } } query B { productList { next } }`,
    code: "WEFT_ERR_SUBSCRIPTIONS_OPERATION_NAME_INVALID",
  },
  {
    name: "operationName naming no operation",
    query: `query A { productList { next } }`,
    operationName: "B",
    code: "WEFT_ERR_SUBSCRIPTIONS_OPERATION_NAME_INVALID",
  },
  {
    name: "syntax error",
    query: `query {`,
    code: "WEFT_ERR_SUBSCRIPTIONS_DOCUMENT_INVALID",
  },
  {
    name: "unknown field",
    query: `{ productList { nope } }`,
    code: "WEFT_ERR_SUBSCRIPTIONS_DOCUMENT_INVALID",
  },
  {
    name: "variable of the wrong type",
    query: `query ($limit: Int) { productList(limit: $limit) { next } }`,
    variables: { limit: "ten" },
    code: "WEFT_ERR_SUBSCRIPTIONS_VARIABLES_INVALID",
  },
  {
    name: "missing required variable",
    query: `query ($limit: Int!) { productList(limit: $limit) { next } }`,
    code: "WEFT_ERR_SUBSCRIPTIONS_VARIABLES_INVALID",
  },
  {
    name: "subscription with two root fields",
    query: `subscription { productChanges { seq } changes { seq } }`,
    code: "WEFT_ERR_SUBSCRIPTIONS_DOCUMENT_INVALID",
  },
];

t.test("client errors over POST carry a code", async (t) => {
  const testHost = await startHost(t);

  for (const testCase of cases) {
    const response = await postQuery(testHost, {
      query: testCase.query,
      variables: testCase.variables,
      operationName: testCase.operationName,
    });
    const errors = response.body.errors ?? [];
    t.ok(errors.length > 0, `${testCase.name} fails`);
    for (const error of errors)
      t.equal(error.extensions?.code, testCase.code, testCase.name);
  }
});

t.test("client errors over WebSocket carry a code", async (t) => {
  const testHost = await startHost(t);
  const client = connect(t, testHost);

  for (const testCase of cases) {
    if (testCase.operationName !== undefined) continue;
    const collector = subscribe(client, testCase.query, testCase.variables);
    await waitFor(
      () => collector.error !== undefined,
      `the error of ${testCase.name}`,
    );
    t.equal(collector.errorCode, testCase.code, testCase.name);
  }
});
