import { join } from "node:path";
import t from "tap";
import { Value } from "@sinclair/typebox/value";
import { isPlugin, type Store } from "@weft/core";
import sqliteStorePlugin, {
  SqliteStore,
  configSchema,
} from "@weft/store-sqlite";

t.test("default export is a weft plugin", async (t) => {
  t.ok(isPlugin(sqliteStorePlugin));
  t.equal(sqliteStorePlugin.name, "@weft/store-sqlite");
  t.match(sqliteStorePlugin.version, /^\d+\.\d+\.\d+/);
  t.equal(sqliteStorePlugin.configSchema, configSchema);
});

t.test("config schema defaults", async (t) => {
  t.same(Value.Default(configSchema, {}), {
    path: "./data/weft.db",
    durability: "full",
    retention: { maxRows: 1_000_000, force: false },
    busyTimeout: "5s",
    wal: { maxBytes: 67_108_864, backgroundCheckpoint: true },
  });
  t.notOk(
    Value.Check(configSchema, { ...Value.Default(configSchema, {}), extra: 1 }),
    "unknown keys are invalid",
  );
});

t.test("register provides a store under configDir", async (t) => {
  const provided: Store[] = [];
  const host = { provideStore: (store: Store) => provided.push(store) };
  const config = Value.Default(configSchema, { durability: "normal" }) as never;
  await sqliteStorePlugin.register(host as never, config, {
    configDir: "/srv/weft",
    configPath: "store",
  });
  t.equal(provided.length, 1);
  t.ok(provided[0] instanceof SqliteStore);
  t.equal(
    (provided[0] as SqliteStore).file,
    join("/srv/weft", "data", "weft.db"),
  );
});
