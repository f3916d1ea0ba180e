// Loads the built testkit, or exits with a message saying how to build it.
import { existsSync } from "node:fs";
import { fileURLToPath, URL } from "node:url";

export async function loadTestkit() {
  const entry = new URL("../dist/index.js", import.meta.url);
  if (!existsSync(fileURLToPath(entry))) {
    process.stderr.write(
      `kafka: ${fileURLToPath(entry)} is missing; build the workspace first with \`pnpm build\`\n`,
    );
    process.exit(1);
  }
  return import(entry.href);
}
