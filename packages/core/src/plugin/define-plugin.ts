import type { Static, TSchema } from "@sinclair/typebox";
import type { PluginHost } from "./plugin-host.js";

const pluginBrand = Symbol.for("weft.plugin");

/** Mapping of one environment variable onto one setting of a plugin. */
export interface EnvOverride {
  /** Dotted path in the plugin's config, such as `brokers` or `enabled`. */
  path: string;
  /** Type the variable's text is parsed as. `list` splits on commas. */
  type: "string" | "integer" | "number" | "boolean" | "list" | "duration";
}

/** Context passed to `register` besides the host and config. */
export interface RegisterContext {
  /** Folder of the config file, for resolving relative paths. */
  configDir: string;
  /** Config path of this plugin entry, such as `plugins[2]`. */
  configPath: string;
}

/** Cleanup returned by `register`; runs at stop after the plugin's `stop` taps. */
export type Disposer = () => void | Promise<void>;

/** The definition passed to {@link definePlugin}. */
export interface PluginDefinition<S extends TSchema = TSchema> {
  /** Package name or a unique short name; used in logs, metrics and errors. */
  name: string;
  version: string;
  /** Range of `@weft/core` versions the plugin works with, checked at load. */
  core?: string;
  /** Plugins that must register first, by name. */
  dependencies?: string[];
  /** TypeBox schema of the plugin's config; compiled once, defaults applied, unknown keys rejected. */
  configSchema: S;
  /** Environment variables that override settings, by variable name. Environment wins over the file. */
  env?: Record<string, EnvOverride>;
  /** Taps hooks and provides capabilities. */
  register(
    host: PluginHost,
    config: Static<S>,
    context: RegisterContext,
  ): void | Disposer | Promise<void | Disposer>;
}

/** A plugin module's default export. */
export type Plugin<S extends TSchema = TSchema> = Readonly<
  PluginDefinition<S>
> & { readonly [pluginBrand]: true };

/** Brands a plugin definition, so the registry recognises it even from another copy of core. */
export function definePlugin<S extends TSchema>(
  definition: PluginDefinition<S>,
): Plugin<S> {
  return Object.freeze({ ...definition, [pluginBrand]: true as const });
}

/** Tells whether a module export is a plugin made by {@link definePlugin}. */
export function isPlugin(value: unknown): value is Plugin {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as Record<symbol, unknown>)[pluginBrand] === true
  );
}
