import { writeFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import t from "tap";
import { ErrorCode, createHostFromFile, isWeftError } from "@weft/core";
import { startWebhookReceiver } from "@weft/testkit";
import { TriggersErrorCode, resolveTriggers } from "@weft/triggers";
import {
  loopback,
  product,
  startHost,
  triggersConfig,
  waitUntil,
} from "./helpers.js";

const packageDir = dirname(dirname(fileURLToPath(import.meta.url)));
const action = { use: "webhook", url: "http://127.0.0.1:9/", ...loopback };

t.test("trigger settings are checked with their config path", async (t) => {
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [
      {
        triggers: [
          { name: "a", action },
          { name: "a", action },
        ],
      },
      /plugins\[1\]\.triggers\[1\]\.name: trigger name "a" is already used at plugins\[1\]\.triggers\[0\]/,
    ],
    [
      {
        triggers: [
          { name: "a", class: "Product", classes: ["Product"], action },
        ],
      },
      /plugins\[1\]\.triggers\[0\]: set either class or classes/,
    ],
    [
      {
        concurrency: 1,
        triggers: [
          { name: "a", action },
          { name: "b", action },
        ],
      },
      /plugins\[1\]\.concurrency: concurrency 1 is lower than the 2 enabled triggers/,
    ],
    [
      {
        retry: { initialDelay: "2s", maxDelay: "1s" },
        triggers: [{ name: "a", action }],
      },
      /plugins\[1\]\.retry\.initialDelay: initialDelay \(2000 ms\) is longer than maxDelay/,
    ],
    [
      { triggers: [{ name: "a", retry: { initialDelay: "10m" }, action }] },
      /plugins\[1\]\.triggers\[0\]\.retry\.initialDelay/,
    ],
  ];
  for (const [settings, message] of cases) {
    t.throws(
      () => resolveTriggers(triggersConfig(settings) as never, "plugins[1]"),
      { code: TriggersErrorCode.CONFIG_INVALID, message },
      JSON.stringify(settings),
    );
  }
  t.throws(
    () => triggersConfig({ triggers: [{ name: "bad/name", action }] }),
    /plugins\[1\]\.triggers\[0\]\.name/,
  );
  t.throws(
    () => triggersConfig({ triggers: [{ name: "a", on: ["UPSERT"], action }] }),
    /plugins\[1\]\.triggers\[0\]\.on\[0\]/,
  );
});

t.test("unknown class fails registration", async (t) => {
  await t.rejects(
    startHost(t, {
      triggers: { triggers: [{ name: "a", class: "Nope", action }] },
    }),
    /plugins\[1\]\.triggers\[0\]\.classes: unknown class "Nope"/,
  );
});

t.test("invalid where carries the filter code", async (t) => {
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ price: { gt: "cheap" } }, "plugins[1].triggers[1].where.price.gt"],
    [{ colour: { equals: "red" } }, "plugins[1].triggers[1].where.colour"],
  ];
  for (const [where, path] of cases) {
    const error = await startHost(t, {
      triggers: {
        triggers: [
          { name: "a", class: "Product", action },
          { name: "b", class: "Product", where, action },
        ],
      },
    }).then(
      () => undefined,
      (rejection: unknown) => rejection,
    );
    const name = JSON.stringify(where);
    // The host wraps every register error, and names the plugin's own code in details.causeCode.
    t.match(
      error,
      {
        code: ErrorCode.PLUGIN_REGISTER,
        details: { causeCode: ErrorCode.FILTER_INVALID },
      },
      name,
    );
    t.match(
      (error as { cause?: unknown } | undefined)?.cause,
      {
        code: ErrorCode.FILTER_INVALID,
        message: `${path}: `,
        details: { path },
      },
      name,
    );
  }
});

t.test("actions are checked against their own schema at start", async (t) => {
  const unknown = startHost(t, {
    triggers: { triggers: [{ name: "a", action: { use: "carrier-pigeon" } }] },
  });
  await t.rejects(
    unknown,
    /plugins\[1\]\.triggers\[0\]\.action\.use: no action named "carrier-pigeon"; known: @weft\/action-webhook, webhook/,
  );

  const error = await startHost(t, {
    triggers: {
      triggers: [
        {
          name: "a",
          action: {
            use: "webhook",
            url: "http://127.0.0.1/",
            timeout: "soon",
            bogus: 1,
          },
        },
        { name: "b", action: { use: "webhook", url: "ftp://x/" } },
        {
          name: "c",
          action: {
            use: "webhook",
            url: "http://127.0.0.1:9/",
            headers: { "Bad Name": "x" },
          },
        },
      ],
    },
  }).catch((caught: unknown) => caught);
  t.ok(isWeftError(error));
  const message = (error as Error).message;
  t.match(
    message,
    /plugins\[1\]\.triggers\[0\]\.action\.timeout: expected duration/,
  );
  t.match(message, /plugins\[1\]\.triggers\[0\]\.action\.bogus: unknown key/);
  t.match(
    message,
    /plugins\[1\]\.triggers\[1\]\.action\.url: url "ftp:\/\/x\/" uses ftp/,
  );
  t.match(
    message,
    /plugins\[1\]\.triggers\[2\]\.action\.url: .*allowedNetworks/,
    "each of several action problems gets its own path",
  );
  t.match(message, /plugins\[1\]\.triggers\[2\]\.action\.headers\.Bad Name: /);
});

t.test(
  "a config file registers the action plugin next to the triggers",
  async (t) => {
    const receiver = await startWebhookReceiver();
    t.teardown(() => receiver.close());
    const dir = await mkdtemp(join(tmpdir(), "weft-triggers-config-"));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, "weft.yaml");
    await writeFile(
      file,
      `
logLevel: silent
store: { use: memory }
classes:
  - name: Product
    properties: [{ name: name, type: text }, { name: category, type: text }]
plugins:
  - use: webhook
  - use: "@weft/triggers"
    concurrency: 4
    triggers:
      - name: product-webhook
        class: Product
        on: [INSERT]
        where: { category: { equals: Electronics } }
        action:
          use: "@weft/action-webhook"
          url: \${HOOK_URL}/products
          headers: { Authorization: "Bearer \${HOOK_TOKEN}" }
          allowedNetworks: [127.0.0.1/32]
`,
    );

    const host = await createHostFromFile(file, {
      port: 0,
      resolveFrom: [packageDir],
      env: { HOOK_URL: receiver.url, HOOK_TOKEN: "token-from-env" },
    });
    await host.start();
    t.teardown(() => host.stop());
    await host.write([product("tv", { name: "TV", category: "Electronics" })]);

    const [request] = await receiver.waitFor(1);
    t.equal(request.path, "/products");
    t.equal(
      request.headers.authorization,
      "Bearer token-from-env",
      "the header came from the environment",
    );
    await waitUntil(() => host.plugins.length === 3, "plugins");
    t.same(
      host.plugins.map((plugin) => plugin.name),
      ["memory", "@weft/action-webhook", "@weft/triggers"],
    );
    t.same(host.plugins[1].capabilities, [
      "action:@weft/action-webhook",
      "action:webhook",
    ]);
  },
);
