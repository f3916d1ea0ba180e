import { Type, type Static } from "@sinclair/typebox";
import { DurationSchema, parseDuration } from "@weft/core";

/** TypeBox schema of the plugin's config; every setting has a default. */
export const SubscriptionsConfigSchema = Type.Object(
  {
    enabled: Type.Boolean({
      default: true,
      description:
        "false registers nothing: no endpoint, no change-feed reader",
    }),
    path: Type.String({
      default: "/v1/graphql",
      pattern: "^/",
      description:
        "URL path of the endpoint: WebSocket upgrades for subscriptions, POST for queries",
    }),
    maxSubscribers: Type.Integer({
      minimum: 1,
      default: 10_000,
      description:
        "subscriptions the host serves at once, over all connections",
    }),
    maxSubscriptionsPerConnection: Type.Integer({
      minimum: 1,
      default: 100,
      description: "operations one WebSocket connection may run at once",
    }),
    maxMessageBytes: Type.Integer({
      minimum: 1024,
      default: 65_536,
      description:
        "largest WebSocket message a client may send, in bytes; larger ones close the connection with 1009",
    }),
    maxQueryDepth: Type.Integer({
      minimum: 1,
      default: 10,
      description: "deepest nesting of selection sets in one operation",
    }),
    bufferSize: Type.Integer({
      minimum: 1,
      default: 100,
      description:
        "messages buffered per subscriber while its socket cannot take more",
    }),
    slowConsumer: Type.Union(
      [Type.Literal("drop-oldest"), Type.Literal("disconnect")],
      {
        default: "drop-oldest",
        description:
          "what happens when a subscriber's buffer is full: drop the oldest message, or close the connection",
      },
    ),
    connectionInitTimeout: DurationSchema("3s"),
    keepAlive: DurationSchema("12s"),
    maxPageSize: Type.Integer({
      minimum: 1,
      default: 1000,
      description: "largest `limit` of list and similarity queries",
    }),
  },
  { additionalProperties: false },
);

/** The plugin's config after defaults. */
export type SubscriptionsConfig = Static<typeof SubscriptionsConfigSchema>;

/** The action taken when a slow subscriber's buffer is full. */
export type SlowConsumerPolicy = SubscriptionsConfig["slowConsumer"];

/** Settings of the subscription manager and the transports, with durations in milliseconds. */
export interface SubscriptionsSettings {
  path: string;
  maxSubscribers: number;
  maxSubscriptionsPerConnection: number;
  maxMessageBytes: number;
  maxQueryDepth: number;
  bufferSize: number;
  slowConsumer: SlowConsumerPolicy;
  connectionInitTimeoutMs: number;
  keepAliveMs: number;
  maxPageSize: number;
}

/** Turns a checked config into settings, parsing its durations. */
export function toSettings(
  config: Partial<SubscriptionsConfig>,
): SubscriptionsSettings {
  return {
    path: config.path ?? "/v1/graphql",
    maxSubscribers: config.maxSubscribers ?? 10_000,
    maxSubscriptionsPerConnection: config.maxSubscriptionsPerConnection ?? 100,
    maxMessageBytes: config.maxMessageBytes ?? 65_536,
    maxQueryDepth: config.maxQueryDepth ?? 10,
    bufferSize: config.bufferSize ?? 100,
    slowConsumer: config.slowConsumer ?? "drop-oldest",
    connectionInitTimeoutMs: parseDuration(
      config.connectionInitTimeout ?? "3s",
      "connectionInitTimeout",
    ),
    keepAliveMs: parseDuration(config.keepAlive ?? "12s", "keepAlive"),
    maxPageSize: config.maxPageSize ?? 1000,
  };
}
