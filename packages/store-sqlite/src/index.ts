import { definePlugin } from "@weft/core";
import { configSchema } from "./config.js";
import { createSqliteStore } from "./sqlite-store.js";
import { packageVersion } from "./version.js";

export {
  configSchema,
  type SqliteStoreConfig,
  type SqliteStoreOptions,
} from "./config.js";
export { SqliteErrorCode, type SqliteErrorCodeValue } from "./errors.js";
export { SqliteStore, createSqliteStore } from "./sqlite-store.js";
export { SCHEMA_VERSION, APPLICATION_ID } from "./schema-version.js";

/**
 * The store as a weft plugin, for `store: { use: "@weft/store-sqlite" }`. A
 * relative `path` is resolved against the folder of the config file.
 */
const sqliteStorePlugin = definePlugin({
  name: "@weft/store-sqlite",
  version: packageVersion,
  configSchema,
  register(host, config, context) {
    host.provideStore(
      createSqliteStore({ ...config, configDir: context.configDir }),
    );
  },
});

export default sqliteStorePlugin;
