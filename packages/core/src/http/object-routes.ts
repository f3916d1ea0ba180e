import { ErrorCode, WeftError } from "../errors.js";
import { isObjectId, toObjectId } from "../ids.js";
import { previewValue } from "../preview-value.js";
import type { Host } from "../host.js";
import type { StoredObject } from "../store/types.js";
import type { WriteRequest, WriteResult } from "../write/types.js";
import type { RouteContext } from "./http-server.js";

const MAX_PAGE = 1000;

function badRequest(
  message: string,
  details: Record<string, unknown> = {},
): WeftError {
  return new WeftError(ErrorCode.HTTP_BAD_REQUEST, message, { details });
}

function requireObject(body: unknown, what: string): Record<string, unknown> {
  if (typeof body !== "object" || body === null || Array.isArray(body))
    throw badRequest(`${what} must be a JSON object`);
  return body as Record<string, unknown>;
}

/** Rejects keys an object body does not have, so a misspelled `properties` is not stored as an empty object. */
function checkKeys(
  body: Record<string, unknown>,
  allowed: readonly string[],
  what: string,
): void {
  const unknown = Object.keys(body).filter((key) => !allowed.includes(key));
  if (unknown.length > 0) {
    throw badRequest(
      `${what} has unknown key ${previewValue(unknown[0])}; allowed keys: ${allowed.join(", ")}`,
      { key: unknown[0] },
    );
  }
}

const objectKeys = ["class", "id", "properties", "vector"] as const;
const pathObjectKeys = ["properties", "vector"] as const;
const batchItemKeys = ["op", "class", "id", "properties", "vector"] as const;

/** Reads a JSON body after checking its media type, so no other site's form post is taken as a write. */
async function jsonBody(
  context: RouteContext,
): Promise<Record<string, unknown>> {
  const type = (context.request.headers["content-type"] ?? "")
    .split(";")[0]
    .trim()
    .toLowerCase();
  if (type !== "application/json" && !type.endsWith("+json")) {
    throw new WeftError(
      ErrorCode.HTTP_UNSUPPORTED_MEDIA_TYPE,
      `content-type must be application/json, got ${JSON.stringify(type || "none")}`,
      {
        details: { contentType: type },
      },
    );
  }
  return requireObject(await context.json(), "request body");
}

function requireClass(
  host: Host,
  name: string | undefined,
  status: 404 | 422,
): string {
  if (name && host.classes.has(name)) return name;
  if (!name) {
    throw new WeftError(
      ErrorCode.CLASS_UNKNOWN,
      `class is missing; name one of ${[...host.classes.keys()].join(", ") || "the configured classes"}`,
      {},
    );
  }
  throw new WeftError(
    ErrorCode.CLASS_UNKNOWN,
    `unknown class ${previewValue(name)}; configured classes: ${[...host.classes.keys()].join(", ") || "none"}`,
    { details: { class: name, status } },
  );
}

/** Resolves the id of a path parameter: a UUID as is, any other key as its UUIDv5. */
function pathId(raw: string | undefined): string {
  if (!raw || raw.trim() === "")
    throw badRequest("missing or blank object id in the path");
  return isObjectId(raw) ? raw.toLowerCase() : toObjectId(raw);
}

/** Turns one request's rejection into the HTTP error it ends with. */
function throwIfRejected(result: WriteResult): void {
  if (result.status !== "rejected" || !result.error) return;
  throw new WeftError(result.error.code, result.error.message, {
    details: {
      ...(result.error.problems ? { problems: result.error.problems } : {}),
      ...(result.error.property ? { property: result.error.property } : {}),
    },
    retryable: result.error.retryable,
  });
}

function toResponse(
  object: StoredObject,
  withVector: boolean,
): Record<string, unknown> {
  const { vector, ...rest } = object;
  return withVector && vector ? { ...rest, vector } : rest;
}

function wantsVector(context: RouteContext): boolean {
  return (context.query.get("include") ?? "").split(",").includes("vector");
}

function writeOptions(context: RouteContext) {
  const traceparent = context.request.headers.traceparent;
  return {
    origin: { plugin: "http" },
    metadata: typeof traceparent === "string" ? { traceparent } : {},
  };
}

/** Writes one object and responds with the stored object. */
async function writeOne(
  host: Host,
  context: RouteContext,
  request: WriteRequest,
): Promise<void> {
  const [result] = await host.write([request], writeOptions(context));
  throwIfRejected(result);

  const stored = await host.store.get(request.class, result.id!);
  if (!stored)
    throw new WeftError(
      ErrorCode.HTTP_NOT_FOUND,
      `object ${result.id} of class ${request.class} is gone`,
      {},
    );
  context.send(result.op === "INSERT" ? 201 : 200, {
    ...toResponse(stored, wantsVector(context)),
    result: result.status,
  });
}

