import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import t from "tap";
import { ErrorCode, Host, MemoryStore, loadConfig } from "@weft/core";
import cdcSinkPlugin, { CdcErrorCode } from "@weft/sink-cdc";
import {
  classes,
  sinkStatus,
  storePlugin,
  testLogger,
  withDefaults,
} from "./helpers.js";

const packageDir = fileURLToPath(new URL("..", import.meta.url));

async function configFile(
  t: { teardown(fn: () => unknown): void },
  text: string,
): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "weft-cdc-config-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, "weft.yaml");
  await writeFile(file, text);
  return file;
}

const baseConfig = `
store: { use: memory }
classes:
  - name: Product
    properties: [{ name: name, type: text }]
  - name: Order
    properties: [{ name: total, type: number }]
plugins:
  - use: "@weft/sink-cdc"
    brokers: 127.0.0.1:9
    topic: from-file
    format: debezium
    classes: [Product]
`;

t.test("STREAMING_CDC environment variables override the file", async (t) => {
  const file = await configFile(t, baseConfig);
  const loaded = await loadConfig(file, {
    resolveFrom: [packageDir],
    env: {
      STREAMING_CDC_TOPIC: "from-env",
      STREAMING_CDC_FORMAT: "cloudevents",
      STREAMING_CDC_CLASSES: "Product, Order",
      STREAMING_CDC_OPERATIONS: "INSERT,DELETE",
      STREAMING_CDC_ENABLED: "true",
    },
  });
  const [sink] = loaded.plugins;
  t.equal(sink.plugin.name, "@weft/sink-cdc");
  t.equal(sink.config.topic, "from-env");
  t.equal(sink.config.format, "cloudevents");
  t.same(sink.config.classes, ["Product", "Order"]);
  t.same(sink.config.operations, ["INSERT", "DELETE"]);
  t.same(sink.envApplied.sort(), [
    "STREAMING_CDC_CLASSES",
    "STREAMING_CDC_ENABLED",
    "STREAMING_CDC_FORMAT",
    "STREAMING_CDC_OPERATIONS",
    "STREAMING_CDC_TOPIC",
  ]);
});

t.test("STREAMING_CDC_ENABLED=false leaves the sink out", async (t) => {
  const file = await configFile(t, baseConfig);
  const loaded = await loadConfig(file, {
    resolveFrom: [packageDir],
    env: { STREAMING_CDC_ENABLED: "false" },
  });
  t.same(loaded.plugins, []);
});

t.test("invalid format from the environment is a config error", async (t) => {
  const file = await configFile(t, baseConfig);
  await t.rejects(
    loadConfig(file, {
      resolveFrom: [packageDir],
      env: { STREAMING_CDC_FORMAT: "avro" },
    }),
    {
      code: ErrorCode.CONFIG_INVALID,
      message: /plugins\[0\]\.format/,
    },
  );
});

async function register(config: Record<string, unknown>): Promise<Host> {
  const host = new Host({
    classes,
    server: false,
    logger: testLogger(),
    processMetrics: false,
  });
  await host.register(storePlugin(new MemoryStore()), {});
  await host.register(
    cdcSinkPlugin,
    withDefaults({ brokers: ["127.0.0.1:9"], ...config }),
    { configPath: "plugins[0]" },
  );
  return host;
}

t.test(
  "register rejects invalid settings with their config path",
  async (t) => {
    await t.rejects(register({ topic: "weft {class}" }), {
      message:
        /plugins\[0\]\.topic: "weft Product" \(class Product\) is not a valid Kafka topic name/,
    });
    await t.rejects(register({ topic: "weft.{table}" }), {
      message:
        /plugins\[0\]\.topic: "weft\.\{table\}" contains a placeholder other than \{class\}/,
    });
    await t.rejects(register({ classes: ["Nope"] }), {
      message: /plugins\[0\]\.classes: unknown class "Nope"/,
    });
    await t.rejects(register({ vectors: { classes: { Nope: "include" } } }), {
      message: /plugins\[0\]\.vectors\.classes: unknown class "Nope"/,
    });
    await t.rejects(
      register({ vectors: { default: "include", field: "name" } }),
      {
        message:
          /plugins\[0\]\.vectors\.field: class Product has a property named "name"/,
      },
    );
    await t.rejects(register({ where: { price: { between: 1 } } }), {
      message: /plugins\[0\]\.where/,
    });
  },
);

t.test("register error codes", async (t) => {
  const codeOf = async (config: Record<string, unknown>) => {
    try {
      await register(config);
    } catch (error) {
      return ((error as Error).cause as { code?: string } | undefined)?.code;
    }
    return undefined;
  };
  t.equal(await codeOf({ topic: "a/b" }), CdcErrorCode.TOPIC_INVALID);
  t.equal(
    await codeOf({ vectors: { default: "include", field: "name" } }),
    CdcErrorCode.VECTOR_FIELD_CONFLICT,
  );
  t.equal(await codeOf({ classes: ["Nope"] }), ErrorCode.CLASS_UNKNOWN);
});

t.test("a disabled sink reports ready and publishes nothing", async (t) => {
  const host = await register({ enabled: false });
  await host.start();
  t.teardown(() => host.stop());
  t.same(sinkStatus(host), { status: "ready", details: { enabled: false } });
  t.same(
    host.plugins.find((plugin) => plugin.name === "@weft/sink-cdc")?.hooks,
    [],
    "a disabled sink taps no hooks",
  );
});
