import { GraphQLError } from "graphql";
import t from "tap";
import { createLogger } from "@weft/core";
import { SubscriptionsErrorCode } from "@weft/subscriptions";
import {
  connect,
  postQuery,
  startHost,
  subscribe,
  waitFor,
  type TestHost,
} from "./helpers.js";

/** Starts a host whose error log lines are kept in `lines`. */
async function startLoggedHost(
  t: Parameters<typeof startHost>[0],
): Promise<{ testHost: TestHost; lines: Array<Record<string, unknown>> }> {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger({
    level: "error",
    hooks: {
      logMethod(args) {
        const [first, message] = args as unknown as [unknown, unknown];
        if (typeof first === "object" && first !== null)
          lines.push({ ...(first as Record<string, unknown>), msg: message });
      },
    },
  });
  const testHost = await startHost(t, { logger });

  // Stands in for a bug in request preparation: an error that is neither a GraphQL nor a weft error.
  testHost.manager.prepare = () => ({
    errors: [
      new GraphQLError("prepare failed", {
        originalError: new TypeError("boom"),
      }),
    ],
  });
  return { testHost, lines };
}

t.test("HTTP prepare internal error is logged", async (t) => {
  const { testHost, lines } = await startLoggedHost(t);

  const response = await postQuery(testHost, { query: `{ __typename }` });
  t.equal(
    response.body.errors?.[0]?.extensions?.code,
    SubscriptionsErrorCode.INTERNAL,
  );
  const line = lines.find((entry) => entry.err instanceof TypeError);
  t.ok(line, "an error line with the cause");
  t.equal(line?.method, "POST");
  t.equal(line?.url, "/v1/graphql");
});

t.test("WebSocket prepare internal error is logged", async (t) => {
  const { testHost, lines } = await startLoggedHost(t);
  const client = connect(t, testHost);

  const subscription = subscribe(
    client,
    `subscription { productChanges { seq } }`,
  );
  await waitFor(() => subscription.error !== undefined, "the rejection");
  t.equal(subscription.errorCode, SubscriptionsErrorCode.INTERNAL);
  const line = lines.find((entry) => entry.err instanceof TypeError);
  t.ok(line, "an error line with the cause");
  t.type(line?.connection, "number");
  t.type(line?.operation, "string");
});
