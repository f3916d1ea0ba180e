import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { writeFile } from "node:fs/promises";
import t from "tap";
import {
  ErrorCode,
  Host,
  createHostFromFile,
  type Plugin,
  type WeftError,
} from "@weft/core";
import { productClass, silentLogger, tempDir, writeConfig } from "./helpers.js";

declare global {
  var __registeredConfigs: Array<Record<string, unknown>> | undefined;
}

/** Writes a plugin module that records each config its `register` receives. */
async function writeRecorderPlugin(dir: string): Promise<string> {
  const core = JSON.stringify(import.meta.resolve("@weft/core"));
  const file = join(dir, "recorder.mjs");
  await writeFile(
    file,
    `import { definePlugin, DurationSchema, Type } from ${core};
    export default definePlugin({
      name: "recorder",
      version: "1.0.0",
      configSchema: Type.Object({
        batchSize: Type.Integer({ minimum: 1, default: 100 }),
        flushInterval: DurationSchema("100ms"),
        enabled: Type.Boolean({ default: true }),
        tags: Type.Array(Type.String(), { default: [] }),
        retry: Type.Object(
          { attempts: Type.Integer({ default: 3 }), backoff: DurationSchema("1s") },
          { default: {} },
        ),
      }),
      register(host, config) {
        (globalThis.__registeredConfigs ??= []).push(config);
      },
    });`,
  );
  return file;
}

function newHost(): Host {
  return new Host({
    classes: [productClass],
    server: false,
    logger: silentLogger(),
    processMetrics: false,
  });
}

t.test("register applies schema defaults like the loader", async (t) => {
  const dir = await tempDir(t);
  const pluginFile = await writeRecorderPlugin(dir);
  globalThis.__registeredConfigs = [];
  t.teardown(() => {
    globalThis.__registeredConfigs = undefined;
  });

  const file = await writeConfig(
    dir,
    `classes: [{ name: Product, properties: [{ name: name, type: text }] }]
store: { use: memory }
plugins: [{ use: ./recorder.mjs, batchSize: "50", retry: { attempts: 5 } }]
`,
  );
  await createHostFromFile(file, { port: 0, logger: silentLogger() });
  const fromFile = globalThis.__registeredConfigs[0];

  const plugin = (await import(pathToFileURL(pluginFile).href))
    .default as Plugin;
  const settings = { batchSize: "50", retry: { attempts: 5 } };
  await newHost().register(plugin, settings);
  const fromCode = globalThis.__registeredConfigs[1];

  t.same(fromFile, {
    batchSize: 50,
    flushInterval: "100ms",
    enabled: true,
    tags: [],
    retry: { attempts: 5, backoff: "1s" },
  });
  t.same(fromCode, fromFile, "code and file give the same config");
  t.same(
    settings,
    { batchSize: "50", retry: { attempts: 5 } },
    "the caller's settings object is left as it was",
  );
});

t.test("register rejects config that fails the schema", async (t) => {
  const dir = await tempDir(t);
  const plugin = (
    await import(pathToFileURL(await writeRecorderPlugin(dir)).href)
  ).default as Plugin;
  globalThis.__registeredConfigs = [];
  t.teardown(() => {
    globalThis.__registeredConfigs = undefined;
  });

  const error = (await newHost()
    .register(
      plugin,
      { batchSize: 0, batchSise: 5 },
      { configPath: "plugins[3]" },
    )
    .catch((caught: unknown) => caught)) as WeftError;

  t.equal(error.code, ErrorCode.CONFIG_INVALID);
  t.match(error.message, /invalid config of plugin recorder/);
  t.match(
    error.message,
    /plugins\[3\]\.batchSize: expected integer >= 1, got 0/,
  );
  t.match(error.message, /plugins\[3\]\.batchSise: unknown key/);
  t.same(globalThis.__registeredConfigs, [], "register was not called");
});
