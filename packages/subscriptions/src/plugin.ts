import { createRequire } from "node:module";
import { definePlugin, type PluginHost } from "@weft/core";
import {
  SubscriptionsConfigSchema,
  toSettings,
  type SubscriptionsConfig,
} from "./config.js";
import { SubscriptionManager } from "./manager/subscription-manager.js";
import { buildSchema } from "./schema/build-schema.js";
import { handleQueryRequest } from "./transport/http-queries.js";
import { WebSocketEndpoint } from "./transport/websocket-endpoint.js";

const { version } = createRequire(import.meta.url)("../package.json") as {
  version: string;
};

const managers = new WeakMap<PluginHost["changes"], SubscriptionManager>();

/**
 * Returns the subscription manager the plugin registered on a host, for
 * in-process subscribers; undefined when the plugin is not registered or
 * disabled. The host is identified by its change feed, which every plugin
 * view of one host shares.
 */
export function subscriptionManagerOf(
  host: Pick<PluginHost, "changes">,
): SubscriptionManager | undefined {
  return managers.get(host.changes);
}

/** How often the plugin checks whether the host began to stop. */
const STOP_WATCH_INTERVAL_MS = 100;

/**
 * Calls `onStop` as soon as the host begins to stop.
 * NOTE: the host waits for its HTTP server to close before it runs any
 * plugin's stop taps, and upgraded WebSocket sockets keep that server open,
 * so the endpoint must close its sockets before the `stopIntake` hook runs.
 * Until core offers a hook for that moment, the plugin polls `host.stopping`.
 */
function watchForStop(host: PluginHost, onStop: () => Promise<void>): void {
  const timer = setInterval(() => {
    if (!host.stopping) return;
    clearInterval(timer);
    onStop().catch((error: unknown) =>
      host.logger.error({ err: error }, "closing WebSocket connections failed"),
    );
  }, STOP_WATCH_INTERVAL_MS);
  timer.unref();
}

function registerSubscriptions(
  host: PluginHost,
  config: SubscriptionsConfig,
): void {
  if (config.enabled === false) {
    host.logger.info("subscriptions disabled by config");
    return;
  }

  const settings = toSettings(config);
  const generated = buildSchema(host.classes.values());
  for (const omission of generated.omitted) {
    host.logger.warn(omission, "class property left out of the GraphQL schema");
  }

  const manager = new SubscriptionManager({
    host,
    generated,
    settings,
    // Read at scrape time, after the endpoint exists.
    connections: (): number => socketEndpoint.connectionCount,
  });
  const socketEndpoint: WebSocketEndpoint = new WebSocketEndpoint({
    host,
    manager,
    settings,
  });
  managers.set(host.changes, manager);

  host.upgrade({
    path: settings.path,
    handler: (request, socket, head) =>
      socketEndpoint.handleUpgrade(request, socket, head),
  });
  host.route({
    method: "POST",
    url: settings.path,
    auth: "host",
    handler: (context) =>
      handleQueryRequest(context, manager, settings.path, host.logger),
  });

  host.hooks.start.tapPromise(host.name, async () => {
    manager.start();
    watchForStop(host, () => socketEndpoint.close());
    host.logger.info(
      {
        path: settings.path,
        maxSubscribers: settings.maxSubscribers,
        slowConsumer: settings.slowConsumer,
      },
      "GraphQL endpoint ready",
    );
  });
  host.hooks.stopIntake.tapPromise(host.name, () => socketEndpoint.close());
  host.hooks.stop.tapPromise(host.name, async () => {
    await manager.stop();
    managers.delete(host.changes);
  });
}

/**
 * GraphQL subscriptions (graphql-transport-ws) and queries over the host's
 * classes, on the host's HTTP server.
 */
export const subscriptionsPlugin = definePlugin({
  name: "@weft/subscriptions",
  version,
  core: "^0.1.0",
  configSchema: SubscriptionsConfigSchema,
  env: {
    STREAMING_SUBSCRIPTIONS_ENABLED: { path: "enabled", type: "boolean" },
    STREAMING_SUBSCRIPTIONS_MAX: { path: "maxSubscribers", type: "integer" },
    STREAMING_SUBSCRIPTIONS_BUFFER_SIZE: {
      path: "bufferSize",
      type: "integer",
    },
  },
  register: registerSubscriptions,
});
