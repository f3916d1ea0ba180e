import t from "tap";
import type { WebhookPayload } from "@weft/action-webhook";
import type { TriggerStatus } from "@weft/triggers";
import { Webhook } from "standardwebhooks";
import { startWebhookReceiver, type ReceivedRequest } from "@weft/testkit";
import {
  api,
  fastRetry,
  loopback,
  metricValue,
  product,
  productTrigger,
  startHost,
  waitUntil,
} from "./helpers.js";

const secret = `whsec_${Buffer.alloc(32, 3).toString("base64")}`;

function parse(request: ReceivedRequest) {
  return JSON.parse(request.body.toString("utf8"));
}

t.test("success delivers matching changes only", async (t) => {
  const receiver = await startWebhookReceiver();
  t.teardown(() => receiver.close());
  const host = await startHost(t, {
    triggers: {
      triggers: [
        {
          name: "product-webhook",
          class: "Product",
          on: ["INSERT"],
          where: { category: { equals: "Electronics" } },
          action: {
            use: "@weft/action-webhook",
            url: `${receiver.url}/products`,
            secrets: [secret],
            ...loopback,
          },
        },
      ],
    },
  });

  await host.write([
    product("lamp", { name: "Lamp", category: "Electronics", price: 20 }),
    product("book", { name: "Book", category: "Books", price: 9 }),
  ]);
  await host.write([
    product("lamp", { name: "Lamp", category: "Electronics", price: 25 }),
  ]);
  await host.write([
    product("radio", { name: "Radio", category: "Electronics", price: 40 }),
  ]);

  const requests = await receiver.waitFor(2);
  await waitUntil(
    async () =>
      (await api(host, "GET", "/v1/triggers/product-webhook")).body.pending ===
      0,
    "no pending deliveries",
  );
  t.equal(receiver.requests.length, 2, "the book and the update do not match");
  t.same(
    requests.map((request) => parse(request).data.after.name),
    ["Lamp", "Radio"],
  );

  const [first] = requests;
  const payload = new Webhook(secret).verify(
    first.body.toString("utf8"),
    first.headers as Record<string, string>,
  ) as WebhookPayload;
  t.equal(
    payload.type,
    "object.inserted",
    "the standardwebhooks verifier accepts the signature",
  );
  t.equal(payload.trigger, "product-webhook");
  t.equal(payload.data.class, "Product");
  t.equal(payload.data.op, "INSERT");
  t.equal(payload.data.seq, 1);
  t.match(
    first.headers["webhook-id"],
    /^product-webhook_1_[0-9a-f-]{36}$/,
    "trigger, seq and transaction id",
  );
  t.equal(first.headers["weft-attempt"], "1");

  t.equal(
    await metricValue(host, "weft_trigger_deliveries_total", {
      trigger: "product-webhook",
    }),
    2,
  );
  t.equal(
    await metricValue(host, "weft_trigger_successes_total", {
      trigger: "product-webhook",
    }),
    2,
  );
  const metrics = await (await fetch(`${host.http!.url}/metrics`)).text();
  t.match(metrics, /weft_trigger_queue_depth\{trigger="product-webhook"\} 0/);
  t.match(
    metrics,
    /weft_trigger_delivery_duration_seconds_count\{trigger="product-webhook",result="success"\} 2/,
  );
  t.match(
    metrics,
    "# HELP weft_trigger_delivery_duration_seconds Duration of one delivery attempt, by result (success or failure)\n# TYPE weft_trigger_delivery_duration_seconds histogram\n",
  );
  t.match(
    metrics,
    /weft_trigger_delivery_duration_seconds_bucket\{le="30",trigger="product-webhook",result="success"\} 2\nweft_trigger_delivery_duration_seconds_bucket\{le="\+Inf",trigger="product-webhook",result="success"\} 2\nweft_trigger_delivery_duration_seconds_sum\{trigger="product-webhook",result="success"\} [0-9.e-]+\n/,
    "the histogram's buckets and sum in Prometheus text format",
  );
  t.match(metrics, /weft_trigger_enabled\{trigger="product-webhook"\} 1/);
});

