import { Agent, get, type IncomingMessage } from "node:http";
import t from "tap";
import { ErrorCode, Type, WeftError, definePlugin } from "@weft/core";
import { request, startHost } from "./helpers.js";

const id = "0b7a6c2e-1f3d-4e5a-8b9c-0d1e2f3a4b5c";

t.test("create, read, replace, merge and delete an object", async (t) => {
  const host = await startHost(t);

  const created = await request(host, "POST", "/v1/objects", {
    class: "Product",
    id,
    properties: { name: "Lamp", price: 10 },
  });
  t.equal(created.status, 201);
  t.same(created.body.properties, { name: "Lamp", price: 10 });
  t.equal(created.body.version, 1);

  const read = await request(host, "GET", `/v1/objects/Product/${id}`);
  t.equal(read.status, 200);
  t.same(read.body, {
    class: "Product",
    id,
    properties: { name: "Lamp", price: 10 },
    version: 1,
    updatedAt: created.body.updatedAt,
  });

  const replaced = await request(host, "PUT", `/v1/objects/Product/${id}`, {
    properties: { name: "Lamp 2" },
  });
  t.equal(replaced.status, 200);
  t.same(replaced.body.properties, { name: "Lamp 2" });

  const merged = await request(host, "PATCH", `/v1/objects/Product/${id}`, {
    properties: { price: 12 },
  });
  t.same(merged.body.properties, { name: "Lamp 2", price: 12 });
  t.equal(merged.body.version, 3);

  const deleted = await request(host, "DELETE", `/v1/objects/Product/${id}`);
  t.equal(deleted.status, 204);
  t.equal(
    (await request(host, "GET", `/v1/objects/Product/${id}`)).status,
    404,
  );
  t.equal(
    (await request(host, "DELETE", `/v1/objects/Product/${id}`)).status,
    404,
    "deleting a missing object",
  );
});

t.test("non-UUID keys in paths map to their UUIDv5", async (t) => {
  const host = await startHost(t);
  const created = await request(host, "PUT", "/v1/objects/Product/sku-42", {
    properties: { name: "x" },
  });
  t.equal(created.status, 201);
  const read = await request(host, "GET", "/v1/objects/Product/sku-42");
  t.equal(read.body.id, created.body.id);
});

t.test("vector is returned on request", async (t) => {
  const host = await startHost(t);
  await request(host, "POST", "/v1/objects", {
    class: "Product",
    id,
    properties: { name: "x" },
    vector: [0.5, 0.25],
  });
  t.notOk(
    (await request(host, "GET", `/v1/objects/Product/${id}`)).body.vector,
  );
  t.same(
    (await request(host, "GET", `/v1/objects/Product/${id}?include=vector`))
      .body.vector,
    [0.5, 0.25],
  );
});

t.test("batch write returns results in request order", async (t) => {
  const host = await startHost(t);
  const response = await request(host, "POST", "/v1/batch/objects", {
    objects: [
      { class: "Product", id: "a", properties: { name: "A" } },
      { class: "Product", id: "b", properties: { price: "free" } },
      { class: "Product", id: "c", properties: { name: "C" } },
    ],
  });
  t.equal(response.status, 200);
  t.same(
    response.body.results.map((result: { status: string }) => result.status),
    ["ok", "rejected", "ok"],
  );
  t.equal(response.body.results[1].error.code, ErrorCode.OBJECT_INVALID);
});

t.test("list pages with a cursor and filters with where", async (t) => {
  const host = await startHost(t);
  const objects = Array.from({ length: 5 }, (_, i) => ({
    class: "Product",
    id: `k${i}`,
    properties: { name: `n${i}`, price: i },
  }));
  await request(host, "POST", "/v1/batch/objects", { objects });

  const first = await request(host, "GET", "/v1/objects?class=Product&limit=2");
  t.equal(first.body.objects.length, 2);
  t.type(first.body.next, "string");
  const second = await request(
    host,
    "GET",
    `/v1/objects?class=Product&limit=2&after=${first.body.next}`,
  );
  const third = await request(
    host,
    "GET",
    `/v1/objects?class=Product&limit=2&after=${second.body.next}`,
  );
  t.equal(third.body.objects.length, 1);
  t.equal(third.body.next, null);
  const ids = [
    ...first.body.objects,
    ...second.body.objects,
    ...third.body.objects,
  ].map((object: { id: string }) => object.id);
  t.equal(new Set(ids).size, 5, "every object once");

  const where = encodeURIComponent(JSON.stringify({ price: { gte: 3 } }));
  const filtered = await request(
    host,
    "GET",
    `/v1/objects?class=Product&where=${where}`,
  );
  t.same(
    filtered.body.objects
      .map(
        (object: { properties: { price: number } }) => object.properties.price,
      )
      .sort(),
    [3, 4],
  );
});

