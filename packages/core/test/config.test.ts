import { execFileSync } from "node:child_process";
import { cp, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import t from "tap";
import {
  ErrorCode,
  loadConfig,
  parseDuration,
  type ConfigProblem,
  type WeftError,
} from "@weft/core";
import { tempDir, writeConfig } from "./helpers.js";

const fixtures = fileURLToPath(new URL("./fixtures/", import.meta.url));

async function configDir(t: Parameters<typeof tempDir>[0]): Promise<string> {
  const dir = await tempDir(t);
  await cp(fixtures, join(dir, "plugins"), { recursive: true });
  return dir;
}

async function problemsOf(
  dir: string,
  text: string,
  env: NodeJS.ProcessEnv = {},
  name = "weft.yaml",
): Promise<ConfigProblem[]> {
  const file = await writeConfig(dir, text, name);
  try {
    await loadConfig(file, { env });
  } catch (error) {
    const weft = error as WeftError;
    if (weft.code !== ErrorCode.CONFIG_INVALID) throw error;
    return weft.details.problems as ConfigProblem[];
  }
  return [];
}

const store = "store: { use: memory }\n";
const product =
  "classes: [{ name: Product, properties: [{ name: name, type: text }, { name: price, type: number }] }]\n";

// Each row: a config, then the exact path and code of the problem it must report.
const badConfigs: Array<[string, string, string, string, NodeJS.ProcessEnv?]> =
  [
    [
      "API keys variable of blanks",
      `${store}auth: { apiKeys: "\${KEYS}" }`,
      "auth.apiKeys",
      ErrorCode.CONFIG_INVALID,
      { KEYS: " , " },
    ],
    [
      "API key list of blanks",
      `${store}auth: { apiKeys: ["", " "] }`,
      "auth.apiKeys",
      ErrorCode.CONFIG_INVALID,
    ],
    [
      "batchSize not an integer",
      `${store}plugins: [{ use: ./plugins/plugin-a.js, batchSize: abc }]`,
      "plugins[0].batchSize",
      ErrorCode.CONFIG_INVALID,
    ],
    [
      "batchSize below minimum",
      `${store}plugins: [{ use: ./plugins/plugin-a.js, batchSize: 0 }]`,
      "plugins[0].batchSize",
      ErrorCode.CONFIG_INVALID,
    ],
    [
      "unknown plugin key",
      `${store}plugins: [{ use: ./plugins/plugin-a.js, batchSise: 5 }]`,
      "plugins[0].batchSise",
      ErrorCode.CONFIG_INVALID,
    ],
    [
      "unknown nested key",
      `${store}plugins: [{ use: ./plugins/plugin-a.js, nested: { level: 1, lvl: 2 } }]`,
      "plugins[0].nested.lvl",
      ErrorCode.CONFIG_INVALID,
    ],
    [
      "unknown top-level key",
      `${store}servr: { port: 1 }`,
      "servr",
      ErrorCode.CONFIG_INVALID,
    ],
    [
      "port out of range",
      `${store}server: { port: 70000 }`,
      "server.port",
      ErrorCode.CONFIG_INVALID,
    ],
    [
      "missing env variable",
      `${store}plugins: [{ use: ./plugins/plugin-a.js, brokers: ["\${KAFKA_HOST}"] }]`,
      "plugins[0].brokers[0]",
      ErrorCode.CONFIG_ENV_MISSING,
    ],
    [
      "plugin not found",
      `${store}plugins: [{ use: weft-plugin-that-does-not-exist }]`,
      "plugins[0].use",
      ErrorCode.PLUGIN_NOT_FOUND,
    ],
    [
      "relative plugin missing",
      `${store}plugins: [{ use: ./plugins/nope.js }]`,
      "plugins[0].use",
      ErrorCode.PLUGIN_NOT_FOUND,
    ],
    [
      "module without a plugin",
      `${store}plugins: [{ use: ./plugins/not-a-plugin.js }]`,
      "plugins[0].use",
      ErrorCode.PLUGIN_INVALID,
    ],
    [
      "core range not met",
      `${store}plugins: [{ use: ./plugins/future-core.js }]`,
      "plugins[0].use",
      ErrorCode.PLUGIN_CORE_VERSION,
    ],
    [
      "missing dependency",
      `${store}plugins: [{ use: ./plugins/plugin-b.js }]`,
      "plugins[0]",
      ErrorCode.PLUGIN_DEPENDENCY_MISSING,
    ],
    [
      "dependency cycle",
      `${store}plugins: [{ use: ./plugins/cycle-x.js }, { use: ./plugins/cycle-y.js }]`,
      "plugins[0]",
      ErrorCode.PLUGIN_DEPENDENCY_CYCLE,
    ],
    [
      "plugin configured twice",
      `${store}plugins: [{ use: ./plugins/plugin-a.js }, { use: ./plugins/plugin-a.js }]`,
      "plugins[1]",
      ErrorCode.PLUGIN_DUPLICATE,
    ],
    [
      "bad property type",
      `${store}classes: [{ name: Product, properties: [{ name: price, type: money }] }]`,
      "classes[0].properties[0].type",
      ErrorCode.CONFIG_INVALID,
    ],
    [
      "lower-case class name",
      `${store}classes: [{ name: product, properties: [] }]`,
      "classes[0].name",
      ErrorCode.CONFIG_INVALID,
    ],
    [
      "class defined twice",
      `${store}classes: [{ name: Product }, { name: Product }]`,
      "classes[1].name",
      ErrorCode.CLASS_INVALID,
    ],
    [
      "vectorizer field not text",
      `${store}classes: [{ name: Product, properties: [{ name: price, type: number }], vectorizer: { use: hash, fields: [price] } }]`,
      "classes[0].vectorizer.fields[0]",
      ErrorCode.CLASS_INVALID,
    ],
    [
      "bad duration",
      `${store}shutdownTimeout: soon`,
      "shutdownTimeout",
      ErrorCode.CONFIG_DURATION,
    ],
    [
      "bad store setting",
      `store: { use: memory, retention: { maxRows: -1 } }`,
      "store.retention.maxRows",
      ErrorCode.CONFIG_INVALID,
    ],
    [
      "env override not a number",
      `${store}plugins: [{ use: ./plugins/plugin-a.js }]`,
      "plugins[0].batchSize",
      ErrorCode.CONFIG_ENV_OVERRIDE,
      { PLUGIN_A_BATCH_SIZE: "many" },
    ],
  ];

/** `@weft/core` as a module specifier that a package outside the workspace can import. */
const core = JSON.stringify(import.meta.resolve("@weft/core"));

/** Writes an ES module package `name` with `source` as its main file into `root`/node_modules. */
async function writePackage(
  root: string,
  name: string,
  source: string,
): Promise<void> {
  const folder = join(root, "node_modules", ...name.split("/"));
  await mkdir(folder, { recursive: true });
  await writeFile(
    join(folder, "package.json"),
    JSON.stringify({ name, type: "module", main: "index.js" }),
  );
  await writeFile(join(folder, "index.js"), source);
}

for (const [name, text, path, code, env] of badConfigs) {
  t.test(`bad config: ${name}`, async (t) => {
    const dir = await configDir(t);
    const problems = await problemsOf(
      dir,
      text.includes("classes:") ? text : product + text,
      env ?? {},
    );
    const match = problems.find((problem) => problem.path === path);
    t.ok(match, `a problem at ${path}; got ${JSON.stringify(problems)}`);
    t.equal(match?.code, code);
  });
}

t.test("every problem of a config is reported at once", async (t) => {
  const dir = await configDir(t);
  const problems = await problemsOf(
    dir,
    `${store}server: { port: -1 }\nplugins: [{ use: ./plugins/plugin-a.js, batchSize: x }, { use: nope-plugin }]`,
  );
  t.same(problems.map((problem) => problem.path).sort(), [
    "plugins[0].batchSize",
    "plugins[1].use",
    "server.port",
  ]);
});

t.test("message names the path, expectation and value", async (t) => {
  const dir = await configDir(t);
  const [problem] = await problemsOf(
    dir,
    `${store}plugins: [{ use: ./plugins/plugin-a.js, batchSize: 0 }]`,
  );
  t.equal(problem.message, "expected integer >= 1, got 0");
});

t.test("interpolation with defaults and escapes", async (t) => {
  const dir = await configDir(t);
  const file = await writeConfig(
    dir,
    `${store}server: { port: "\${PORT:-9090}" }\nplugins: [{ use: ./plugins/plugin-a.js, brokers: ["\${HOST}:9092", "$$literal"] }]`,
  );
  const config = await loadConfig(file, { env: { HOST: "127.0.0.1" } });
  t.equal(
    config.host.server.port,
    9090,
    "the default applies and converts to the schema's type",
  );
  t.same(config.plugins[0].config.brokers, ["127.0.0.1:9092", "$literal"]);
});

t.test("defaults are applied", async (t) => {
  const dir = await configDir(t);
  const config = await loadConfig(
    await writeConfig(dir, `${store}plugins: [{ use: ./plugins/plugin-a.js }]`),
    { env: {} },
  );
  t.equal(config.plugins[0].config.batchSize, 100);
  t.equal(config.shutdownTimeoutMs, 10_000);
  t.equal(config.host.server.host, "127.0.0.1");
});

t.test("environment overrides win over the file", async (t) => {
  const dir = await configDir(t);
  const file = await writeConfig(
    dir,
    `${store}plugins: [{ use: ./plugins/plugin-a.js, batchSize: 5, brokers: [file:9092] }]`,
  );
  const config = await loadConfig(file, {
    env: {
      PLUGIN_A_BATCH_SIZE: "50",
      PLUGIN_A_BROKERS: "a:1, b:2",
      PLUGIN_A_LEVEL: "3",
    },
  });
  const plugin = config.plugins[0];
  t.equal(plugin.config.batchSize, 50);
  t.same(plugin.config.brokers, ["a:1", "b:2"]);
  t.same(plugin.config.nested, { level: 3 });
  t.same(plugin.envApplied.sort(), [
    "PLUGIN_A_BATCH_SIZE",
    "PLUGIN_A_BROKERS",
    "PLUGIN_A_LEVEL",
  ]);
});

t.test("enabled override disables a plugin", async (t) => {
  const dir = await configDir(t);
  const file = await writeConfig(
    dir,
    `${store}plugins: [{ use: ./plugins/plugin-a.js, batchSize: 0 }]`,
  );
  const config = await loadConfig(file, { env: { PLUGIN_A_ENABLED: "false" } });
  t.equal(
    config.plugins.length,
    0,
    "a disabled plugin is skipped, and its settings are not checked",
  );
});

t.test("plugins are ordered by dependency", async (t) => {
  const dir = await configDir(t);
  const file = await writeConfig(
    dir,
    `${store}plugins: [{ use: ./plugins/plugin-b.js }, { use: ./plugins/plugin-a.js }]`,
  );
  const config = await loadConfig(file, { env: {} });
  t.same(
    config.plugins.map((plugin) => plugin.plugin.name),
    ["plugin-a", "plugin-b"],
  );
});

t.test("dependency problems name both plugins", async (t) => {
  const dir = await configDir(t);
  const [missing] = await problemsOf(
    dir,
    `${store}plugins: [{ use: ./plugins/plugin-b.js }]`,
  );
  t.match(missing.message, /plugin plugin-b depends on plugin plugin-a/);

  const [cycle] = await problemsOf(
    dir,
    `${store}plugins: [{ use: ./plugins/cycle-x.js }, { use: ./plugins/cycle-y.js }]`,
  );
  t.match(cycle.message, /cycle-x -> cycle-y -> cycle-x/);
});

t.test("JSON and ES module configs", async (t) => {
  const dir = await configDir(t);
  const json = await writeConfig(
    dir,
    JSON.stringify({ store: { use: "memory" }, server: { port: 1234 } }),
    "weft.json",
  );
  t.equal((await loadConfig(json, { env: {} })).host.server.port, 1234);

  const module = await writeConfig(
    dir,
    `export default { store: { use: "memory" }, server: { port: 4321 } };`,
    "weft.mjs",
  );
  t.equal((await loadConfig(module, { env: {} })).host.server.port, 4321);
});

t.test("unreadable and unparsable files", async (t) => {
  const dir = await configDir(t);
  await t.rejects(loadConfig(join(dir, "missing.yaml")), {
    code: ErrorCode.CONFIG_NOT_FOUND,
  });

  const yaml = await writeConfig(dir, "server:\n  port: 1\n  port: 2\n");
  await t.rejects(loadConfig(yaml), {
    code: ErrorCode.CONFIG_PARSE,
    message: /line 3/,
  });

  const json = await writeConfig(dir, "{ nope", "bad.json");
  await t.rejects(loadConfig(json), { code: ErrorCode.CONFIG_PARSE });
});

t.test(
  "default store is the memory store when store-sqlite is absent",
  async (t) => {
    const dir = await configDir(t);
    const file = await writeConfig(dir, product);
    // pnpm puts every workspace package on NODE_PATH, so check in a process without it.
    const script = `import { loadConfig } from ${JSON.stringify(import.meta.resolve("@weft/core"))};
    const config = await loadConfig(${JSON.stringify(file)}, { env: {} });
    console.log(JSON.stringify({ use: config.store.use, note: config.storeNote }));`;
    const { NODE_PATH: _nodePath, ...env } = process.env;
    const output = execFileSync(
      process.execPath,
      ["--input-type=module", "-e", script],
      { env, encoding: "utf8" },
    );
    const result = JSON.parse(output) as { use: string; note: string };
    t.equal(result.use, "memory");
    t.match(result.note, /nothing will be kept/);
  },
);

t.test("default store is store-sqlite when it is installed", async (t) => {
  const dir = await configDir(t);
  await writePackage(
    dir,
    "@weft/store-sqlite",
    `import { definePlugin, MemoryStore, Type } from ${core};
    export default definePlugin({ name: "@weft/store-sqlite", version: "0.0.0", configSchema: Type.Object({ path: Type.String() }),
      register(host) { host.provideStore(new MemoryStore()); } });`,
  );

  const config = await loadConfig(await writeConfig(dir, product), { env: {} });
  t.equal(config.store.use, "@weft/store-sqlite");
  t.same(config.store.config, { path: "./data/weft.db" });
  t.match(config.storeNote, /using @weft\/store-sqlite at .\/data\/weft.db/);
});

t.test("durations", async (t) => {
  t.equal(parseDuration("250ms"), 250);
  t.equal(parseDuration("1s"), 1000);
  t.equal(parseDuration("5m"), 300_000);
  t.equal(parseDuration("2h"), 7_200_000);
  t.equal(parseDuration(1500), 1500);
  t.equal(parseDuration("1500"), 1500);
  t.throws(() => parseDuration("5 minutes", "flushInterval"), {
    code: ErrorCode.CONFIG_DURATION,
    message: /flushInterval: invalid duration "5 minutes"/,
  });
  t.throws(() => parseDuration(-1), { code: ErrorCode.CONFIG_DURATION });
});

t.test("a missing variable is reported once", async (t) => {
  const dir = await configDir(t);
  const problems = await problemsOf(
    dir,
    `${store}server: { port: "\${NOPE_PORT}" }`,
  );
  t.same(
    problems.map((problem) => [problem.path, problem.code]),
    [["server.port", ErrorCode.CONFIG_ENV_MISSING]],
  );
});

t.test("a bad duration has the duration code", async (t) => {
  const dir = await configDir(t);
  const [problem] = await problemsOf(dir, `${store}shutdownTimeout: 2w`);
  t.equal(problem.code, ErrorCode.CONFIG_DURATION);
  t.match(problem.message, /1d/);
});

t.test("API keys split and trim", async (t) => {
  const dir = await configDir(t);
  const file = await writeConfig(dir, `${store}auth: { apiKeys: "\${KEYS}" }`);
  const config = await loadConfig(file, { env: { KEYS: " a, b ,," } });
  t.same(config.apiKeys, ["a", "b"]);

  const open = await loadConfig(
    await writeConfig(dir, `${store}auth: { apiKeys: [] }`, "open.yaml"),
    { env: {} },
  );
  t.same(open.apiKeys, [], "an empty list means no keys");
});

t.test("missing plugin names the folders searched", async (t) => {
  const dir = await tempDir(t);
  const fallback = await tempDir(t);
  const file = await writeConfig(
    dir,
    `${store}plugins: [{ use: weft-plugin-missing }]\n`,
  );

  const error = await loadConfig(file, {
    env: {},
    resolveFrom: [fallback],
  }).then(
    () => undefined,
    (rejection: unknown) => rejection as WeftError,
  );
  const problem = (error?.details.problems as ConfigProblem[] | undefined)?.[0];
  t.equal(problem?.code, ErrorCode.PLUGIN_NOT_FOUND);
  t.match(
    problem?.message,
    `node_modules of ${dir}, ${fallback} or of their parent folders`,
  );
  t.match(problem?.message, "npm install weft-plugin-missing");
  t.match(problem?.message, "set use: to the path of its module file");
});

t.test("plugin package resolves from a fallback folder", async (t) => {
  const dir = await tempDir(t);
  const fallback = await tempDir(t);
  await writePackage(
    fallback,
    "weft-plugin-fallback",
    `import { definePlugin, Type } from ${core};
    export default definePlugin({ name: "fallback", version: "0.0.0", configSchema: Type.Object({}), register() {} });`,
  );

  const file = await writeConfig(
    dir,
    `${store}plugins: [{ use: weft-plugin-fallback }]\n`,
  );
  const config = await loadConfig(file, { env: {}, resolveFrom: [fallback] });
  t.equal(config.plugins[0]?.plugin.name, "fallback");
});

/** Writes `levels` nested objects `{ "a": { "a": ... } }` as JSON text, without a recursive JSON.stringify. */
function nestedJson(levels: number): string {
  return `${'{"a":'.repeat(levels - 1)}{}${"}".repeat(levels - 1)}`;
}

t.test("deeply nested config is a config problem", async (t) => {
  const dir = await configDir(t);
  // 2,000 levels overflowed the schema check, 5,000 the interpolation.
  for (const levels of [2_000, 5_000]) {
    const problems = await problemsOf(
      dir,
      `{ "store": { "use": "memory" }, "plugins": [${nestedJson(levels)}] }`,
      {},
      `deep-${levels}.json`,
    );
    t.equal(problems.length, 1, `${levels} levels: one problem`);
    t.equal(problems[0]?.code, ErrorCode.CONFIG_INVALID);
    t.equal(problems[0]?.path, "plugins[0].a.a.a.a.a.a.a.a...");
    t.match(problems[0]?.message, "nested too deep; the limit is 100 levels");
  }
});

t.test("deeply nested YAML is a config problem", async (t) => {
  const dir = await configDir(t);
  for (const [name, text] of [
    ["flow list", `${store}x: ${"[".repeat(3000)}${"]".repeat(3000)}\n`],
    [
      "block map",
      `${store}${Array.from({ length: 3000 }, (_, i) => `${" ".repeat(i)}k:`).join("\n")} 1\n`,
    ],
  ]) {
    const problems = await problemsOf(
      dir,
      text,
      {},
      `deep-${name.replace(" ", "-")}.yaml`,
    );
    t.equal(problems.length, 1, `${name}: one problem`);
    t.equal(problems[0]?.code, ErrorCode.CONFIG_INVALID, name);
    t.match(
      problems[0]?.message,
      "nested too deep to parse; the limit is 100 levels",
      name,
    );
  }
});

t.test("YAML syntax error names its position once", async (t) => {
  const dir = await configDir(t);
  const file = await writeConfig(
    dir,
    "store: { use: memory\n",
    "unclosed.yaml",
  );
  const error = (await loadConfig(file).catch(
    (caught: unknown) => caught,
  )) as WeftError;
  t.equal(error.code, ErrorCode.CONFIG_PARSE);
  t.equal(
    error.message.match(/at line \d+, column \d+/g)?.length,
    1,
    error.message,
  );
  t.notMatch(error.message, /:$/, "no colon without text after it");
});

t.test("config at the depth limit passes the depth check", async (t) => {
  const dir = await configDir(t);
  // The root is level 1 and `plugins` level 2, so the nested objects add 98 levels.
  const problems = await problemsOf(
    dir,
    `{ "store": { "use": "memory" }, "plugins": [${nestedJson(98)}] }`,
    {},
    "limit.json",
  );
  t.equal(problems.length, 1);
  t.equal(
    problems[0]?.path,
    "plugins[0].use",
    "only the missing use is reported",
  );

  const over = await problemsOf(
    dir,
    `{ "store": { "use": "memory" }, "plugins": [${nestedJson(99)}] }`,
    {},
    "over.json",
  );
  t.match(over[0]?.message, "nested too deep");
});

t.test("config module with a cycle is a depth problem", async (t) => {
  const dir = await configDir(t);
  const problems = await problemsOf(
    dir,
    `const loop = {}; loop.self = loop;
    export default { store: { use: "memory" }, plugins: [loop] };`,
    {},
    "cycle.mjs",
  );
  t.equal(problems.length, 1);
  t.match(problems[0]?.message, "nested too deep");
});

t.test("missing weft plugin suggests its package folder", async (t) => {
  const dir = await tempDir(t);
  const [problem] = await problemsOf(
    dir,
    `${store}plugins: [{ use: "@weft/no-such-plugin" }]\n`,
  );
  t.equal(problem?.code, ErrorCode.PLUGIN_NOT_FOUND);
  t.match(problem?.message, "not published to the npm registry");
  t.match(
    problem?.message,
    "npm install /path/to/weft/packages/no-such-plugin",
  );
  t.match(
    problem?.message,
    "/path/to/weft/packages/no-such-plugin/dist/index.js",
  );
  t.notMatch(problem?.message, "npm install @weft/");
});

t.test("missing short name suggests the folder in this checkout", async (t) => {
  const dir = await tempDir(t);
  const file = await writeConfig(
    dir,
    `${store}plugins: [{ use: subscriptions }]\n`,
  );
  // pnpm puts every workspace package on NODE_PATH, so load in a process without it.
  const script = `import { loadConfig } from ${core};
  try { await loadConfig(${JSON.stringify(file)}, { env: {} }); } catch (error) { console.log(error.details.problems[0].message); }`;
  const { NODE_PATH: _nodePath, ...env } = process.env;
  const output = execFileSync(
    process.execPath,
    ["--input-type=module", "-e", script],
    { env, encoding: "utf8" },
  );
  const packages = fileURLToPath(new URL("../../", import.meta.url));
  t.match(output, `npm install ${join(packages, "subscriptions")}`);
});

t.test("use: a package folder loads its export", async (t) => {
  const dir = await tempDir(t);
  const folder = join(dir, "vendor", "folder-plugin");
  await mkdir(join(folder, "lib"), { recursive: true });
  await writeFile(
    join(folder, "package.json"),
    JSON.stringify({
      name: "folder-plugin",
      type: "module",
      exports: {
        ".": { types: "./lib/entry.d.ts", import: "./lib/entry.js" },
        "./package.json": "./package.json",
      },
    }),
  );
  await writeFile(
    join(folder, "lib", "entry.js"),
    `import { definePlugin, Type } from ${core};
    export default definePlugin({ name: "folder-plugin", version: "0.0.0", configSchema: Type.Object({}), register() {} });`,
  );

  const relative = await writeConfig(
    dir,
    `${store}plugins: [{ use: ./vendor/folder-plugin }]\n`,
  );
  const config = await loadConfig(relative, { env: {} });
  t.equal(config.plugins[0]?.plugin.name, "folder-plugin");

  const absolute = await writeConfig(
    dir,
    `${store}plugins: [{ use: ${JSON.stringify(folder)} }]\n`,
    "absolute.yaml",
  );
  const loaded = await loadConfig(absolute, { env: {} });
  t.equal(loaded.plugins[0]?.plugin.name, "folder-plugin");
});

t.test("use: a weft package folder of this checkout", async (t) => {
  const dir = await tempDir(t);
  const triggers = fileURLToPath(new URL("../../triggers", import.meta.url));
  const file = await writeConfig(
    dir,
    `${store}plugins: [{ use: ${JSON.stringify(triggers)} }]\n`,
  );
  const config = await loadConfig(file, { env: {} });
  t.equal(config.plugins[0]?.plugin.name, "@weft/triggers");
});

t.test("use: a folder without package.json is not found", async (t) => {
  const dir = await tempDir(t);
  await mkdir(join(dir, "empty"));
  const [problem] = await problemsOf(
    dir,
    `${store}plugins: [{ use: ./empty }]\n`,
  );
  t.equal(problem?.code, ErrorCode.PLUGIN_NOT_FOUND);
});
