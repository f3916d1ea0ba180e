import { Type, type Static } from "@sinclair/typebox";
import { ClassSchema } from "../classes/class-schema.js";
import { DurationSchema } from "../duration.js";

/** A plugin entry: `use` plus the plugin's own settings, which its schema checks. */
export const PluginEntrySchema = Type.Object(
  {
    use: Type.String({
      minLength: 1,
      description: "package name, relative path or built-in short name",
    }),
    enabled: Type.Optional(
      Type.Boolean({ description: "false skips the plugin" }),
    ),
  },
  { additionalProperties: true },
);

/** TypeBox schema of a host config file, without the plugins' own settings. */
export const HostConfigSchema = Type.Object(
  {
    server: Type.Object(
      {
        host: Type.String({
          default: "127.0.0.1",
          description: "address the HTTP server binds",
        }),
        port: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
        bodyLimit: Type.Integer({
          minimum: 1,
          default: 10 * 1024 * 1024,
          description: "request body limit in bytes",
        }),
        cors: Type.Object(
          {
            origins: Type.Array(Type.String(), {
              default: [],
              description: "allowed origins; * allows any",
            }),
          },
          { default: {}, additionalProperties: false },
        ),
      },
      { default: {}, additionalProperties: false },
    ),
    auth: Type.Object(
      {
        apiKeys: Type.Union([Type.Array(Type.String()), Type.String()], {
          default: [],
          description: "a list of API keys or a comma-separated string",
        }),
      },
      { default: {}, additionalProperties: false },
    ),
    store: Type.Optional(PluginEntrySchema),
    classes: Type.Array(ClassSchema, { default: [] }),
    plugins: Type.Array(PluginEntrySchema, { default: [] }),
    shutdownTimeout: DurationSchema("10s"),
    startTimeout: DurationSchema("30s"),
    logLevel: Type.Union(
      ["fatal", "error", "warn", "info", "debug", "trace", "silent"].map(
        (level) => Type.Literal(level),
      ),
      {
        default: "info",
      },
    ),
    hashVectorizer: Type.Object(
      {
        dimensions: Type.Integer({ minimum: 2, maximum: 65536, default: 256 }),
      },
      { default: {}, additionalProperties: false },
    ),
    writeQueue: Type.Object(
      {
        maxQueued: Type.Integer({
          minimum: 1,
          default: 64,
          description: "writes waiting before sources pause",
        }),
      },
      { default: {}, additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export type HostConfig = Static<typeof HostConfigSchema>;
export type PluginEntry = Static<typeof PluginEntrySchema> &
  Record<string, unknown>;