t.test("bad input gets a clear error", async (t) => {
  const host = await startHost(t);

  const invalidJson = await request(
    host,
    "POST",
    "/v1/objects",
    '{"class": "Product",',
  );
  t.equal(invalidJson.status, 400);
  t.equal(invalidJson.body.error.code, ErrorCode.HTTP_JSON_INVALID);
  t.equal(invalidJson.body.error.position, 20);

  const wrongType = await request(host, "POST", "/v1/objects", {
    class: "Product",
    properties: { price: "ten", stock: "x" },
  });
  t.equal(wrongType.status, 422);
  t.same(
    wrongType.body.error.problems.map(
      (problem: { property: string }) => problem.property,
    ),
    ["price", "stock"],
  );

  const unknownClass = await request(host, "POST", "/v1/objects", {
    class: "Nope",
    properties: {},
  });
  t.equal(unknownClass.status, 422);
  t.equal(unknownClass.body.error.code, ErrorCode.CLASS_UNKNOWN);

  const unknownClassPath = await request(host, "GET", `/v1/objects/Nope/${id}`);
  t.equal(unknownClassPath.status, 404);

  const badId = await request(host, "POST", "/v1/objects", {
    class: "Product",
    id: { nested: true },
    properties: {},
  });
  t.equal(badId.status, 400);
  t.equal(badId.body.error.code, ErrorCode.ID_INVALID);

  const badUuidProperty = await request(host, "POST", "/v1/objects", {
    class: "Product",
    properties: { ref: "not-a-uuid" },
  });
  t.equal(badUuidProperty.status, 422);
  t.match(badUuidProperty.body.error.message, /ref: expected a UUID/);

  const badLimit = await request(
    host,
    "GET",
    "/v1/objects?class=Product&limit=0",
  );
  t.equal(badLimit.status, 400);

  const badWhere = await request(
    host,
    "GET",
    `/v1/objects?class=Product&where=${encodeURIComponent('{"colour":{"equals":1}}')}`,
  );
  t.equal(badWhere.status, 400);
  t.equal(badWhere.body.error.code, ErrorCode.FILTER_INVALID);

  const badCursor = await request(
    host,
    "GET",
    "/v1/objects?class=Product&after=garbage",
  );
  t.equal(badCursor.status, 400);

  t.equal((await request(host, "GET", "/v1/nothing-here")).status, 404);
});

t.test("oversize body gets 413", async (t) => {
  const host = await startHost(t, { server: { port: 0, bodyLimit: 1024 } });
  const response = await request(host, "POST", "/v1/objects", {
    class: "Product",
    properties: { name: "x".repeat(2000) },
  });
  t.equal(response.status, 413);
  t.equal(response.body.error.code, ErrorCode.HTTP_BODY_TOO_LARGE);
  t.equal(await host.store.lastSeq(), 0);
});

t.test("API keys guard every route but health and readiness", async (t) => {
  const host = await startHost(t, { apiKeys: ["s3cret-key", "second-key"] });

  const missing = await request(host, "GET", "/v1/objects?class=Product");
  t.equal(missing.status, 401);
  t.equal(missing.body.error.code, ErrorCode.HTTP_UNAUTHORIZED);
  t.equal(missing.headers.get("www-authenticate"), 'Bearer realm="weft"');

  const wrong = await request(
    host,
    "GET",
    "/v1/objects?class=Product",
    undefined,
    { authorization: "Bearer s3cret-kez" },
  );
  t.equal(wrong.status, 401);

  const right = await request(
    host,
    "GET",
    "/v1/objects?class=Product",
    undefined,
    { authorization: "Bearer second-key" },
  );
  t.equal(right.status, 200);

  t.equal((await request(host, "GET", "/metrics")).status, 401);
  t.equal((await request(host, "GET", "/healthz")).status, 200);
  t.equal((await request(host, "GET", "/readyz")).status, 200);
});

t.test("CORS answers allowed origins only", async (t) => {
  const host = await startHost(t, {
    server: { port: 0, corsOrigins: ["https://app.example"] },
  });
  const allowed = await fetch(`${host.http!.url}/healthz`, {
    headers: { origin: "https://app.example" },
  });
  t.equal(
    allowed.headers.get("access-control-allow-origin"),
    "https://app.example",
  );
  const other = await fetch(`${host.http!.url}/healthz`, {
    headers: { origin: "https://evil.example" },
  });
  t.equal(other.headers.get("access-control-allow-origin"), null);

  const preflight = await fetch(`${host.http!.url}/v1/objects`, {
    method: "OPTIONS",
    headers: {
      origin: "https://app.example",
      "access-control-request-method": "POST",
    },
  });
  t.equal(preflight.status, 204);
});

