import { spawn } from "node:child_process";
import { createServer, type AddressInfo } from "node:net";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import t from "tap";
import { main, ExitCode } from "@weft/cli";

const bin = fileURLToPath(
  new URL("../dist/bin.js", import.meta.resolve("@weft/cli")),
);

async function configFile(
  t: { teardown(fn: () => unknown): void },
  text: string,
): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "weft-cli-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, "weft.yaml");
  await writeFile(file, text);
  return file;
}

/**
 * Writes a plugin module named `fileName` next to the config `file`, with
 * `register` as the source of its register method. It imports core by URL,
 * because the config's temp folder has no node_modules.
 */
async function writePlugin(
  file: string,
  fileName: string,
  name: string,
  register: string,
): Promise<void> {
  await writeFile(
    join(file, "..", fileName),
    `import { Type, WeftError, definePlugin } from ${JSON.stringify(import.meta.resolve("@weft/core"))};
export default definePlugin({
  name: ${JSON.stringify(name)},
  version: "1.0.0",
  configSchema: Type.Object({}),
  ${register},
});
`,
  );
}

async function run(argv: string[]) {
  let out = "";
  let err = "";
  const code = await main(argv, {
    out: (text) => (out += text),
    err: (text) => (err += text),
  });
  return { code, out, err };
}

const valid = `store: { use: memory }
classes: [{ name: Product, properties: [{ name: name, type: text }] }]
`;

t.test("validate accepts a good config", async (t) => {
  const file = await configFile(t, valid);
  const result = await run(["validate", "-c", file]);
  t.equal(result.code, ExitCode.OK);
  t.match(result.out, /is valid: 1 class\(es\); plugins: memory/);
  t.match(
    result.out,
    /\nNot checked: validate opens no store, port or network connection, and the host names of webhook URLs are checked when they are resolved\.\n$/,
  );
});

t.test("validate prints every problem and exits 1", async (t) => {
  const file = await configFile(
    t,
    `store: { use: memory }\nserver: { port: 99999 }\nplugins: [{ use: nope-plugin }]\nshutdownTimeout: soon\n`,
  );
  const result = await run(["validate", "-c", file]);
  t.equal(result.code, ExitCode.CONFIG_INVALID);
  t.match(result.err, /3 problem\(s\)/);
  t.match(
    result.err,
    /server\.port: expected integer <= 65535, got 99999 \[WEFT_ERR_CONFIG_INVALID\]/,
  );
  t.match(
    result.err,
    /plugins\[0\]\.use: plugin "nope-plugin" not found.*\[WEFT_ERR_PLUGIN_NOT_FOUND\]/,
  );
  t.match(result.err, /shutdownTimeout: expected duration/);
  t.match(
    result.err,
    /register and init checks \(.*\) run once these problems are fixed/,
  );
});

t.test("validate reports a vectorizer nobody provides", async (t) => {
  const file = await configFile(
    t,
    `store: { use: memory }\nclasses: [{ name: Doc, properties: [{ name: title, type: text }], vectorizer: { use: nope, fields: [title] } }]\n`,
  );
  const result = await run(["validate", "-c", file]);
  t.equal(result.code, ExitCode.CONFIG_INVALID);
  t.match(
    result.err,
    /classes\[0\]\.vectorizer\.use: no vectorizer named "nope".*\[WEFT_ERR_CAPABILITY_NOT_FOUND\]/,
  );
});

t.test("validate reports a plugin's register error", async (t) => {
  const file = await configFile(
    t,
    `store: { use: memory }\nplugins: [{ use: ./rejecting-plugin.js }]\n`,
  );
  await writePlugin(
    file,
    "rejecting-plugin.js",
    "rejecting",
    `register() {
    throw new WeftError("WEFT_ERR_EXAMPLE_INVALID", "trigger names class Prodcut, which is not configured");
  }`,
  );

  for (const command of ["validate", "plugins"]) {
    const result = await run([command, "-c", file]);
    t.equal(result.code, ExitCode.CONFIG_INVALID, command);
    t.match(
      result.err,
      /WEFT_ERR_PLUGIN_REGISTER: plugin rejecting failed to register: trigger names class Prodcut/,
      command,
    );
    t.match(
      result.err,
      /which is not configured \[WEFT_ERR_EXAMPLE_INVALID\]/,
      `${command} names the plugin's own code`,
    );
  }

  const validated = await run(["validate", "-c", file]);
  t.match(validated.err, /init checks \(.*\) run once this problem is fixed/);
});

