import { MemoryStore, MemoryStoreSchema } from "../store/memory-store.js";
import { coreVersion } from "../version.js";
import { definePlugin, type Plugin } from "./define-plugin.js";

/** The in-memory store as a plugin, for `store: { use: memory }`. */
export const memoryStorePlugin = definePlugin({
  name: "memory",
  version: coreVersion,
  configSchema: MemoryStoreSchema,
  register(host, config) {
    host.provideStore(new MemoryStore(config));
  },
});

/** Plugins that ship inside core, by short name. */
export const builtinPlugins: Readonly<Record<string, Plugin>> = {
  memory: memoryStorePlugin as unknown as Plugin,
};
