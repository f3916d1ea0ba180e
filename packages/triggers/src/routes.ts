import {
  isWeftError,
  previewValue,
  type PluginHost,
  type RouteContext,
} from "@weft/core";
import type { TriggerEngine } from "./engine.js";
import { statusByCode, type TriggersErrorCodeValue } from "./errors.js";
import { invalidRequest, objectBody } from "./request-body.js";

const defaultPageSize = 100;
const maxPageSize = 1000;

/**
 * Adds the trigger API under `/v1/triggers`; every route needs the host's
 * API key when keys are configured.
 */
export function registerRoutes(host: PluginHost, engine: TriggerEngine): void {
  const route = (
    method: "GET" | "POST" | "PUT" | "DELETE",
    url: string,
    handler: (context: RouteContext) => Promise<void> | void,
  ) =>
    host.route({
      method,
      url,
      handler: (context) => respond(context, handler),
    });

  route("GET", "/v1/triggers", (context) =>
    context.send(200, {
      triggers: engine.runners().map((runner) => runner.status()),
    }),
  );

  route("GET", "/v1/triggers/:name", (context) =>
    context.send(200, engine.runner(param(context, "name")).status()),
  );

  route("GET", "/v1/triggers/:name/state", (context) =>
    context.send(200, stateOf(engine, param(context, "name"))),
  );

  route("PUT", "/v1/triggers/:name/state", async (context) => {
    const runner = engine.runner(param(context, "name"));
    const body = await objectBody(context, ["enabled"]);
    if (typeof body.enabled !== "boolean")
      throw invalidRequest(
        'body must be { "enabled": true } or { "enabled": false }',
      );
    await runner.setEnabled(body.enabled, "api");
    context.send(200, stateOf(engine, runner.name));
  });

  route("GET", "/v1/triggers/:name/pending", (context) => {
    const runner = engine.runner(param(context, "name"));
    context.send(200, { pending: runner.listPending(pageSize(context)) });
  });

  route("GET", "/v1/triggers/:name/dead-letters", async (context) => {
    const runner = engine.runner(param(context, "name"));
    const after = context.query.get("after") ?? undefined;
    context.send(200, await runner.listDeadLetters(pageSize(context), after));
  });

  route("GET", "/v1/triggers/:name/dead-letters/:id", async (context) => {
    context.send(
      200,
      await engine
        .runner(param(context, "name"))
        .getDeadLetter(param(context, "id")),
    );
  });

  route("DELETE", "/v1/triggers/:name/dead-letters/:id", async (context) => {
    await engine
      .runner(param(context, "name"))
      .deleteDeadLetter(param(context, "id"));
    context.response.writeHead(204).end();
  });

  route(
    "POST",
    "/v1/triggers/:name/dead-letters/:id/redeliver",
    async (context) => {
      context.send(
        202,
        await engine
          .runner(param(context, "name"))
          .redeliver(param(context, "id")),
      );
    },
  );

  route("POST", "/v1/triggers/:name/replay", async (context) => {
    const runner = engine.runner(param(context, "name"));
    const body = await objectBody(context, ["fromSeq"]);
    if (
      typeof body.fromSeq !== "number" ||
      !Number.isInteger(body.fromSeq) ||
      body.fromSeq < 1
    ) {
      throw invalidRequest(
        `fromSeq must be an integer >= 1, got ${previewValue(body.fromSeq)}`,
      );
    }
    context.send(202, await runner.replay(body.fromSeq));
  });

  route("POST", "/v1/triggers/:name/invoke", async (context) => {
    const runner = engine.runner(param(context, "name"));
    const body = await objectBody(context, ["id", "class", "op"]);
    const id = body.id;
    if ((typeof id !== "string" || id === "") && typeof id !== "number")
      throw invalidRequest(
        'body must name the object: { "id": "...", "class": "..." }',
      );

    if (body.class !== undefined && typeof body.class !== "string")
      throw invalidRequest(
        `class must be a string naming a class, got ${previewValue(body.class)}`,
      );

    const status = runner.status();
    const className =
      typeof body.class === "string"
        ? body.class
        : status.classes?.length === 1
          ? status.classes[0]
          : undefined;
    if (className === undefined)
      throw invalidRequest(
        `trigger ${runner.name} covers several classes; name one with "class"`,
      );
    if (status.classes && !status.classes.includes(className)) {
      throw invalidRequest(
        `trigger ${runner.name} does not cover class ${previewValue(className)}; it covers ${status.classes.join(", ")}`,
      );
    }
    const op = body.op ?? "UPDATE";
    if (op !== "INSERT" && op !== "UPDATE")
      throw invalidRequest(
        `op must be INSERT or UPDATE, got ${previewValue(op)}`,
      );

    context.send(202, await runner.invoke(className, String(id), op));
  });
}

function stateOf(engine: TriggerEngine, name: string): Record<string, unknown> {
  const { enabled, configEnabled, disabledReason, changedAt } = engine
    .runner(name)
    .status();
  return { name, enabled, configEnabled, disabledReason, changedAt };
}

/** Runs a handler and turns this package's errors into JSON responses with their HTTP status. */
async function respond(
  context: RouteContext,
  handler: (context: RouteContext) => Promise<void> | void,
): Promise<void> {
  try {
    await handler(context);
  } catch (error) {
    const status = isWeftError(error)
      ? statusByCode[error.code as TriggersErrorCodeValue]
      : undefined;
    if (status === undefined || !isWeftError(error)) throw error;
    context.send(status, {
      error: { code: error.code, message: error.message },
    });
  }
}

function param(context: RouteContext, name: string): string {
  const value = context.params[name];
  if (!value) throw invalidRequest(`missing path parameter ${name}`);
  return value;
}

function pageSize(context: RouteContext): number {
  const text = context.query.get("limit");
  if (text === null) return defaultPageSize;
  const limit = Number(text);
  if (!Number.isInteger(limit) || limit < 1 || limit > maxPageSize)
    throw invalidRequest(
      `limit must be an integer from 1 to ${maxPageSize}, got ${previewValue(text)}`,
    );
  return limit;
}
