import { createRequire } from "node:module";

/** The version of this copy of `@weft/core`, from its package.json. */
export const coreVersion: string = (
  createRequire(import.meta.url)("../package.json") as { version: string }
).version;