function objectRequest(
  body: Record<string, unknown>,
  op: WriteRequest["op"],
  className: string,
  id?: string,
): WriteRequest {
  return {
    op,
    class: className,
    ...(id !== undefined
      ? { id }
      : body.id !== undefined
        ? { id: body.id as string }
        : {}),
    properties: (body.properties ?? {}) as Record<string, unknown>,
    ...(body.vector !== undefined
      ? { vector: body.vector as number[] | null }
      : {}),
  };
}

/** Registers the object API: create, read, replace, merge, delete, batch and list. */
export function registerObjectRoutes(host: Host): void {
  const http = host.http!;

  http.route({
    method: "POST",
    url: "/v1/objects",
    handler: async (context) => {
      const body = await jsonBody(context);
      checkKeys(body, objectKeys, "request body");
      const className = requireClass(
        host,
        body.class as string | undefined,
        422,
      );
      await writeOne(host, context, objectRequest(body, "upsert", className));
    },
  });

  http.route({
    method: "GET",
    url: "/v1/objects/:class/:id",
    handler: async (context) => {
      const className = requireClass(host, context.params.class, 404);
      const id = pathId(context.params.id);
      const object = await host.store.get(className, id);
      if (!object)
        throw new WeftError(
          ErrorCode.HTTP_NOT_FOUND,
          `no object ${id} in class ${className}`,
          { details: { class: className, id } },
        );
      context.send(200, toResponse(object, wantsVector(context)));
    },
  });

  for (const [method, op] of [
    ["PUT", "upsert"],
    ["PATCH", "patch"],
  ] as const) {
    http.route({
      method,
      url: "/v1/objects/:class/:id",
      handler: async (context) => {
        const className = requireClass(host, context.params.class, 404);
        const body = await jsonBody(context);
        checkKeys(body, pathObjectKeys, "request body");
        const id = pathId(context.params.id);

        // Over HTTP, PATCH changes an existing object; PUT creates or replaces.
        if (op === "patch" && !(await host.store.get(className, id))) {
          throw new WeftError(
            ErrorCode.HTTP_NOT_FOUND,
            `no object ${id} in class ${className}; create it with PUT or POST /v1/objects`,
            {
              details: { class: className, id },
            },
          );
        }
        await writeOne(host, context, objectRequest(body, op, className, id));
      },
    });
  }

  http.route({
    method: "DELETE",
    url: "/v1/objects/:class/:id",
    handler: async (context) => {
      const className = requireClass(host, context.params.class, 404);
      const id = pathId(context.params.id);
      const [result] = await host.write(
        [{ op: "delete", class: className, id }],
        writeOptions(context),
      );
      throwIfRejected(result);
      if (result.status === "noop")
        throw new WeftError(
          ErrorCode.HTTP_NOT_FOUND,
          `no object ${id} in class ${className}`,
          { details: { class: className, id } },
        );
      context.response.writeHead(204).end();
    },
  });

  http.route({
    method: "POST",
    url: "/v1/batch/objects",
    handler: async (context) => {
      const body = await jsonBody(context);
      checkKeys(body, ["objects"], "request body");
      if (!Array.isArray(body.objects))
        throw badRequest('request body must be { "objects": [ ... ] }');

      const requests = body.objects.map((item: unknown, i: number) => {
        const object = requireObject(item, `objects[${i}]`);
        checkKeys(object, batchItemKeys, `objects[${i}]`);
        return objectRequest(
          object,
          (object.op as WriteRequest["op"]) ?? "upsert",
          object.class as string,
        );
      });
      const results = await host.write(requests, writeOptions(context));
      context.send(200, { results });
    },
  });

  http.route({
    method: "GET",
    url: "/v1/objects",
    handler: async (context) => {
      const className = requireClass(
        host,
        context.query.get("class") ?? undefined,
        422,
      );
      const limit = parseLimit(context.query.get("limit"));
      const where = parseWhere(context.query.get("where"));
      const after = context.query.get("after") ?? undefined;

      const page = await host.store.list({
        class: className,
        limit,
        ...(where ? { where } : {}),
        ...(after ? { after } : {}),
        withVector: wantsVector(context),
      });
      context.send(200, {
        objects: page.objects.map((object) =>
          toResponse(object, wantsVector(context)),
        ),
        next: page.next,
      });
    },
  });
}

function parseLimit(raw: string | null): number {
  if (raw === null) return 100;
  const limit = Number(raw);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE)
    throw badRequest(
      `limit must be an integer from 1 to ${MAX_PAGE}, got ${JSON.stringify(raw)}`,
    );
  return limit;
}

function parseWhere(raw: string | null): Record<string, unknown> | undefined {
  if (raw === null || raw === "") return undefined;
  try {
    return requireObject(JSON.parse(raw), "where");
  } catch (error) {
    if (error instanceof WeftError) throw error;
    throw badRequest(
      `where must be a JSON object: ${(error as Error).message}`,
      { where: raw },
    );
  }
}
