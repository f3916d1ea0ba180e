import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import t from "tap";
import Database from "better-sqlite3";
import { pino } from "pino";
import { Registry } from "prom-client";
import type { ClassDefinition } from "@weft/core";
import {
  APPLICATION_ID,
  SCHEMA_VERSION,
  SqliteErrorCode,
  createSqliteStore,
} from "@weft/store-sqlite";
import { migrate, migrations } from "../src/schema.js";
import {
  batch,
  openStore,
  productClass,
  productId,
  tempDir,
  upsert,
} from "./helpers.js";

const silent = pino({ level: "silent" });

async function openError(
  path: string,
  classes: ClassDefinition[] = [productClass],
): Promise<unknown> {
  const store = createSqliteStore({ path });
  return store.open({ classes, logger: silent, metrics: new Registry() }).then(
    async () => {
      await store.close();
      return undefined;
    },
    (error: unknown) => error,
  );
}

t.test("new file gets the current schema", async (t) => {
  const path = join(tempDir(t), "weft.db");
  const store = await openStore(t, path);
  await store.close();

  const db = new Database(path, { readonly: true });
  t.teardown(() => db.close());
  t.equal(db.pragma("user_version", { simple: true }), SCHEMA_VERSION);
  t.equal(db.pragma("application_id", { simple: true }), APPLICATION_ID);
  t.equal(db.pragma("journal_mode", { simple: true }), "wal");
  const tables = (
    db
      .prepare(
        "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name",
      )
      .pluck()
      .all() as string[]
  ).sort();
  t.same(tables, [
    "changes",
    "checkpoints",
    "class_properties",
    "meta",
    "objects",
    "positions",
    "state",
  ]);
});

t.test("empty file becomes a weft database", async (t) => {
  const path = join(tempDir(t), "weft.db");
  writeFileSync(path, "");
  const store = await openStore(t, path);
  t.equal(await store.lastSeq(), 0);
});

t.test("migrations apply newer steps in order", async (t) => {
  const path = join(tempDir(t), "weft.db");
  const store = await openStore(t, path);
  await store.commit(batch([upsert(productId(1), { name: "kept" })]));
  await store.close();

  const db = new Database(path);
  t.teardown(() => db.close());
  const next = SCHEMA_VERSION + 1;
  const steps = [
    ...migrations,
    {
      version: next,
      description: "add objects.note",
      up: (connection: Database.Database) =>
        connection.exec("ALTER TABLE objects ADD COLUMN note TEXT"),
    },
  ];
  t.same(migrate(db, path, silent, steps), { from: SCHEMA_VERSION, to: next });
  t.equal(db.pragma("user_version", { simple: true }), next);
  t.equal(
    db.prepare("SELECT count(*) FROM objects WHERE note IS NULL").pluck().get(),
    1,
    "rows kept, column added",
  );
  t.same(
    migrate(db, path, silent, steps),
    { from: next, to: next },
    "a second run does nothing",
  );
});

t.test("failed migration rolls back", async (t) => {
  const path = join(tempDir(t), "weft.db");
  await (await openStore(t, path)).close();

  const db = new Database(path);
  t.teardown(() => db.close());
  const steps = [
    ...migrations,
    {
      version: SCHEMA_VERSION + 1,
      description: "broken step",
      up: (connection: Database.Database) => {
        connection.exec("CREATE TABLE half_done (x)");
        throw new Error("disk on fire");
      },
    },
  ];
  const error = (() => {
    try {
      migrate(db, path, silent, steps);
    } catch (caught) {
      return caught as { code?: string; message: string };
    }
    return undefined;
  })();
  t.equal(error?.code, SqliteErrorCode.MIGRATION_FAILED);
  t.match(error?.message, path, "message names the file");
  t.match(
    error?.message,
    `version ${SCHEMA_VERSION + 1}`,
    "message names the step",
  );
  t.equal(
    db.pragma("user_version", { simple: true }),
    SCHEMA_VERSION,
    "version unchanged",
  );
  t.equal(
    db
      .prepare("SELECT count(*) FROM sqlite_schema WHERE name = 'half_done'")
      .pluck()
      .get(),
    0,
    "step rolled back",
  );
});

t.test("newer schema version is rejected", async (t) => {
  const path = join(tempDir(t), "weft.db");
  await (await openStore(t, path)).close();
  const db = new Database(path);
  db.pragma(`user_version = ${SCHEMA_VERSION + 5}`);
  db.close();

  const error = (await openError(path)) as {
    code?: string;
    message: string;
    details: Record<string, unknown>;
  };
  t.equal(error.code, SqliteErrorCode.SCHEMA_TOO_NEW);
  t.match(error.message, path, "message names the file");
  t.match(
    error.message,
    /Upgrade @weft\/store-sqlite/,
    "message says how to fix it",
  );
  t.equal(error.details.schemaVersion, SCHEMA_VERSION + 5);
});

t.test("random bytes are not a weft database", async (t) => {
  const dir = tempDir(t);
  for (const size of [100, 4096, 65536]) {
    const path = join(dir, `random-${size}.db`);
    const bytes = randomBytes(size);
    writeFileSync(path, bytes);
    const error = (await openError(path)) as { code?: string; message: string };
    t.equal(
      error.code,
      SqliteErrorCode.NOT_WEFT_DATABASE,
      `${size} random bytes rejected`,
    );
    t.match(error.message, path, "message names the file");
    t.ok(readFileSync(path).equals(bytes), "file left unchanged");
  }
});

