import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import t from "tap";
import {
  checkLoadedConfig,
  createHostFromConfig,
  createHostFromFile,
} from "@weft/core";

const fixture = join(
  dirname(fileURLToPath(import.meta.url)),
  "fixtures",
  "weft.yaml",
);

async function tempDir(t: {
  teardown(fn: () => unknown): void;
}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "weft-log-file-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function readLines(
  file: string,
): Promise<Array<Record<string, unknown>>> {
  const text = await readFile(file, "utf8").catch(() => "");
  return text
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line));
}

t.test(
  "third-party action loaded by relative path runs for a trigger",
  async (t) => {
    const logFile = join(await tempDir(t), "deliveries", "electronics.jsonl");
    const host = await createHostFromFile(fixture, {
      port: 0,
      env: { ...process.env, LOG_FILE: logFile },
    });
    await host.start();
    t.teardown(() => host.stop());

    const plugin = host.plugins.find(
      (entry) => entry.name === "weft-action-log-file",
    );
    t.same(plugin?.capabilities, ["action:log-file"]);

    await host.write([
      {
        op: "upsert",
        class: "Product",
        id: "tv",
        properties: { name: "TV", category: "Electronics" },
      },
      {
        op: "upsert",
        class: "Product",
        id: "book",
        properties: { name: "Book", category: "Books" },
      },
    ]);
    await host.write([
      {
        op: "upsert",
        class: "Product",
        id: "tv",
        properties: { name: "TV 2", category: "Electronics" },
      },
    ]);

    let lines: Array<Record<string, unknown>> = [];
    for (let i = 0; i < 500 && lines.length < 2; i += 1) {
      lines = await readLines(logFile);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    t.equal(
      lines.length,
      2,
      "the insert and the update of the TV; the book does not match",
    );
    t.match(lines[0], {
      trigger: "electronics-file",
      op: "INSERT",
      class: "Product",
      seq: 1,
      attempt: 1,
      before: null,
      after: { name: "TV" },
    });
    t.match(lines[1], {
      op: "UPDATE",
      seq: 3,
      before: { name: "TV" },
      after: { name: "TV 2" },
    });
    t.not(lines[0].deliveryId, lines[1].deliveryId);
  },
);

t.test("action settings are checked against the action's schema", async (t) => {
  const config = await checkLoadedConfig(
    {
      logLevel: "silent",
      store: { use: "memory" },
      classes: [
        { name: "Product", properties: [{ name: "name", type: "text" }] },
      ],
      plugins: [
        { use: "../../dist/index.js" },
        {
          use: "@weft/triggers",
          triggers: [
            { name: "broken", action: { use: "log-file", pathh: "x.jsonl" } },
          ],
        },
      ],
    },
    fixture,
  );
  const host = await createHostFromConfig(config, { port: 0 });
  await t.rejects(
    host.start(),
    /plugins\[1\]\.triggers\[0\]\.action\.path: missing required key[\s\S]*plugins\[1\]\.triggers\[0\]\.action\.pathh: unknown key/,
  );
});
