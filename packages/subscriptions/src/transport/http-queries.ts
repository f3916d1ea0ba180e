import type { PluginHost, RouteContext } from "@weft/core";
import { SubscriptionsErrorCode, graphQLErrorWithCode } from "../errors.js";
import type { GraphQLRequest } from "../manager/prepare-request.js";
import { formatError } from "../manager/serialize-result.js";
import type { SubscriptionManager } from "../manager/subscription-manager.js";

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Checks the body shape of GraphQL over HTTP: `{ query, variables?, operationName? }`. */
function readRequest(body: unknown): GraphQLRequest | string {
  if (!isRecord(body))
    return "the body must be a JSON object { query, variables?, operationName? }";
  if (typeof body.query !== "string")
    return "query must be a string holding a GraphQL document";
  if (body.variables != null && !isRecord(body.variables))
    return "variables must be a JSON object or null";
  if (body.operationName != null && typeof body.operationName !== "string")
    return "operationName must be a string or null";

  return {
    query: body.query,
    variables: body.variables as Record<string, unknown> | null | undefined,
    operationName: body.operationName as string | null | undefined,
  };
}

/**
 * Executes a GraphQL query sent with POST and sends the result. GraphQL
 * over HTTP specifies 200 for every well-formed request with
 * `application/json` responses, so GraphQL errors go in `errors` with 200,
 * and only a malformed body gets 400.
 */
export async function handleQueryRequest(
  context: RouteContext,
  manager: SubscriptionManager,
  path: string,
  logger: PluginHost["logger"],
): Promise<void> {
  const request = readRequest(await context.json());
  if (typeof request === "string") {
    context.send(400, {
      errors: [
        graphQLErrorWithCode(
          SubscriptionsErrorCode.BAD_REQUEST,
          request,
        ).toJSON(),
      ],
    });
    return;
  }

  const prepared = manager.prepare(request);
  if ("errors" in prepared) {
    context.send(200, {
      errors: prepared.errors.map((error) =>
        formatError(error, (internal) =>
          logger.error(
            {
              err: internal,
              method: context.request.method,
              url: context.request.url,
            },
            "GraphQL query failed with an unexpected error",
          ),
        ),
      ),
    });
    return;
  }
  if (prepared.kind === "subscription") {
    const message = `subscriptions run over WebSocket: connect to ${path} with the graphql-transport-ws subprotocol`;
    context.send(200, {
      errors: [
        graphQLErrorWithCode(
          SubscriptionsErrorCode.BAD_REQUEST,
          message,
        ).toJSON(),
      ],
    });
    return;
  }

  context.send(200, await manager.execute(prepared));
}
