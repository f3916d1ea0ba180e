import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import t from "tap";
import { runStoreContract } from "@weft/core/testing";
import { createSqliteStore } from "@weft/store-sqlite";

const dir = mkdtempSync(join(tmpdir(), "weft-store-sqlite-contract-"));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

let count = 0;
for (const durability of ["full", "normal"] as const) {
  void t.test(`store contract with durability ${durability}`, async (tt) => {
    await runStoreContract(tt, () => {
      count += 1;
      return createSqliteStore({
        path: join(dir, `contract-${count}.db`),
        durability,
      });
    });
  });
}