t.test("metrics count writes and rejects", async (t) => {
  const host = await startHost(t);
  await request(host, "POST", "/v1/batch/objects", {
    objects: [
      { class: "Product", properties: { name: "a" } },
      { class: "Product", properties: { price: "x" } },
    ],
  });
  const text = await (await fetch(`${host.http!.url}/metrics`)).text();
  t.match(text, /weft_write_objects_total\{status="ok",op="INSERT"\} 1/);
  t.match(text, /weft_write_rejects_total\{code="WEFT_ERR_OBJECT_INVALID"\} 1/);
  t.match(text, /weft_write_duration_seconds_bucket/);
});

t.test("readyz lists plugins and health answers", async (t) => {
  const host = await startHost(t);
  const ready = await request(host, "GET", "/readyz");
  t.equal(ready.status, 200);
  t.equal(ready.body.status, "ready");
  t.same(ready.body.plugins["test-store"], { status: "ready", details: {} });
  t.same((await request(host, "GET", "/healthz")).body, { status: "ok" });
});

t.test("plugin errors choose their HTTP status", async (t) => {
  const routes = definePlugin({
    name: "routes",
    version: "1.0.0",
    configSchema: Type.Object({}),
    register(host) {
      host.route({
        method: "GET",
        url: "/v1/conflict",
        handler: () => {
          throw new WeftError("WEFT_ERR_TEST_CONFLICT", "already running", {
            details: { status: 409 },
          });
        },
      });
      host.route({
        method: "GET",
        url: "/v1/broken",
        handler: () => {
          throw new WeftError("WEFT_ERR_TEST_BROKEN", "broken", {
            details: { status: 200 },
          });
        },
      });
    },
  });
  const host = await startHost(t, { plugins: [{ plugin: routes }] });
  const conflict = await request(host, "GET", "/v1/conflict");
  t.equal(conflict.status, 409);
  t.equal(conflict.body.error.code, "WEFT_ERR_TEST_CONFLICT");
  t.equal(
    (await request(host, "GET", "/v1/broken")).status,
    500,
    "a status outside 400-599 is ignored",
  );
});

t.test("bodies must be JSON with known keys", async (t) => {
  const host = await startHost(t);

  const plain = await fetch(`${host.http!.url}/v1/objects`, {
    method: "POST",
    headers: { "content-type": "text/plain" },
    body: JSON.stringify({ class: "Product", properties: {} }),
  });
  t.equal(plain.status, 415);
  t.equal(
    ((await plain.json()) as { error: { code: string } }).error.code,
    ErrorCode.HTTP_UNSUPPORTED_MEDIA_TYPE,
  );

  const typo = await request(host, "POST", "/v1/objects", {
    class: "Product",
    propertes: { name: "typo" },
  });
  t.equal(typo.status, 400);
  t.match(typo.body.error.message, /unknown key "propertes"/);

  const missingClass = await request(host, "POST", "/v1/objects", {
    properties: {},
  });
  t.equal(missingClass.status, 422);
  t.match(missingClass.body.error.message, /class is missing/);

  const badItem = await request(host, "POST", "/v1/batch/objects", {
    objects: [{ class: "Product", properties: {} }, 1],
  });
  t.equal(badItem.status, 400);
  t.match(badItem.body.error.message, /objects\[1\] must be a JSON object/);
  t.equal(
    await host.store.lastSeq(),
    0,
    "nothing of a malformed batch is written",
  );

  const infinite = await request(
    host,
    "POST",
    "/v1/objects",
    '{"class":"Product","properties":{"price":1e400}}',
  );
  t.match(
    infinite.body.error.message,
    /price: expected number, got number Infinity/,
  );

  const blank = await request(host, "PUT", "/v1/objects/Product/%20", {
    properties: {},
  });
  t.equal(blank.status, 400);
});

t.test("PATCH of a missing object is 404", async (t) => {
  const host = await startHost(t);
  const response = await request(host, "PATCH", `/v1/objects/Product/${id}`, {
    properties: { name: "x" },
  });
  t.equal(response.status, 404);
  t.equal(await host.store.lastSeq(), 0);
});

