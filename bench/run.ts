// Runs one benchmark by name (`pnpm bench write-path`), or lists them.
// Each benchmark is a script in this folder that prints its own figures.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

const folder = fileURLToPath(new URL(".", import.meta.url));
const available = readdirSync(folder)
  .filter(
    (file) =>
      file.endsWith(".ts") &&
      file !== "run.ts" &&
      !file.includes("-worker") &&
      !file.includes("-host") &&
      !file.includes("-client"),
  )
  .map((file) => file.slice(0, -3))
  .sort();

const name = process.argv[2];
if (!name || !available.includes(name)) {
  console.error(
    `usage: pnpm bench <name>\nbenchmarks: ${available.join(", ")}`,
  );
  process.exit(name ? 2 : 0);
}

const result = spawnSync(
  process.execPath,
  ["--import=tsx", `${folder}${name}.ts`, ...process.argv.slice(3)],
  { stdio: "inherit" },
);
process.exit(result.status ?? 1);