t.test("another application's database is rejected untouched", async (t) => {
  const path = join(tempDir(t), "other.db");
  const db = new Database(path);
  db.exec("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)");
  db.close();

  const error = (await openError(path)) as { code?: string; message: string };
  t.equal(error.code, SqliteErrorCode.NOT_WEFT_DATABASE);
  t.match(error.message, path);
  t.notOk(existsSync(`${path}-wal`), "no WAL file was created");
  const check = new Database(path, { readonly: true });
  t.equal(
    check.pragma("journal_mode", { simple: true }),
    "delete",
    "journal mode unchanged",
  );
  check.close();
});

t.test("path under a file fails to open", async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, "plain-file"), "x");
  const error = (await openError(join(dir, "plain-file", "weft.db"))) as {
    code?: string;
    message: string;
  };
  t.equal(error.code, SqliteErrorCode.OPEN_FAILED);
  t.match(error.message, join(dir, "plain-file", "weft.db"));
});

const withStock: ClassDefinition = {
  name: "Product",
  properties: [...productClass.properties, { name: "stock", type: "int" }],
};

function withType(
  property: string,
  type: ClassDefinition["properties"][number]["type"],
): ClassDefinition {
  return {
    name: "Product",
    properties: productClass.properties.map((definition) =>
      definition.name === property ? { name: property, type } : definition,
    ),
  };
}

t.test("adding a property keeps existing data", async (t) => {
  const path = join(tempDir(t), "weft.db");
  const first = await openStore(t, path);
  await first.commit(batch([upsert(productId(1), { name: "lamp", price: 3 })]));
  await first.close();

  const second = await openStore(t, path, {}, [withStock]);
  t.same((await second.get("Product", productId(1)))?.properties, {
    name: "lamp",
    price: 3,
  });
  await second.commit(
    batch([
      {
        op: "patch",
        class: "Product",
        id: productId(1),
        properties: { stock: 4 },
      },
    ]),
  );
  t.same((await second.get("Product", productId(1)))?.properties, {
    name: "lamp",
    price: 3,
    stock: 4,
  });
});

t.test("changed type of a stored property is rejected", async (t) => {
  const path = join(tempDir(t), "weft.db");
  const first = await openStore(t, path);
  await first.commit(batch([upsert(productId(1), { name: "lamp", price: 3 })]));
  await first.close();

  const error = (await openError(path, [withType("price", "text")])) as {
    code?: string;
    message: string;
    details: Record<string, unknown>;
  };
  t.equal(error.code, SqliteErrorCode.PROPERTY_TYPE_CHANGED);
  t.match(
    error.message,
    "class Product property price",
    "message names class and property",
  );
  t.match(
    error.message,
    "stored number, config text",
    "message names both types",
  );
  t.match(error.message, path, "message names the file");
  t.same(error.details.changes, [
    {
      className: "Product",
      property: "price",
      storedType: "number",
      configuredType: "text",
    },
  ]);

  const reopened = await openStore(t, path);
  t.equal(await reopened.lastSeq(), 1, "the original config still opens");
});

t.test("type change without stored values is accepted", async (t) => {
  const path = join(tempDir(t), "weft.db");
  const first = await openStore(t, path);
  await first.commit(
    batch([upsert(productId(1), { name: "lamp", price: 3, tags: null })]),
  );
  await first.close();

  t.equal(
    await openError(path, [withType("tags", "text")]),
    undefined,
    "no object has a non-null tags value",
  );
  const error = (await openError(path, [withType("tags", "text[]")])) as
    { code?: string } | undefined;
  t.equal(error, undefined, "changing back is accepted too");
});

t.test("removed property keeps its stored type", async (t) => {
  const path = join(tempDir(t), "weft.db");
  const first = await openStore(t, path);
  await first.commit(batch([upsert(productId(1), { name: "lamp", price: 3 })]));
  await first.close();

  const withoutPrice: ClassDefinition = {
    name: "Product",
    properties: productClass.properties.filter(
      (property) => property.name !== "price",
    ),
  };
  t.equal(
    await openError(path, [withoutPrice]),
    undefined,
    "removing a property is accepted",
  );
  const error = (await openError(path, [withType("price", "boolean")])) as {
    code?: string;
  };
  t.equal(
    error.code,
    SqliteErrorCode.PROPERTY_TYPE_CHANGED,
    "re-adding it with another type is rejected",
  );
});

t.test("log lines name the store once", async (t) => {
  const lines: string[] = [];
  const root = pino(
    { level: "info" },
    { write: (line: string) => void lines.push(line) },
  );
  // The host opens its store with a child logger that already binds `store`.
  const cases = [
    ["host logger", root.child({ component: "store", store: "sqlite" })],
    ["plain logger", root],
  ] as const;

  for (const [name, logger] of cases) {
    lines.length = 0;
    const store = createSqliteStore({ path: join(tempDir(t), "weft.db") });
    await store.open({
      classes: [productClass],
      logger,
      metrics: new Registry(),
    });
    await store.close();

    for (const message of ["opened store", "closed store"]) {
      const line = lines.find((text) => text.includes(`"msg":"${message}"`));
      t.ok(line, `${name}: ${message} is logged`);
      t.equal(
        line?.match(/"store":/g)?.length,
        1,
        `${name}: ${message} has one store key`,
      );
    }
  }
});
