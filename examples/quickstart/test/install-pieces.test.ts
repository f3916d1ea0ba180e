import { execFileSync, spawn } from "node:child_process";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import t from "tap";
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const pieces = ["core", "cli", "subscriptions"];

// A user installs only the packages they need: core, the CLI and one plugin,
// from their published form, into a folder that is not part of the workspace.
t.test("core, cli and subscriptions alone serve a subscription", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "weft-install-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));

  const tarballs = pieces.map((name) => {
    const output = execFileSync("pnpm", ["pack", "--pack-destination", dir], {
      cwd: join(root, "packages", name),
      encoding: "utf8",
    });
    return output.trim().split("\n").at(-1)!;
  });
  await writeFile(
    join(dir, "package.json"),
    JSON.stringify({
      name: "weft-install-check",
      private: true,
      type: "module",
    }),
  );
  execFileSync(
    "npm",
    ["install", "--no-audit", "--no-fund", "--loglevel=error", ...tarballs],
    { cwd: dir, encoding: "utf8" },
  );

  t.same(
    (await readdir(join(dir, "node_modules", "@weft"))).sort(),
    ["cli", "core", "subscriptions"],
    "no other weft package was installed",
  );

  await writeFile(
    join(dir, "weft.yaml"),
    `classes:\n  - { name: Product, properties: [{ name: name, type: text }, { name: category, type: text }] }\nplugins:\n  - use: "@weft/subscriptions"\n`,
  );
  const host = spawn(
    process.execPath,
    [
      join(dir, "node_modules", "@weft", "cli", "dist", "bin.js"),
      "start",
      "-c",
      "weft.yaml",
      "--port",
      "0",
    ],
    {
      cwd: dir,
      // pnpm puts every workspace package on NODE_PATH; a user's shell has none of them.
      env: { ...process.env, NODE_PATH: "" },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  t.teardown(() => void host.kill("SIGKILL"));

  let logs = "";
  const url = await new Promise<string>((resolve, reject) => {
    host.stdout.on("data", (chunk: Buffer) => {
      logs += chunk;
      const match = /"url":"(http:\/\/[^"]+)","msg":"listening"/.exec(logs);
      if (match) resolve(match[1]);
    });
    host.once("exit", (code) =>
      reject(new Error(`host exited with ${code}: ${logs}`)),
    );
  });
  t.match(
    logs,
    /using the memory store/,
    "without store-sqlite the memory store is the default",
  );

  const client = createClient({
    url: `${url.replace(/^http/, "ws")}/v1/graphql`,
    webSocketImpl: WebSocket,
  });
  t.teardown(() => client.dispose());
  const received = new Promise<unknown>((resolve, reject) => {
    client.subscribe(
      {
        query:
          'subscription { productChanges(where: { category: { equals: "Lamps" } }) { type product { name } } }',
      },
      {
        next: (result) => resolve(result.data),
        error: reject,
        complete: () => {},
      },
    );
  });
  await new Promise<void>((resolve) => client.on("connected", () => resolve()));
  // The subscription is registered once the server acknowledged it; retry the write until it is seen.
  let seen: unknown;
  for (let attempt = 0; attempt < 50 && seen === undefined; attempt++) {
    const response = await fetch(`${url}/v1/objects`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        class: "Product",
        id: `lamp-${attempt}`,
        properties: { name: "Desk lamp", category: "Lamps" },
      }),
    });
    t.equal(response.status, 201);
    seen = await Promise.race([
      received,
      new Promise((resolve) => setTimeout(resolve, 100)),
    ]);
  }
  t.same(seen, {
    productChanges: { type: "INSERT", product: { name: "Desk lamp" } },
  });

  const exited = new Promise<number | null>((resolve) =>
    host.once("exit", resolve),
  );
  await client.dispose();
  host.kill("SIGTERM");
  t.equal(await exited, 0);
});
