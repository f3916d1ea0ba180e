import { definePlugin, ErrorCode, isWeftError, type Plugin } from "@weft/core";
import { TriggersConfigSchema, resolveTriggers } from "./config.js";
import { TriggerEngine, type EngineOptions } from "./engine.js";
import { registerRoutes } from "./routes.js";

export const packageVersion = "0.1.0";

/**
 * Creates the plugin. The default export uses `Math.random` for jitter;
 * tests pass their own source.
 */
export function createTriggersPlugin(
  options: EngineOptions = {},
): Plugin<typeof TriggersConfigSchema> {
  return definePlugin({
    name: "@weft/triggers",
    version: packageVersion,
    core: "^0.1.0",
    configSchema: TriggersConfigSchema,
    register(host, config, context) {
      const triggers = resolveTriggers(config, context.configPath);
      const engine = new TriggerEngine(host, config, triggers, options);

      try {
        registerRoutes(host, engine);
      } catch (error) {
        // A host without an HTTP server (embedded use) runs triggers without the API.
        if (!isWeftError(error) || error.code !== ErrorCode.HOST_STATE)
          throw error;
        host.logger.info(
          "host has no HTTP server; the trigger API is not available",
        );
      }

      // Actions are looked up in init, when every plugin, wherever it is listed, has provided its actions.
      host.hooks.init.tap(host.name, () => engine.resolveActions());
      host.hooks.start.tapPromise(host.name, () => engine.start());
      host.hooks.stop.tapPromise(host.name, () => engine.stop());
    },
  });
}

const triggersPlugin = createTriggersPlugin();
export default triggersPlugin;
