import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import t from "tap";
import { Host, loadConfig, type Plugin } from "@weft/core";
import sourceKafka from "@weft/source-kafka";
import { pino } from "pino";
import { productClass } from "./helpers.js";

const pluginFile = createRequire(import.meta.url).resolve("@weft/source-kafka");

async function configFile(
  t: { teardown(fn: () => unknown): void },
  text: string,
): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "weft-source-kafka-config-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, "weft.yaml");
  await writeFile(file, text);
  return file;
}

const yaml = `
store: { use: memory }
classes:
  - name: Product
    properties: [{ name: sku, type: text }]
plugins:
  - use: ${JSON.stringify(pluginFile)}
    brokers: 127.0.0.1:9
    consumers:
      - topics: [products]
        groupId: weft-products
        class: Product
`;

t.test("config defaults fill every consumer setting", async (t) => {
  const loaded = await loadConfig(await configFile(t, yaml), { env: {} });
  const [plugin] = loaded.plugins;
  t.equal(plugin.plugin.name, "@weft/source-kafka");
  t.match(plugin.config, {
    brokers: "127.0.0.1:9",
    clientId: "weft",
    consumers: [
      {
        batchSize: 1000,
        flushInterval: "100ms",
        maxBatchBytes: 16 * 1024 * 1024,
        partitionConcurrency: 1,
        fromBeginning: false,
        maxMessageBytes: 1024 * 1024,
        format: "json",
        idStrategy: "auto",
        mapping: { rename: {}, drop: [], headers: {} },
        retry: { initialDelay: "200ms", maxDelay: "30s" },
      },
    ],
  });
});

t.test("STREAMING_KAFKA_BROKERS overrides brokers", async (t) => {
  const loaded = await loadConfig(await configFile(t, yaml), {
    env: { STREAMING_KAFKA_BROKERS: "127.0.0.1:1,127.0.0.1:2" },
  });
  t.equal(loaded.plugins[0].config.brokers, "127.0.0.1:1,127.0.0.1:2");
  t.same(loaded.plugins[0].envApplied, ["STREAMING_KAFKA_BROKERS"]);
});

t.test("STREAMING_KAFKA_ENABLED false turns the source off", async (t) => {
  const loaded = await loadConfig(await configFile(t, yaml), {
    env: { STREAMING_KAFKA_ENABLED: "false" },
  });
  t.equal(loaded.plugins.length, 0);
});

t.test("STREAMING_KAFKA_ENABLED must be a boolean", async (t) => {
  await t.rejects(
    loadConfig(await configFile(t, yaml), {
      env: { STREAMING_KAFKA_ENABLED: "maybe" },
    }),
    {
      code: "WEFT_ERR_CONFIG_INVALID",
      message: /STREAMING_KAFKA_ENABLED="maybe" is not a valid boolean/,
    },
  );
});

t.test(
  "register rejects inconsistent consumers with their config paths",
  async (t) => {
    const host = new Host({
      classes: [productClass],
      server: false,
      logger: pino({ level: "silent" }),
      processMetrics: false,
    });
    const error = await host
      .register(
        sourceKafka as unknown as Plugin,
        {
          brokers: ["127.0.0.1:9"],
          consumers: [
            { topics: ["a"], groupId: "g", class: "Missing" },
            {
              topics: [],
              groupId: "g",
              class: "Product",
              route: { field: "type", header: "x" },
            },
            {
              topics: ["b"],
              groupId: "h",
              class: "Product",
              idSource: "field",
              topicPattern: "(",
            },
          ],
        },
        { configPath: "plugins[0]" },
      )
      .catch((caught: Error) => caught);

    const message = (error as Error).message;
    t.match(
      message,
      /plugins\[0\]\.consumers\[0\]\.class: unknown class "Missing"; configured classes: Product/,
    );
    t.match(
      message,
      /plugins\[0\]\.consumers\[1\]\.topics: set at least one topic, or topicPattern/,
    );
    t.match(
      message,
      /plugins\[0\]\.consumers\[1\]\.route: set either class or route, not both/,
    );
    t.match(
      message,
      /plugins\[0\]\.consumers\[1\]\.route: set exactly one of field, header or topic: true/,
    );
    t.match(
      message,
      /plugins\[0\]\.consumers\[1\]\.name: consumer name "g" is also used by consumers\[0\]/,
    );
    t.match(
      message,
      /plugins\[0\]\.consumers\[2\]\.keyField: missing: idSource field needs keyField/,
    );
    t.match(
      message,
      /plugins\[0\]\.consumers\[2\]\.topicPattern: invalid regular expression/,
    );
  },
);

t.test(
  "register rejects a missing brokers setting and unknown keys",
  async (t) => {
    const host = new Host({
      classes: [productClass],
      server: false,
      logger: pino({ level: "silent" }),
      processMetrics: false,
    });
    await t.rejects(
      host.register(
        sourceKafka as unknown as Plugin,
        { consumers: [] },
        { configPath: "plugins[0]" },
      ),
      { message: /plugins\[0\]\.brokers: missing required key/ },
    );
    await t.rejects(
      host.register(
        sourceKafka as unknown as Plugin,
        {
          brokers: "127.0.0.1:9",
          consumers: [
            { topics: ["a"], groupId: "g", class: "Product", batchsize: 5 },
          ],
        },
        { configPath: "plugins[0]" },
      ),
      { message: /plugins\[0\]\.consumers\[0\]\.batchsize: unknown key/ },
    );
  },
);
