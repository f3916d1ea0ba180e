import t from "tap";
import { toObjectId } from "@weft/core";
import { startWebhookReceiver } from "@weft/testkit";
import {
  api,
  captureLogger,
  fastRetry,
  loopback,
  metricValue,
  product,
  productTrigger,
  startHost,
  waitUntil,
} from "./helpers.js";

t.test("redeliver from the dead letters", async (t) => {
  const receiver = await startWebhookReceiver({ responses: [{ status: 400 }] });
  t.teardown(() => receiver.close());
  const host = await startHost(t, {
    triggers: {
      triggers: [productTrigger("hooks", receiver.url)],
    },
  });

  await host.write([product("p1", { name: "Phone" })]);
  const dead = await waitUntil(
    async () =>
      (await api(host, "GET", "/v1/triggers/hooks/dead-letters")).body
        .deadLetters[0],
    "a dead letter",
  );

  const one = await api(
    host,
    "GET",
    `/v1/triggers/hooks/dead-letters/${dead.id}`,
  );
  t.equal(one.status, 200);
  t.equal(one.body.deliveryId, dead.deliveryId);

  const redelivered = await api(
    host,
    "POST",
    `/v1/triggers/hooks/dead-letters/${dead.id}/redeliver`,
  );
  t.equal(redelivered.status, 202);
  t.equal(redelivered.body.deliveryId, dead.deliveryId);
  const [first, second] = await receiver.waitFor(2);
  t.equal(
    second.headers["webhook-id"],
    first.headers["webhook-id"],
    "a redelivery keeps the delivery id",
  );
  t.equal(second.headers["weft-attempt"], "1", "with a fresh run of attempts");
  t.equal(JSON.parse(second.body.toString()).data.after.name, "Phone");

  await waitUntil(
    async () =>
      (await api(host, "GET", "/v1/triggers/hooks")).body.pending === 0,
    "the redelivery to finish",
  );
  t.same(
    (await api(host, "GET", "/v1/triggers/hooks/dead-letters")).body
      .deadLetters,
    [],
  );
  const gone = await api(
    host,
    "POST",
    `/v1/triggers/hooks/dead-letters/${dead.id}/redeliver`,
  );
  t.equal(gone.status, 404);
  t.equal(gone.body.error.code, "WEFT_ERR_TRIGGERS_DEAD_LETTER_NOT_FOUND");
});

t.test("dead letters page and delete", async (t) => {
  const receiver = await startWebhookReceiver({
    defaultResponse: { status: 404 },
  });
  t.teardown(() => receiver.close());
  const host = await startHost(t, {
    triggers: {
      triggers: [productTrigger("pages", receiver.url)],
    },
  });
  for (let i = 0; i < 5; i += 1)
    await host.write([product(`p${i}`, { name: `n${i}` })]);
  await waitUntil(
    async () =>
      (await api(host, "GET", "/v1/triggers/pages")).body.deadLetters === 5,
    "five dead letters",
  );

  const page1 = await api(
    host,
    "GET",
    "/v1/triggers/pages/dead-letters?limit=2",
  );
  t.equal(page1.body.deadLetters.length, 2);
  t.type(page1.body.next, "string");
  const page2 = await api(
    host,
    "GET",
    `/v1/triggers/pages/dead-letters?limit=2&after=${page1.body.next}`,
  );
  const page3 = await api(
    host,
    "GET",
    `/v1/triggers/pages/dead-letters?limit=2&after=${page2.body.next}`,
  );
  t.equal(page3.body.deadLetters.length, 1);
  t.equal(page3.body.next, null);
  const ids = [
    ...page1.body.deadLetters,
    ...page2.body.deadLetters,
    ...page3.body.deadLetters,
  ].map((dead: { id: string }) => dead.id);
  t.equal(new Set(ids).size, 5, "pages do not overlap");

  const deleted = await api(
    host,
    "DELETE",
    `/v1/triggers/pages/dead-letters/${ids[0]}`,
  );
  t.equal(deleted.status, 204);
  t.equal((await api(host, "GET", "/v1/triggers/pages")).body.deadLetters, 4);
  t.equal(
    (await api(host, "GET", "/v1/triggers/pages/dead-letters?limit=0")).status,
    400,
  );
});