/** Writes a plugin next to `file` whose init check rejects the action a trigger names. */
function writeInitCheckingPlugin(file: string): Promise<void> {
  return writePlugin(
    file,
    "init-checking-plugin.js",
    "init-checking",
    `register(host) {
    host.hooks.init.tap(host.name, () => {
      throw new WeftError("WEFT_ERR_EXAMPLE_INVALID", 'triggers[0].action.use: no action named "mail"');
    });
  }`,
  );
}

t.test("validate reports vectorizer and init problems together", async (t) => {
  const file = await configFile(
    t,
    `store: { use: memory }\nclasses: [{ name: Doc, properties: [{ name: title, type: text }], vectorizer: { use: nope, fields: [title] } }]\nplugins: [{ use: ./init-checking-plugin.js }]\n`,
  );
  await writeInitCheckingPlugin(file);

  const result = await run(["validate", "-c", file]);
  t.equal(result.code, ExitCode.CONFIG_INVALID);
  t.match(
    result.err,
    /classes\[0\]\.vectorizer\.use: no vectorizer named "nope"/,
  );
  t.match(
    result.err,
    /triggers\[0\]\.action\.use: no action named "mail" \[WEFT_ERR_EXAMPLE_INVALID\]/,
  );
});

t.test("validate runs init checks", async (t) => {
  const file = await configFile(
    t,
    `store: { use: memory }\nplugins: [{ use: ./init-checking-plugin.js }]\n`,
  );
  await writeInitCheckingPlugin(file);

  const result = await run(["validate", "-c", file]);
  t.equal(result.code, ExitCode.CONFIG_INVALID);
  t.match(
    result.err,
    /WEFT_ERR_HOOK_FAILED: plugin init-checking failed in hook init: triggers\[0\]\.action\.use: no action named "mail"/,
  );
  t.notMatch(result.out, /is valid/);
});

t.test("validate of a missing file exits 1 with the path", async (t) => {
  const result = await run(["validate", "-c", "/nonexistent/weft.yaml"]);
  t.equal(result.code, ExitCode.CONFIG_INVALID);
  t.match(
    result.err,
    /WEFT_ERR_CONFIG_NOT_FOUND: config file \/nonexistent\/weft.yaml cannot be read/,
  );
});

t.test("unknown command and bad option are usage errors", async (t) => {
  t.equal((await run(["launch"])).code, ExitCode.USAGE);
  t.equal((await run(["start", "--port", "abc"])).code, ExitCode.USAGE);
  const help = await run(["--help"]);
  t.equal(help.code, ExitCode.OK);
  t.match(help.out, /Exit codes:/);
});

t.test("plugins lists name, version, hooks and capabilities", async (t) => {
  const file = await configFile(t, valid);
  const result = await run(["plugins", "-c", file, "--json"]);
  t.equal(result.code, ExitCode.OK);
  const plugins = JSON.parse(result.out) as Array<{
    name: string;
    capabilities: string[];
  }>;
  t.same(
    plugins.map((plugin) => plugin.name),
    ["memory"],
  );
  t.same(plugins[0].capabilities, ["store:memory"]);

  const text = await run(["plugins", "-c", file]);
  t.match(
    text.out,
    /memory 0\.1\.0\n {2}dependencies: none\n {2}hooks: {8}none\n {2}capabilities: store:memory/,
  );
});

t.test("start serves until SIGTERM, then exits 0", async (t) => {
  const file = await configFile(t, valid);
  const child = spawn(
    process.execPath,
    [bin, "start", "-c", file, "--port", "0"],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  t.teardown(() => void child.kill("SIGKILL"));

  let logs = "";
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on("data", (chunk: Buffer) => {
      logs += chunk;
      const match = /"url":"(http:\/\/[^"]+)","msg":"listening"/.exec(logs);
      if (match) resolve(match[1]);
    });
    child.once("exit", (code) =>
      reject(new Error(`exited ${code} before listening: ${logs}`)),
    );
  });
  t.match(logs, /"msg":"plugins loaded"/);

  const response = await fetch(`${url}/v1/objects`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      class: "Product",
      properties: { name: "from the CLI test" },
    }),
  });
  t.equal(response.status, 201);

  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", resolve),
  );
  child.kill("SIGTERM");
  t.equal(await exited, 0);
  t.match(logs, /"msg":"host stopped"/);
});