t.test("wrong method on a known path is 405", async (t) => {
  const host = await startHost(t);
  const response = await fetch(`${host.http!.url}/healthz`, { method: "PUT" });
  t.equal(response.status, 405);
  t.equal(response.headers.get("allow"), "GET, HEAD");
  const body = (await response.json()) as { error: { code: string } };
  t.equal(body.error.code, ErrorCode.HTTP_METHOD_NOT_ALLOWED);

  const unknown = await fetch(`${host.http!.url}/nothing-here`, {
    method: "PUT",
  });
  t.equal(unknown.status, 404, "a path without routes stays 404");
});

t.test("HEAD answers like GET without a body", async (t) => {
  const host = await startHost(t);
  await request(host, "PUT", `/v1/objects/Product/${id}`, {
    properties: { name: "Lamp" },
  });

  const response = await fetch(`${host.http!.url}/v1/objects/Product/${id}`, {
    method: "HEAD",
  });
  t.equal(response.status, 200);
  t.match(response.headers.get("content-type"), /application\/json/);
  t.equal(await response.text(), "");

  const missing = await fetch(
    `${host.http!.url}/v1/objects/Product/0b7a6c2e-0000-4e5a-8b9c-0d1e2f3a4b5c`,
    { method: "HEAD" },
  );
  t.equal(missing.status, 404);
});

t.test("malformed percent-encoding is 400", async (t) => {
  const host = await startHost(t);
  const response = await fetch(`${host.http!.url}/v1/objects/Product/%zz`);
  t.equal(response.status, 400);
  const body = (await response.json()) as {
    error: { code: string; message: string };
  };
  t.equal(body.error.code, ErrorCode.HTTP_URL_INVALID);
  t.match(body.error.message, /%zz/);
});

t.test("oversize request line gets 431", async (t) => {
  const host = await startHost(t);
  const response = await fetch(
    `${host.http!.url}/v1/objects/Product/${"a".repeat(20_000)}`,
  );
  t.equal(response.status, 431);
  const body = (await response.json()) as { error: { code: string } };
  t.equal(body.error.code, ErrorCode.HTTP_HEADERS_TOO_LARGE);
  t.equal(
    (await fetch(`${host.http!.url}/healthz`)).status,
    200,
    "the server keeps serving",
  );
});

t.test("ids longer than 100 characters work in paths", async (t) => {
  const host = await startHost(t);
  const key = "k".repeat(500);

  const created = await request(host, "PUT", `/v1/objects/Product/${key}`, {
    properties: { name: "long key" },
  });
  t.equal(created.status, 201);

  const read = await request(host, "GET", `/v1/objects/Product/${key}`);
  t.equal(read.status, 200);
  t.equal(read.body.properties.name, "long key");
});

t.test("503 answers carry Retry-After", async (t) => {
  const busy = definePlugin({
    name: "busy",
    version: "1.0.0",
    configSchema: Type.Object({}),
    register(host) {
      host.route({
        method: "GET",
        url: "/v1/busy",
        handler: () => {
          throw new WeftError("WEFT_ERR_TEST_BUSY", "try again", {
            retryable: true,
          });
        },
      });
    },
  });
  const host = await startHost(t, { plugins: [{ plugin: busy }] });

  const response = await fetch(`${host.http!.url}/v1/busy`);
  t.equal(response.status, 503);
  t.equal(response.headers.get("retry-after"), "1");
  const body = (await response.json()) as { error: { code: string } };
  t.equal(body.error.code, "WEFT_ERR_TEST_BUSY");
});

t.test("stop ends keep-alive after running requests", async (t) => {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let entered!: () => void;
  const running = new Promise<void>((resolve) => (entered = resolve));
  const slow = definePlugin({
    name: "slow",
    version: "1.0.0",
    configSchema: Type.Object({}),
    register(host) {
      host.route({
        method: "GET",
        url: "/v1/slow",
        handler: async (context) => {
          entered();
          await released;
          context.send(200, { done: true });
        },
      });
    },
  });
  const host = await startHost(t, { plugins: [{ plugin: slow }] });
  const agent = new Agent({ keepAlive: true });
  t.teardown(() => agent.destroy());

  const answered = new Promise<IncomingMessage>((resolve, reject) =>
    get(`${host.http!.url}/v1/slow`, { agent }, resolve).on("error", reject),
  );
  await running;
  const stopped = host.stop();
  release();
  const response = await answered;
  const socketClosed = new Promise<void>((resolve) =>
    response.socket.once("close", () => resolve()),
  );
  response.resume();

  t.equal(response.statusCode, 200);
  t.equal(response.headers.connection, "close");
  await socketClosed;
  t.pass("the server closed the connection after the response");
  await stopped;
});