t.test("invoke a trigger manually for an object id", async (t) => {
  const receiver = await startWebhookReceiver();
  t.teardown(() => receiver.close());
  const host = await startHost(t, {
    triggers: {
      triggers: [
        // A filter that the object does not match: a manual invocation is the caller's choice.
        {
          name: "manual",
          class: "Product",
          on: ["DELETE"],
          action: { use: "webhook", url: receiver.url, ...loopback },
        },
        {
          name: "multi",
          classes: ["Product", "Document"],
          action: { use: "webhook", url: receiver.url, ...loopback },
        },
      ],
    },
  });
  await host.write([product("sku-1", { name: "Kettle", price: 30 })]);

  const invoked = await api(host, "POST", "/v1/triggers/manual/invoke", {
    id: "sku-1",
  });
  t.equal(invoked.status, 202);
  const requests = await receiver.waitFor(2);
  const manual = requests.find(
    (request) => request.headers["webhook-id"] === invoked.body.deliveryId,
  )!;
  const body = JSON.parse(manual.body.toString());
  t.equal(body.type, "object.updated");
  t.equal(body.data.id, toObjectId("sku-1"));
  t.same(body.data.after, { name: "Kettle", price: 30 });
  t.same(
    body.data.before,
    body.data.after,
    "UPDATE carries the current state as before and after",
  );
  t.equal(body.data.seq, 1, "seq is the last committed seq");
  t.equal(body.data.origin.stream, "manual");

  const insert = await api(host, "POST", "/v1/triggers/manual/invoke", {
    id: toObjectId("sku-1"),
    op: "INSERT",
  });
  t.equal(insert.status, 202);
  const third = (await receiver.waitFor(3))[2];
  t.equal(JSON.parse(third.body.toString()).data.before, null);

  const missing = await api(host, "POST", "/v1/triggers/manual/invoke", {
    id: "nope",
  });
  t.equal(missing.status, 404);
  t.equal(missing.body.error.code, "WEFT_ERR_TRIGGERS_OBJECT_NOT_FOUND");
  const ambiguous = await api(host, "POST", "/v1/triggers/multi/invoke", {
    id: "sku-1",
  });
  t.equal(ambiguous.status, 400);
  t.match(ambiguous.body.error.message, /several classes/);
  t.equal(
    (
      await api(host, "POST", "/v1/triggers/multi/invoke", {
        id: "sku-1",
        class: "Product",
      })
    ).status,
    202,
  );
  t.equal(
    (
      await api(host, "POST", "/v1/triggers/manual/invoke", {
        id: "sku-1",
        class: "Document",
      })
    ).status,
    400,
  );
  t.equal(
    (
      await api(host, "POST", "/v1/triggers/manual/invoke", {
        id: "sku-1",
        op: "DELETE",
      })
    ).status,
    400,
  );
  t.equal(
    (await api(host, "POST", "/v1/triggers/manual/invoke", {})).status,
    400,
  );
});

t.test("auto-disable and re-enable", async (t) => {
  let healthy = false;
  const receiver = await startWebhookReceiver({
    responses: () => ({ status: healthy ? 200 : 500 }),
  });
  t.teardown(() => receiver.close());
  const { logger, lines } = captureLogger();
  const host = await startHost(t, {
    logger,
    triggers: {
      retry: { ...fastRetry, maxAttempts: 100 },
      disableAfterFailures: 3,
      triggers: [productTrigger("fragile", receiver.url)],
    },
  });

  await host.write([product("p1", { name: "first" })]);
  const state = await waitUntil(async () => {
    const { body } = await api(host, "GET", "/v1/triggers/fragile/state");
    return body.enabled === false ? body : undefined;
  }, "the trigger to disable itself");
  t.equal(state.disabledReason, "3 consecutive failed attempts");
  t.equal(
    await metricValue(host, "weft_trigger_auto_disabled_total", {
      trigger: "fragile",
    }),
    1,
  );
  t.ok(
    lines.some(
      (line) =>
        line.includes('"level":50') &&
        line.includes("trigger disabled after 3 consecutive failed attempts"),
    ),
    "an error line says so",
  );
  const ready = await (await fetch(`${host.http!.url}/readyz`)).json();
  t.equal(
    ready.plugins["@weft/triggers"].status,
    "degraded",
    "readiness reports the disabled trigger",
  );
  t.same(ready.plugins["@weft/triggers"].details.disabled, ["fragile"]);

  const attempts = receiver.requests.length;
  await host.write([
    product("p2", { name: "second" }),
    product("p3", { name: "third" }),
  ]);
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.equal(
    receiver.requests.length,
    attempts,
    "a disabled trigger delivers nothing",
  );
  const status = (await api(host, "GET", "/v1/triggers/fragile")).body;
  t.equal(
    status.lag,
    2,
    "and reads nothing: the backlog stays in the change log",
  );
  t.equal(status.nextSeq, 2, "its position is kept");

  healthy = true;
  const enabled = await api(host, "PUT", "/v1/triggers/fragile/state", {
    enabled: true,
  });
  t.equal(enabled.status, 200);
  t.equal(enabled.body.enabled, true);
  await waitUntil(async () => {
    const { body } = await api(host, "GET", "/v1/triggers/fragile");
    return body.pending === 0 && body.lag === 0;
  }, "the backlog to be delivered");
  const delivered = receiver.requests
    .slice(attempts)
    .map((request) => JSON.parse(request.body.toString()).data.after.name);
  t.same(delivered.sort(), ["first", "second", "third"]);
});

