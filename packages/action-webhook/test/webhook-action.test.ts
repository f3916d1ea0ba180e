import {
  createServer,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import t from "tap";
import { Webhook } from "standardwebhooks";
import { startWebhookReceiver } from "@weft/testkit";
import {
  WebhookErrorCode,
  decodeSecrets,
  encodePayload,
  parseRetryAfter,
  signatureHeader,
} from "@weft/action-webhook";
import {
  captureLogger,
  deliver,
  forbidNonLoopbackSockets,
  loopbackConnector,
  sampleEvent,
  webhookAction,
} from "./helpers.js";

forbidNonLoopbackSockets();

const loopback = { allowedNetworks: ["127.0.0.1/32"] };
const secretA = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const secretB = `whsec_${Buffer.alloc(32, 7).toString("base64")}`;

/** Starts a node:http server on 127.0.0.1 with a custom handler; closed at teardown. */
async function startServer(
  t: { teardown(fn: () => unknown): void },
  handler: (request: IncomingMessage, response: ServerResponse) => void,
): Promise<string> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

t.test(
  "2xx response succeeds with the documented body and headers",
  async (t) => {
    const receiver = await startWebhookReceiver({
      defaultResponse: { status: 204 },
    });
    t.teardown(() => receiver.close());
    const action = webhookAction(t, {
      url: `${receiver.url}/hooks/product?x=1`,
      headers: { "X-Team": "search" },
      ...loopback,
    });

    const outcome = await deliver(action, sampleEvent(), 2, "msg_abc");
    t.same(outcome, { ok: true, status: 204 });

    const [request] = receiver.requests;
    t.equal(request.method, "POST");
    t.equal(request.path, "/hooks/product?x=1");
    t.equal(request.headers["content-type"], "application/json");
    t.equal(request.headers["webhook-id"], "msg_abc");
    t.match(request.headers["webhook-timestamp"], /^\d+$/);
    t.equal(
      request.headers["webhook-signature"],
      undefined,
      "no signature without secrets",
    );
    t.equal(request.headers["weft-attempt"], "2");
    t.equal(request.headers["x-team"], "search");
    t.match(request.headers["user-agent"], /^weft-action-webhook\//);

    const body = JSON.parse(request.body.toString("utf8"));
    t.equal(body.type, "object.inserted");
    t.equal(body.trigger, "test-trigger");
    t.equal(body.timestamp, "2025-01-02T03:04:05.000Z");
    t.equal(body.data.seq, 7);
    t.same(body.data.after, {
      name: "Lamp",
      category: "Electronics",
      price: 25,
    });
    t.equal(body.data.vector, undefined, "vector left out by default");
  },
);

t.test("signature verifies with the standardwebhooks package", async (t) => {
  const receiver = await startWebhookReceiver();
  t.teardown(() => receiver.close());
  const action = webhookAction(t, {
    url: receiver.url,
    secrets: [secretA, secretB],
    ...loopback,
  });

  t.same(
    await deliver(
      action,
      sampleEvent({ op: "UPDATE", before: { name: "Old" } }),
      1,
      "msg_rotation",
    ),
    { ok: true, status: 200 },
  );
  const [request] = receiver.requests;
  const headers = request.headers as Record<string, string>;
  t.equal(
    headers["webhook-signature"].split(" ").length,
    2,
    "one signature per secret",
  );

  for (const secret of [secretA, secretB]) {
    const payload = new Webhook(secret).verify(
      request.body.toString("utf8"),
      headers,
    ) as { type: string; data: { before: unknown } };
    t.equal(
      payload.type,
      "object.updated",
      `verified with ${secret === secretA ? "the old" : "the new"} secret`,
    );
    t.same(payload.data.before, { name: "Old" });
  }
  const other = `whsec_${Buffer.alloc(32, 9).toString("base64")}`;
  t.throws(
    () => new Webhook(other).verify(request.body.toString("utf8"), headers),
    "a secret that was not used does not verify",
  );

  const tampered = request.body.toString("utf8").replace("Lamp", "Lamp!");
  t.throws(
    () => new Webhook(secretA).verify(tampered, headers),
    "a changed body does not verify",
  );
});

t.test("signature helpers match the reference implementation", async (t) => {
  const keys = decodeSecrets(`${secretA}, ${secretB}`);
  t.equal(keys.length, 2, "a comma-separated string gives two keys");
  const body = encodePayload("x", sampleEvent(), true);
  const signed = signatureHeader(
    keys.slice(0, 1),
    "msg_1",
    1_700_000_000,
    body,
  );
  t.equal(
    signed,
    new Webhook(secretA).sign("msg_1", new Date(1_700_000_000_000), body),
  );
  t.equal(
    JSON.parse(body.toString()).data.vector.length,
    2,
    "includeVector keeps the vector",
  );

  t.throws(() => decodeSecrets(["whsec_not base64!"]), {
    code: WebhookErrorCode.CONFIG_INVALID,
    message: /secrets\[0\]/,
  });
  t.throws(() => decodeSecrets(["whsec_"]), {
    code: WebhookErrorCode.CONFIG_INVALID,
  });
});

t.test("status classification", async (t) => {
  const cases: Array<{ status: number; retryable: boolean }> = [
    { status: 400, retryable: false },
    { status: 401, retryable: false },
    { status: 404, retryable: false },
    { status: 410, retryable: false },
    { status: 408, retryable: true },
    { status: 429, retryable: true },
    { status: 500, retryable: true },
    { status: 502, retryable: true },
    { status: 503, retryable: true },
  ];
  const receiver = await startWebhookReceiver({
    responses: cases.map(({ status }) => ({
      status,
      body: "details the action discards",
    })),
  });
  t.teardown(() => receiver.close());
  const action = webhookAction(t, { url: receiver.url, ...loopback });

  for (const { status, retryable } of cases) {
    const outcome = await deliver(action);
    t.equal(outcome.ok, false, `${status} fails`);
    if (outcome.ok) continue;
    t.equal(outcome.status, status);
    t.equal(outcome.retryable, retryable, `${status} retryable: ${retryable}`);
    t.match(
      outcome.message,
      new RegExp(
        `^${WebhookErrorCode.HTTP_STATUS}: endpoint responded with HTTP ${status}`,
      ),
    );
    t.notMatch(
      outcome.message,
      /details the action discards/,
      "the response body is not kept",
    );
  }
});

t.test("Retry-After in seconds and as a date", async (t) => {
  const date = new Date(Date.now() + 30_000).toUTCString();
  const receiver = await startWebhookReceiver({
    responses: [
      { status: 429, headers: { "retry-after": "12" } },
      { status: 503, headers: { "retry-after": date } },
      { status: 400, headers: { "retry-after": "12" } },
    ],
  });
  t.teardown(() => receiver.close());
  const action = webhookAction(t, { url: receiver.url, ...loopback });

  const seconds = await deliver(action);
  t.equal(!seconds.ok && seconds.retryAfterMs, 12_000);
  const dated = await deliver(action);
  t.ok(
    !dated.ok && dated.retryAfterMs! > 25_000 && dated.retryAfterMs! <= 30_000,
    "date gives the time until it",
  );
  const rejected = await deliver(action);
  t.equal(
    !rejected.ok && rejected.retryAfterMs,
    undefined,
    "a non-retryable status ignores Retry-After",
  );

  t.equal(parseRetryAfter("0"), 0);
  t.equal(parseRetryAfter("soon"), undefined);
  t.equal(
    parseRetryAfter(new Date(Date.now() - 5000).toUTCString()),
    0,
    "a past date means no wait",
  );
});

t.test("timeout and connection errors are retryable", async (t) => {
  const receiver = await startWebhookReceiver({
    defaultResponse: { status: 200, delayMs: 5000 },
  });
  t.teardown(() => receiver.close());
  const slow = webhookAction(t, {
    url: receiver.url,
    timeout: "100ms",
    ...loopback,
  });
  const timedOut = await deliver(slow);
  t.equal(timedOut.ok, false);
  t.equal(!timedOut.ok && timedOut.retryable, true);
  t.match(
    !timedOut.ok && timedOut.message,
    new RegExp(`^${WebhookErrorCode.TIMEOUT}`),
  );

  // A port with no listener: bind one, note it, close it.
  const free = createServer();
  await new Promise<void>((resolve) => free.listen(0, "127.0.0.1", resolve));
  const freePort = (free.address() as AddressInfo).port;
  await new Promise<void>((resolve) => free.close(() => resolve()));

  const refused = webhookAction(t, {
    url: `http://127.0.0.1:${freePort}/`,
    ...loopback,
  });
  const outcome = await deliver(refused);
  t.equal(!outcome.ok && outcome.retryable, true);
  t.match(
    !outcome.ok && outcome.message,
    new RegExp(`^${WebhookErrorCode.NETWORK}: .*ECONNREFUSED`),
  );
});

t.test("redirects are rejected unless configured", async (t) => {
  const target = await startWebhookReceiver();
  t.teardown(() => target.close());
  const redirecting = await startWebhookReceiver({
    defaultResponse: {
      status: 307,
      headers: { location: `${target.url}/moved` },
    },
  });
  t.teardown(() => redirecting.close());

  const strict = webhookAction(t, { url: redirecting.url, ...loopback });
  const outcome = await deliver(strict);
  t.equal(outcome.ok, false);
  t.equal(!outcome.ok && outcome.retryable, false);
  t.equal(!outcome.ok && outcome.status, 307);
  t.match(!outcome.ok && outcome.message, /followRedirects/);
  t.equal(target.requests.length, 0, "the redirect target is never called");

  const following = webhookAction(t, {
    url: redirecting.url,
    followRedirects: true,
    headers: { Authorization: "Bearer same-origin-token" },
    secrets: [secretA],
    ...loopback,
  });
  t.same(await deliver(following), { ok: true, status: 200 });
  const [request] = target.requests;
  t.equal(request.path, "/moved");
  t.equal(request.method, "POST", "307 keeps the method");
  t.ok(request.body.length > 0, "307 keeps the body");
  t.equal(
    request.headers.authorization,
    undefined,
    "credentials are dropped on a hop to another origin",
  );
  t.ok(
    new Webhook(secretA).verify(
      request.body.toString("utf8"),
      request.headers as Record<string, string>,
    ),
    "the signature survives the hop",
  );
});

t.test(
  "303 switches to GET and redirect loops stop at maxRedirects",
  async (t) => {
    const target = await startWebhookReceiver();
    t.teardown(() => target.close());
    const seeOther = await startWebhookReceiver({
      defaultResponse: {
        status: 303,
        headers: { location: `${target.url}/result` },
      },
    });
    t.teardown(() => seeOther.close());
    const action = webhookAction(t, {
      url: seeOther.url,
      followRedirects: true,
      ...loopback,
    });
    t.same(await deliver(action), { ok: true, status: 200 });
    t.equal(target.requests[0].method, "GET");
    t.equal(target.requests[0].body.length, 0);

    const loop = await startServer(t, (_request, response) => {
      response.writeHead(302, { location: "/again" });
      response.end();
    });
    const looping = webhookAction(t, {
      url: loop,
      followRedirects: true,
      maxRedirects: 3,
      ...loopback,
    });
    const outcome = await deliver(looping);
    t.equal(!outcome.ok && outcome.retryable, false);
    t.match(!outcome.ok && outcome.message, /more than maxRedirects \(3\)/);

    const ftp = await startWebhookReceiver({
      defaultResponse: {
        status: 302,
        headers: { location: "ftp://127.0.0.1/file" },
      },
    });
    t.teardown(() => ftp.close());
    const toFtp = webhookAction(t, {
      url: ftp.url,
      followRedirects: true,
      ...loopback,
    });
    t.match(await deliver(toFtp), {
      ok: false,
      retryable: false,
      message: /only http and https/,
    });
  },
);

t.test("response bodies are read up to the limit and dropped", async (t) => {
  let finished: boolean | undefined;
  const total = 64 * 1024 * 1024;
  const url = await startServer(t, (request, response) => {
    request.resume();
    response.writeHead(200, { "content-length": String(total) });
    const chunk = Buffer.alloc(1024 * 1024, 120);
    let sent = 0;
    const pump = () => {
      while (sent < total) {
        sent += chunk.length;
        if (!response.write(chunk)) return void response.once("drain", pump);
      }
      response.end();
    };
    response.on("close", () => (finished = response.writableFinished));
    pump();
  });

  const action = webhookAction(t, { url, maxResponseBytes: 1024, ...loopback });
  t.same(await deliver(action), { ok: true, status: 200 });
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.equal(
    finished,
    false,
    "the connection closed before the 64 MiB body was sent",
  );
});

t.test("secrets never appear in outcome messages or logs", async (t) => {
  const receiver = await startWebhookReceiver({
    defaultResponse: { status: 302, headers: { location: "/next?token=abc" } },
  });
  t.teardown(() => receiver.close());
  const { logger, lines } = captureLogger();
  const secrets = [
    "hunter2-password",
    "query-token-value",
    "bearer-token-value",
    "api-key-value-123",
  ];
  const url = receiver.url.replace("http://", "http://alice:hunter2-password@");
  const action = webhookAction(
    t,
    {
      url: `${url}/hook?token=query-token-value`,
      headers: {
        Authorization: "Bearer bearer-token-value",
        "X-Api-Key": "api-key-value-123",
      },
      secrets: [secretA],
      ...loopback,
    },
    {},
    logger,
  );

  const outcome = await deliver(action);
  t.equal(outcome.ok, false);
  const text = JSON.stringify(outcome) + lines.join("");
  for (const secret of [...secrets, secretA, secretA.slice(6)])
    t.notOk(
      text.includes(secret),
      `${secret} is not in the outcome or the logs`,
    );
  t.match(
    !outcome.ok && outcome.message,
    /\[redacted\]/,
    "the URL is shown redacted",
  );
});

t.test("invalid settings are rejected with the setting's name", async (t) => {
  const endpoint = "https://example.org/";
  const cases: Array<[Record<string, unknown>, string, RegExp]> = [
    [
      { url: "ftp://example.org/files" },
      "url",
      /^url "ftp:\/\/example\.org\/files" uses ftp, but the action sends only http and https requests; write an http:\/\/ or https:\/\/ URL$/,
    ],
    [{ url: "not a url" }, "url", /not a valid URL/],
    [
      { url: endpoint, headers: { "webhook-id": "x" } },
      "headers.webhook-id",
      /headers\.webhook-id: the action sets this header itself/,
    ],
    [
      { url: endpoint, headers: { "Bad Name": "x" } },
      "headers.Bad Name",
      /not a valid header name/,
    ],
    [
      { url: endpoint, headers: { "X-Token": "a\r\nb" } },
      "headers.X-Token",
      /line break/,
    ],
    [{ url: endpoint, secrets: ["not base64!"] }, "secrets[0]", /secrets\[0\]/],
    [
      { url: endpoint, allowedNetworks: ["10.0.0.0/99"] },
      "allowedNetworks[0]",
      /allowedNetworks\[0\]/,
    ],
  ];
  for (const [settings, path, message] of cases) {
    t.throws(
      () => webhookAction(t, settings),
      { code: WebhookErrorCode.CONFIG_INVALID, message, details: { path } },
      JSON.stringify(settings),
    );
  }
});

t.test("rejected URL is shown redacted", async (t) => {
  let message = "";
  try {
    webhookAction(t, { url: "ftp://user:hunter2@example.org/?token=abc" });
  } catch (error) {
    message = (error as Error).message;
  }
  t.match(message, /^url "ftp:\/\/\[redacted\]:\[redacted\]@example\.org\//);
  t.notMatch(message, "hunter2", "the password is redacted");
  t.notMatch(message, "abc", "query values are redacted");
});

t.test("every invalid setting is reported at once", async (t) => {
  const error = (() => {
    try {
      webhookAction(t, {
        url: "ftp://example.org/",
        headers: { "webhook-id": "x", "Bad Name": "y" },
        secrets: ["not base64!"],
        allowedNetworks: ["10.0.0.0/99"],
      });
    } catch (caught) {
      return caught as {
        code: string;
        message: string;
        details: Record<string, unknown>;
      };
    }
    return undefined;
  })();
  t.equal(error?.code, WebhookErrorCode.CONFIG_INVALID);
  t.match(error?.message, /^5 invalid webhook settings:\n/);
  t.same(
    (error?.details.problems as Array<{ path: string }>).map(
      (problem) => problem.path,
    ),
    [
      "allowedNetworks[0]",
      "url",
      "headers.webhook-id",
      "headers.Bad Name",
      "secrets[0]",
    ],
  );
});

t.test(
  "a connection opens only after the guard checked its address",
  async (t) => {
    const receiver = await startWebhookReceiver();
    t.teardown(() => receiver.close());
    const connect = loopbackConnector();
    const action = webhookAction(
      t,
      { url: receiver.url, ...loopback },
      { connect },
    );
    t.same(await deliver(action), { ok: true, status: 200 });
    t.same(connect.attempts, ["127.0.0.1"]);
  },
);

t.test("aborting the caller's signal cancels requests in flight", async (t) => {
  const receiver = await startWebhookReceiver({
    defaultResponse: { status: 200, delayMs: 5000 },
  });
  t.teardown(() => receiver.close());
  const action = webhookAction(t, { url: receiver.url, ...loopback });
  const controller = new AbortController();
  const pending = action.execute({
    trigger: "test-trigger",
    event: sampleEvent(),
    attempt: 1,
    deliveryId: "msg_cancel",
    signal: controller.signal,
  });
  await receiver.waitFor(1);
  controller.abort();

  const outcome = await pending;
  t.equal(outcome.ok, false);
  t.equal(
    !outcome.ok && outcome.retryable,
    true,
    "a cancelled attempt may be tried again later",
  );
  t.match(
    !outcome.ok && outcome.message,
    /cancelled because the trigger is stopping/,
  );
  const again = await action.execute({
    trigger: "test-trigger",
    event: sampleEvent(),
    attempt: 1,
    deliveryId: "msg_cancel",
    signal: controller.signal,
  });
  t.match(
    again,
    { ok: false, message: /cancelled/ },
    "an aborted signal sends nothing",
  );
  t.equal(receiver.requests.length, 1);
});