t.test("requests during stop get 503, not a reset", async (t) => {
  let finishStop!: () => void;
  const stopHeld = new Promise<void>((resolve) => (finishStop = resolve));
  let stopping!: () => void;
  const stopBegan = new Promise<void>((resolve) => (stopping = resolve));
  const holdStop = definePlugin({
    name: "hold-stop",
    version: "1.0.0",
    configSchema: Type.Object({}),
    register(host) {
      host.hooks.stop.tapPromise(host.name, async () => {
        stopping();
        await stopHeld;
      });
    },
  });
  const host = await startHost(t, { plugins: [{ plugin: holdStop }] });
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  t.teardown(() => agent.destroy());
  // The server has no URL once it stopped listening.
  const url = `${host.http!.url}/healthz`;
  const getHealth = () =>
    new Promise<IncomingMessage>((resolve, reject) =>
      get(url, { agent }, resolve).on("error", reject),
    );

  const first = await getHealth();
  first.resume();
  t.equal(first.statusCode, 200);
  await new Promise((resolve) => first.once("end", resolve));

  const stopped = host.stop();
  await stopBegan;
  const late = await getHealth();
  const body = await new Promise<string>((resolve) => {
    let text = "";
    late.setEncoding("utf8");
    late.on("data", (chunk: string) => (text += chunk));
    late.once("end", () => resolve(text));
  });
  t.equal(late.statusCode, 503, "a request on the kept-alive connection");
  t.equal(late.headers.connection, "close");
  t.equal(late.headers["retry-after"], "1");
  t.equal(
    (JSON.parse(body) as { error: { code: string } }).error.code,
    ErrorCode.HOST_STOPPING,
  );

  finishStop();
  await stopped;
});

t.test("compressed or non-UTF-8 bodies get 415", async (t) => {
  const host = await startHost(t);
  const body = JSON.stringify({ class: "Product", properties: { name: "x" } });

  const gzipped = await request(host, "POST", "/v1/objects", body, {
    "content-encoding": "gzip",
  });
  t.equal(gzipped.status, 415);
  t.equal(gzipped.body.error.code, ErrorCode.HTTP_UNSUPPORTED_MEDIA_TYPE);
  t.match(gzipped.body.error.message, /content-encoding "gzip"/);

  const utf16 = await request(host, "POST", "/v1/objects", body, {
    "content-type": "application/json; charset=utf-16",
  });
  t.equal(utf16.status, 415);
  t.match(utf16.body.error.message, /charset "utf-16"/);

  for (const charset of ["utf-8", "UTF-8", '"utf-8"', "utf8"]) {
    const accepted = await request(host, "POST", "/v1/objects", body, {
      "content-type": `application/json; charset=${charset}`,
    });
    t.equal(accepted.status, 201, `charset=${charset}`);
  }
  const identity = await request(host, "POST", "/v1/objects", body, {
    "content-encoding": "identity",
  });
  t.equal(identity.status, 201, "content-encoding identity");
});

t.test("invalid UTF-8 in a body or path id is 400", async (t) => {
  const host = await startHost(t);
  const send = (bytes: Buffer) =>
    fetch(`${host.http!.url}/v1/objects/Product/sku`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: bytes,
    });

  const invalid = Buffer.concat([
    Buffer.from('{"properties":{"name":"a'),
    Buffer.from([0xff]),
    Buffer.from('"}}'),
  ]);
  const response = await send(invalid);
  t.equal(response.status, 400);
  const error = ((await response.json()) as { error: { code: string } }).error;
  t.equal(error.code, ErrorCode.HTTP_BAD_REQUEST);

  const replacement = Buffer.from('{"properties":{"name":"a\uFFFD"}}');
  t.equal((await send(replacement)).status, 201, "U+FFFD itself is valid");

  for (const id of ["%FF", "%C3%28", "%ED%A0%80"]) {
    const read = await fetch(`${host.http!.url}/v1/objects/Product/${id}`);
    t.equal(read.status, 400, `path id ${id}`);
    await read.body?.cancel();
  }
});

t.test("431 message names a fix for GET", async (t) => {
  const host = await startHost(t);
  const response = await fetch(
    `${host.http!.url}/v1/objects?class=Product&where=${"a".repeat(20_000)}`,
  );
  t.equal(response.status, 431);
  const body = (await response.json()) as { error: { message: string } };
  t.notMatch(body.error.message, /request body/);
  t.match(body.error.message, /split a long where filter/);
});
