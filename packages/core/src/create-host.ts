import type { Logger } from "pino";
import {
  loadConfig,
  type LoadConfigOptions,
  type LoadedConfig,
} from "./config/load-config.js";
import { Host } from "./host.js";
import { createLogger } from "./logger.js";

/** Options of {@link createHostFromConfig}. */
export interface CreateHostOptions {
  logger?: Logger;
  /** Overrides `server.port` (0 picks a free port), for tests. */
  port?: number;
}

/** Builds a host from a loaded config and registers its store and plugins in order. */
export async function createHostFromConfig(
  config: LoadedConfig,
  options: CreateHostOptions = {},
): Promise<Host> {
  const logger =
    options.logger ?? createLogger({ level: config.host.logLevel });
  const host = new Host({
    classes: config.classes,
    server: {
      host: config.host.server.host,
      port: options.port ?? config.host.server.port,
      bodyLimit: config.host.server.bodyLimit,
      corsOrigins: config.host.server.cors.origins,
    },
    apiKeys: config.apiKeys,
    logger,
    startTimeoutMs: config.startTimeoutMs,
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    hashDimensions: config.host.hashVectorizer.dimensions,
    maxQueuedWrites: config.host.writeQueue.maxQueued,
  });

  if (config.storeNote) {
    const level = config.store.use === "memory" ? "warn" : "info";
    logger[level]({ store: config.store.use }, config.storeNote);
  }
  for (const loaded of [config.store, ...config.plugins]) {
    if (loaded.envApplied.length > 0)
      logger.info(
        { plugin: loaded.plugin.name, variables: loaded.envApplied },
        "environment overrides applied",
      );
    await host.register(loaded.plugin, loaded.config, {
      configDir: config.dir,
      configPath: loaded.path,
    });
  }
  return host;
}

/** Loads a config file and builds its host (not started). */
export async function createHostFromFile(
  file: string,
  options: CreateHostOptions & LoadConfigOptions = {},
): Promise<Host> {
  return createHostFromConfig(await loadConfig(file, options), options);
}