t.test("disable and enable through the API", async (t) => {
  const receiver = await startWebhookReceiver();
  t.teardown(() => receiver.close());
  const host = await startHost(t, {
    triggers: {
      triggers: [
        {
          name: "toggled",
          action: { use: "webhook", url: receiver.url, ...loopback },
        },
        {
          name: "off",
          enabled: false,
          action: { use: "webhook", url: receiver.url, ...loopback },
        },
      ],
    },
  });

  const disabled = await api(host, "PUT", "/v1/triggers/toggled/state", {
    enabled: false,
  });
  t.same(disabled.body, {
    name: "toggled",
    enabled: false,
    configEnabled: true,
    disabledReason: "api",
    changedAt: disabled.body.changedAt,
  });
  await host.write([product("p1", { name: "waits" })]);
  t.equal((await api(host, "GET", "/v1/triggers/toggled")).body.lag, 1);
  await api(host, "PUT", "/v1/triggers/toggled/state", { enabled: true });
  await receiver.waitFor(1);

  const refused = await api(host, "PUT", "/v1/triggers/off/state", {
    enabled: true,
  });
  t.equal(refused.status, 409);
  t.equal(refused.body.error.code, "WEFT_ERR_TRIGGERS_DISABLED_IN_CONFIG");
  t.equal(
    (await api(host, "PUT", "/v1/triggers/toggled/state", { enabled: "yes" }))
      .status,
    400,
  );
  t.equal(
    (await api(host, "GET", "/v1/triggers/off/state")).body.disabledReason,
    "disabled in config",
  );
});

t.test("unknown trigger, bad JSON and API keys", async (t) => {
  const receiver = await startWebhookReceiver();
  t.teardown(() => receiver.close());
  const host = await startHost(t, {
    apiKeys: ["k1"],
    triggers: {
      triggers: [
        {
          name: "guarded",
          action: { use: "webhook", url: receiver.url, ...loopback },
        },
      ],
    },
  });
  const auth = { authorization: "Bearer k1" };

  t.equal(
    (await api(host, "GET", "/v1/triggers")).status,
    401,
    "the API needs the host's key",
  );
  const list = await api(host, "GET", "/v1/triggers", undefined, auth);
  t.equal(list.status, 200);
  t.equal(list.body.triggers[0].name, "guarded");
  const missing = await api(host, "GET", "/v1/triggers/nope", undefined, auth);
  t.equal(missing.status, 404);
  t.match(missing.body.error.message, /configured triggers: guarded/);

  const response = await fetch(`${host.http!.url}/v1/triggers/guarded/replay`, {
    method: "POST",
    headers: { ...auth, "content-type": "application/json" },
    body: "{",
  });
  t.equal(response.status, 400);
});

t.test("no secret in captured logs or dead letters", async (t) => {
  const receiver = await startWebhookReceiver({
    defaultResponse: { status: 503 },
  });
  t.teardown(() => receiver.close());
  const { logger, lines } = captureLogger();
  const signingSecret = `whsec_${Buffer.alloc(32, 5).toString("base64")}`;
  const secrets = [
    "s3cret-bearer-token",
    "url-password-value",
    "query-token-value",
    signingSecret,
    signingSecret.slice(6),
  ];
  const url = `${receiver.url.replace("http://", "http://user:url-password-value@")}/hook?token=query-token-value`;
  const host = await startHost(t, {
    logger,
    triggers: {
      retry: { ...fastRetry, maxAttempts: 2 },
      triggers: [
        {
          name: "secretive",
          action: {
            use: "webhook",
            url,
            headers: { Authorization: "Bearer s3cret-bearer-token" },
            secrets: [signingSecret],
            ...loopback,
          },
        },
      ],
    },
  });

  await host.write([product("p1", { name: "Phone" })]);
  const deadLetters = await waitUntil(async () => {
    const { body } = await api(
      host,
      "GET",
      "/v1/triggers/secretive/dead-letters",
    );
    return body.deadLetters.length === 1 ? body : undefined;
  }, "a dead letter");
  t.equal(
    receiver.requests[0].headers.authorization,
    "Bearer s3cret-bearer-token",
    "the endpoint got the credential",
  );

  const status = await api(host, "GET", "/v1/triggers/secretive");
  const metrics = await (await fetch(`${host.http!.url}/metrics`)).text();
  const everything =
    lines.join("") +
    JSON.stringify(deadLetters) +
    JSON.stringify(status.body) +
    metrics;
  t.ok(
    lines.some((line) => line.includes("delivery failed; retrying")),
    "the retry was logged",
  );
  t.ok(
    lines.some((line) => line.includes("moved to the dead letters")),
    "the dead letter was logged",
  );
  for (const secret of secrets)
    t.notOk(
      everything.includes(secret),
      `${secret.slice(0, 12)}... is not in logs, dead letters, status or metrics`,
    );
});
