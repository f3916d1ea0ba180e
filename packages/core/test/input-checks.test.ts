import t from "tap";
import { ErrorCode, Host, MemoryStore, type ClassDefinition } from "@weft/core";
import { captureLogger } from "@weft/core/testing";
import { productClass, request, startHost, storePlugin } from "./helpers.js";

const id = "5a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";

/** Builds `{ a: { a: ... { a: 1 } } }` with `levels` objects, without recursion. */
function nested(levels: number): Record<string, unknown> {
  let value: Record<string, unknown> = { a: 1 };
  for (let i = 1; i < levels; i++) value = { a: value };
  return value;
}

t.test("deeply nested values are rejected before commit", async (t) => {
  const host = await startHost(t);

  const [accepted] = await host.write([
    { op: "upsert", class: "Product", id, properties: { meta: nested(64) } },
  ]);
  t.equal(accepted.status, "ok", "64 levels are accepted");

  const [tooDeep] = await host.write([
    { op: "upsert", class: "Product", id, properties: { meta: nested(65) } },
  ]);
  t.equal(tooDeep.status, "rejected", "65 levels are rejected");
  t.equal(tooDeep.error?.code, ErrorCode.OBJECT_INVALID);
  t.equal(tooDeep.error?.retryable, false);
  t.match(tooDeep.error?.message, /nested more than 64 levels/);

  const [huge] = await host.write([
    { op: "upsert", class: "Product", id, properties: { meta: nested(5000) } },
  ]);
  t.equal(huge.error?.code, ErrorCode.OBJECT_INVALID, "5,000 levels");

  const list: unknown[] = [];
  let inner = list;
  for (let i = 0; i < 100; i++) {
    const next: unknown[] = [];
    inner.push(next);
    inner = next;
  }
  const [arrays] = await host.write([
    { op: "upsert", class: "Product", id, properties: { meta: { list } } },
  ]);
  t.equal(arrays.error?.code, ErrorCode.OBJECT_INVALID, "nested arrays count");

  const cycle: Record<string, unknown> = {};
  cycle.self = cycle;
  const [cyclic] = await host.write([
    { op: "upsert", class: "Product", id, properties: { meta: cycle } },
  ]);
  t.equal(cyclic.error?.code, ErrorCode.OBJECT_INVALID, "a cycle ends");
});

t.test("deeply nested body over HTTP is 422", async (t) => {
  const host = await startHost(t);
  const body = `{"objects":[{"class":"Product","id":"${id}","properties":{"meta":${'{"a":'.repeat(5000)}1${"}".repeat(5000)}}}]}`;

  const batch = await request(host, "POST", "/v1/batch/objects", body);
  t.equal(batch.status, 200);
  t.equal(batch.body.results[0].status, "rejected");
  t.equal(batch.body.results[0].error.code, ErrorCode.OBJECT_INVALID);
  t.equal(batch.headers.get("retry-after"), null);

  const single = await request(
    host,
    "POST",
    "/v1/objects",
    `{"class":"Product","properties":{"meta":${'{"a":'.repeat(5000)}1${"}".repeat(5000)}}}`,
  );
  t.equal(single.status, 422);
  t.equal(single.body.error.code, ErrorCode.OBJECT_INVALID);
});

t.test("deep or huge id, class and op get bounded 4xx", async (t) => {
  const host = await startHost(t);
  const deep = `${"[".repeat(10_000)}${"]".repeat(10_000)}`;
  const wide = JSON.stringify({ k: "x".repeat(1_000_000) });
  const cases: Array<[string, string, string]> = [
    [
      "deep id",
      "/v1/objects",
      `{"class":"Product","id":${deep},"properties":{}}`,
    ],
    ["deep class", "/v1/objects", `{"class":${deep},"properties":{}}`],
    [
      "deep op",
      "/v1/batch/objects",
      `{"objects":[{"op":${deep},"class":"Product","id":"a"}]}`,
    ],
    [
      "wide property",
      "/v1/objects",
      `{"class":"Product","id":"a","properties":{"name":${wide}}}`,
    ],
  ];

  for (const [name, path, body] of cases) {
    const response = await request(host, "POST", path, body);
    const error =
      response.body.error ?? response.body.results?.[0]?.error ?? {};
    t.ok(
      response.status >= 200 && response.status < 500,
      `${name}: status ${response.status} is not a server error`,
    );
    t.not(error.code, ErrorCode.INTERNAL, `${name}: not an internal error`);
    t.ok(
      JSON.stringify(response.body).length < 2000,
      `${name}: the response quotes a bounded preview`,
    );
  }

  const health = await fetch(`${host.http!.url}/healthz`);
  t.equal(health.status, 200, "the host keeps serving");
});

t.test("deep list in a vectorized field is rejected", async (t) => {
  const host = await startHost(t, {
    classes: [
      {
        name: "Doc",
        properties: [{ name: "title", type: "text" }],
        vectorizer: { use: "hash", fields: ["title"] },
      },
    ],
  });
  let deep: unknown[] = [];
  for (let i = 0; i < 10_000; i++) deep = [deep];

  const [result] = await host.write([
    { op: "upsert", class: "Doc", id, properties: { title: deep } },
  ]);
  t.equal(result.status, "rejected");
  t.equal(result.error?.code, ErrorCode.OBJECT_INVALID);
  t.match(result.error?.message, /title: expected text/);
});

