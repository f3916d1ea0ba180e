import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import t from "tap";
import { pino } from "pino";
import { checkLoadedConfig, createHostFromConfig } from "@weft/core";
import { tempDir } from "./helpers.js";

const packageDir = dirname(dirname(fileURLToPath(import.meta.url)));

async function startHost(
  configDir: string,
  store: Record<string, unknown> | undefined,
) {
  const raw = {
    server: { host: "127.0.0.1", port: 0 },
    classes: [{ name: "Note", properties: [{ name: "text", type: "text" }] }],
    ...(store ? { store } : {}),
  };
  const config = await checkLoadedConfig(raw, join(configDir, "weft.yaml"), {
    resolveFrom: [packageDir],
  });
  const host = await createHostFromConfig(config, {
    logger: pino({ level: "silent" }),
    port: 0,
  });
  await host.start();
  return host;
}

t.test("host keeps writes across restarts", async (t) => {
  const dir = tempDir(t);
  const first = await startHost(dir, {
    use: "@weft/store-sqlite",
    path: "./state/notes.db",
    durability: "normal",
  });
  const results = await first.write(
    [
      {
        op: "upsert",
        class: "Note",
        id: "note-1",
        properties: { text: "kept" },
      },
    ],
    {
      positions: [{ source: "test", stream: "s", position: "1" }],
    },
  );
  t.equal(results[0].status, "ok");
  t.equal(first.store.kind, "sqlite");
  await first.stop();
  t.ok(
    existsSync(join(dir, "state", "notes.db")),
    "relative path resolved against the config folder",
  );

  const second = await startHost(dir, {
    use: "@weft/store-sqlite",
    path: "./state/notes.db",
  });
  t.teardown(() => second.stop());
  const stored = await second.store.get("Note", results[0].id);
  t.same(stored?.properties, { text: "kept" });
  t.same(await second.store.positions("test"), [
    { source: "test", stream: "s", position: "1" },
  ]);
});

t.test("host without store config uses the default file", async (t) => {
  const dir = tempDir(t);
  const host = await startHost(dir, undefined);
  t.teardown(() => host.stop());
  t.equal(host.store.kind, "sqlite");
  t.ok(
    existsSync(join(dir, "data", "weft.db")),
    "default path is ./data/weft.db next to the config",
  );
});
