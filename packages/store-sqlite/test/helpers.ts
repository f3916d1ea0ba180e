import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Test } from "tap";
import { pino } from "pino";
import { Registry } from "prom-client";
import type { ClassDefinition, CommitBatch, Mutation } from "@weft/core";
import {
  createSqliteStore,
  type SqliteStore,
  type SqliteStoreOptions,
} from "@weft/store-sqlite";

export const productClass: ClassDefinition = {
  name: "Product",
  properties: [
    { name: "name", type: "text" },
    { name: "price", type: "number" },
    { name: "tags", type: "text[]" },
  ],
};

/** Creates a temporary folder that is removed when the test ends. */
export function tempDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), "weft-store-sqlite-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Opens a store on `path`, closed when the test ends. */
export async function openStore(
  t: Test,
  path: string,
  options: Omit<SqliteStoreOptions, "path"> = {},
  classes: ClassDefinition[] = [productClass],
  metrics: Registry = new Registry(),
): Promise<SqliteStore> {
  const store = createSqliteStore({ ...options, path });
  await store.open({ classes, logger: pino({ level: "silent" }), metrics });
  t.teardown(() => store.close());
  return store;
}

let txCounter = 0;

export function batch(
  mutations: Mutation[],
  extra: Partial<CommitBatch> = {},
): CommitBatch {
  txCounter += 1;
  return {
    txId: `tx-${txCounter}`,
    mutations,
    origin: { plugin: "test" },
    metadata: {},
    positions: [],
    state: [],
    timestamp: new Date().toISOString(),
    ...extra,
  };
}

export function upsert(
  id: string,
  properties: Record<string, unknown>,
  vector?: number[] | null,
): Mutation {
  return {
    op: "upsert",
    class: "Product",
    id,
    properties,
    ...(vector !== undefined ? { vector } : {}),
  };
}

export function productId(n: number): string {
  return `00000000-0000-4000-8000-${n.toString(16).padStart(12, "0")}`;
}