t.test(
  "failing then recovering endpoint retries with growing delays",
  async (t) => {
    const receiver = await startWebhookReceiver({
      responses: [{ status: 500 }, { status: 502 }, { status: 503 }],
    });
    t.teardown(() => receiver.close());
    const host = await startHost(t, {
      triggers: {
        retry: {
          ...fastRetry,
          initialDelay: "40ms",
          maxDelay: "1s",
          maxAttempts: 6,
        },
        triggers: [productTrigger("flaky", receiver.url)],
      },
    });

    await host.write([
      product("p1", { name: "Phone", category: "Electronics" }),
    ]);
    const requests = await receiver.waitFor(4);
    await waitUntil(
      async () =>
        (await api(host, "GET", "/v1/triggers/flaky")).body.pending === 0,
      "the delivery to finish",
    );

    t.same(
      requests.map((request) => request.headers["weft-attempt"]),
      ["1", "2", "3", "4"],
      "attempt numbers count up",
    );
    t.equal(
      new Set(requests.map((request) => request.headers["webhook-id"])).size,
      1,
      "webhook-id is stable across retries",
    );

    const gaps = requests
      .slice(1)
      .map((request, i) => request.receivedAt - requests[i].receivedAt);
    // Without jitter the waits are 40, 80 and 160 ms; each gap also includes the request itself.
    [40, 80, 160].forEach((delay, i) =>
      t.ok(
        gaps[i] >= delay - 2,
        `gap ${i + 1} (${gaps[i]} ms) is at least ${delay} ms`,
      ),
    );

    t.equal(
      await metricValue(host, "weft_trigger_retries_total", {
        trigger: "flaky",
      }),
      3,
    );
    t.equal(
      await metricValue(host, "weft_trigger_failures_total", {
        trigger: "flaky",
        status: "503",
      }),
      1,
    );
    t.equal(
      await metricValue(host, "weft_trigger_successes_total", {
        trigger: "flaky",
      }),
      1,
    );
    t.equal(
      (await api(host, "GET", "/v1/triggers/flaky/dead-letters")).body
        .deadLetters.length,
      0,
    );
  },
);

t.test("Retry-After is honoured up to maxDelay", async (t) => {
  const receiver = await startWebhookReceiver({
    responses: [{ status: 429, headers: { "retry-after": "1" } }],
  });
  t.teardown(() => receiver.close());
  const capped = await startWebhookReceiver({
    responses: [{ status: 503, headers: { "retry-after": "3600" } }],
  });
  t.teardown(() => capped.close());
  const host = await startHost(t, {
    triggers: {
      retry: { ...fastRetry, initialDelay: "1ms", maxDelay: "2s" },
      triggers: [
        productTrigger("polite", receiver.url),
        {
          name: "capped",
          class: "Product",
          retry: { maxDelay: "50ms" },
          action: { use: "webhook", url: capped.url, ...loopback },
        },
      ],
    },
  });

  await host.write([product("p1", { name: "Phone" })]);
  const [first, second] = await receiver.waitFor(2);
  t.ok(
    second.receivedAt - first.receivedAt >= 998,
    `waited ${second.receivedAt - first.receivedAt} ms for Retry-After: 1`,
  );

  const [before, after] = await capped.waitFor(2);
  t.ok(
    after.receivedAt - before.receivedAt < 3_600_000,
    "a Retry-After past maxDelay waits maxDelay",
  );
});

t.test(
  "4xx goes straight to the dead letters and stops blocking the object",
  async (t) => {
    const receiver = await startWebhookReceiver({
      responses: [{ status: 422 }],
    });
    t.teardown(() => receiver.close());
    const host = await startHost(t, {
      triggers: {
        retry: fastRetry,
        triggers: [productTrigger("strict", receiver.url)],
      },
    });

    await host.write([product("p1", { name: "First" })]);
    await host.write([product("p1", { name: "Second" })]);
    const requests = await receiver.waitFor(2);
    t.same(
      requests.map((request) => parse(request).data.after.name),
      ["First", "Second"],
      "the next event of the same object runs after the rejected one",
    );

    const { body } = await api(host, "GET", "/v1/triggers/strict/dead-letters");
    t.equal(body.deadLetters.length, 1);
    const [dead] = body.deadLetters;
    t.equal(dead.reason, "rejected");
    t.equal(dead.attempts, 1, "a 4xx is not retried");
    t.equal(dead.lastError.status, 422);
    t.equal(dead.lastError.retryable, false);
    t.equal(dead.event.after.name, "First");
    t.equal(dead.deliveryId, requests[0].headers["webhook-id"]);
    t.equal(body.next, null);
    t.equal(
      await metricValue(host, "weft_trigger_dead_letters_total", {
        trigger: "strict",
        reason: "rejected",
      }),
      1,
    );
  },
);

