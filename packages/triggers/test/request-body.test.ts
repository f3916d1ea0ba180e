import t from "tap";
import { startWebhookReceiver } from "@weft/testkit";
import { api, loopback, productTrigger, startHost } from "./helpers.js";

/** Builds a JSON array nested `levels` deep as text, because JSON.stringify of such a value overflows. */
function nestedArrayText(levels: number): string {
  return "[".repeat(levels) + "]".repeat(levels);
}

async function postRaw(
  url: string,
  body: string,
  method = "POST",
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
): Promise<{ status: number; body: any }> {
  const response = await fetch(url, {
    method,
    headers: { "content-type": "application/json" },
    body,
  });
  return { status: response.status, body: await response.json() };
}

async function startTriggerHost(t: Parameters<typeof startHost>[0]) {
  const receiver = await startWebhookReceiver();
  t.teardown(() => receiver.close());
  const host = await startHost(t, {
    triggers: {
      triggers: [
        productTrigger("checked", receiver.url),
        {
          name: "any",
          action: { use: "webhook", url: receiver.url, ...loopback },
        },
      ],
    },
  });
  return { host, base: `${host.http!.url}/v1/triggers` };
}

t.test("deeply nested body values are a 400", async (t) => {
  const { base } = await startTriggerHost(t);
  const deep = nestedArrayText(100_000);

  const bodies: Array<[string, string, string]> = [
    ["POST", "checked/replay", `{"fromSeq":${deep}}`],
    ["POST", "checked/invoke", `{"id":"p1","op":${deep}}`],
    ["POST", "checked/invoke", `{"id":${deep}}`],
    ["POST", "any/invoke", `{"id":"p1","class":${deep}}`],
    ["PUT", "checked/state", `{"enabled":${deep}}`],
  ];
  for (const [method, path, body] of bodies) {
    const response = await postRaw(`${base}/${path}`, body, method);
    t.equal(response.status, 400, `${method} ${path} status`);
    t.equal(
      response.body.error?.code,
      "WEFT_ERR_TRIGGERS_REQUEST_INVALID",
      `${method} ${path} code`,
    );
    t.ok(
      response.body.error?.message.length < 300,
      `${method} ${path} message is short`,
    );
  }

  const replay = await postRaw(`${base}/checked/replay`, `{"fromSeq":${deep}}`);
  t.match(
    replay.body.error.message,
    /fromSeq must be an integer >= 1, got \[\[\[/,
  );
  t.match(replay.body.error.message, /…/);
});

t.test("unknown body keys are a 400", async (t) => {
  const { host, base } = await startTriggerHost(t);

  const cases: Array<[string, string, Record<string, unknown>]> = [
    ["POST", "checked/replay", { fromSeq: 1, fromseq: 2 }],
    ["POST", "checked/invoke", { id: "p1", opp: "INSERT" }],
    ["PUT", "checked/state", { enabled: true, reason: "x" }],
  ];
  for (const [method, path, body] of cases) {
    const unknownKey = Object.keys(body)[1];
    const response = await postRaw(
      `${base}/${path}`,
      JSON.stringify(body),
      method,
    );
    t.equal(response.status, 400, `${method} ${path} status`);
    t.equal(
      response.body.error?.code,
      "WEFT_ERR_TRIGGERS_REQUEST_INVALID",
      `${method} ${path} code`,
    );
    t.match(
      response.body.error?.message,
      `unknown key "${unknownKey}"`,
      `${method} ${path} names the key`,
    );
  }

  const valid = await api(host, "POST", "/v1/triggers/checked/replay", {
    fromSeq: 1,
  });
  t.equal(valid.status, 202);
});

t.test("long string values are cut in messages", async (t) => {
  const { base } = await startTriggerHost(t);
  const long = "x".repeat(100_000);

  const response = await postRaw(
    `${base}/checked/invoke`,
    JSON.stringify({ id: "p1", op: long }),
  );
  t.equal(response.status, 400);
  t.ok(response.body.error.message.length < 300);
  t.match(response.body.error.message, /op must be INSERT or UPDATE, got "xxx/);
});

t.test("long ids and class names are cut in messages", async (t) => {
  const { base } = await startTriggerHost(t);
  const long = "y".repeat(100_000);

  const missing = await postRaw(
    `${base}/checked/invoke`,
    JSON.stringify({ id: long }),
  );
  t.equal(missing.status, 404);
  t.ok(missing.body.error.message.length < 300);

  const otherClass = await postRaw(
    `${base}/checked/invoke`,
    JSON.stringify({ id: "p1", class: long }),
  );
  t.equal(otherClass.status, 400);
  t.ok(otherClass.body.error.message.length < 300);
});