t.test("start with a bad config exits 1", async (t) => {
  const file = await configFile(
    t,
    "store: { use: memory }\nplugins: [{ use: nope }]\n",
  );
  const child = spawn(process.execPath, [bin, "start", "-c", file], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  child.stderr.on("data", (chunk: Buffer) => (err += chunk));
  const code = await new Promise<number | null>((resolve) =>
    child.once("exit", resolve),
  );
  t.equal(code, ExitCode.CONFIG_INVALID);
  t.match(err, /plugins\[0\]\.use/);
});

t.test("start on a busy port says how to fix it", async (t) => {
  const busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
  t.teardown(() => new Promise((resolve) => busy.close(resolve)));
  const port = (busy.address() as AddressInfo).port;
  const file = await configFile(
    t,
    `store: { use: memory }\nserver: { host: 127.0.0.1 }\n`,
  );

  const child = spawn(
    process.execPath,
    [bin, "start", "-c", file, "--port", String(port)],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let err = "";
  child.stderr.on("data", (chunk: Buffer) => (err += chunk));
  const code = await new Promise<number | null>((resolve) =>
    child.once("exit", resolve),
  );

  t.equal(code, ExitCode.RUNTIME);
  t.match(err, /EADDRINUSE/);
  t.match(err, /set server\.port in .*weft\.yaml \(or --port\) to a free port/);
});

/** Folder of a weft package in this checkout, which `use:` accepts as a path. */
function packageFolder(name: string): string {
  return fileURLToPath(new URL(`../../${name}`, import.meta.url));
}

t.test("validate and start report a too deep config", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "weft-cli-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, "weft.json");
  // A trigger filter of 2,000 nested nots, written without a recursive JSON.stringify.
  const where = `${'{"not":'.repeat(2_000)}{"name":{"equals":"x"}}${"}".repeat(2_000)}`;
  await writeFile(
    file,
    `{"store":{"use":"memory"},"plugins":[{"use":${JSON.stringify(packageFolder("triggers"))},"triggers":[{"name":"deep","where":${where},"action":{"use":"webhook","url":"https://example.org/"}}]}]}`,
  );

  for (const command of ["validate", "start"]) {
    const result = await run([command, "-c", file]);
    t.equal(result.code, ExitCode.CONFIG_INVALID, command);
    t.match(
      result.err,
      /plugins\[0\]\.triggers\[0\]\.where\.not\.not\.not\.not\.not\.\.\.: nested too deep; the limit is 100 levels/,
      command,
    );
  }
});

t.test("validate rejects a webhook to a blocked address", async (t) => {
  const config = (allowlist: string) => `store: { use: memory }
classes: [{ name: Product, properties: [{ name: name, type: text }] }]
plugins:
  - use: ${JSON.stringify(packageFolder("action-webhook"))}
  - use: ${JSON.stringify(packageFolder("triggers"))}
    triggers:
      - name: local
        class: Product
        action: { use: webhook, url: "http://127.0.0.1:9000/hook"${allowlist} }
`;
  const blocked = await configFile(t, config(""));
  const result = await run(["validate", "-c", blocked]);
  t.equal(result.code, ExitCode.CONFIG_INVALID);
  t.match(
    result.err,
    /points to 127\.0\.0\.1 \(range loopback\), which the address guard blocks/,
  );
  t.match(result.err, /allowedNetworks: \[127\.0\.0\.1\/32\]/);
  t.match(result.err, /WEFT_ERR_WEBHOOK_CONFIG_INVALID/);
  t.match(
    result.err,
    /plugin @weft\/triggers found 1 problem\(s\)\nplugins\[1\]\.triggers\[0\]\.action\.url: url "http:\/\/127\.0\.0\.1:9000\/hook" points to/,
    "the plugin's problems print one per line with their paths",
  );
  t.notMatch(
    result.err,
    /WEFT_ERR_HOOK_FAILED/,
    "the host's wrapper code is not printed",
  );

  const allowed = await configFile(
    t,
    config(", allowedNetworks: [127.0.0.1/32]"),
  );
  const accepted = await run(["validate", "-c", allowed]);
  t.equal(accepted.code, ExitCode.OK, accepted.err);
});