t.test("retries exhausted go to the dead letters", async (t) => {
  const receiver = await startWebhookReceiver({
    defaultResponse: { status: 500 },
  });
  t.teardown(() => receiver.close());
  const host = await startHost(t, {
    triggers: {
      retry: { ...fastRetry, maxAttempts: 3 },
      triggers: [productTrigger("doomed", receiver.url)],
    },
  });

  await host.write([product("p1", { name: "Phone" })]);
  const dead = await waitUntil(
    async () =>
      (await api(host, "GET", "/v1/triggers/doomed/dead-letters")).body
        .deadLetters[0],
    "a dead letter",
  );
  t.equal(dead.reason, "exhausted");
  t.equal(dead.attempts, 3);
  t.equal(receiver.requests.length, 3);
  t.equal(dead.lastError.status, 500);
  t.ok(dead.firstAttemptAt <= dead.failedAt);
});

t.test("events of one object run in order, objects in parallel", async (t) => {
  const receiver = await startWebhookReceiver({
    defaultResponse: { status: 200, delayMs: 30 },
  });
  t.teardown(() => receiver.close());
  const host = await startHost(t, {
    triggers: {
      triggers: [
        {
          name: "ordered",
          class: "Product",
          maxInFlight: 8,
          action: { use: "webhook", url: receiver.url, ...loopback },
        },
      ],
    },
  });

  for (let version = 1; version <= 5; version += 1) {
    await host.write([
      product("x", { name: `x${version}` }),
      product("y", { name: `y${version}` }),
    ]);
  }
  const requests = await receiver.waitFor(10);

  for (const object of ["x", "y"]) {
    const mine = requests.filter((request) =>
      parse(request).data.after.name.startsWith(object),
    );
    t.same(
      mine.map((request) => parse(request).data.after.name),
      [1, 2, 3, 4, 5].map((version) => `${object}${version}`),
      `${object} in order`,
    );
    for (let i = 1; i < mine.length; i += 1) {
      t.ok(
        mine[i].receivedAt >= mine[i - 1].receivedAt + 30 - 2,
        `${object} event ${i + 1} started after event ${i} was answered`,
      );
    }
  }
  const firstX = requests.find(
    (request) => parse(request).data.after.name === "x1",
  )!;
  const firstY = requests.find(
    (request) => parse(request).data.after.name === "y1",
  )!;
  t.ok(
    Math.abs(firstX.receivedAt - firstY.receivedAt) < 30,
    "x and y were in flight at the same time",
  );
});

t.test(
  "a slow or failing endpoint does not hold up another trigger",
  async (t) => {
    const slow = await startWebhookReceiver({
      defaultResponse: { status: 200, delayMs: 60_000 },
    });
    t.teardown(() => slow.close());
    const failing = await startWebhookReceiver({
      defaultResponse: { status: 500 },
    });
    t.teardown(() => failing.close());
    const fast = await startWebhookReceiver();
    t.teardown(() => fast.close());

    const host = await startHost(t, {
      triggers: {
        // The slow trigger may take every slot but the ones kept for the others.
        concurrency: 4,
        maxInFlight: 4,
        stopTimeout: "50ms",
        retry: {
          ...fastRetry,
          maxAttempts: 1000,
          initialDelay: "1ms",
          maxDelay: "5ms",
        },
        disableAfterFailures: 0,
        triggers: [
          {
            name: "slow",
            class: "Product",
            action: {
              use: "webhook",
              url: slow.url,
              timeout: "2m",
              ...loopback,
            },
          },
          productTrigger("failing", failing.url),
          productTrigger("fast", fast.url),
        ],
      },
    });

    for (let i = 0; i < 20; i += 1)
      await host.write([product(`p${i}`, { name: `n${i}` })]);
    const delivered = await fast.waitFor(20);
    t.equal(delivered.length, 20, "the fast trigger delivered every event");
    t.ok(slow.requests.length >= 1, "the slow trigger is busy");
    t.ok(
      slow.requests.length <= 2,
      `the slow trigger holds at most the slots not kept for others (${slow.requests.length})`,
    );
    t.ok(failing.requests.length >= 1, "the failing trigger keeps retrying");

    const { body } = await api(host, "GET", "/v1/triggers");
    const byName = Object.fromEntries(
      body.triggers.map((status: TriggerStatus) => [status.name, status]),
    );
    t.equal(byName.fast.pending, 0);
    t.equal(byName.slow.pending, 20);
    t.equal(
      byName.slow.nextSeq,
      21,
      "the slow trigger's position moved past the events it still holds",
    );
  },
);
