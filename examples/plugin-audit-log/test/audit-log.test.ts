import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import t from "tap";
import { createHostFromFile, createLogger, type ChangeEvent } from "@weft/core";

const pluginDist = fileURLToPath(new URL("../dist/", import.meta.url));

t.test(
  "audit log plugin loads by relative path and records changes",
  async (t) => {
    const dir = await mkdtemp(join(tmpdir(), "weft-audit-"));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    await cp(pluginDist, join(dir, "audit-plugin"), { recursive: true });
    await writeFile(
      join(dir, "weft.yaml"),
      `store: { use: memory }
classes:
  - { name: Product, properties: [{ name: name, type: text }] }
  - { name: Order, properties: [{ name: total, type: number }] }
plugins:
  - use: ./audit-plugin/index.js
    path: ./logs/audit.jsonl
    classes: [Product]
`,
    );

    const host = await createHostFromFile(join(dir, "weft.yaml"), {
      port: 0,
      logger: createLogger({ level: "silent" }),
      env: {},
    });
    await host.start();
    await host.write([
      {
        op: "upsert",
        class: "Product",
        id: "p1",
        properties: { name: "Lamp" },
      },
    ]);
    await host.write([
      { op: "upsert", class: "Order", id: "o1", properties: { total: 3 } },
    ]);
    await host.write([{ op: "delete", class: "Product", id: "p1" }]);
    await host.stop();

    const lines = (await readFile(join(dir, "logs", "audit.jsonl"), "utf8"))
      .trim()
      .split("\n");
    const events = lines.map((line) => JSON.parse(line) as ChangeEvent);
    t.same(
      events.map((event) => [event.op, event.class, event.seq]),
      [
        ["INSERT", "Product", 1],
        ["DELETE", "Product", 3],
      ],
    );
    t.same(events[1].before, { name: "Lamp" });
    t.same(
      host.plugins
        .find((plugin) => plugin.name === "weft-plugin-audit-log")
        ?.hooks.sort(),
      ["afterWrite", "start", "stop"],
    );
  },
);