t.test("store failure is logged with stack and ids", async (t) => {
  const { logger, lines } = captureLogger();
  const store = new MemoryStore();
  store.commit = () => {
    throw new Error("disk on fire at /var/lib/weft/secret.db");
  };
  const host = new Host({
    classes: [productClass],
    server: { port: 0 },
    logger,
    processMetrics: false,
  });
  await host.register(storePlugin(store), {});
  await host.start();
  t.teardown(() => host.stop());

  const response = await request(host, "POST", "/v1/objects", {
    class: "Product",
    id,
    properties: { name: "x" },
  });
  t.equal(response.status, 503);
  t.equal(response.body.error.code, ErrorCode.WRITE_RETRYABLE);
  t.notMatch(response.body.error.message, /\/var\/lib/, "no path to clients");

  interface LogLine {
    msg: string;
    level: number;
    err?: { stack?: string };
    txId?: string;
    objects?: unknown;
  }
  const failed = lines
    .map((line) => JSON.parse(line) as LogLine)
    .find((line) => line.msg === "store commit failed");
  t.ok(failed, "a log line names the failure");
  t.equal(failed?.level, 50, "at error level");
  t.match(failed?.err?.stack, /disk on fire/);
  t.match(failed?.txId, /^[0-9a-f-]{36}$/);
  t.same(failed?.objects, [{ class: "Product", id }]);
});

t.test("vector elements must fit float32", async (t) => {
  const host = await startHost(t);
  for (const bad of [1e308, -1e39, 3.5e38]) {
    const [result] = await host.write([
      { op: "upsert", class: "Product", id, vector: [0.5, bad] },
    ]);
    t.equal(result.status, "rejected", `rejects ${bad}`);
    t.equal(result.error?.code, ErrorCode.OBJECT_INVALID);
    t.match(result.error?.message, /vector\[1\] is outside the float32 range/);
  }

  const [largest] = await host.write([
    { op: "upsert", class: "Product", id, vector: [3.4028235e38, -1] },
  ]);
  t.equal(largest.status, "ok", "accepts the float32 maximum as printed");
  t.same(
    (await host.store.get("Product", id))?.vector,
    [3.4028234663852886e38, -1],
  );
});

t.test("vectorDimensions rejects other lengths", async (t) => {
  const sized: ClassDefinition = { ...productClass, vectorDimensions: 3 };
  const host = await startHost(t, { classes: [sized] });

  const [ok] = await host.write([
    { op: "upsert", class: "Product", id, vector: [1, 2, 3] },
  ]);
  t.equal(ok.status, "ok");

  for (const vector of [[1, 2], new Array<number>(100_000).fill(1)]) {
    const [wrong] = await host.write([
      { op: "upsert", class: "Product", id, vector },
    ]);
    t.equal(wrong.status, "rejected", `${vector.length} dimensions`);
    t.equal(wrong.error?.code, ErrorCode.OBJECT_INVALID);
    t.match(
      wrong.error?.message,
      `expected 3 dimensions, the vectorDimensions of class Product, got ${vector.length}`,
    );
  }
});

t.test("prototype member names are unknown classes", async (t) => {
  const host = await startHost(t);
  for (const name of ["toString", "__proto__", "constructor"]) {
    const read = await request(host, "GET", `/v1/objects/${name}/x`);
    t.equal(read.status, 404, `GET ${name}`);
    t.equal(read.body.error.code, ErrorCode.CLASS_UNKNOWN, `GET ${name}`);

    const created = await request(host, "POST", "/v1/objects", {
      class: name,
      properties: {},
    });
    t.equal(created.status, 422, `POST ${name}`);
    t.equal(created.body.error.code, ErrorCode.CLASS_UNKNOWN, `POST ${name}`);

    const [written] = await host.write([
      { op: "upsert", class: name, properties: {} },
    ]);
    t.equal(written.error?.code, ErrorCode.CLASS_UNKNOWN, `write ${name}`);
  }
});

t.test("prototype member names are unknown properties", async (t) => {
  const host = await startHost(t);
  for (const name of ["toString", "__proto__", "constructor"]) {
    const properties = JSON.parse(`{"${name}": {"name": "x"}}`) as Record<
      string,
      unknown
    >;
    const [result] = await host.write([
      { op: "upsert", class: "Product", id, properties },
    ]);
    t.equal(result.status, "rejected", name);
    t.equal(result.error?.code, ErrorCode.OBJECT_INVALID, name);
    t.equal(result.error?.property, name);
  }
});

t.test("prototype member names work as declared properties", async (t) => {
  const odd: ClassDefinition = {
    name: "Odd",
    properties: [
      { name: "toString", type: "text" },
      { name: "__proto__", type: "object" },
      { name: "constructor", type: "int" },
    ],
  };
  const host = await startHost(t, { classes: [odd] });
  host.hooks.beforeWrite.tap("copy", () => undefined);

  const properties = JSON.parse(
    '{"toString": "a", "__proto__": {"x": 1}, "constructor": 2}',
  ) as Record<string, unknown>;
  const [inserted] = await host.write([
    { op: "upsert", class: "Odd", id, properties },
  ]);
  t.equal(inserted.status, "ok");

  const patch = JSON.parse('{"__proto__": {"x": 2}}') as Record<
    string,
    unknown
  >;
  const [patched] = await host.write([
    { op: "patch", class: "Odd", id, properties: patch },
  ]);
  t.equal(patched.status, "ok");

  const stored = await host.store.get("Odd", id);
  t.same(Object.keys(stored!.properties).sort(), [
    "__proto__",
    "constructor",
    "toString",
  ]);
  t.same(
    Object.getOwnPropertyDescriptor(stored!.properties, "__proto__")?.value,
    { x: 2 },
  );
  t.equal(Object.getPrototypeOf(stored!.properties), Object.prototype);
});
